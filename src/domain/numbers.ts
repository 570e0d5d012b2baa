// Integer bounds the shop's data lives within.

/**
 * The largest value of a Postgres integer (int4): the bound of product and
 * customer ids, stock, quantities and prices in cents, in the API, the
 * importer and the database alike.
 */
export const MAX_INT = 2_147_483_647;
