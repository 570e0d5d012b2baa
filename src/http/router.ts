import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppOpenAPI, AppEnv } from '../lib/types.js';
import { validationProblem } from './problem.js';

const TARGET_NAMES: Record<string, string> = { query: 'query', param: 'path', json: 'body', header: 'header' };

/** A router whose validation failures all become the same 400 problem. */
export function createRouter(): AppOpenAPI {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationProblem(result.error, TARGET_NAMES[result.target] ?? result.target);
    },
  });
}
