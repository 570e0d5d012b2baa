// @shop-api/client: a typed client for shop-api, for the programs written
// against it. openapi-fetch over the types generated from the served document
// (schema.ts, kept in step with the server by `npm run client:check` in the
// shop-api repository). Published on its own: it imports nothing but openapi-fetch.
import createClient, { mergeHeaders } from 'openapi-fetch';
import type { ClientOptions } from 'openapi-fetch';
import type { components, operations, paths } from './schema.js';

export type { components, operations, paths };

/** A product, an order, a problem answer...: `Schema<'Product'>`, as the API sends it. */
export type Schema<Name extends keyof components['schemas']> = components['schemas'][Name];

export interface ShopClientOptions extends Omit<ClientOptions, 'baseUrl'> {
  /** Where the API is, e.g. https://shop.example (no /api: paths start with it). */
  baseUrl: string;
  /** API_TOKEN for writes and personal data, or API_READ_TOKEN for the latter only. */
  token?: string;
}

/** `client.GET('/api/products/{id}', { params: { path: { id: 1 } } })` and so on, typed end to end. */
export function createShopClient({ baseUrl, token, headers, ...rest }: ShopClientOptions) {
  return createClient<paths>({
    baseUrl,
    // Headers of any shape (a record, a Headers, pairs); one the caller sets wins over the token's.
    headers: mergeHeaders(token ? { authorization: `Bearer ${token}` } : undefined, headers),
    ...rest,
  });
}

export type ShopClient = ReturnType<typeof createShopClient>;
