import { createServer, type Server } from 'node:http';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { GPUMON_VERSION } from './build-info.js';
import { parse } from './config.js';
import { GpumonError, errorMessage } from './errors.js';
import type { Logger } from './log.js';

/**
 * The port each component serves on unless told otherwise: one each, so a whole pipeline runs on
 * one host, and the ones dashboards/prometheus/prometheus.yml scrapes.
 */
export const DEFAULT_METRICS_PORTS = {
  'agent': 9401,
  'sink-timescaledb': 9402,
  'score-health': 9403,
  'detect-anomalies': 9404,
  'price-usage': 9405,
  'predict-failure': 9406,
  'alerts-forward': 9407,
  // gpumon process all: the processors co-located on one consumer.
  'processors': 9408,
} as const;

/** The port of `component` unless told otherwise; none (off) for one without its own. */
export function defaultMetricsPort(component: string): number | undefined {
  return (DEFAULT_METRICS_PORTS as Readonly<Record<string, number>>)[component];
}

export const metricsOptions = {
  metricsPort: {
    env: 'GPUMON_METRICS_PORT', flag: 'metrics-port', example: '9402',
    description: "Port of the HTTP endpoint with /metrics (Prometheus), /livez and /readyz (/healthz, its older name); 0 turns it off. Each component has its own default port (runtime/README.md), so a whole pipeline runs on one host.",
    schema: parse.int(0, 65_535).optional(),
  },
  metricsAddress: {
    env: 'GPUMON_METRICS_ADDRESS', flag: 'metrics-address', default: '0.0.0.0', example: '127.0.0.1',
    description: 'Address the metrics endpoint listens on: every interface (0.0.0.0), or one, e.g. 127.0.0.1 to keep it on the host.',
    schema: parse.string(),
  },
} as const;

/** Where a component serves /metrics: `port` 0 (or none) turns the endpoint off. */
export interface MetricsEndpoint {
  port: number | undefined;
  address?: string;
}

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
 * Serves /metrics from `registry`; /livez, 200 while the process answers at all (a liveness probe
 * restarts nothing during a database outage); and /readyz (and /healthz, its older name), which
 * runs `readyCheck` — dependencies reachable, not paused, nothing written — and answers 200 or 503
 * with the reason.
 */
export async function startMetricsServer(
  endpoint: MetricsEndpoint,
  registry: Registry,
  readyCheck: () => Promise<void>,
  log: Logger,
): Promise<Server | undefined> {
  const { port, address = '0.0.0.0' } = endpoint;
  if (port === undefined || port === 0) return undefined;
  addProcessMetrics(registry);
  const server = createServer((request, response) => {
    const reply = (status: number, type: string, body: string): void => {
      response.writeHead(status, { 'content-type': type });
      response.end(body);
    };
    if (request.url === '/metrics') {
      registry.metrics().then((body) => reply(200, registry.contentType, body), (error: unknown) => reply(500, 'text/plain', errorMessage(error)));
    } else if (request.url === '/livez') {
      reply(200, 'text/plain', 'ok\n');
    } else if (request.url === '/readyz' || request.url === '/healthz') {
      readyCheck().then(() => reply(200, 'text/plain', 'ok\n'), (error: unknown) => reply(503, 'text/plain', `${errorMessage(error)}\n`));
    } else {
      reply(404, 'text/plain', 'not found: try /metrics, /livez or /readyz\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(new GpumonError(
      'config_invalid', `the metrics endpoint cannot listen on ${address}:${port} (${errorMessage(error)}): choose another with --metrics-port, or 0 to turn it off`,
    )));
    server.listen(port, address, () => resolve());
  });
  log.info('serving /metrics, /livez and /readyz', { address, port });
  return server;
}
