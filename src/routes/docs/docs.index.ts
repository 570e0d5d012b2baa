// GET /openapi.json and GET /docs: the document, and an interactive
// reference built from it (Swagger UI from npm), whose scripts and styles this
// server serves itself, so that the page asks no other host for anything.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { jsonText } from '../../http/exact-json.js';
import { notFound } from '../../http/problem.js';
import { createRouter } from '../../http/router.js';
import type { AppRouteHandler } from '../../lib/types.js';
import * as routes from './docs.routes.js';

const swaggerUi = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

/** The files the page loads, by the name it asks for them under /docs/. */
const ASSETS: Record<string, { file: string; type: string }> = {
  'swagger-ui.css': { file: join(swaggerUi, 'swagger-ui.css'), type: 'text/css; charset=utf-8' },
  'swagger-ui-bundle.js': { file: join(swaggerUi, 'swagger-ui-bundle.js'), type: 'text/javascript; charset=utf-8' },
  'favicon-32x32.png': { file: join(swaggerUi, 'favicon-32x32.png'), type: 'image/png' },
  // The page's own start-up script: a file, so that no inline script needs allowing.
  'start.js': { file: '', type: 'text/javascript; charset=utf-8' },
};

const START_SCRIPT = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#reference',
  deepLinking: true,
  displayOperationId: true,
  // No call to the public validator: the page talks to this server only.
  validatorUrl: null,
});
`;

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>shop-api reference</title>
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="reference"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/start.js"></script>
</body>
</html>
`;

// Nothing from another host: a browser refuses it even if something asked.
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'";

const cache = new Map<string, Promise<Buffer>>();
const assetBytes = (name: string, file: string) => {
  let bytes = cache.get(name);
  if (!bytes) cache.set(name, (bytes = readFile(file)));
  return bytes;
};

/** `document` builds the OpenAPI document of the whole app, once, when first asked for. */
export function docsRouter(document: () => object) {
  let text: string | undefined;
  const openapi: AppRouteHandler<typeof routes.openapi> = (c) => {
    text ??= JSON.stringify(document());
    return jsonText(c, text, 200) as never;
  };
  const docs: AppRouteHandler<typeof routes.docs> = (c) =>
    c.html(PAGE, 200, { 'content-security-policy': CONTENT_SECURITY_POLICY }) as never;
  return createRouter()
    .openapi(routes.openapi, openapi)
    .openapi(routes.docs, docs)
    .get('/docs/:asset', async (c) => {
      const name = c.req.param('asset');
      const asset = ASSETS[name];
      if (!asset) throw notFound(`no file ${name} here`);
      const body = name === 'start.js' ? START_SCRIPT : await assetBytes(name, asset.file);
      return c.body(body as never, 200, {
        'content-type': asset.type,
        'cache-control': 'public, max-age=3600',
        'content-security-policy': CONTENT_SECURITY_POLICY,
      });
    });
}
