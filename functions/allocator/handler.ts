/**
 * Allocator: the lead queue's consumer. Each record is one transaction (`allocateMessage`). With
 * `skipGroupOnError`, a failing record fails only the later records of its own message group (FIFO
 * order per contact is kept) while other groups in the batch complete; the failed ones come back
 * after the visibility timeout and reach the DLQ after the receive limit.
 */
import { SqsFifoPartialProcessorAsync, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { parseQueueMessage } from '../adapters/sqs/parseMessage.js';
import { logger } from '../powertools.js';
import { allocateMessage } from '../usecases/allocateLead.js';

const processor = new SqsFifoPartialProcessorAsync();

async function recordHandler(record: SQSRecord): Promise<void> {
  const message = parseQueueMessage(record.body);
  logger.appendKeys({ leadId: message.leadId, orgId: message.orgId });
  try {
    await allocateMessage(message);
  } finally {
    logger.removeKeys(['leadId', 'orgId']);
  }
}

export const handler = async (event: SQSEvent, context: Context) =>
  processPartialResponse(event, recordHandler, processor, { context, skipGroupOnError: true });
