import type { Server } from 'node:http';

/**
 * Closes an HTTP server without waiting for clients to hang up. SDK clients keep connections alive
 * (and long polls hold them for up to 20 s); `close()` alone would wait for all of them. Idle ones are
 * closed at once, busy ones get `graceMs` to finish their request.
 */
export async function closeHttpServer(server: Server, graceMs = 2_000): Promise<void> {
  if (!server.listening) return;
  const closed = new Promise<void>((resolve, reject) =>
    server.close((error) => (error ? reject(error) : resolve())),
  );
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), graceMs);
  try {
    await closed;
  } finally {
    clearTimeout(timer);
  }
}
