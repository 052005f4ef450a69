/**
 * Environment of the bench process, set before any product module is loaded (the logger reads its level
 * at import). The allocator and ceiling phases call the product's use cases in this process, with the
 * product's pool sized for the largest worker count, so that no worker waits for a connection.
 */
export const MAX_WORKERS = 32;

Object.assign(process.env, {
  POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'ERROR',
  POWERTOOLS_METRICS_DISABLED: 'true',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  DB_POOL_MAX: String(MAX_WORKERS),
  // Required by the product's config; the allocator path never sends to the queue.
  LEAD_QUEUE_URL: process.env.LEAD_QUEUE_URL ?? 'http://127.0.0.1:9/bench-unused-queue',
});
