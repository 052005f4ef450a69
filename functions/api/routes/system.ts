import { z } from 'zod';
import { listRecipients } from '../../adapters/pg/recipients.js';
import { lastEventId, leadCountsByStatus, unpublishedEventCount } from '../../adapters/pg/stats.js';
import { queueDepths } from '../../adapters/sqs/queueStats.js';
import { clock } from '../../clock.js';
import { ValidationError } from '../../domain/errors.js';
import { header } from '../../http/middleware.js';
import { authenticateSource } from '../../usecases/authenticateSource.js';
import { resetQuotasOnce } from '../../usecases/resetQuotas.js';
import { route, zodIssues } from '../router.js';
import { ErrorBody } from '../schemas.js';

const QuotaReset = z.object({ eventId: z.string().trim().min(1).max(200) }).openapi('QuotaReset');

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
    responses: {
      200: {
        description: 'Reset, or a duplicate eventId',
        schema: z.union([
          z.object({ reset: z.literal(true), recipients: z.number() }),
          z.object({ duplicate: z.literal(true) }),
        ]),
      },
      401: { description: 'Bad secret', schema: ErrorBody },
    },
    handle: async ({ event }) => {
      const source = await authenticateSource(header(event, 'x-webhook-secret'));
      let raw: unknown = {};
      try {
        raw = event.body
          ? JSON.parse(
              event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body,
            )
          : {};
      } catch {
        throw new ValidationError([{ field: 'body', message: 'Invalid JSON' }]);
      }
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
