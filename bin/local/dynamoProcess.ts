/**
 * Child-process entry of the local DynamoDB stand-in (see `startDynamo` in dynamo.ts): dynalite with
 * TransactWriteItems on 127.0.0.1, in its own process so that its CPU (every request is JSON,
 * validation and LevelDB work) runs on another core than the handlers that call it.
 *
 * Options come in `LEADROUTER_DYNAMO_OPTIONS` (JSON: `path`, `port`); the port it listens on goes back
 * over IPC. It stops (closing LevelDB cleanly) on the parent's `stop` message or as soon as the parent
 * is gone (IPC disconnect, also when the parent was killed). Ctrl-C reaches every process of the
 * terminal: this one ignores SIGINT/SIGTERM and lets the parent stop it after its own handlers are done.
 */
import dynalite from 'dynalite';
import type { AddressInfo } from 'node:net';
import { withTransactions } from './dynaliteTransactions.js';
import { closeHttpServer } from './httpServer.js';

const options = JSON.parse(process.env.LEADROUTER_DYNAMO_OPTIONS ?? '{}') as { path?: string; port?: number };
const server = withTransactions(() =>
  dynalite({ path: options.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }),
);

let stopping: Promise<void> | undefined;
function stop(): Promise<void> {
  stopping ??= closeHttpServer(server)
    .catch((error: unknown) => console.error('[dynamo] close failed:', error))
    .finally(() => process.exit(0));
  return stopping;
}

process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => undefined);
process.on('disconnect', () => void stop());
process.on('message', (message) => {
  if (message === 'stop') void stop();
});
server.once('error', (error) => {
  process.send?.({ error: (error as Error).message });
  process.exit(1);
});
server.listen(options.port ?? 0, '127.0.0.1', () => {
  process.send?.({ port: (server.address() as AddressInfo).port });
});
