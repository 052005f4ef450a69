/**
 * `POST /webhooks/leads` — Make.com, Zapier, forms and sheets post leads here (SPEC §5–6).
 */
import type { Context } from 'aws-lambda';
import { runIdempotent } from '../adapters/dynamo/idempotency.js';
import { config } from '../config.js';
import { parseObjectBody } from '../http/body.js';
import { header, httpHandler, json, type HttpEvent } from '../http/middleware.js';
import { authenticateSource } from '../usecases/authenticateSource.js';
import { ingestLead } from '../usecases/ingestLead.js';
import { enforceRateLimit } from '../usecases/rateLimit.js';

export const handler = httpHandler(async (event: HttpEvent, context: Context) => {
  const source = await authenticateSource(header(event, 'x-webhook-secret'));
  // Before anything is parsed, claimed or queued: a 429 has stored nothing.
  await enforceRateLimit(source.sourceId);
  const body = parseObjectBody(event, config().maxWebhookBodyBytes);
  const key = header(event, 'idempotency-key');
  const result = key
    ? await runIdempotent({
        orgId: source.orgId,
        operation: 'lead',
        key,
        body,
        context,
        run: () => ingestLead(source, body),
      })
    : await ingestLead(source, body);
  return json(result.statusCode, result.body);
});
