/**
 * Validates a queue message body. A body that is not one of our messages is a poison message: the
 * record fails, and after the receive limit it lands in the DLQ for inspection and replay.
 */
import { z } from 'zod';
import type { QueueMessage } from './leadQueue.js';

const lead = z.object({
  phone: z.string(),
  email: z.string().nullable(),
  firstName: z.string().nullable(),
  lastName: z.string().nullable(),
  state: z.string().nullable(),
  zip: z.string().nullable(),
  campaign: z.string().nullable(),
  externalId: z.string().nullable(),
  attributes: z.record(z.string(), z.unknown()),
});

const message = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('lead'),
    orgId: z.uuid(),
    sourceId: z.uuid().nullable(),
    leadId: z.uuid(),
    receivedAt: z.iso.datetime(),
    lead,
  }),
  z.object({
    type: z.literal('duplicate'),
    orgId: z.uuid(),
    sourceId: z.uuid().nullable(),
    leadId: z.uuid(),
    receivedAt: z.iso.datetime(),
    matchedOn: z.enum(['phone', 'externalId']),
    attemptId: z.string(),
  }),
]);

export function parseQueueMessage(body: string): QueueMessage {
  return message.parse(JSON.parse(body)) as QueueMessage;
}
