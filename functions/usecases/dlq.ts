/**
 * The dead-letter queue as one org sees it (`GET /api/dlq`, `POST /api/dlq/replay`). The DLQ is shared
 * by every org and its messages are plain SQS messages, so each pass reads the org from every body and
 * touches only the caller's messages; everyone else's are shown again untouched.
 *
 * One pass:
 *  1. Receive batches with a short visibility (30 s), which hides each message from later receives of
 *     the same pass, so every message is looked at once.
 *  2. The caller's messages: listed (peek), or sent back to the lead queue and deleted (replay).
 *  3. Every message not taken is made visible again at once (visibility 0), whatever happened.
 *
 * FIFO: of one message group, only the oldest message is handed out until it is deleted or shown
 * again, so a second dead-lettered message of the same contact appears once the first is replayed.
 * Replay is at-least-once (sent, then deleted); the allocator is idempotent per lead id.
 */
import {
  deleteDlqMessage,
  receiveDlqMessages,
  releaseDlqMessages,
  sendBackToLeadQueue,
  type DlqMessage,
} from '../adapters/sqs/dlq.js';
import { logger } from '../powertools.js';

/** Long enough for one pass (bounded below), short enough that an aborted pass heals itself. */
const PASS_VISIBILITY_SECONDS = 30;
const PASS_TIME_BUDGET_MS = 20_000;
const PASS_MAX_MESSAGES = 1000;

export interface DlqItem {
  messageId: string;
  type: string | null;
  leadId: string | null;
  /** When ingest received the lead (from the message). */
  receivedAt: string | null;
  /** When the message was first queued. */
  sentAt: string | null;
  receiveCount: number | null;
}

interface MessageInfo {
  orgId: string;
  type: string | null;
  leadId: string | null;
  receivedAt: string | null;
}

/** The org and ids of a message body, read leniently: a poison message may be malformed otherwise. */
function readBody(body: string): MessageInfo | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const m = parsed as Record<string, unknown>;
  if (typeof m.orgId !== 'string') return undefined;
  const text = (v: unknown) => (typeof v === 'string' ? v.slice(0, 100) : null);
  return { orgId: m.orgId, type: text(m.type), leadId: text(m.leadId), receivedAt: text(m.receivedAt) };
}

function itemOf(message: DlqMessage, info: MessageInfo): DlqItem {
  return {
    messageId: message.messageId,
    type: info.type,
    leadId: info.leadId,
    receivedAt: info.receivedAt,
    sentAt: message.sentAt ? new Date(message.sentAt).toISOString() : null,
    receiveCount: message.receiveCount ?? null,
  };
}

/**
 * Walks the DLQ once. `take` decides about each of the org's messages: true = it was consumed
 * (replayed and deleted); false = leave it in place.
 */
async function pass(
  orgId: string,
  take: (message: DlqMessage, info: MessageInfo) => Promise<boolean>,
): Promise<{ seen: number; truncated: boolean }> {
  const held: string[] = [];
  const deadline = Date.now() + PASS_TIME_BUDGET_MS;
  let seen = 0;
  let truncated = false;
  try {
    for (;;) {
      if (seen >= PASS_MAX_MESSAGES || Date.now() > deadline) {
        truncated = true;
        break;
      }
      const batch = await receiveDlqMessages(PASS_VISIBILITY_SECONDS);
      if (batch.length === 0) break;
      for (const message of batch) {
        seen++;
        const info = readBody(message.body);
        if (info?.orgId === orgId && (await take(message, info))) continue;
        held.push(message.receiptHandle);
      }
    }
  } finally {
    await releaseDlqMessages(held).catch((error: unknown) =>
      // They come back by themselves when the pass visibility runs out.
      logger.warn('Could not show DLQ messages again', { error: error as Error }),
    );
  }
  return { seen, truncated };
}

/** The org's dead-lettered messages, consuming nothing. */
export async function listDlq(orgId: string, limit = 100): Promise<{ items: DlqItem[]; truncated: boolean }> {
  const items: DlqItem[] = [];
  const { truncated } = await pass(orgId, async (message, info) => {
    if (items.length < limit) items.push(itemOf(message, info));
    return false;
  });
  return { items, truncated: truncated || items.length >= limit };
}

/**
 * Moves the org's dead-lettered messages (all, or those named) back to the lead queue: after a fix
 * (a bad deploy rolled back, a database outage over), they are allocated as if they had just arrived.
 */
export async function replayDlq(
  orgId: string,
  messageIds?: string[],
): Promise<{ replayed: number; items: DlqItem[]; truncated: boolean }> {
  const wanted = messageIds ? new Set(messageIds) : undefined;
  const items: DlqItem[] = [];
  const { truncated } = await pass(orgId, async (message, info) => {
    if (wanted && !wanted.has(message.messageId)) return false;
    await sendBackToLeadQueue(message, `${orgId}:replay`);
    await deleteDlqMessage(message.receiptHandle);
    items.push(itemOf(message, info));
    return true;
  });
  return { replayed: items.length, items, truncated };
}
