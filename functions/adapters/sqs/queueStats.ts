/** Queue depth of the lead queue and its DLQ, for `/api/stats` and the System page. */
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { sqsClient } from '../../clients.js';
import { config } from '../../config.js';

async function depth(queueUrl: string | undefined): Promise<{ visible: number; inFlight: number } | null> {
  if (!queueUrl) return null;
  const out = await sqsClient().send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(out.Attributes?.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}

export async function queueDepths(): Promise<{ depth: number; inFlight: number; dlq: number }> {
  const [main, dlq] = await Promise.all([depth(config().leadQueueUrl), depth(process.env.LEAD_DLQ_URL)]);
  return {
    depth: main?.visible ?? 0,
    inFlight: main?.inFlight ?? 0,
    dlq: (dlq?.visible ?? 0) + (dlq?.inFlight ?? 0),
  };
}
