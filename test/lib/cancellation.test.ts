import { describe, expect, it } from 'vitest';
import { cancellationOf, eitherOf } from '../../src/lib/cancellation.js';

// The compute gate's waiters are cancelled by their client or by the server
// stopping, whichever comes first, without a combined AbortSignal per request.

describe('eitherOf', () => {
  it('is aborted when either is', () => {
    const first = new AbortController();
    const second = new AbortController();
    const both = eitherOf(cancellationOf(first.signal), cancellationOf(second.signal));
    expect(both.aborted).toBe(false);
    second.abort();
    expect(both.aborted).toBe(true);
    expect(eitherOf(cancellationOf(AbortSignal.abort()), cancellationOf(new AbortController().signal)).aborted).toBe(true);
  });

  it('calls its listener once, when the first of the two cancels, and stops watching the other', () => {
    const first = new AbortController();
    const second = new AbortController();
    const calls: string[] = [];
    eitherOf(cancellationOf(first.signal), cancellationOf(second.signal)).watch(() => calls.push('cancelled'));
    second.abort();
    first.abort();
    expect(calls).toEqual(['cancelled']);
  });

  it('calls nothing once unwatched', () => {
    const first = new AbortController();
    const second = new AbortController();
    let calls = 0;
    const unwatch = eitherOf(cancellationOf(first.signal), cancellationOf(second.signal)).watch(() => calls++);
    unwatch();
    first.abort();
    second.abort();
    expect(calls).toBe(0);
  });
});
