import { isSchemaCurrent } from '../../db/migrate.js';
import { DATABASE_RETRY_AFTER_S } from '../../http/errors.js';
import { exactJson } from '../../http/exact-json.js';
import { unavailable } from '../../http/problem.js';
import type { AppDeps, AppRouteHandler } from '../../lib/types.js';
import type * as routes from './health.routes.js';

export function healthHandlers({ database }: Pick<AppDeps, 'database'>) {
  const health: AppRouteHandler<typeof routes.health> = (c) => exactJson(c, { status: 'ok' }, 200);

  const ready: AppRouteHandler<typeof routes.ready> = async (c) => {
    let current: boolean;
    try {
      current = await isSchemaCurrent(database.db);
    } catch (err) {
      c.get('logger').warn({ err }, 'readiness check failed');
      throw unavailable('the database is unavailable', DATABASE_RETRY_AFTER_S);
    }
    // Another release migrated it further, or this one's migrations have not run: not for this instance.
    if (!current) throw unavailable('the database schema is not current', DATABASE_RETRY_AFTER_S);
    return exactJson(c, { status: 'ready' }, 200);
  };

  return { health, ready };
}
