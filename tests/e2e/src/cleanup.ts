import { createServer } from 'node:net';

/** A TCP port nothing listens on right now, for a process's metrics endpoint or a test server. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
