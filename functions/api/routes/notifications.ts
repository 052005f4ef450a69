/** Notifications: batched messages for the org (one per import run), newest first. */
import { z } from 'zod';
import { listNotificationViews, markRead } from '../../usecases/notifications.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { route } from '../router.js';

const Notification = z
  .object({
    id: z.uuid(),
    type: z.string(),
    title: z.string().openapi({ example: '15 new leads from Facebook sheet' }),
    subject: z.string(),
    data: z.record(z.string(), z.unknown()),
    createdAt: z.string(),
    readAt: z.string().nullable(),
  })
  .openapi('Notification');

const ListQuery = z.object({
  unread: z.enum(['true', 'false']).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});

const MarkRead = z
  .object({ ids: z.array(z.uuid()).min(1).max(500).optional() })
  .strict()
  .openapi('MarkNotificationsRead', { description: 'The ids to mark read; none = all of them' });

/** A keyset cursor `{ t: <timestamp>, id: <uuid> }` (notifications, import runs, job runs). */
export const isTimeIdCursor = (v: unknown): v is { t: string; id: string } =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as { t?: unknown }).t === 'string' &&
  !Number.isNaN(Date.parse((v as { t: string }).t)) &&
  typeof (v as { id?: unknown }).id === 'string' &&
  /^[0-9a-f-]{36}$/i.test((v as { id: string }).id);

export const notificationRoutes = [
  route({
    method: 'GET',
    path: '/api/notifications',
    summary: 'Notifications, newest first, with the unread count',
    tag: 'Notifications',
    auth: 'admin',
    query: ListQuery,
    responses: {
      200: {
        description: 'A page of notifications',
        schema: z.object({
          items: z.array(Notification),
          unread: z.number(),
          nextCursor: z.string().nullable(),
        }),
      },
    },
    handle: async ({ orgId, query }) => {
      const before = decodeCursor(query.cursor, isTimeIdCursor);
      const { rows, more, unread } = await listNotificationViews(orgId, {
        unread: query.unread === 'true',
        limit: query.limit,
        before: before && { createdAt: before.t, id: before.id },
      });
      const last = rows.at(-1);
      return {
        status: 200,
        body: {
          items: rows,
          unread,
          nextCursor: more && last ? encodeCursor({ t: last.createdAt.toISOString(), id: last.id }) : null,
        },
      };
    },
  }),
  route({
    method: 'POST',
    path: '/api/notifications/read',
    summary: 'Mark notifications read (the given ids, or all)',
    tag: 'Notifications',
    auth: 'admin',
    body: MarkRead,
    responses: { 200: { description: 'How many changed', schema: z.object({ marked: z.number() }) } },
    handle: async ({ orgId, body }) => ({ status: 200, body: await markRead(orgId, body.ids ?? null) }),
  }),
];
