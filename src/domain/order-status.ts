// What an order's status means, for every part of the project: revenue
// (statistics, a customer's total, the forecast), purchases (the
// recommendations), and which changes are allowed. The SQL that repeats these
// lists (migrations' triggers and functions, the schema's check and partial
// index) is checked against them by test/domain/order-status-sql.test.ts.

export const ORDER_STATUSES = ['pending', 'paid', 'shipped', 'cancelled', 'refunded'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** Orders whose lines count as revenue (api.md, compute.md). */
export const REVENUE_STATUSES = ['paid', 'shipped'] as const satisfies readonly OrderStatus[];

/** Orders whose lines count as purchases (compute.md): all but cancelled and refunded. */
export const PURCHASE_STATUSES = ['pending', 'paid', 'shipped'] as const satisfies readonly OrderStatus[];

export const isOrderStatus = (value: string): value is OrderStatus => (ORDER_STATUSES as readonly string[]).includes(value);
