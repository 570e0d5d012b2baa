import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { DeadlineQueue } from '../../src/lib/deadline-queue.js';

// The queue the compute gate waits in for a Python slot, and the compute
// handlers for an input read: a waiter leaves at its deadline or when its
// signal aborts, and its turn, when it comes, runs nothing.

/** A task that runs until release() is called, and says whether it started. */
function held<T>(value: T) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const task = { started: false, release, run: async () => {
    task.started = true;
    await released;
    return value;
  } };
  return task;
}

const far = () => performance.now() + 60_000;
const expired = () => new Error('expired');

describe('DeadlineQueue', () => {
  it('runs at most `concurrency` tasks at once, the others in their order as slots free', async () => {
    const queue = new DeadlineQueue(1);
    const first = held('a');
    const second = held('b');
    const a = queue.run(first.run, { deadline: far(), expired });
    const b = queue.run(second.run, { deadline: far(), expired });
    await expect.poll(() => first.started).toBe(true);
    expect([second.started, queue.waiting]).toEqual([false, 1]);
    first.release();
    expect(await a).toBe('a');
    await expect.poll(() => second.started).toBe(true);
    expect(queue.waiting).toBe(0);
    second.release();
    expect(await b).toBe('b');
  });

  it('takes a free slot even when the deadline is now (in a microtask, before the deadline fires)', async () => {
    const queue = new DeadlineQueue(1);
    expect(await queue.run(async () => 'ran', { deadline: performance.now() - 1, expired })).toBe('ran');
  });

  it('has a free slot only while a slot is free and nobody waits, even a waiter that gave up', async () => {
    const queue = new DeadlineQueue(1);
    expect(queue.hasFreeSlot).toBe(true);
    const blocker = held('blocker');
    const running = queue.run(blocker.run, { deadline: far(), expired });
    // Taken at once, before the task has even started.
    expect(queue.hasFreeSlot).toBe(false);
    const left = new AbortController();
    const gaveUp = queue.run(async () => 'never', { deadline: far(), signal: left.signal, expired });
    left.abort(new Error('left'));
    await expect(gaveUp).rejects.toThrow('left');
    blocker.release();
    await running;
    // The waiter that gave up still holds its place in p-limit's queue until its turn passes it by.
    await expect.poll(() => queue.hasFreeSlot).toBe(true);
    // A newcomer behind a waiter never overtakes it, whatever the slots say.
    const first = held('first');
    const firstRun = queue.run(first.run, { deadline: far(), expired });
    const second = queue.run(async () => 'second', { deadline: far(), expired });
    const third = queue.run(async () => 'third', { deadline: far(), expired });
    expect(queue.waiting).toBe(2);
    const order: string[] = [];
    void second.then((v) => order.push(v));
    void third.then((v) => order.push(v));
    first.release();
    await Promise.all([firstRun, second, third]);
    expect(order).toEqual(['second', 'third']);
  });

  it('never expires a wait whose deadline is further than a timer reaches (2^31 ms), or infinite', async () => {
    const queue = new DeadlineQueue(1);
    const blocker = held('blocker');
    const running = queue.run(blocker.run, { deadline: far(), expired });
    const distant = queue.run(async () => 'distant', { deadline: performance.now() + 2 ** 32, expired });
    const endless = queue.run(async () => 'endless', { deadline: Infinity, expired });
    // A timer given more than 2^31 - 1 ms fires after 1: by this one's deadline it would have.
    const near = queue.run(async () => 'near', { deadline: performance.now() + 20, expired });
    await expect(near).rejects.toThrow('expired');
    expect(queue.waiting).toBe(2);
    blocker.release();
    await running;
    expect([await distant, await endless]).toEqual(['distant', 'endless']);
  });

  it('rejects a waiter at its deadline with expired(), and never runs it: the next one gets the slot', async () => {
    const queue = new DeadlineQueue(1);
    const blocker = held('blocker');
    const running = queue.run(blocker.run, { deadline: far(), expired });
    let lateRan = false;
    const late = queue.run(async () => (lateRan = true), { deadline: performance.now() + 20, expired });
    const next = queue.run(async () => 'next', { deadline: far(), expired });
    await expect(late).rejects.toThrow('expired');
    expect(queue.waiting).toBe(1);
    blocker.release();
    await running;
    expect(await next).toBe('next');
    expect(lateRan).toBe(false);
  });

  it('rejects a waiter when its signal aborts, with aborted(reason) or else the reason itself', async () => {
    const queue = new DeadlineQueue(1);
    const blocker = held(undefined);
    const running = queue.run(blocker.run, { deadline: far(), expired });
    const mapped = new AbortController();
    const plain = new AbortController();
    const gone = queue.run(async () => 'ran', { deadline: far(), signal: mapped.signal, expired, aborted: (reason) => new Error(`gone: ${String(reason)}`) });
    const left = queue.run(async () => 'ran', { deadline: far(), signal: plain.signal, expired });
    mapped.abort('client');
    plain.abort(new Error('left'));
    await expect(gone).rejects.toThrow('gone: client');
    await expect(left).rejects.toThrow('left');
    expect(queue.waiting).toBe(0);
    blocker.release();
    await running;
  });

  it('rejects at once, queueing nothing, when the signal has already aborted', async () => {
    const queue = new DeadlineQueue(1);
    let ran = false;
    const promise = queue.run(async () => (ran = true), { deadline: far(), signal: AbortSignal.abort('before'), expired });
    expect(queue.waiting).toBe(0);
    await expect(promise).rejects.toBe('before');
    expect(ran).toBe(false);
  });

  it('no longer looks at the signal or the deadline once the task started', async () => {
    const queue = new DeadlineQueue(1);
    const controller = new AbortController();
    const task = held('done');
    const promise = queue.run(task.run, { deadline: performance.now() + 10, signal: controller.signal, expired });
    await expect.poll(() => task.started).toBe(true);
    controller.abort();
    await new Promise((resolve) => setTimeout(resolve, 30));
    task.release();
    expect(await promise).toBe('done');
  });

  it('passes on the task’s own failure', async () => {
    const queue = new DeadlineQueue(1);
    await expect(queue.run(() => Promise.reject(new Error('query failed')), { deadline: far(), expired })).rejects.toThrow('query failed');
  });

  // AbortSignal.any holds its sources weakly: a deadline signal that only the
  // combined one held would be collected, and never fire.
  it('still expires a waiter after a garbage collection', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const queue = new DeadlineQueue(1);
    const blocker = held(undefined);
    const running = queue.run(blocker.run, { deadline: far(), expired });
    const late = queue.run(async () => 'ran', { deadline: performance.now() + 50, signal: new AbortController().signal, expired });
    // Its outcome taken now: on a busy machine the deadline can pass before the collections below are done.
    const outcome = late.then(
      () => 'ran',
      (err: Error) => err.message,
    );
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
    gc();
    expect(await outcome).toBe('expired');
    blocker.release();
    await running;
  });
});
