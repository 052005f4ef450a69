import { SQSClient } from '@aws-sdk/client-sqs';

/** An SQS client for the local stand-in, which accepts any credentials; the region shapes ARNs only. */
export function localSqsClient(endpoint: string, region = 'us-east-1'): SQSClient {
  return new SQSClient({ endpoint, region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
}
