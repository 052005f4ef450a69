/** Reads of assignment rows (lead × recipient or lead × order). */
import { read } from './db.js';

export interface AssignmentRow {
  id: number;
  leadId: string;
  recipientId: string | null;
  recipientName: string | null;
  orderId: string | null;
  reason: string;
  assignedAt: Date;
  endedAt: Date | null;
  endReason: string | null;
}

const SELECT = `SELECT a.id, a.lead_id AS "leadId", a.recipient_id AS "recipientId", r.name AS "recipientName",
    a.order_id AS "orderId", a.reason, a.assigned_at AS "assignedAt", a.ended_at AS "endedAt", a.end_reason AS "endReason"
  FROM assignments a LEFT JOIN recipients r ON r.id = a.recipient_id`;

export async function listLeadAssignments(orgId: string, leadId: string): Promise<AssignmentRow[]> {
  return read<AssignmentRow>(`${SELECT} WHERE a.org_id = $1 AND a.lead_id = $2 ORDER BY a.id`, [
    orgId,
    leadId,
  ]);
}

export async function listAssignments(
  orgId: string,
  f: { recipientId?: string; leadId?: string; limit: number; beforeId?: number },
): Promise<AssignmentRow[]> {
  const where = ['a.org_id = $1'];
  const values: unknown[] = [orgId];
  if (f.recipientId) where.push(`a.recipient_id = $${values.push(f.recipientId)}`);
  if (f.leadId) where.push(`a.lead_id = $${values.push(f.leadId)}`);
  if (f.beforeId !== undefined) where.push(`a.id < $${values.push(f.beforeId)}`);
  return read<AssignmentRow>(
    `${SELECT} WHERE ${where.join(' AND ')} ORDER BY a.id DESC LIMIT $${values.push(f.limit)}`,
    values,
  );
}
