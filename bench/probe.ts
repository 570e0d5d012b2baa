// Before load: which endpoints a server has. After load: waiting until the
// Python work a run left behind is gone, so the next run starts clean.
import { setTimeout as delay } from 'node:timers/promises';
import { sampleTree } from './sampler.js';
import type { ServerProcess } from './processes.js';
import { probeRequest, type Dataset, type EndpointKey } from './workload.js';

/** Endpoints that answer 404 to a request for an id that exists: the route is not there. */
export async function missingEndpoints(
  server: ServerProcess,
  keys: EndpointKey[],
  data: Dataset,
  token: string,
): Promise<Set<EndpointKey>> {
  const missing = new Set<EndpointKey>();
  for (const key of keys) {
    const req = probeRequest(key, data);
    const res = await fetch(server.baseUrl + req.path, {
      method: req.method,
      body: req.body,
      headers: { authorization: `Bearer ${token}`, ...(req.body ? { 'content-type': 'application/json' } : {}) },
    });
    await res.arrayBuffer();
    if (res.status === 404) missing.add(key);
  }
  return missing;
}

async function pendingCompute(server: ServerProcess): Promise<number> {
  try {
    const res = await fetch(`${server.baseUrl}/api/queue-stats`);
    if (res.status !== 200) {
      await res.arrayBuffer();
      return 0;
    }
    const stats = (await res.json()) as { pending?: unknown };
    return typeof stats.pending === 'number' ? stats.pending : 0;
  } catch {
    return 0;
  }
}

/** Resolves true once the server has no Python process and no queued compute work; false after `timeoutMs`. */
export async function waitUntilIdle(server: ServerProcess, scriptDirs: string[], timeoutMs = 60_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const python = sampleTree(server.pid, scriptDirs).python;
    if (python === 0 && (await pendingCompute(server)) === 0) return true;
    if (Date.now() > deadline) return false;
    await delay(200);
  }
}

/** /api/queue-stats' cache counters; null while the server does not have them. */
export async function cacheCounters(server: ServerProcess): Promise<{ hits: number; misses: number; shared: number } | null> {
  try {
    const res = await fetch(`${server.baseUrl}/api/queue-stats`);
    if (res.status !== 200) {
      await res.arrayBuffer();
      return null;
    }
    const s = (await res.json()) as Record<string, unknown>;
    const n = (key: string) => (typeof s[key] === 'number' ? s[key] : null);
    const [hits, misses, shared] = [n('cache_hits'), n('cache_misses'), n('cache_shared')];
    return hits === null || misses === null || shared === null ? null : { hits, misses, shared };
  } catch {
    return null;
  }
}

/** Resolves once the server runs `count` server processes (WORKERS=N: the primary and N workers); throws after `timeoutMs`. */
export async function waitForProcesses(server: ServerProcess, count: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const seen = sampleTree(server.pid, []).serverProcesses;
    if (seen >= count) return;
    if (Date.now() > deadline) throw new Error(`${server.name} runs ${seen} server processes, not ${count}, ${timeoutMs} ms after it answered\n${server.output()}`);
    await delay(100);
  }
}
