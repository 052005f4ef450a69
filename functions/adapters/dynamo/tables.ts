/**
 * DynamoDB tables, described once for the CDK app and for the local runtime (which creates them on
 * the stand-in at start). Table names come from the environment on AWS; locally they are these defaults.
 */
export interface TableSpec {
  /** Environment variable that carries the deployed table name. */
  envVar: string;
  defaultName: string;
  partitionKey: string;
  sortKey?: string;
  /** Attribute holding an epoch-seconds expiry; DynamoDB TTL deletes lazily, so readers also check it. */
  ttlAttribute?: string;
}

export const tables = {
  /** Powertools idempotency records (`Idempotency-Key` on webhooks and order creation). */
  idempotency: {
    envVar: 'IDEMPOTENCY_TABLE',
    defaultName: 'leadrouter-idempotency',
    partitionKey: 'id',
    ttlAttribute: 'expiration',
  },
  /**
   * Claim keys written with conditional puts: the 24 h phone duplicate window (`phone#<org>#<e164>`),
   * externalId per source (`ext#<source>#<id>`, no expiry) and quota-reset event ids (`quota#<org>#<eventId>`).
   */
  keys: {
    envVar: 'KEYS_TABLE',
    defaultName: 'leadrouter-keys',
    partitionKey: 'pk',
    ttlAttribute: 'expiresAt',
  },
  /** Open dashboard WebSocket connections, by org, for the broadcaster. */
  connections: {
    envVar: 'CONNECTIONS_TABLE',
    defaultName: 'leadrouter-connections',
    partitionKey: 'orgId',
    sortKey: 'connectionId',
    ttlAttribute: 'expiresAt',
  },
} as const satisfies Record<string, TableSpec>;

export type TableName = keyof typeof tables;

export function tableName(table: TableName, env: NodeJS.ProcessEnv = process.env): string {
  const spec = tables[table];
  return env[spec.envVar] ?? spec.defaultName;
}
