// bench/consistency.ts: when a read of an own write is stale, and what replica-failover counts.
import { describe, expect, it } from 'vitest';
import { FailoverTally, judgeOwnRead, OwnWrites, type OrderStatus } from '../../bench/consistency.js';
import { requestSequence, RunState, type Dataset } from '../../bench/workload.js';

const order = (status: string) => JSON.stringify({ id: 7, status, lines: [] });

describe('judgeOwnRead', () => {
  it('is fresh for the written status and any that can follow it', () => {
    const fresh: Array<[OrderStatus, string]> = [
      ['pending', 'pending'],
      ['pending', 'paid'],
      ['pending', 'cancelled'],
      ['pending', 'refunded'],
      ['paid', 'shipped'],
      ['paid', 'cancelled'],
      ['paid', 'refunded'],
      ['shipped', 'refunded'],
      ['cancelled', 'cancelled'],
      ['refunded', 'refunded'],
    ];
    for (const [written, read] of fresh) expect(judgeOwnRead(written, 200, order(read)), `${written} then ${read}`).toBe('fresh');
  });

  it('is stale for a 404, an earlier status, or one that cannot follow (cancelled is final)', () => {
    expect(judgeOwnRead('pending', 404, '{"title":"Not Found"}')).toBe('stale');
    const stale: Array<[OrderStatus, string]> = [
      ['paid', 'pending'],
      ['shipped', 'paid'],
      ['shipped', 'pending'],
      ['refunded', 'shipped'],
      ['cancelled', 'paid'],
      ['cancelled', 'pending'],
      ['shipped', 'cancelled'],
      ['refunded', 'cancelled'],
    ];
    for (const [written, read] of stale) expect(judgeOwnRead(written, 200, order(read)), `${written} then ${read}`).toBe('stale');
  });

  it('calls other answers failures, not staleness', () => {
    expect(judgeOwnRead('paid', 503, '{}')).toBe('failed');
    expect(judgeOwnRead('paid', 400, '{}')).toBe('failed');
    expect(judgeOwnRead('paid', 200, 'not json')).toBe('failed');
    expect(judgeOwnRead('paid', 200, order('lost'))).toBe('failed');
  });
});

describe('OwnWrites', () => {
  it('hands out the newest write first, each once, and keeps only writes with a token', () => {
    const own = new OwnWrites(2);
    own.wrote(1, 'pending', 'wal-1');
    own.wrote(2, 'paid', undefined);
    own.wrote(3, 'weird', 'wal-3');
    own.wrote(4, 'paid', 'wal-4');
    own.wrote(5, 'shipped', 'wal-5');
    expect(own.take()).toEqual({ id: 5, status: 'shipped', token: 'wal-5' });
    expect(own.take()).toEqual({ id: 4, status: 'paid', token: 'wal-4' });
    expect(own.take()).toBeUndefined(); // 1 was dropped past the limit of 2
  });
});

describe('FailoverTally', () => {
  it('counts errors, expected refusals, stale reads and reads while the replica is down', () => {
    const tally = new FailoverTally();
    const own = { id: 1, status: 'paid' as const, token: 'wal-0000000000000001' };
    tally.answered('GET', 200, '{}');
    tally.answered('POST', 201, '{}');
    tally.answered('PATCH', 409, '{}'); // refused: expected
    tally.answered('GET', 200, order('pending'), own); // stale
    tally.replicaDown = true;
    tally.answered('GET', 503, '{}'); // an error, while down
    tally.answered('GET', 404, '{}', own); // stale, while down
    tally.answered('GET', 200, order('shipped'), own); // fresh, while down
    tally.answered('POST', 500, '{}'); // not a read
    tally.replicaDown = false;
    tally.answered('GET', 502, '{}', own); // own-read error
    expect(tally.figures(3, 1.2, 2.5)).toEqual({
      errors: 3 + 3,
      refused: 1,
      ownReads: 4,
      staleReads: 2,
      ownReadErrors: 1,
      readsWhileDown: 3,
      readsOkWhileDown: 1,
      stoppedAtS: 1.2,
      backAtS: 2.5,
    });
  });
});

describe('reads of own writes in a request sequence', () => {
  const data: Dataset = { productIds: [1, 2], customerIds: [10], orderIds: [100], categories: ['toys'], months: ['2025-01'], years: [2025] };

  it('read back a write with its Consistency-Token, and count every answer in the failover tally', () => {
    const state = new RunState(new FailoverTally());
    const next = requestSequence([['create-order', 1], ['own-read', 1]], data, 5, state);
    const headers = { 'Consistency-Token': 'wal-00000000000000ff' };
    let reads = 0;
    for (let i = 0; i < 40; i++) {
      const req = next();
      if (req.method === 'POST') req.after?.(201, JSON.stringify({ id: 900 + i, status: 'pending' }), headers, 3);
      else if (req.headers?.['consistency-token']) {
        reads += 1;
        expect(req.headers['consistency-token']).toBe('wal-00000000000000ff');
        expect(req.path).toMatch(/^\/api\/orders\/9\d\d$/);
        req.after?.(404, '{}', {}, 2);
      } else {
        // Nothing written yet to read back: a point read instead.
        expect(req.path).toMatch(/^\/api\/products\/[12]$/);
        req.after?.(200, '{}', {}, 1);
      }
    }
    expect(reads).toBeGreaterThan(5);
    expect(state.failover?.figures(0, null, null)).toMatchObject({ staleReads: reads, ownReads: reads, errors: 0 });
  });
});
