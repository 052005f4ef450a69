import { z } from 'zod';
import type { Route } from '../router.js';
import { ErrorBody } from '../schemas.js';
import { analyticsRoutes } from './analytics.js';
import { campaignRoutes } from './campaigns.js';
import { automationRoutes } from './automation.js';
import { importRoutes } from './imports.js';
import { leadRoutes } from './leads.js';
import { orderRoutes } from './orders.js';
import { recipientRoutes } from './recipients.js';
import { systemRoutes } from './system.js';
import { dlqRoutes } from './dlq.js';
import { orgRoutes } from './orgs.js';
import { privacyRoutes } from './privacy.js';
import { sourceRoutes } from './sources.js';

/** Every route the admin API Lambda serves. */
export const apiRoutes: Route[] = [
  ...systemRoutes,
  ...recipientRoutes,
  ...campaignRoutes,
  ...leadRoutes,
  ...importRoutes,
  ...orderRoutes,
  ...automationRoutes,
  ...orgRoutes,
  ...sourceRoutes,
  ...dlqRoutes,
  ...privacyRoutes,
  ...analyticsRoutes,
];

/** Routes served by other Lambdas, listed here so that the OpenAPI document describes them too. */
export const documentedElsewhere: Route[] = [
  {
    method: 'POST',
    path: '/webhooks/leads',
    summary:
      'Lead intake for Make.com, Zapier, forms (JSON or form-encoded; X-Webhook-Secret; optional Idempotency-Key)',
    tag: 'Webhooks',
    auth: 'webhook',
    body: z
      .object({
        phone: z.string(),
        email: z.string().optional(),
        firstName: z.string().optional(),
        lastName: z.string().optional(),
        name: z.string().optional(),
        state: z.string().optional(),
        zip: z.string().optional(),
        campaign: z.string().optional(),
        externalId: z.string().optional(),
      })
      .catchall(z.unknown())
      .openapi('LeadWebhook'),
    responses: {
      202: {
        description: 'Queued',
        schema: z.object({ leadId: z.uuid(), status: z.literal('queued'), duplicate: z.literal(false) }),
      },
      200: { description: 'Duplicate', schema: z.object({ duplicate: z.literal(true), leadId: z.uuid() }) },
      400: { description: 'Invalid, every problem by field', schema: ErrorBody },
      401: { description: 'Missing or wrong secret', schema: ErrorBody },
      413: { description: 'Body over 64 KiB', schema: ErrorBody },
    },
    handle: async () => {
      throw new Error('served by the ingest function');
    },
  },
];
