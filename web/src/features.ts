/**
 * Which API features this server has, read once from `/api/openapi.json` (generated from the route
 * table, so it lists exactly what the server serves). Pages and actions for a feature the server does
 * not offer are left out instead of failing on use: one dashboard build works against any API version.
 */
import type { Api } from './api.js';

export interface Features {
  /** `has('GET /api/orders')`; path templates as in the route table (`/api/leads/{id}/reassign`). */
  has(route: string): boolean;
}

/** The routes the UI's optional parts depend on. */
export const FEATURE_ROUTES = {
  orders: 'GET /api/orders',
  imports: 'GET /api/imports',
  reassign: 'POST /api/leads/{id}/reassign',
  simulate: 'POST /api/campaigns/{key}/simulate',
  dlq: 'GET /api/dlq',
  jobs: 'GET /api/jobs/runs',
  notifications: 'GET /api/notifications',
} as const;

export async function loadFeatures(api: Api): Promise<Features> {
  try {
    const doc = await api.get<{ paths?: Record<string, Record<string, unknown>> }>('/api/openapi.json');
    const routes = new Set<string>();
    for (const [path, methods] of Object.entries(doc.paths ?? {})) {
      for (const method of Object.keys(methods)) routes.add(`${method.toUpperCase()} ${path}`);
    }
    return { has: (route) => routes.has(route) };
  } catch {
    // Without the document, offer everything: a missing route then shows its API error.
    return { has: () => true };
  }
}
