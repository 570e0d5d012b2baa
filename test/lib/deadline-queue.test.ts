import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { cancellationOf, type Cancellation } from '../../src/lib/cancellation.js';
import { DeadlineQueue } from '../../src/lib/deadline-queue.js';

// The queue the compute gate waits in for a Python slot, and the compute
// handlers for an input read, and the writes for theirs: a waiter leaves at
// its deadline or when it is cancelled, and its turn, when it comes, runs nothing.

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

/** A waiter's cancellation by `controller`, ending its wait with `message`. */
const cancelBy = (controller: AbortController, message = 'cancelled') => ({
  cancel: cancellationOf(controller.signal),
  cancelled: () => new Error(message),
});

/** A cancellation that counts who watches it, and cancels when told to. */
function counted() {
  const listeners = new Set<() => void>();
  let aborted = false;
  const cancel: Cancellation & { watching: number; watched: number; fire(): void } = {
    get aborted() {
      return aborted;
    },
    watched: 0,
    get watching() {
      return listeners.size;
    },
    watch(listener) {
      cancel.watched++;
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    fire() {
      aborted = true;
      for (const listener of [...listeners]) listener();
    },
  };
  return cancel;
}

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
    const gaveUp = queue.run(async () => 'never', { deadline: far(), expired, ...cancelBy(left, 'left') });
    left.abort();
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

  it('rejects a waiter when it is cancelled, with cancelled(), and never runs it', async () => {
    const queue = new DeadlineQueue(1);
    const blocker = held(undefined);
    const running = queue.run(blocker.run, { deadline: far(), expired });
    const leaving = new AbortController();
    let ran = false;
    const gone = queue.run(async () => (ran = true), { deadline: far(), expired, ...cancelBy(leaving, 'gone') });
    const stays = queue.run(async () => 'stayed', { deadline: far(), expired });
    leaving.abort();
    await expect(gone).rejects.toThrow('gone');
    expect(queue.waiting).toBe(1);
    blocker.release();
    await running;
    expect(await stays).toBe('stayed');
    expect(ran).toBe(false);
  });

  it('rejects at once with cancelled(), queueing nothing, when already cancelled', async () => {
    const queue = new DeadlineQueue(1);
    let ran = false;
    const promise = queue.run(async () => (ran = true), { deadline: far(), expired, cancel: cancellationOf(AbortSignal.abort()), cancelled: () => new Error('before') });
    expect(queue.waiting).toBe(0);
    await expect(promise).rejects.toThrow('before');
    expect(ran).toBe(false);
  });

  // What makes a free turn cheap: the caller's cancellation is looked at, never subscribed to.
  it('watches a cancellation only while its task waits, and stops watching when the turn comes', async () => {
    const queue = new DeadlineQueue(1);
    const cancelled = () => new Error('cancelled');
    const free = counted();
    const blocker = held('blocker');
    const running = queue.run(blocker.run, { deadline: far(), expired, cancel: free, cancelled });
    expect(free.watched).toBe(0);

    const waiter = counted();
    const waited = queue.run(async () => 'waited', { deadline: far(), expired, cancel: waiter, cancelled });
    expect([waiter.watched, waiter.watching]).toEqual([1, 1]);
    blocker.release();
    await running;
    expect(await waited).toBe('waited');
    expect(waiter.watching).toBe(0);
    // Cancelled after its turn came: nothing left to end.
    waiter.fire();

    // A waiter that expires stops watching too.
    const second = held('second');
    const secondRun = queue.run(second.run, { deadline: far(), expired });
    const late = counted();
    await expect(queue.run(async () => 'late', { deadline: performance.now() + 10, expired, cancel: late, cancelled })).rejects.toThrow('expired');
    expect([late.watched, late.watching]).toEqual([1, 0]);
    second.release();
    expect(await secondRun).toBe('second');
  });

  it('no longer looks at the cancellation or the deadline once the task started', async () => {
    const queue = new DeadlineQueue(1);
    const controller = new AbortController();
    const task = held('done');
    const blocker = held('blocker');
    const running = queue.run(blocker.run, { deadline: far(), expired });
    // Its turn comes in microtasks, long before a timer of 10 ms could fire.
    const promise = queue.run(task.run, { deadline: performance.now() + 10, expired, ...cancelBy(controller) });
    blocker.release();
    await running;
    await expect.poll(() => task.started).toBe(true);
    controller.abort();
    // A waiter behind it with a later deadline expires: by then the started task's deadline has passed too.
    await expect(queue.run(async () => 'behind', { deadline: performance.now() + 30, expired })).rejects.toThrow('expired');
    task.release();
    expect(await promise).toBe('done');
  });

  it('ends every wait at once with endWaiting, running none of them, while the running task goes on', async () => {
    const queue = new DeadlineQueue(1);
    const blocker = held('blocker');
    const running = queue.run(blocker.run, { deadline: far(), expired });
    const watched = counted();
    let ran = false;
    const waiting = [
      queue.run(async () => (ran = true), { deadline: far(), expired }),
      queue.run(async () => (ran = true), { deadline: far(), expired, cancel: watched, cancelled: () => new Error('cancelled') }),
    ];
    expect(queue.waiting).toBe(2);
    queue.endWaiting(() => new Error('stopping'));
    for (const wait of waiting) await expect(wait).rejects.toThrow('stopping');
    expect([queue.waiting, watched.watching]).toEqual([0, 0]);
    blocker.release();
    expect(await running).toBe('blocker');
    // Their places are forgotten: the slot is free again, and nothing of theirs ran.
    await expect.poll(() => queue.hasFreeSlot).toBe(true);
    expect(ran).toBe(false);
  });

  it('passes on the task’s own failure', async () => {
    const queue = new DeadlineQueue(1);
    await expect(queue.run(() => Promise.reject(new Error('query failed')), { deadline: far(), expired })).rejects.toThrow('query failed');
  });

  // The wait's timer is held by the queue, not only by something the caller
  // may drop: AbortSignal.any held its sources weakly, so a deadline signal
  // that only the combined one held was collected, and never fired.
  it('still expires a waiter after a garbage collection', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const queue = new DeadlineQueue(1);
    const blocker = held(undefined);
    const running = queue.run(blocker.run, { deadline: far(), expired });
    const late = queue.run(async () => 'ran', { deadline: performance.now() + 50, expired, ...cancelBy(new AbortController()) });
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
