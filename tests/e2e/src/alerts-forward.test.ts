import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TopicCodec } from '@gpumon/runtime/avro-codec';
import { buildAlert } from '@gpumon/runtime/alert';
import { loadConfig } from '@gpumon/runtime/config';
import { createKafka, kafkaOptions, keyPartitioner } from '@gpumon/runtime/kafka';
import { createRegistryClient, registryOptions } from '@gpumon/runtime/registry';
import { removeTopics } from '@gpumon/runtime/remove-topics';
import { toPostableAlert, type PostableAlert } from '@gpumon/sink-alertmanager/alertmanager-payload';
import { eventually, provisionTopics, startCli } from './cli-process.js';

/** `gpumon alerts forward` against a local HTTP receiver that speaks Alertmanager's API v2 and fails once first. */
const run = randomBytes(3).toString('hex');
const prefix = `e2e-alerts-${run}.`;
const kafkaSettings = loadConfig(kafkaOptions, { topicPrefix: prefix });
const kafka = createKafka(kafkaSettings, 'e2e-alerts');
const registry = createRegistryClient(loadConfig(registryOptions));
const received: PostableAlert[][] = [];
const requests: Array<{ method?: string; url?: string; status: number }> = [];
let server: Server;
let port = 0;

async function body(request: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of request) text += String(chunk);
  return text;
}

const alerts = [
  buildAlert({
    time: Date.parse('2026-11-26T06:00:00Z'), gpu_uuid: 'GPU-e2e-1', hostname: 'h1', rule: 'health_ecc_volatile_dbe', source: 'score-health',
    severity: 'CRITICAL', summary: 'h1 GPU-e2e-1: 2 uncorrectable ECC errors', runbook: 'drain and reset', labels: { subsystem: 'memory' },
  }, 300_000),
  buildAlert({
    time: Date.parse('2026-11-26T06:00:10Z'), gpu_uuid: 'GPU-e2e-2', hostname: 'h2', rule: 'anomaly_thermal', source: 'detect-anomalies',
    severity: 'WARNING', summary: 'h2 GPU-e2e-2: 88 °C', runbook: 'check fans', subject: 'temperature_gpu_c',
  }, 300_000),
];

beforeAll(async () => {
  server = createServer((request, response) => {
    void body(request).then((text) => {
      // The first post fails as a restarting Alertmanager would: the forwarder must retry, not drop.
      const status = requests.length === 0 ? 503 : 200;
      requests.push({ method: request.method, url: request.url, status });
      if (status === 200) received.push(JSON.parse(text) as PostableAlert[]);
      response.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, resolve));
  port = (server.address() as { port: number }).port;

  await provisionTopics({ GPUMON_TOPIC_PREFIX: prefix });
  const codec = new TopicCodec(registry, 'alerts', prefix);
  await codec.lookup();
  const producer = kafka.producer({ createPartitioner: keyPartitioner });
  await producer.connect();
  await producer.send({ topic: codec.topic, messages: alerts.map((a) => ({ key: a.gpu_uuid, value: codec.encode(a) })) });
  await producer.disconnect();
});

afterAll(async () => {
  server.close();
  await removeTopics(kafka, registry, prefix);
});

describe('gpumon alerts forward', () => {
  it('posts every alert to /api/v2/alerts in Alertmanager\'s shape, retrying a failed post', async () => {
    const forward = startCli(['alerts', 'forward', '--to', `http://localhost:${port}`, '--from-beginning', 'true', '--group', `e2e-alerts-${run}`], {
      GPUMON_TOPIC_PREFIX: prefix,
    });
    await eventually('both alerts posted', async () => (received.flat().length >= 2 ? true : undefined));
    expect(await forward.stop(), forward.output()).toBe(0);

    expect(requests[0]).toMatchObject({ method: 'POST', url: '/api/v2/alerts', status: 503 });
    const posted = received.flat().sort((a, b) => a.startsAt.localeCompare(b.startsAt));
    expect(posted).toEqual(alerts.map(toPostableAlert));
    expect(posted[0]).toMatchObject({
      labels: { alertname: 'health_ecc_volatile_dbe', gpu_uuid: 'GPU-e2e-1', hostname: 'h1', severity: 'critical', subsystem: 'memory' },
      annotations: { summary: 'h1 GPU-e2e-1: 2 uncorrectable ECC errors', runbook: 'drain and reset' },
      startsAt: '2026-11-26T06:00:00.000Z',
      endsAt: '2026-11-26T06:05:00.000Z',
    });
  });
});
