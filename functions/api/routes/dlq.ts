/**
 * `/api/dlq`: the lead queue's dead-lettered messages of the caller's org (a lead the allocator failed
 * on five times), and their replay once the cause is fixed. Other orgs' messages are never shown or
 * moved.
 */
import { z } from 'zod';
import { listDlq, replayDlq } from '../../usecases/dlq.js';
import { route } from '../router.js';
import { ErrorBody } from '../schemas.js';

const DlqItem = z
  .object({
    messageId: z.string(),
    type: z.string().nullable(),
    leadId: z.string().nullable(),
    receivedAt: z.string().nullable(),
    sentAt: z.string().nullable(),
    receiveCount: z.number().nullable(),
  })
  .openapi('DlqMessage');

const DlqQuery = z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) });

const Replay = z
  .object({ messageIds: z.array(z.string().min(1).max(128)).min(1).max(500).optional() })
  .openapi('DlqReplay');

export const dlqRoutes = [
  route({
    method: 'GET',
    path: '/api/dlq',
    summary: 'Dead-lettered lead messages of this org (peek: nothing is consumed)',
    tag: 'System',
    auth: 'admin',
    query: DlqQuery,
    responses: {
      200: {
        description: 'Messages',
        schema: z.object({ items: z.array(DlqItem), truncated: z.boolean() }),
      },
    },
    handle: async ({ orgId, query }) => ({ status: 200, body: await listDlq(orgId, query.limit) }),
  }),
  route({
    method: 'POST',
    path: '/api/dlq/replay',
    summary: 'Move this org’s dead-lettered messages (all, or messageIds) back to the lead queue',
    tag: 'System',
    auth: 'admin',
    body: Replay,
    responses: {
      200: {
        description: 'Replayed',
        schema: z.object({ replayed: z.number(), items: z.array(DlqItem), truncated: z.boolean() }),
      },
      400: { description: 'Invalid', schema: ErrorBody },
    },
    handle: async ({ orgId, body }) => ({ status: 200, body: await replayDlq(orgId, body.messageIds) }),
  }),
];
