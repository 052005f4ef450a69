/**
 * `TransactWriteItems` for the local DynamoDB stand-in. dynalite has no transactions
 * (architect/dynalite#151); bulk intake claims up to 100 keys per request with them (see
 * `functions/adapters/dynamo/claimsBatch.ts`), so the local runtime serves them on dynalite's own
 * store, with its item locks, validations and condition evaluator:
 *
 *  - `Put`, `Delete` and `ConditionCheck` items (what the product uses; `Update` answers a
 *    ValidationException naming the limit), at most 100, no two on one item, as on AWS.
 *  - Every item's key is locked (dynalite's per-table lock, the one its PutItem takes), then every
 *    condition is evaluated; if any fails nothing is written and the answer is AWS's
 *    `TransactionCanceledException` with one `CancellationReasons` entry per item (`None` /
 *    `ConditionalCheckFailed`, with the existing `Item` when `ReturnValuesOnConditionCheckFailure` is
 *    `ALL_OLD`). Otherwise all writes go to LevelDB in one batch, then the locks are released.
 */
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

type Callback<T> = (error: (Error & { statusCode?: number; body?: unknown }) | null, value?: T) => void;
type Item = Record<string, unknown>;

interface ItemDb {
  lock: (keys: string[], exec: (release: <F extends (...a: never[]) => void>(done: F) => F) => void) => void;
  get: (key: string, cb: Callback<Item>) => void;
  batch: (
    ops: ({ type: 'put'; key: string; value: Item } | { type: 'del'; key: string })[],
    cb: Callback<void>,
  ) => void;
}
interface DynaliteStore {
  getTable: (name: string, cb: Callback<unknown>) => void;
  getItemDb: (name: string) => ItemDb;
}
interface DynaliteDb {
  create: (options: unknown) => DynaliteStore;
  validateItem: (item: Item, table: unknown) => Error | undefined;
  validateKey: (key: Item, table: unknown) => Error | undefined;
  createKey: (item: Item, table: unknown) => string;
  checkConditional: (data: Operation, existing: Item | undefined) => Error | null | undefined;
  updateIndexes: (
    store: DynaliteStore,
    table: unknown,
    existing: Item | undefined,
    item: Item | undefined,
    cb: Callback<void>,
  ) => void;
}
interface Validation {
  types: unknown;
  custom: (data: unknown, store: DynaliteStore) => string | undefined;
}
interface Validations {
  checkTypes: (data: unknown, types: unknown) => Operation;
  checkValidations: (
    data: unknown,
    types: unknown,
    custom: Validation['custom'],
    store: DynaliteStore,
  ) => void;
}

const dynaliteDb = require('dynalite/db') as DynaliteDb;
const validations = require('dynalite/validations') as Validations;
const putValidation = require('dynalite/validations/putItem') as Validation;
const deleteValidation = require('dynalite/validations/deleteItem') as Validation;

/** One transaction item in the form dynalite's PutItem / DeleteItem take (after its validations). */
interface Operation {
  TableName: string;
  Item?: Item;
  Key?: Item;
  ConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Item;
  ReturnValuesOnConditionCheckFailure?: 'ALL_OLD' | 'NONE';
}
interface Planned {
  kind: 'Put' | 'Delete' | 'ConditionCheck';
  op: Operation;
  table: unknown;
  key: string;
  existing?: Item;
}

const MAX_ITEMS = 100;

class ClientError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

const validationError = (message: string) =>
  new ClientError('com.amazon.coral.validate#ValidationException', message);

const promisify = <T>(fn: (cb: Callback<T>) => void) =>
  new Promise<T>((resolve, reject) => fn((error, value) => (error ? reject(error) : resolve(value as T))));

/**
 * Starts dynalite through `start` and makes its server answer `TransactWriteItems` too. `start` must
 * create exactly one dynalite server (its store is captured while it is created).
 */
export function withTransactions(start: () => Server): Server {
  const originalCreate = dynaliteDb.create;
  let store: DynaliteStore | undefined;
  dynaliteDb.create = (options) => (store = originalCreate(options));
  let server: Server;
  try {
    server = start();
  } finally {
    dynaliteDb.create = originalCreate;
  }
  if (!store) throw new Error('dynalite did not create its store');
  const captured = store;
  const dynaliteListeners = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    if (req.method === 'POST' && target === 'DynamoDB_20120810.TransactWriteItems')
      void transactWrite(captured, req, res);
    else for (const listener of dynaliteListeners) listener.call(server, req, res);
  });
  return server;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('x-amzn-RequestId', randomBytes(39).toString('base64').toUpperCase().replace(/[+/]/g, '0'));
  res.setHeader('Content-Type', 'application/x-amz-json-1.0');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ClientError('com.amazon.coral.service#SerializationException', 'Body is not valid JSON');
  }
}

async function transactWrite(store: DynaliteStore, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const body = (await readJson(req)) as { TransactItems?: unknown };
    const planned = await plan(store, body.TransactItems);
    const result = await execute(store, planned);
    send(res, 200, result);
  } catch (error) {
    if (error instanceof ClientError)
      send(res, 400, { __type: error.type, message: error.message, ...error.extra });
    else if ((error as { statusCode?: number; body?: unknown }).statusCode)
      send(res, (error as { statusCode: number }).statusCode, (error as { body: unknown }).body);
    else
      send(res, 500, {
        __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
        message: String(error),
      });
  }
}

/** Validates every item as dynalite validates the single-item call, and resolves tables and keys. */
async function plan(store: DynaliteStore, items: unknown): Promise<Planned[]> {
  if (!Array.isArray(items) || items.length === 0)
    throw validationError('TransactItems must contain at least one item');
  if (items.length > MAX_ITEMS)
    throw validationError(`Member must have length less than or equal to ${MAX_ITEMS}`);
  const planned: Planned[] = [];
  const seen = new Set<string>();
  for (const raw of items as Record<string, Item | undefined>[]) {
    const kinds = (['Put', 'Delete', 'ConditionCheck', 'Update'] as const).filter((k) => raw[k]);
    if (kinds.length !== 1)
      throw validationError('Each TransactItem must have exactly one of Put, Delete, ConditionCheck, Update');
    const kind = kinds[0]!;
    if (kind === 'Update')
      throw validationError(
        'The local DynamoDB stand-in supports Put, Delete and ConditionCheck in TransactWriteItems',
      );
    const validation = kind === 'Put' ? putValidation : deleteValidation;
    const { ReturnValuesOnConditionCheckFailure, ...request } = raw[kind]!;
    const op = validations.checkTypes(request, validation.types);
    validations.checkValidations(op, validation.types, validation.custom, store);
    if (ReturnValuesOnConditionCheckFailure === 'ALL_OLD') op.ReturnValuesOnConditionCheckFailure = 'ALL_OLD';
    if (kind === 'ConditionCheck' && !op.ConditionExpression)
      throw validationError('A ConditionCheck needs a ConditionExpression');
    const table = await promisify((cb) => store.getTable(op.TableName, cb));
    const invalid =
      kind === 'Put' ? dynaliteDb.validateItem(op.Item!, table) : dynaliteDb.validateKey(op.Key!, table);
    if (invalid) throw invalid;
    const key = dynaliteDb.createKey(kind === 'Put' ? op.Item! : op.Key!, table);
    const id = `${op.TableName}\u0000${key}`;
    if (seen.has(id))
      throw validationError('Transaction request cannot include multiple operations on one item');
    seen.add(id);
    planned.push({ kind, op, table, key });
  }
  return planned;
}

/** Locks every key (table by table, in name order), checks every condition, then writes all or nothing. */
async function execute(store: DynaliteStore, planned: Planned[]): Promise<Record<string, never>> {
  const tables = [...new Set(planned.map((p) => p.op.TableName))].sort();
  const releases: (() => void)[] = [];
  try {
    for (const name of tables) {
      const itemDb = store.getItemDb(name);
      const keys = planned.filter((p) => p.op.TableName === name).map((p) => p.key);
      releases.push(
        await new Promise<() => void>((resolve) =>
          itemDb.lock(keys, (release) => resolve(release(() => undefined))),
        ),
      );
    }
    await Promise.all(
      planned.map(async (p) => {
        p.existing = await new Promise<Item | undefined>((resolve, reject) =>
          store.getItemDb(p.op.TableName).get(p.key, (error, value) => {
            if (error && error.name !== 'NotFoundError') reject(error);
            else resolve(error ? undefined : value);
          }),
        );
      }),
    );
    const reasons = planned.map((p) => {
      const failed = dynaliteDb.checkConditional(p.op, p.existing);
      if (!failed) return { Code: 'None' };
      return {
        Code: 'ConditionalCheckFailed',
        Message: 'The conditional request failed',
        ...(p.op.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' && p.existing ? { Item: p.existing } : {}),
      };
    });
    if (reasons.some((r) => r.Code !== 'None'))
      throw new ClientError(
        'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
        `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
        { CancellationReasons: reasons },
      );
    for (const name of tables) {
      const writes = planned.filter((p) => p.op.TableName === name && p.kind !== 'ConditionCheck');
      await Promise.all(
        writes.map((p) =>
          promisify<void>((cb) =>
            dynaliteDb.updateIndexes(
              store,
              p.table,
              p.existing,
              p.kind === 'Put' ? p.op.Item : undefined,
              cb,
            ),
          ),
        ),
      );
      if (writes.length > 0)
        await promisify<void>((cb) =>
          store.getItemDb(name).batch(
            writes.map((p) =>
              p.kind === 'Put' ? { type: 'put', key: p.key, value: p.op.Item! } : { type: 'del', key: p.key },
            ),
            cb,
          ),
        );
    }
    return {};
  } finally {
    for (const release of releases) release();
  }
}
