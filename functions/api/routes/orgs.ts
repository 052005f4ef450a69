/**
 * `POST /api/orgs`: the operator creates an organization (tenant) with its first admin token, webhook
 * source and `default` campaign. Authorised by `ROOT_TOKEN` only; with no `ROOT_TOKEN` configured
 * every call is a 401, so a deployment without an operator token cannot create tenants at all.
 * `npx leadrouter org create <name>` wraps this route.
 */
import { z } from 'zod';
import { createOrg } from '../../usecases/orgs.js';
import { route } from '../router.js';
import { ErrorBody } from '../schemas.js';

/** PostgreSQL stores no NUL character in text: such a name is a 400, not a 500. */
const OrgCreate = z
  .object({
    name: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .refine((s) => !s.includes('\u0000'), { message: 'Contains a NUL character' }),
  })
  .openapi('OrgCreate');

const CreatedOrg = z
  .object({
    orgId: z.uuid(),
    sourceId: z.uuid(),
    adminToken: z.string().openapi({ description: 'Shown once: Authorization: Bearer <adminToken>' }),
    webhookSecret: z.string().openapi({ description: 'Shown once: X-Webhook-Secret of the default source' }),
  })
  .openapi('CreatedOrg');

export const orgRoutes = [
  route({
    method: 'POST',
    path: '/api/orgs',
    summary: 'Create an organization (operator ROOT_TOKEN); its token and webhook secret are shown once',
    tag: 'Organizations',
    auth: 'root',
    body: OrgCreate,
    responses: {
      201: { description: 'Created', schema: CreatedOrg },
      400: { description: 'Invalid', schema: ErrorBody },
      401: { description: 'Missing or wrong root token, or ROOT_TOKEN unset', schema: ErrorBody },
    },
    handle: async ({ body }) => {
      const { orgId, sourceId, adminToken, webhookSecret } = await createOrg({ name: body.name });
      return { status: 201, body: { orgId, adminToken, webhookSecret, sourceId } };
    },
  }),
];
