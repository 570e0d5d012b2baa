import { countPeriods } from '../../domain/days.js';
import { clientGone } from '../../http/client-gone.js';
import { exactJson } from '../../http/exact-json.js';
import { badRequest } from '../../http/problem.js';
import type { AppDeps, AppRouteHandler } from '../../lib/types.js';
import { salesByPeriod } from './stats.repository.js';
import type * as routes from './stats.routes.js';
import { MAX_PERIODS } from './stats.schemas.js';

export function statsHandlers({ reads }: Pick<AppDeps, 'reads'>) {
  const sales: AppRouteHandler<typeof routes.sales> = async (c) => {
    const query = c.req.valid('query');
    if (query.from > query.to) {
      throw badRequest('from must not be after to', [{ path: 'from', message: 'must be on or before to' }]);
    }
    const periods = countPeriods(query.from, query.to, query.granularity);
    if (periods > MAX_PERIODS) {
      throw badRequest(`the range spans ${periods} periods; at most ${MAX_PERIODS} per request`, [
        { path: 'to', message: `at most ${MAX_PERIODS} ${query.granularity} periods from 'from'` },
      ]);
    }
    const rows = await reads.run(c.get('consistency'), (db, site) => salesByPeriod(db, query, site), clientGone(c));
    // Sums of many orders: exact even past 2^53.
    return exactJson(c, { granularity: query.granularity, from: query.from, to: query.to, data: rows }, 200);
  };
  return { sales };
}
