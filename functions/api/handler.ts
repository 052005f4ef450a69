/**
 * The admin API (bearer token), `/health`, the quota-reset webhook and `/api/openapi.json`.
 */
import { httpHandler, json } from '../http/middleware.js';
import { openApiDocument } from './openapi.js';
import { createRouter, route } from './router.js';
import { apiRoutes, documentedElsewhere } from './routes/index.js';

const openapiRoute = route({
  method: 'GET',
  path: '/api/openapi.json',
  summary: 'This document',
  tag: 'System',
  auth: 'none',
  responses: { 200: { description: 'OpenAPI 3.1 document' } },
  handle: async () => ({ status: 200, body: document }),
});
const routes = [...apiRoutes, openapiRoute];
const document = openApiDocument([...routes, ...documentedElsewhere]);
const router = createRouter(routes);

export const handler = httpHandler(
  async (event, context) => router(event, context).catch((e) => Promise.reject(e)) ?? json(500, {}),
);
