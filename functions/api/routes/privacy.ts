/**
 * Erasure requests: `DELETE /api/leads/:id` removes a person's data from a lead and its events (see
 * `usecases/eraseLead.ts` for what stays). Idempotent: erasing again answers the same.
 */
import { z } from 'zod';
import { eraseLead } from '../../usecases/eraseLead.js';
import { route } from '../router.js';
import { ErrorBody } from '../schemas.js';

const Erased = z
  .object({ id: z.uuid(), status: z.string(), erased: z.literal(true), erasedAt: z.string() })
  .openapi('LeadErased');

export const privacyRoutes = [
  route({
    method: 'DELETE',
    path: '/api/leads/{id}',
    summary: 'Erase the person’s data (phone, email, names, zip, external id, attributes; events keep ids)',
    tag: 'Leads',
    auth: 'admin',
    uuidParams: ['id'],
    responses: {
      200: { description: 'Erased', schema: Erased },
      404: { description: 'Not found (or another org’s)', schema: ErrorBody },
    },
    handle: async ({ orgId, params }) => ({ status: 200, body: await eraseLead(orgId, params.id!) }),
  }),
];
