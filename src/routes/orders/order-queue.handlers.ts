// The back office's order queue: a keyset page, and the cursor that keeps
// paging stable whichever server (primary or replica) answers each page.
import { clientGone } from '../../http/client-gone.js';
import { exactJson } from '../../http/exact-json.js';
import type { CursorField } from '../../http/cursor.js';
import { badRequest } from '../../http/problem.js';
import type { AppDeps, AppRouteHandler } from '../../lib/types.js';
import { listOrderQueue, replayedPosition } from './order-queue.repository.js';
import type * as routes from './order-queue.routes.js';

const ENDPOINT = 'order-queue';
/** created_at and id of the last order of the page before, and the WAL position the first page was read at. */
const CURSOR_SHAPE: readonly CursorField[] = ['timestamp', 'orderId', 'walPosition'];

const positionText = (position: bigint) => position.toString(16).padStart(16, '0');
const later = (a: bigint | undefined, b: bigint | undefined) => (a === undefined ? b : b === undefined || a > b ? a : b);

// Why the cursor carries a WAL position. The keyset (created_at, id) never
// changes for an order, so a page after it can never repeat an order of an
// earlier page: "at most once" holds by construction. What can go wrong is
// an order skipped: one whose keyset falls before the cursor but that the
// page covering it did not see. An order that commits late with an early
// created_at (created_at is its transaction's start) is not such a case when
// it commits after the first page was read: the promise to it is "at most
// once", and it may fall behind the cursor. But an order committed before
// the first page was read must be in every later page's snapshot; on one
// server it is, while a later page read on a replica that has replayed less
// than the server of the first page (another replica, or one that fell
// behind) would miss it. So the first page notes the position its snapshot
// had reached (read after its query: at or past every commit it saw; the
// primary's insert position, the same measure as Consistency-Token, or the
// replica's replay position), and every later page is read where at least
// that much is replayed, as a Consistency-Token would be: on a replica that
// has it, else on the primary. This is exact, where bounding the ids by the
// largest id of the first page would not be (ids are drawn when an order is
// inserted, not when it commits, and imported ids follow no clock). The
// sealed cursor keeps it from being edited. (A first page read on a replica
// is, like every read there, as of the position that replica had replayed,
// within REPLICA_MAX_LAG_MS: "before the first page was read" means before
// that position. test/cluster/order-queue-replica.test.ts shows the rest.)
export function orderQueueHandlers({ reads, cursors }: Pick<AppDeps, 'reads' | 'cursors'>) {
  const list: AppRouteHandler<typeof routes.list> = async (c) => {
    const query = c.req.valid('query');
    if (query.from !== undefined && query.to !== undefined && query.from > query.to) {
      throw badRequest('from must not be after to', [{ path: 'from', message: 'must be on or before to' }]);
    }
    const { cursor, limit: _limit, ...shaping } = query;
    const scope = cursors.scope(shaping);
    const keyset = cursor ? cursors.decode(cursor, ENDPOINT, scope, CURSOR_SHAPE) : null;
    const firstPosition = keyset ? BigInt(`0x${keyset[2] as string}`) : undefined;
    const { page, position } = await reads.run(
      later(c.get('consistency'), firstPosition),
      async (db, site) => {
        const page = await listOrderQueue(db, query, keyset ? [keyset[0] as string, keyset[1] as number] : null);
        // Only a first page that has a next one needs to note where it was read.
        if (firstPosition !== undefined || !page.nextKeyset) return { page, position: firstPosition };
        return { page, position: site === 'primary' ? await reads.position() : await replayedPosition(db) };
      },
      clientGone(c),
    );
    const next = page.nextKeyset && position !== undefined ? [...page.nextKeyset, positionText(position)] : null;
    return exactJson(c, { data: page.data, next_cursor: next ? cursors.encode(ENDPOINT, scope, next) : null }, 200);
  };

  return { list };
}
