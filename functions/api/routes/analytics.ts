import { z } from 'zod';
import { clock } from '../../clock.js';
import { ValidationError } from '../../domain/errors.js';
import { analytics, CONTACT_LABELS } from '../../usecases/analytics.js';
import { route } from '../router.js';
import { ErrorBody, TimeZone, Uuid } from '../schemas.js';
import { LEAD_STATUSES } from '../../domain/types.js';

const DAY_MS = 86_400_000;
/** At most this many buckets in one answer: 31 days of hours, 400 days of days. */
const MAX_SPAN_MS = { hour: 31 * DAY_MS, day: 400 * DAY_MS } as const;

const AnalyticsQuery = z.object({
  since: z.iso.datetime({ offset: true }).optional().openapi({ description: 'Default: 24 h before until' }),
  until: z.iso.datetime({ offset: true }).optional().openapi({ description: 'Default: now' }),
  bucket: z.enum(['hour', 'day']).default('hour'),
  tz: TimeZone.default('UTC').openapi({ description: 'Where days (and hours) start; the viewer’s zone' }),
});

const Count = z.number().int();
const BucketSeries = z.array(z.object({ at: z.string(), count: Count }));
const Analytics = z
  .object({
    since: z.string(),
    until: z.string(),
    bucket: z.enum(['hour', 'day']),
    tz: z.string(),
    received: Count,
    byStatus: z.record(z.enum(LEAD_STATUSES), Count),
    funnel: z.array(z.object({ stage: z.enum(['received', 'delivered', 'contacted', 'won']), count: Count })),
    receivedPerBucket: BucketSeries,
    assignmentsPerBucket: BucketSeries,
    perRecipient: z.array(z.object({ recipientId: Uuid, name: z.string(), count: Count })),
    perState: z.array(z.object({ state: z.string().nullable(), count: Count })),
    firstContact: z.object({
      count: Count,
      medianMs: z.number().nullable(),
      p90Ms: z.number().nullable(),
      buckets: z.array(z.object({ label: z.enum(CONTACT_LABELS), count: Count })),
    }),
  })
  .openapi('Analytics');

export const analyticsRoutes = [
  route({
    method: 'GET',
    path: '/api/analytics',
    summary:
      'Leads received and assignments made in a window: per hour or day, per recipient, per state, the funnel by status and time to first contact',
    tag: 'Analytics',
    auth: 'admin',
    query: AnalyticsQuery,
    responses: {
      200: { description: 'Every bucket of [since, until), zeros included', schema: Analytics },
      400: { description: 'Bad window (since after until, or too many buckets)', schema: ErrorBody },
    },
    handle: async ({ orgId, query }) => {
      const until = query.until ? new Date(query.until) : clock().now();
      const since = query.since ? new Date(query.since) : new Date(until.getTime() - DAY_MS);
      if (since >= until) throw new ValidationError([{ field: 'since', message: 'Must be before until' }]);
      if (until.getTime() - since.getTime() > MAX_SPAN_MS[query.bucket])
        throw new ValidationError([
          {
            field: 'since',
            message: `At most ${MAX_SPAN_MS[query.bucket] / DAY_MS} days with bucket=${query.bucket}`,
          },
        ]);
      return {
        status: 200,
        body: await analytics({ orgId, since, until, bucket: query.bucket, tz: query.tz }),
      };
    },
  }),
];
