/**
 * `npx leadrouter …`: the product from a terminal, through the running API (local `npm start` or the
 * API Gateway URL on AWS) — the same commands as `POST /api/automation/execute`.
 *
 *   leadrouter exec "create order for Jane Doe jane@example.com states CA, NY quantity 5"
 *   leadrouter exec --json '{"command": "get_orders", "params": {"status": "open"}}'
 *   leadrouter org create "Acme Leads"
 *
 * Environment: LEADROUTER_URL (default http://localhost:$PORT, PORT as for npm start, 3000); ADMIN_TOKEN, else the admin token
 * `npm start` saved in $DATA_DIR/credentials.json (DATA_DIR default .leadrouter); ROOT_TOKEN for
 * `org create`. Exit status: 0 done, 1 the API refused or failed, 2 wrong usage or no connection.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { TEXT_USAGE } from '../functions/domain/automationText.js';

const USAGE = `Usage:
  leadrouter exec "<text>"            run an automation command written as text, e.g.
                                      leadrouter exec "create order for Jane Doe jane@example.com states CA, NY quantity 5"
  leadrouter exec --json '<json>'     run {"command", "params"} as JSON
  leadrouter org create <name>        create an organization (operator: ROOT_TOKEN)
  leadrouter help

Text commands:
${TEXT_USAGE.map((u) => `  ${u}`).join('\n')}

Environment:
  LEADROUTER_URL   the API (default http://localhost:$PORT; PORT defaults to 3000, as for npm start)
  ADMIN_TOKEN      admin token (default: the one npm start saved in $DATA_DIR/credentials.json)
  DATA_DIR         where npm start keeps its data (default .leadrouter)
  ROOT_TOKEN       operator token, for org create`;

class UsageError extends Error {}

const env = process.env;
const baseUrl = (env.LEADROUTER_URL ?? `http://localhost:${env.PORT ?? 3000}`).replace(/\/+$/, '');

function adminToken(): string {
  if (env.ADMIN_TOKEN) return env.ADMIN_TOKEN;
  const file = path.resolve(env.DATA_DIR ?? '.leadrouter', 'credentials.json');
  if (existsSync(file)) {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { adminToken?: string };
    if (saved.adminToken) return saved.adminToken;
  }
  throw new UsageError(`No admin token: set ADMIN_TOKEN, or run this where npm start keeps ${file}`);
}

interface ApiAnswer {
  status: number;
  body: any;
}

async function call(method: string, p: string, token: string, body: unknown): Promise<ApiAnswer> {
  let res: Response;
  try {
    res = await fetch(baseUrl + p, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new UsageError(
      `Cannot reach leadrouter at ${baseUrl} (${cause}). Is it running? Set LEADROUTER_URL.`,
    );
  }
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON (a proxy's error page): shown as text.
  }
  return { status: res.status, body: parsed };
}

/** Prints an API error the way a person reads it: the message, then each problem by field. */
function printError(answer: ApiAnswer): void {
  const b = answer.body as {
    error?: string;
    message?: string;
    issues?: { field: string; message: string }[];
  };
  console.error(
    `error ${answer.status}${b?.error ? ` ${b.error}` : ''}: ${b?.message ?? String(answer.body)}`,
  );
  for (const issue of b?.issues ?? []) console.error(`  - ${issue.field}: ${issue.message}`);
}

async function exec(args: string[]): Promise<number> {
  let payload: unknown;
  if (args[0] === '--json') {
    if (args.length !== 2) throw new UsageError('exec --json takes one JSON argument');
    try {
      payload = JSON.parse(args[1]!);
    } catch {
      throw new UsageError('exec --json: the argument is not valid JSON');
    }
  } else {
    const text = args.join(' ').trim();
    if (!text) throw new UsageError('exec needs a command, e.g. leadrouter exec "get orders"');
    payload = { text };
  }
  const answer = await call('POST', '/api/automation/execute', adminToken(), payload);
  if (answer.status !== 200) {
    printError(answer);
    return 1;
  }
  console.log(JSON.stringify(answer.body, null, 2));
  return 0;
}

async function orgCreate(args: string[]): Promise<number> {
  const name = args.join(' ').trim();
  if (!name) throw new UsageError('org create needs a name, e.g. leadrouter org create "Acme Leads"');
  if (!env.ROOT_TOKEN) throw new UsageError('org create needs the operator token in ROOT_TOKEN');
  const answer = await call('POST', '/api/orgs', env.ROOT_TOKEN, { name });
  if (answer.status === 404) {
    console.error(
      `error 404: ${baseUrl} has no POST /api/orgs — this server version cannot create organizations.`,
    );
    return 1;
  }
  if (answer.status === 401) {
    printError(answer);
    console.error('  ROOT_TOKEN must be the operator token the server was started with.');
    return 1;
  }
  if (answer.status !== 200 && answer.status !== 201) {
    printError(answer);
    return 1;
  }
  console.log(JSON.stringify(answer.body, null, 2));
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === 'exec') return exec(rest);
  if (cmd === 'org' && rest[0] === 'create') return orgCreate(rest.slice(1));
  if (cmd === undefined || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    console.log(USAGE);
    return cmd === undefined ? 2 : 0;
  }
  throw new UsageError(`Unknown command "${argv.join(' ')}"`);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  console.error(`error: ${error.message}\n\n${USAGE}`);
  process.exitCode = 2;
}
