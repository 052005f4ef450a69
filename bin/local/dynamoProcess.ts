/**
 * Child-process entry of the local DynamoDB stand-in (see `startDynamo` in dynamo.ts): dynalite with
 * TransactWriteItems on 127.0.0.1, in its own process so that its CPU (every request is JSON,
 * validation and LevelDB work) runs on another core than the handlers that call it.
 *
 * Options come in `LEADROUTER_DYNAMO_OPTIONS` (JSON: `path`, `port`); see `standInProcess.ts` for how it
 * reports its port and stops (closing LevelDB cleanly).
 */
import dynalite from 'dynalite';
import type { AddressInfo } from 'node:net';
import { withTransactions } from './dynaliteTransactions.js';
import { closeHttpServer } from './httpServer.js';
import { serveStandIn } from './standInProcess.js';

const options = JSON.parse(process.env.LEADROUTER_DYNAMO_OPTIONS ?? '{}') as { path?: string; port?: number };

serveStandIn('dynamo', async () => {
  const server = withTransactions(() =>
    dynalite({ path: options.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return { port: (server.address() as AddressInfo).port, stop: () => closeHttpServer(server) };
});
