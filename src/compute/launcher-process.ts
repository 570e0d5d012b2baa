// The script launcher's own program (started by launcher.ts with
// child_process.fork): it starts the compute scripts the server asks for, with
// runScript, and reports on each over the IPC channel. A small process, so
// that the fork of every run copies its few pages instead of the server's.
import type { LauncherReply, LauncherRequest } from './launcher-protocol.js';
import { toWire } from './launcher-protocol.js';
import { killProcessGroup } from '../lib/process-state.js';
import { runScript } from './run-script.js';

/** Runs in flight, by the server's id: what cuts each short, and its process once it exists. */
const runs = new Map<number, { cut: AbortController; pid?: number }>();

const send = (reply: LauncherReply) => {
  if (process.connected) process.send!(reply);
};

function start(request: Extract<LauncherRequest, { type: 'run' }>) {
  const run: { cut: AbortController; pid?: number } = { cut: new AbortController() };
  runs.set(request.id, run);
  void runScript(request.launch, request.env, request.scriptPath, request.input, { ...request.limits, cutShort: run.cut.signal }, {
    onSpawn: (pid) => {
      run.pid = pid;
      send({ type: 'spawned', id: request.id, pid });
    },
    onExit: (pid) => {
      run.pid = undefined;
      send({ type: 'exited', id: request.id, pid });
    },
  }).then((outcome) => {
    runs.delete(request.id);
    send({ type: 'done', id: request.id, outcome: toWire(outcome) });
  });
}

process.on('message', (message: LauncherRequest) => {
  if (message.type === 'run') start(message);
  else runs.get(message.id)?.cut.abort();
});

// The server ends this process by closing the channel (its own exit does
// too, however it dies): no script may outlive it, so every one still
// running is killed, with whatever it started.
process.on('disconnect', () => {
  for (const { pid } of runs.values()) {
    if (pid !== undefined) killProcessGroup(pid);
  }
  process.exit(0);
});

// A signal to the server's process group (a terminal's Ctrl-C, a process
// manager's SIGTERM) is the server's to act on: it lets running scripts
// finish, so this process must not die under them. It ends with the server.
process.on('SIGTERM', () => undefined);
process.on('SIGINT', () => undefined);
