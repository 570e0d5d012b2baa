import type { Db } from '../db/client.js';
import type { Logger } from '../logger.js';
import { HttpProblem, titleFor } from '../http/problem.js';
import { claimKey, completeKey, purgeExpiredKeys, releaseKey, type StoredResponse } from './idempotency.repository.js';

export type { StoredResponse };

/** Stores the response inside the write's own transaction, so that the two commit together or not at all. */
export type StoreWithin = (tx: Db, response: StoredResponse) => Promise<void>;

const PURGE_EVERY_MS = 60_000;

const keyProblem = (status: 409 | 422, detail: string) =>
  new HttpProblem(status, titleFor(status), detail, status === 409 ? { headers: { 'retry-after': '1' } } : {});

/**
 * Idempotency-Key for writes (docs/http-api.md): a retry with the same key and request
 * gets the first response again (`replayed`), the same key with another
 * request a 422, and one while the first still runs a 409.
 *
 * `write` does the work. One that writes must call `storeWithin` in its
 * transaction (it throws a 409 if the key was taken over meanwhile, which
 * rolls the work back); an answer given without writing (a 4xx, a change to
 * what already was) is stored after the fact. Any other failure gives the
 * key up, so that a retry runs afresh.
 */
export function idempotentWrites(db: Db, logger: Pick<Logger, 'info' | 'warn'>) {
  // Expired keys go opportunistically, from the write path, at most once a
  // minute per process: no timer to start and stop, and keys only arrive here.
  let nextPurgeAt = 0;
  const purgeOccasionally = async () => {
    if (Date.now() < nextPurgeAt) return;
    nextPurgeAt = Date.now() + PURGE_EVERY_MS;
    try {
      const deleted = await purgeExpiredKeys(db);
      if (deleted) logger.info({ deleted }, 'expired idempotency keys deleted');
    } catch (err) {
      logger.warn({ err }, 'idempotency key purge failed');
    }
  };

  return async function run(
    key: string | undefined,
    fingerprint: string,
    write: (storeWithin: StoreWithin | undefined) => Promise<StoredResponse>,
  ): Promise<{ response: StoredResponse; replayed: boolean }> {
    if (key === undefined) return { response: await write(undefined), replayed: false };

    await purgeOccasionally();
    const claim = await claimKey(db, key, fingerprint);
    switch (claim.kind) {
      case 'replay':
        return { response: claim.response, replayed: true };
      case 'mismatch':
        throw keyProblem(422, 'this Idempotency-Key was used with another request');
      case 'in_progress':
        throw keyProblem(409, 'a request with this Idempotency-Key is still in progress');
    }

    const { token } = claim;
    let stored = false;
    try {
      const response = await write(async (tx, response) => {
        if (!(await completeKey(tx, key, token, response))) {
          throw keyProblem(409, 'this Idempotency-Key was taken over by a later request');
        }
        stored = true;
      });
      // Nothing was written (unknown references, no stock, the status it had): kept, so that a retry gets the same answer.
      if (!stored) await completeKey(db, key, token, response);
      return { response, replayed: false };
    } catch (err) {
      await releaseKey(db, key, token).catch((releaseErr: unknown) =>
        logger.warn({ err: releaseErr }, 'could not release an idempotency key; it frees itself in a minute'),
      );
      throw err;
    }
  };
}
