/** `/api/openapi.json`, generated from the route table's zod schemas (never written by hand). */
import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import type { Route } from './router.js';

export function openApiDocument(routes: Route[], serverUrl?: string) {
  const registry = new OpenAPIRegistry();
  const bearer = registry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  const webhook = registry.registerComponent('securitySchemes', 'webhookSecret', {
    type: 'apiKey',
    in: 'header',
    name: 'X-Webhook-Secret',
  });
  for (const r of routes) {
    const params = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
    registry.registerPath({
      method: r.method.toLowerCase() as 'get',
      path: r.path,
      summary: r.summary,
      tags: [r.tag],
      security:
        r.auth === 'admin' || r.auth === 'root'
          ? [{ [bearer.name]: [] }]
          : r.auth === 'webhook'
            ? [{ [webhook.name]: [] }]
            : [],
      request: {
        ...(params.length
          ? { params: z.object(Object.fromEntries(params.map((p) => [p, z.string()]))) }
          : {}),
        ...(r.query instanceof z.ZodObject ? { query: r.query } : {}),
        ...(r.body ? { body: { content: { 'application/json': { schema: r.body } } } } : {}),
        ...(r.requestBody
          ? {
              body: {
                content: {
                  'application/json': { schema: r.requestBody },
                  'application/x-www-form-urlencoded': { schema: r.requestBody },
                },
              },
            }
          : {}),
      },
      responses: Object.fromEntries(
        Object.entries(r.responses).map(([status, res]) => [
          status,
          {
            description: res.description,
            ...(res.schema ? { content: { 'application/json': { schema: res.schema } } } : {}),
          },
        ]),
      ),
    });
  }
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'leadrouter API',
      version: '1.0.0',
      description: 'Lead intake and distribution. Errors: {"error", "message", "issues"?}.',
    },
    servers: serverUrl ? [{ url: serverUrl }] : [],
  });
}
