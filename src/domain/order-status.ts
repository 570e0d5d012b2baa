// What an order's status means, for every part of the project: revenue
// (statistics, a customer's total, the forecast), purchases (the
// recommendations), and which changes are allowed. The SQL that repeats these
// lists (migrations' triggers and functions, the schema's check and partial
// index) is checked against them by test/domain/order-status-sql.test.ts.

export const ORDER_STATUSES = ['pending', 'paid', 'shipped', 'cancelled', 'refunded'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** Orders whose lines count as revenue (docs/http-api.md, docs/compute.md). */
export const REVENUE_STATUSES = ['paid', 'shipped'] as const satisfies readonly OrderStatus[];

/** Orders whose lines count as purchases (docs/compute.md): all but cancelled and refunded. */
export const PURCHASE_STATUSES = ['pending', 'paid', 'shipped'] as const satisfies readonly OrderStatus[];

/** The changes an order's status may make (docs/http-api.md); `cancelled` and `refunded` are final. */
export const ORDER_TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  pending: ['paid', 'cancelled'],
  paid: ['shipped', 'cancelled', 'refunded'],
  shipped: ['refunded'],
  cancelled: [],
  refunded: [],
};

/** Whether an order may go from `from` to `to` (staying put is not a change, and always allowed). */
export const mayMove = (from: OrderStatus, to: OrderStatus) => from === to || ORDER_TRANSITIONS[from].includes(to);

/** Cancelling puts the lines' quantities back into stock; refunding does not (returned goods are restocked by hand). */
export const restocks = (to: OrderStatus) => to === 'cancelled';

/** The statuses an order can be moved to by a client (not back to pending). */
export const TARGET_STATUSES = ['paid', 'shipped', 'cancelled', 'refunded'] as const satisfies readonly OrderStatus[];
