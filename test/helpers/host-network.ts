/**
 * A small network of hosts on this machine, for tests that need several
 * machines: each host is a network namespace of its own with one interface
 * (`eth0`, an address on a private /24) plugged into a bridge that lives in
 * one more namespace (the LAN). Made with iproute2 (`ip netns`, veth pairs,
 * a bridge), so it needs root. Nothing is added to the machine's own network
 * namespace: traffic between the hosts stays on the LAN, and the test process
 * (in the machine's namespace) talks to them through Unix sockets, which
 * every namespace shares.
 *
 * `destroy()` kills whatever still runs in the namespaces and deletes them
 * (the veths and the bridge go with them); an exit hook and SIGINT/SIGTERM/
 * SIGHUP handlers do the same if a run dies first.
 */
import { execFileSync } from 'node:child_process';
import { isMainThread } from 'node:worker_threads';

export interface HostNetwork {
  /** The /24 the hosts share, e.g. `10.213.0.0/24`. */
  readonly subnet: string;
  /** The network namespace of a host. */
  netns(host: string): string;
  /** A host's address on the LAN. */
  address(host: string): string;
  /** `ip netns exec <host's namespace>`: put it before a command to run that command on the host. */
  exec(host: string): string[];
  /** Kills what runs on the hosts and deletes every namespace; idempotent. */
  destroy(): void;
}

export interface HostNetworkOptions {
  /** The hosts' names (short, [a-z0-9]); each gets the next address from .11 on. */
  hosts: string[];
  /** The first three octets of the LAN (default 10.213.0). */
  lan?: string;
}

/** Whether this machine can make one: Linux, root, iproute2. */
export function hostNetworkPrerequisites(): { ok: true } | { ok: false; reason: string } {
  if (process.platform !== 'linux') return { ok: false, reason: `needs Linux, this is ${process.platform}` };
  if (process.getuid?.() !== 0) return { ok: false, reason: `must run as root (network namespaces), uid is ${process.getuid?.()}` };
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
  } catch (error) {
    return { ok: false, reason: `iproute2's ip is not available: ${error instanceof Error ? error.message : String(error)}` };
  }
  return { ok: true };
}

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

const live = new Set<() => void>();
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
let hooked = false;

function destroyAll(): void {
  for (const destroy of [...live]) destroy();
}

function onSignal(signal: NodeJS.Signals): void {
  destroyAll();
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', destroyAll);
  // Signals only reach the main thread; a vitest `forks` worker is one.
  if (isMainThread) for (const signal of SIGNALS) process.on(signal, onSignal);
}

/** Kills every process in a namespace (they are this run's: nobody else knows the name) and deletes it. */
function removeNamespace(name: string): void {
  try {
    for (const pid of ip('netns', 'pids', name).split('\n').filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
  } catch {
    // no such namespace
  }
  try {
    ip('netns', 'del', name);
  } catch {
    // already gone
  }
}

export function createHostNetwork(options: HostNetworkOptions): HostNetwork {
  const lan = options.lan ?? '10.213.0';
  for (const host of options.hosts) {
    if (!/^[a-z0-9]{1,12}$/.test(host)) throw new Error(`host names are 1-12 of [a-z0-9], got ${JSON.stringify(host)}`);
  }
  // The process id keeps two runs on one machine apart.
  const prefix = `shop-api-${process.pid}`;
  const lanNetns = `${prefix}-lan`;
  const netnsOf = (host: string) => `${prefix}-${host}`;
  const addresses = new Map(options.hosts.map((host, i) => [host, `${lan}.${11 + i}`]));
  const made: string[] = [];

  let destroyed = false;
  const destroy = () => {
    if (destroyed) return;
    destroyed = true;
    // Hosts first (their servers), then the LAN with its bridge and veth ends.
    for (const name of [...made].reverse()) removeNamespace(name);
    live.delete(destroy);
  };
  live.add(destroy);
  hook();

  try {
    for (const name of [lanNetns, ...options.hosts.map(netnsOf)]) {
      ip('netns', 'add', name);
      made.push(name);
      ip('-n', name, 'link', 'set', 'lo', 'up');
    }
    ip('-n', lanNetns, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', lanNetns, 'link', 'set', 'br0', 'up');
    options.hosts.forEach((host, i) => {
      // Made in the LAN's namespace, its peer born in the host's: neither end ever sits in the machine's own.
      const port = `port${i}`;
      ip('-n', lanNetns, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netnsOf(host));
      ip('-n', lanNetns, 'link', 'set', port, 'master', 'br0', 'up');
      ip('-n', netnsOf(host), 'addr', 'add', `${addresses.get(host)}/24`, 'dev', 'eth0');
      ip('-n', netnsOf(host), 'link', 'set', 'eth0', 'up');
    });
  } catch (error) {
    destroy();
    throw error;
  }

  const known = (host: string) => {
    if (!addresses.has(host)) throw new Error(`no host ${JSON.stringify(host)} on this network`);
    return host;
  };
  return {
    subnet: `${lan}.0/24`,
    netns: (host) => netnsOf(known(host)),
    address: (host) => addresses.get(known(host))!,
    exec: (host) => ['ip', 'netns', 'exec', netnsOf(known(host))],
    destroy,
  };
}
