import { createServer, type Server } from 'node:http';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { GPUMON_VERSION } from './build-info.js';
import { parse } from './config.js';
import { errorMessage } from './errors.js';
import type { Logger } from './log.js';

export const metricsOptions = {
  metricsPort: {
    env: 'GPUMON_METRICS_PORT', flag: 'metrics-port', default: '0', example: '9401',
    description: 'Port of the HTTP endpoint with /metrics (Prometheus) and /healthz; 0 turns it off.', schema: parse.int(0, 65_535),
  },
} as const;

export { Registry };

/** Process metrics (CPU, memory, event loop, handles) and `gpumon_build_info`, on the component's registry. */
function addProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'gpumon_build_info', help: 'Always 1; the labels name the release and the Node it runs on.',
    labelNames: ['version', 'node_version'], registers: [registry],
  }).set({ version: GPUMON_VERSION, node_version: process.versions.node }, 1);
}

/**
 * Serves /metrics from `registry` and /healthz, which runs `healthCheck` — a small piece of the
 * component's real work — and answers 200 or 503 with the reason.
 */
export async function startMetricsServer(
  port: number,
  registry: Registry,
  healthCheck: () => Promise<void>,
  log: Logger,
): Promise<Server | undefined> {
  if (port === 0) return undefined;
  addProcessMetrics(registry);
  const server = createServer((request, response) => {
    const reply = (status: number, type: string, body: string): void => {
      response.writeHead(status, { 'content-type': type });
      response.end(body);
    };
    if (request.url === '/metrics') {
      registry.metrics().then((body) => reply(200, registry.contentType, body), (error: unknown) => reply(500, 'text/plain', errorMessage(error)));
    } else if (request.url === '/healthz') {
      healthCheck().then(() => reply(200, 'text/plain', 'ok\n'), (error: unknown) => reply(503, 'text/plain', `${errorMessage(error)}\n`));
    } else {
      reply(404, 'text/plain', 'not found: try /metrics or /healthz\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve());
  });
  log.info('serving /metrics and /healthz', { port });
  return server;
}
