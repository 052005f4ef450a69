import net from 'node:net';

/**
 * Whether `port` can be bound on 127.0.0.1 right now. Used to keep a stand-in on the port it had last
 * time (so URLs printed earlier stay valid) unless something else took it meanwhile.
 */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * A port the OS considers free on 127.0.0.1. Another process may still take it before we bind it, so
 * callers that spawn a server on it retry with a fresh port when binding fails.
 */
export function findFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}
