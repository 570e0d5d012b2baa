// A typed client for shop-api, for the people who write programs against it:
// openapi-fetch over the types generated from the served document
// (schema.d.ts, kept in step by `npm run client:check`). Not used by the server.
import createClient, { type ClientOptions } from 'openapi-fetch';
import type { components, paths } from './schema.js';

export type { components, paths };

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
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(headers as Record<string, string> | undefined) },
    ...rest,
  });
}

export type ShopClient = ReturnType<typeof createShopClient>;
