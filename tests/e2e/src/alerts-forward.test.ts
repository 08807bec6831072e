import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TopicCodec } from '@gpumon/runtime/avro-codec';
import { buildAlert } from '@gpumon/runtime/alert';
import { loadConfig } from '@gpumon/runtime/config';
import { createKafka, kafkaOptions, keyPartitioner } from '@gpumon/runtime/kafka';
import { createRegistryClient, registryOptions } from '@gpumon/runtime/registry';
import { removeTopics } from '@gpumon/runtime/remove-topics';
import type { DeadLetter } from '@gpumon/schemas/types.generated';
import { toPostableAlert, type PostableAlert } from '@gpumon/sink-alertmanager/alertmanager-payload';
import { eventually, provisionTopics, startCli, stoppedCounters } from './cli-process.js';
import { readRecords } from './read-topic.js';

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

/** An Alertmanager stand-in on 127.0.0.1: answers each POST by `answer` (the nth request, the alerts it holds). */
interface Answer { status: number; headers?: Record<string, string>; body?: string }

async function standIn(answer: (n: number, alerts: PostableAlert[]) => Answer) {
  const seen: Array<{ method?: string; url?: string; authorization?: string; status: number; alerts: PostableAlert[]; at: number }> = [];
  const accepted: PostableAlert[] = [];
  const server = createServer((request, response) => {
    void body(request).then((text) => {
      const alerts = request.method === 'POST' ? JSON.parse(text) as PostableAlert[] : [];
      const { status, headers, body: reply } = request.method === 'POST' ? answer(seen.length, alerts) : { status: 200 };
      seen.push({ method: request.method, url: request.url, authorization: request.headers.authorization, status, alerts, at: Date.now() });
      if (status === 200) accepted.push(...alerts);
      response.writeHead(status, headers).end(reply);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { seen, accepted, server, port: (server.address() as { port: number }).port };
}

/** Refuses, as Alertmanager does, a whole post that holds one alert it will not take. */
function refusingBad(alerts: PostableAlert[]): Answer {
  const bad = alerts.find((a) => a.labels.bad === 'yes');
  return bad === undefined ? { status: 200 } : { status: 400, body: `{"code":400,"message":"invalid label set for ${bad.labels.gpu_uuid}"}` };
}

describe('gpumon alerts forward to two Alertmanagers that misbehave', () => {
  const more = `e2e-alerts-${run}-b.`;
  const good = Array.from({ length: 9 }, (_, i) => buildAlert({
    time: Date.parse('2026-11-26T07:00:00Z') + i * 1000, gpu_uuid: `GPU-e2e-b${i}`, hostname: 'h3', rule: 'anomaly_thermal', source: 'detect-anomalies',
    severity: 'WARNING', summary: `h3 GPU-e2e-b${i}: 88 °C`, runbook: 'check fans',
  }, 300_000));
  const refused = { ...good[0]!, gpu_uuid: 'GPU-e2e-bad', alert_key: 'anomaly_thermal:GPU-e2e-bad', labels: { bad: 'yes' } };
  const outOfRange = { ...good[1]!, gpu_uuid: 'GPU-e2e-date', alert_key: 'anomaly_thermal:GPU-e2e-date', ends_at: 9e15 };

  it('follows no redirect, retries 408/429/5xx (waiting out Retry-After), delivers the rest around a refused alert, posts every alert to each URL, and logs no password', async () => {
    // The first Alertmanager redirects, then times out, throttles and fails once each before it answers as the second does.
    const misbehaving: Answer[] = [{ status: 302, headers: { location: '/elsewhere' } }, { status: 408 }, { status: 429, headers: { 'retry-after': '2' } }, { status: 500 }];
    const first = await standIn((n, posted) => misbehaving[n] ?? refusingBad(posted));
    const second = await standIn((_, posted) => refusingBad(posted));
    await provisionTopics({ GPUMON_TOPIC_PREFIX: more });
    const codec = new TopicCodec(registry, 'alerts', more);
    await codec.lookup();
    const admin = kafka.admin();
    await admin.connect();
    const producer = kafka.producer({ createPartitioner: keyPartitioner });
    await producer.connect();
    // All on one key: one partition, so the stand-ins' scripted answers meet the alerts in a known order.
    await producer.send({ topic: codec.topic, messages: [...good.slice(0, 5), refused, outOfRange, ...good.slice(5)].map((a) => ({ key: 'one', value: codec.encode(a) })) });
    await producer.disconnect();

    const group = `e2e-alerts-${run}-b`;
    const forward = startCli([
      'alerts', 'forward', '--to', `http://ops:hunter2-secret@127.0.0.1:${first.port}`, '--to', `http://127.0.0.1:${second.port}`, '--from-beginning', 'true', '--group', group,
    ], { GPUMON_TOPIC_PREFIX: more });
    try {
      await eventually('every alert taken or dead-lettered', async () => {
        const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [codec.topic] });
        return (offsets?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0) === 11 ? true : undefined;
      }, 60_000, forward.output);
    } finally {
      expect(await forward.stop(), forward.output()).toBe(0);
      first.server.close();
      second.server.close();
    }
    const keys = (alerts: PostableAlert[]): string[] => alerts.map((a) => a.labels.gpu_uuid!).sort();
    expect(keys(first.accepted)).toEqual(keys(good.map(toPostableAlert)));
    expect(keys(second.accepted)).toEqual(keys(good.map(toPostableAlert)));

    expect(first.seen.map((s) => s.method)).not.toContain('GET');
    expect(first.seen.slice(0, 4).map((s) => s.status)).toEqual([302, 408, 429, 500]);
    expect(first.seen[3]!.at - first.seen[2]!.at, 'Retry-After: 2 waited out').toBeGreaterThanOrEqual(2000);
    expect(new Set(first.seen.map((s) => s.authorization))).toEqual(new Set([`Basic ${Buffer.from('ops:hunter2-secret').toString('base64')}`]));
    expect(second.seen.every((s) => s.authorization === undefined)).toBe(true);
    expect(forward.output()).toContain(`Alertmanager at http://127.0.0.1:${first.port}/api/v2/alerts answered 302, a redirect to http://127.0.0.1:${first.port}/elsewhere`);
    expect(forward.output()).not.toContain('hunter2');
    expect(stoppedCounters(forward.output())).toMatchObject({ received: 11, sent: 9, errored: 2 });

    const letters = await readRecords<DeadLetter>(kafka, new TopicCodec(registry, 'dlq', more), `${group}-dlq`, 2);
    await admin.disconnect();
    const byCode = Object.fromEntries(letters.map((l) => [l.error_code, l]));
    expect(byCode.schema_rejected?.error_message).toBe([first.port, second.port].map((port) =>
      `Alertmanager at http://127.0.0.1:${port}/api/v2/alerts answered 400: {"code":400,"message":"invalid label set for GPU-e2e-bad"}`).join('; '));
    expect(byCode.schema_rejected?.source_offset).toBe(5);
    // A date no JavaScript Date holds is past the alerts' bounds: the shared validation refuses it before Alertmanager's shape is tried.
    expect(byCode.validation_failed).toMatchObject({
      source_offset: 6, error_message: expect.stringMatching(/^impossible alerts record from GPU GPU-e2e-date on h3: ends_at=9000000000000000 outside \[946684800000, 4102444800000\]$/),
    });
    await removeTopics(kafka, registry, more);
  }, 120_000);
});
