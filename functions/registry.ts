/**
 * The one list of Lambda handlers. The CDK app (`lib/`) and the local runtime (`bin/local/`) both read
 * it, so a handler that runs locally is exactly the handler that is deployed, wired to the same trigger.
 *
 * Paths are relative to the repository root. Every entry's module exports `handler`.
 */
export type HandlerTrigger =
  | { kind: 'http'; routes: string[] }
  | { kind: 'sqs'; queue: 'leads' }
  | { kind: 'websocket'; route: '$connect' | '$disconnect' | '$default' }
  | { kind: 'websocket-authorizer' }
  | { kind: 'schedule'; schedule: string; job: string }
  | { kind: 'custom-resource' };

export interface HandlerDefinition {
  /** Path of the module, from the repository root. */
  entry: string;
  description: string;
  trigger: HandlerTrigger;
  /** Lambda timeout in seconds (the local runtime ignores it). */
  timeoutSeconds: number;
  memoryMb: number;
  /** Needs the database (VPC + RDS Proxy on AWS). */
  usesDatabase: boolean;
}

export const handlers = {
  ingest: {
    entry: 'functions/ingest/handler.ts',
    description:
      'Public lead webhook: secret check, validation, dedup in DynamoDB, enqueue (never PostgreSQL)',
    trigger: { kind: 'http', routes: ['POST /webhooks/leads'] },
    timeoutSeconds: 10,
    memoryMb: 512,
    usesDatabase: false,
  },
  api: {
    entry: 'functions/api/handler.ts',
    description:
      'Admin API (bearer token), health, and the quota-reset webhook (it answers with a count from PostgreSQL)',
    trigger: { kind: 'http', routes: ['GET /health', 'ANY /api/{proxy+}', 'POST /webhooks/quota-reset'] },
    timeoutSeconds: 29,
    memoryMb: 1024,
    usesDatabase: true,
  },
  allocator: {
    entry: 'functions/allocator/handler.ts',
    description: 'SQS FIFO consumer: stores each lead and runs the locked assignment transaction',
    trigger: { kind: 'sqs', queue: 'leads' },
    timeoutSeconds: 30,
    memoryMb: 1024,
    usesDatabase: true,
  },
  wsAuthorizer: {
    entry: 'functions/ws-authorizer/handler.ts',
    description: 'WebSocket $connect authorizer: admin token from the query string',
    trigger: { kind: 'websocket-authorizer' },
    timeoutSeconds: 10,
    memoryMb: 256,
    usesDatabase: true,
  },
  wsConnect: {
    entry: 'functions/ws-connect/handler.ts',
    description: 'WebSocket $connect: records the connection under its org',
    trigger: { kind: 'websocket', route: '$connect' },
    timeoutSeconds: 10,
    memoryMb: 256,
    usesDatabase: true,
  },
  wsDisconnect: {
    entry: 'functions/ws-disconnect/handler.ts',
    description: 'WebSocket $disconnect: forgets the connection',
    trigger: { kind: 'websocket', route: '$disconnect' },
    timeoutSeconds: 10,
    memoryMb: 256,
    usesDatabase: false,
  },
  wsDefault: {
    entry: 'functions/ws-default/handler.ts',
    description: 'WebSocket $default: answers pings',
    trigger: { kind: 'websocket', route: '$default' },
    timeoutSeconds: 10,
    memoryMb: 256,
    usesDatabase: false,
  },
  outboxRelay: {
    entry: 'functions/outbox-relay/handler.ts',
    description: 'Pushes committed events that were not pushed right after their commit (crash safety net)',
    trigger: { kind: 'schedule', schedule: 'rate(1 minute)', job: 'outbox' },
    timeoutSeconds: 60,
    memoryMb: 512,
    usesDatabase: true,
  },
  importRunner: {
    entry: 'functions/import-runner/handler.ts',
    description: 'Runs the Google Sheet / CSV imports whose own schedule makes them due',
    trigger: { kind: 'schedule', schedule: 'rate(1 minute)', job: 'imports' },
    timeoutSeconds: 300,
    memoryMb: 1024,
    usesDatabase: true,
  },
  decay: {
    entry: 'functions/decay/handler.ts',
    description: 'SLA decay: reassigns leads not contacted within their SLA; stale after maxReassignments',
    trigger: { kind: 'schedule', schedule: 'rate(1 minute)', job: 'decay' },
    timeoutSeconds: 120,
    memoryMb: 512,
    usesDatabase: true,
  },
  backlog: {
    entry: 'functions/backlog/handler.ts',
    description: 'Backlog retry: allocates waiting leads of push campaigns again, oldest first',
    trigger: { kind: 'schedule', schedule: 'rate(5 minutes)', job: 'backlog' },
    timeoutSeconds: 120,
    memoryMb: 512,
    usesDatabase: true,
  },
  automationRules: {
    entry: 'functions/automation-rules/handler.ts',
    description:
      'Automation rules due on their schedule or triggered by events; fills open orders from stock',
    trigger: { kind: 'schedule', schedule: 'rate(1 minute)', job: 'automation' },
    timeoutSeconds: 60,
    memoryMb: 512,
    usesDatabase: true,
  },
  migrate: {
    entry: 'functions/migrate/handler.ts',
    description: 'Applies SQL migrations on deploy (custom resource), against the writer directly',
    trigger: { kind: 'custom-resource' },
    timeoutSeconds: 300,
    memoryMb: 512,
    usesDatabase: true,
  },
} as const satisfies Record<string, HandlerDefinition>;

export type HandlerName = keyof typeof handlers;
