import { z } from '@hono/zod-openapi';
import { titleFor } from './problem.js';

/** The `content` of a JSON response or body in a route's OpenAPI entry. */
export const jsonContent = <T>(schema: T) => ({ 'application/json': { schema } });

const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .passthrough()
  .openapi('Problem');

/** The problem+json responses a route can give, for its OpenAPI entry. */
export function problemResponses<S extends number>(...statuses: S[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      { description: titleFor(status), content: { 'application/problem+json': { schema: problemSchema } } },
    ]),
  ) as Record<S, { description: string; content: { 'application/problem+json': { schema: typeof problemSchema } } }>;
}
