import { z } from 'zod';
import { listRecipients } from '../../adapters/pg/recipients.js';
import { lastEventId, leadCountsByStatus, unpublishedEventCount } from '../../adapters/pg/stats.js';
import { queueDepths } from '../../adapters/sqs/queueStats.js';
import { clock } from '../../clock.js';
import { MAX_WEBHOOK_BODY_BYTES } from '../../config.js';
import { ValidationError } from '../../domain/errors.js';
import { parseObjectBody } from '../../http/body.js';
import { header } from '../../http/middleware.js';
import { authenticateSource } from '../../usecases/authenticateSource.js';
import { resetQuotasOnce } from '../../usecases/resetQuotas.js';
import { route, zodIssues } from '../router.js';
import { ErrorBody } from '../schemas.js';

/** The event that resets quotas, once: JSON or form-encoded; a numeric id (as a sheet sends it) is text. */
const QuotaReset = z
  .object({
    eventId: z.preprocess(
      (v) => (typeof v === 'number' && Number.isFinite(v) ? String(v) : v),
      z.string().trim().min(1).max(200),
    ),
  })
  .openapi('QuotaReset');

export const systemRoutes = [
  route({
    method: 'GET',
    path: '/health',
    summary: 'Liveness',
    tag: 'System',
    auth: 'none',
    responses: {
      200: { description: 'OK', schema: z.object({ status: z.literal('ok'), time: z.string() }) },
    },
    handle: async () => ({
      status: 200,
      body: { status: 'ok', time: clock().now().toISOString(), service: 'leadrouter' },
    }),
  }),
  route({
    method: 'POST',
    path: '/webhooks/quota-reset',
    summary: 'Reset every recipient’s remaining quota, once per eventId (X-Webhook-Secret)',
    tag: 'Webhooks',
    auth: 'webhook',
    requestBody: QuotaReset,
    responses: {
      200: {
        description: 'Reset, or a duplicate eventId',
        schema: z.union([
          z.object({ reset: z.literal(true), recipients: z.number() }),
          z.object({ duplicate: z.literal(true) }),
        ]),
      },
      400: { description: 'No eventId, or an unreadable body', schema: ErrorBody },
      401: { description: 'Bad secret', schema: ErrorBody },
      413: { description: 'Body over 64 KiB', schema: ErrorBody },
    },
    handle: async ({ event }) => {
      const source = await authenticateSource(header(event, 'x-webhook-secret'));
      const raw = event.body ? parseObjectBody(event, MAX_WEBHOOK_BODY_BYTES) : {};
      const body = QuotaReset.safeParse(raw);
      if (!body.success) throw new ValidationError(zodIssues(body.error));
      return { status: 200, body: await resetQuotasOnce(source.orgId, body.data.eventId) };
    },
  }),
  route({
    method: 'GET',
    path: '/api/stats',
    summary: 'Counts by status, recipients’ usage today, queue and DLQ depth',
    tag: 'System',
    auth: 'admin',
    responses: { 200: { description: 'Stats' } },
    handle: async ({ orgId }) => {
      const now = clock().now();
      const [byStatus, recipients, queue, unpublished, lastId] = await Promise.all([
        leadCountsByStatus(orgId),
        listRecipients(orgId, now),
        queueDepths().catch(() => ({ depth: null, inFlight: null, dlq: null })),
        unpublishedEventCount(orgId),
        lastEventId(orgId),
      ]);
      return {
        status: 200,
        body: {
          leads: { total: Object.values(byStatus).reduce((a, b) => a + b, 0), byStatus },
          assignedToday: recipients.reduce((a, r) => a + r.assignedToday, 0),
          recipients: recipients.map((r) => ({
            id: r.id,
            name: r.name,
            active: r.active,
            assignedToday: r.assignedToday,
            dailyCap: r.dailyCap,
            quota: r.quota,
            quotaRemaining: r.quotaRemaining,
          })),
          queue,
          unpublishedEvents: unpublished,
          lastEventId: lastId,
        },
      };
    },
  }),
];
