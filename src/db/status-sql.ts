import { sql, type SQL } from 'drizzle-orm';
import { PURCHASE_STATUSES, REVENUE_STATUSES } from '../domain/order-status.js';

/** A status list as a SQL literal, `('paid', 'shipped')`: constants only, so it can be written into the text. */
export const statusListSql = (statuses: readonly string[]): SQL => sql.raw(`(${statuses.map((s) => `'${s}'`).join(', ')})`);

/** `status in REVENUE_SQL`: orders whose lines are revenue. */
export const REVENUE_SQL = statusListSql(REVENUE_STATUSES);

/** `status in PURCHASE_SQL`: orders whose lines are purchases. */
export const PURCHASE_SQL = statusListSql(PURCHASE_STATUSES);
