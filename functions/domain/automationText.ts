/**
 * The plain-text automation grammar: one line of text → one automation command with its params, the
 * same commands `POST /api/automation/execute {"command", "params"}` runs. Pure; the params it
 * produces are validated by the command's schema afterwards, so this only has to find the parts.
 *
 * Keywords are case-insensitive; `[…]` is optional; an order is its id or its number (`12`, `#12`).
 *
 *   create order for <name> <email> states <state>[, <state>…] [quantity <n>]
 *   fulfill order <order>
 *   delete order <order>
 *   get orders [status <status>] [page <n>] [limit <n>]
 *   get leads [status <status>] [state <state>] [campaign <key>] [limit <n>]
 *   one time rule <fulfill|delete> order <order> [at <ISO date-time> | on <event type>]
 *
 * Also accepted: `list`/`show` for `get`, `fulfil`/`complete` for `fulfill`, `cancel`/`remove` for
 * `delete`, `qty` for `quantity`, `once` or `one-time rule` for `one time rule`, and states separated
 * by commas, "and" or spaces (`CA, NY`, `California and New York`, `CA NY`).
 */
import { normalizeState } from './normalize.js';

export const AUTOMATION_COMMANDS = [
  'create_order',
  'fulfill_order',
  'delete_order',
  'get_orders',
  'get_leads',
  'one_time_rule',
] as const;
export type AutomationCommand = (typeof AUTOMATION_COMMANDS)[number];

/** The grammar, one line per command: the 400 for an unknown text lists these. */
export const TEXT_USAGE: readonly string[] = [
  'create order for <name> <email> states <CA, NY, …> [quantity <n>]',
  'fulfill order <id or #number>',
  'delete order <id or #number>',
  'get orders [status <open|filled|fulfilled|deleted>] [page <n>] [limit <n>]',
  'get leads [status <status>] [state <state>] [campaign <key>] [limit <n>]',
  'one time rule <fulfill|delete> order <id or #number> [at <ISO date-time> | on <event type>]',
];

export type ParsedText =
  { ok: true; command: AutomationCommand; params: Record<string, unknown> } | { ok: false; message: string };

const fail = (message: string): ParsedText => ({ ok: false, message });

/** `#12` and `12` are order numbers; anything else is passed on as an id. */
function orderRef(token: string): string | number {
  return /^#?\d+$/.test(token) ? Number(token.replace('#', '')) : token;
}

/**
 * Splits a list of states: on commas and "and" first, then — for a piece that is not one state name
 * ("New York" is one) — on spaces ("CA NY"). Unknown names are kept as written, for the schema to
 * reject by name.
 */
export function splitStates(text: string): string[] {
  const pieces = text
    .split(/\s*,\s*|\s+and\s+|\s*&\s*/i)
    .map((p) => p.trim())
    .filter(Boolean);
  return pieces.flatMap((piece) => {
    if (normalizeState(piece)) return [piece];
    const words = piece.split(/\s+/);
    return words.length > 1 && words.every((w) => normalizeState(w)) ? words : [piece];
  });
}

/**
 * `key value… key value…` options: each value runs until the next known key, so a value may have
 * spaces (`state New York`).
 */
function options(text: string, keys: Record<string, string>): Record<string, string> | string {
  const tokens = text.trim().split(/\s+/).filter(Boolean);
  const out: Record<string, string> = {};
  let key: string | undefined;
  for (const token of tokens) {
    // `states: CA` reads as `states CA`.
    const named = keys[token.toLowerCase().replace(/:$/, '')];
    if (named) {
      if (key && out[key] === undefined) return `"${key}" needs a value`;
      key = named;
      if (out[key] !== undefined) return `"${token}" is given twice`;
      continue;
    }
    if (!key) return `Unexpected "${token}"; expected one of: ${[...new Set(Object.keys(keys))].join(', ')}`;
    out[key] = out[key] === undefined ? token : `${out[key]} ${token}`;
  }
  if (key && out[key] === undefined) return `"${key}" needs a value`;
  return out;
}

function numeric(values: Record<string, string>, names: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...values };
  for (const name of names)
    if (values[name] !== undefined && /^\d+$/.test(values[name]!)) out[name] = Number(values[name]);
  return out;
}

function parseCreateOrder(rest: string): ParsedText {
  // <name> <email> then options; the email is the first token with an "@".
  // Commas and semicolons around the email are punctuation ("Jane Doe, jane@example.com, states CA").
  const m = /^(.+?)[\s,;]+<?([^\s<>,;]+@[^\s<>,;]+?)>?[,;]?(?:\s+(.*))?$/.exec(rest);
  if (!m) return fail('Expected: create order for <name> <email> states <CA, NY, …> [quantity <n>]');
  const name = m[1]!
    .trim()
    .replace(/[,;]+$/, '')
    .replace(/^["']|["']$/g, '');
  const opts = options(m[3] ?? '', {
    states: 'states',
    state: 'states',
    quantity: 'quantity',
    qty: 'quantity',
  });
  if (typeof opts === 'string') return fail(opts);
  if (!opts.states) return fail('Expected "states <CA, NY, …>" after the email');
  const params: Record<string, unknown> = {
    customerName: name,
    customerEmail: m[2],
    requestedStates: splitStates(opts.states),
  };
  if (opts.quantity !== undefined)
    params.quantity = /^\d+$/.test(opts.quantity) ? Number(opts.quantity) : opts.quantity;
  return { ok: true, command: 'create_order', params };
}

function parseOne(text: string, nested: boolean): ParsedText {
  let m: RegExpExecArray | null;
  if ((m = /^create\s+(?:an?\s+)?order\s+for\s+(.+)$/i.exec(text))) return parseCreateOrder(m[1]!);
  if ((m = /^(?:fulfill|fulfil|complete)\s+order\s+(\S+)$/i.exec(text)))
    return { ok: true, command: 'fulfill_order', params: { orderId: orderRef(m[1]!) } };
  if ((m = /^(?:delete|cancel|remove)\s+order\s+(\S+)$/i.exec(text)))
    return { ok: true, command: 'delete_order', params: { orderId: orderRef(m[1]!) } };
  if ((m = /^(?:get|list|show)\s+orders?(?:\s+(.*))?$/i.exec(text))) {
    const opts = options(m[1] ?? '', { status: 'status', page: 'page', limit: 'limit' });
    if (typeof opts === 'string') return fail(opts);
    return { ok: true, command: 'get_orders', params: numeric(opts, ['page', 'limit']) };
  }
  if ((m = /^(?:get|list|show)\s+leads?(?:\s+(.*))?$/i.exec(text))) {
    const opts = options(m[1] ?? '', {
      status: 'status',
      state: 'state',
      campaign: 'campaign',
      limit: 'limit',
    });
    if (typeof opts === 'string') return fail(opts);
    return { ok: true, command: 'get_leads', params: numeric(opts, ['limit']) };
  }
  if (!nested && (m = /^(?:one[\s-]time\s+rule|once)\s*:?\s+(.+)$/i.exec(text))) {
    let rest = m[1]!;
    const params: Record<string, unknown> = {};
    const at = /\s+at\s+(\S+)$/i.exec(rest);
    const on = /\s+on\s+([a-z]+\.[a-z_]+)$/i.exec(rest);
    if (at) {
      params.at = at[1];
      rest = rest.slice(0, at.index);
    } else if (on) {
      params.event = on[1]!.toLowerCase();
      rest = rest.slice(0, on.index);
    }
    const inner = parseOne(rest.trim(), true);
    if (!inner.ok) return inner;
    if (inner.command !== 'fulfill_order' && inner.command !== 'delete_order')
      return fail('A one time rule takes: fulfill order <order> or delete order <order>');
    return {
      ok: true,
      command: 'one_time_rule',
      params: { ...params, action: { command: inner.command, params: inner.params } },
    };
  }
  return fail(`Unknown command. Commands: ${TEXT_USAGE.join(' | ')}`);
}

/** Parses one line of automation text; `{ ok: false, message }` says what was wrong or lists the commands. */
export function parseAutomationText(text: string): ParsedText {
  // Whitespace collapsed; a sentence's closing punctuation ("fulfill order #16.") is not part of it.
  const line = text
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/\s*[.!?;]+$/, '');
  if (!line) return fail(`Empty command. Commands: ${TEXT_USAGE.join(' | ')}`);
  return parseOne(line, false);
}
