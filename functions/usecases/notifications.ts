/**
 * Notifications: what the people of an org should look at, batched (one per import run — "15 new leads
 * from Facebook sheet" — not one per lead). Each is stored and announced with a `notification.created`
 * event in the same transaction, so dashboards receive it live like every other event.
 */
import { v7 as uuidv7 } from 'uuid';
import type { Db } from '../adapters/pg/db.js';
import type { NewEvent } from '../adapters/pg/events.js';
import {
  countUnreadNotifications,
  insertNotification,
  listNotifications,
  markNotificationsRead,
  type NotificationRow,
} from '../adapters/pg/notifications.js';
import { clock } from '../clock.js';

export function notificationView(n: NotificationRow) {
  const { orgId: _org, ...view } = n;
  return view;
}

/**
 * Stores a notification (at most one per subject, so a retried run cannot notify twice) and returns the
 * event to insert with it; none when it existed already.
 */
export async function notifyInTransaction(
  db: Db,
  input: {
    orgId: string;
    type: string;
    title: string;
    subject: string;
    data: Record<string, unknown>;
    now: Date;
  },
): Promise<NewEvent[]> {
  const stored = await insertNotification(db, {
    id: uuidv7({ msecs: input.now.getTime() }),
    orgId: input.orgId,
    type: input.type,
    title: input.title,
    subject: input.subject,
    data: input.data,
    createdAt: input.now,
  });
  if (!stored) return [];
  return [
    { orgId: input.orgId, type: 'notification.created', data: { notification: notificationView(stored) } },
  ];
}

export async function listNotificationViews(
  orgId: string,
  filter: { unread?: boolean; limit: number; before?: { createdAt: string; id: string } },
) {
  const [rows, unread] = await Promise.all([
    listNotifications(orgId, { ...filter, limit: filter.limit + 1 }),
    countUnreadNotifications(orgId),
  ]);
  return {
    rows: rows.slice(0, filter.limit).map(notificationView),
    more: rows.length > filter.limit,
    unread,
  };
}

export async function markRead(orgId: string, ids: string[] | null): Promise<{ marked: number }> {
  return { marked: await markNotificationsRead(orgId, ids, clock().now()) };
}
