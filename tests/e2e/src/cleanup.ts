import { createServer } from 'node:net';

/** A TCP port nothing listens on right now, for a process's metrics endpoint or a test server. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function canListen(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, () => server.close(() => resolve(true)));
  });
}

/**
 * The first of `count` consecutive TCP ports nothing listens on right now, for a cluster whose
 * nodes take ports in a row. Below Linux's ephemeral range (32768 up), so that no outgoing
 * connection takes one of them before the cluster binds it.
 */
export async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const first = 20_000 + Math.floor(Math.random() * (32_768 - 20_000 - count));
    const ports = Array.from({ length: count }, (_, i) => first + i);
    if ((await Promise.all(ports.map(canListen))).every(Boolean)) return first;
  }
  throw new Error(`found no ${count} consecutive free ports`);
}
