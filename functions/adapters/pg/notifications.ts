/** Notifications: batched messages for the people of an org (one per import run, not one per lead). */
import { read, type Db } from './db.js';

export interface NotificationRow {
  id: string;
  orgId: string;
  type: string;
  title: string;
  data: Record<string, unknown>;
  subject: string;
  createdAt: Date;
  readAt: Date | null;
}

const COLUMNS = `id, org_id AS "orgId", type, title, data, subject, created_at AS "createdAt", read_at AS "readAt"`;

/** Inserts the notification unless one exists for the same subject; returns it only when this call inserted it. */
export async function insertNotification(
  db: Db,
  input: Omit<NotificationRow, 'readAt'>,
): Promise<NotificationRow | undefined> {
  const out = await db.query<NotificationRow>(
    `INSERT INTO notifications (id, org_id, type, title, data, subject, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (org_id, type, subject) DO NOTHING
     RETURNING ${COLUMNS}`,
    [
      input.id,
      input.orgId,
      input.type,
      input.title,
      JSON.stringify(input.data),
      input.subject,
      input.createdAt,
    ],
  );
  return out.rows[0];
}

export async function listNotifications(
  orgId: string,
  filter: { unread?: boolean; limit: number; before?: { createdAt: string; id: string } },
): Promise<NotificationRow[]> {
  return read<NotificationRow>(
    `SELECT ${COLUMNS} FROM notifications
     WHERE org_id = $1 AND (NOT $2::boolean OR read_at IS NULL)
       AND ($4::timestamptz IS NULL OR (created_at, id) < ($4::timestamptz, $5::uuid))
     ORDER BY created_at DESC, id DESC LIMIT $3`,
    [
      orgId,
      filter.unread ?? false,
      filter.limit,
      filter.before?.createdAt ?? null,
      filter.before?.id ?? null,
    ],
  );
}

export async function countUnreadNotifications(orgId: string): Promise<number> {
  const rows = await read<{ n: number }>(
    `SELECT count(*)::int AS n FROM notifications WHERE org_id = $1 AND read_at IS NULL`,
    [orgId],
  );
  return rows[0]?.n ?? 0;
}

/** Marks the given notifications (or all of the org's) read; returns how many changed. */
export async function markNotificationsRead(orgId: string, ids: string[] | null, at: Date): Promise<number> {
  const rows = await read(
    `UPDATE notifications SET read_at = $3
     WHERE org_id = $1 AND read_at IS NULL AND ($2::uuid[] IS NULL OR id = ANY($2::uuid[]))
     RETURNING id`,
    [orgId, ids, at],
  );
  return rows.length;
}
