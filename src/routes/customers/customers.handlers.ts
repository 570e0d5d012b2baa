import { exactJson } from '../../http/exact-json.js';
import { notFound } from '../../http/problem.js';
import type { AppDeps, AppRouteHandler } from '../../lib/types.js';
import { customerExists, findCustomer, listCustomerOrders } from './customers.repository.js';
import type * as routes from './customers.routes.js';

export function customerHandlers({ reads, cursors }: Pick<AppDeps, 'reads' | 'cursors'>) {

  const get: AppRouteHandler<typeof routes.get> = async (c) => {
    const { id } = c.req.valid('param');
    const customer = await reads.run(c.var.consistency, (db) => findCustomer(db, id));
    if (!customer) throw notFound(`customer ${id} not found`);
    // The revenue total is a sum of many orders: exact even past 2^53.
    return exactJson(c, customer, 200);
  };

  const orders: AppRouteHandler<typeof routes.orders> = async (c) => {
    const { id } = c.req.valid('param');
    const query = c.req.valid('query');
    const scope = cursors.scope({ customer: id, status: query.status });
    const keyset = query.cursor ? cursors.decode(query.cursor, 'customer-orders', scope, ['timestamp', 'orderId']) : null;
    const { data, nextKeyset, exists } = await reads.run(c.var.consistency, async (db) => {
      const page = await listCustomerOrders(db, id, query, keyset);
      // Orders reference their customer, so only an empty page can hide a missing one.
      return { ...page, exists: page.data.length > 0 || (await customerExists(db, id)) };
    }, c.req.raw.signal);
    if (!exists) throw notFound(`customer ${id} not found`);
    return exactJson(c, { data, next_cursor: nextKeyset ? cursors.encode('customer-orders', scope, nextKeyset) : null }, 200);
  };

  return { get, orders };
}
