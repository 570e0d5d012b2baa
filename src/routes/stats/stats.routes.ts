import { createRoute } from '@hono/zod-openapi';
import { jsonContent as json, problemResponses } from '../../http/openapi.js';
import { MAX_PERIODS, salesQuery, salesSchema } from './stats.schemas.js';

export const sales = createRoute({
  method: 'get',
  path: '/api/stats/sales',
  operationId: 'getSalesStats',
  tags: ['statistics'],
  summary: 'Revenue orders, units and revenue per day, week or month, zeros included',
  description: `Rules across parameters (else a 400): \`from\` on or before \`to\`; at most ${MAX_PERIODS} periods (days, weeks from Monday, or months, by \`granularity\`) overlapping [from, to].`,
  request: { query: salesQuery },
  responses: {
    200: { description: 'One row per period', content: json(salesSchema) },
    ...problemResponses(400),
  },
});
