/**
 * A server that accepts TCP connections and never answers: what a hung or half-started Temporal looks like from a
 * client (the connection is made, no call is ever answered). For the fail-fast tests.
 */
import { createServer, type Server, type Socket } from 'node:net';

export async function stalledServer(): Promise<{ address: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    address: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
