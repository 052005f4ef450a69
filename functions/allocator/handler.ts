/**
 * Allocator: the lead queue's consumer. Two modes, chosen at cold start by `ALLOCATOR_MODE`:
 *
 * - `per-lead` (default): each record is one transaction (`allocateMessage`). With `skipGroupOnError`,
 *   a failing record fails only the later records of its own message group (FIFO order per contact is
 *   kept) while other groups in the batch complete; the failed ones come back after the visibility
 *   timeout and reach the DLQ after the receive limit.
 * - `batched`: the whole SQS batch is one transaction (`allocateBatch`), falling back to one
 *   transaction per record when the batch fails; failures are reported with the same FIFO rule.
 */
import { SqsFifoPartialProcessorAsync, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { parseQueueMessage } from '../adapters/sqs/parseMessage.js';
import { logger } from '../powertools.js';
import { allocateBatch } from '../usecases/allocateBatch.js';
import { allocateMessage } from '../usecases/allocateLead.js';

const MODES = ['per-lead', 'batched'] as const;
const mode = process.env.ALLOCATOR_MODE ?? 'per-lead';
if (!(MODES as readonly string[]).includes(mode))
  throw new Error(`ALLOCATOR_MODE must be one of ${MODES.join(', ')}; got "${mode}"`);

async function recordHandler(record: SQSRecord): Promise<void> {
  await allocateMessage(parseQueueMessage(record.body));
}

function readRecord(record: SQSRecord) {
  try {
    return parseQueueMessage(record.body);
  } catch (error) {
    logger.error('Unreadable queue message', { messageId: record.messageId, error: error as Error });
    return null;
  }
}

async function batchHandler(event: SQSEvent): Promise<SQSBatchResponse> {
  const { failedIds } = await allocateBatch(
    event.Records.map((r) => ({
      id: r.messageId,
      group: r.attributes.MessageGroupId,
      message: readRecord(r),
    })),
  );
  return { batchItemFailures: failedIds.map((itemIdentifier) => ({ itemIdentifier })) };
}

export const handler = async (event: SQSEvent, context: Context) =>
  mode === 'batched'
    ? batchHandler(event)
    : // A processor per invocation: it holds the batch's records and failures, and the local runtime (or a
      // test) may run two invocations at once in one process, where a shared one would mix their state.
      processPartialResponse(event, recordHandler, new SqsFifoPartialProcessorAsync(), {
        context,
        skipGroupOnError: true,
      });
