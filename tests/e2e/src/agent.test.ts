import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseNvidiaSmiXml } from '@gpumon/nvidia-smi/parse';
import { TopicCodec } from '@gpumon/runtime/avro-codec';
import { loadConfig } from '@gpumon/runtime/config';
import { createPool, databaseOptions } from '@gpumon/runtime/database';
import { createKafka, kafkaOptions } from '@gpumon/runtime/kafka';
import { createRegistryClient, registryOptions } from '@gpumon/runtime/registry';
import { removeTopics } from '@gpumon/runtime/remove-topics';
import type { GpuSample } from '@gpumon/schemas/types.generated';
import { freePort } from './cleanup.js';
import { eventually, metricValue, provisionTopics, startCli, type CliProcess } from './cli-process.js';
import { privateKafka, type PrivateService } from './private-stack.js';
import { byGpuAndTime, ofHosts, rowToRecord, storedRecord } from './records.js';

/**
 * The real agent code path: `gpumon agent` runs a fake nvidia-smi (a script printing a real
 * capture) and tails a kernel-log file, on the real Kafka, registry and TimescaleDB.
 */
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const FAKE_NVIDIA_SMI = `${REPO}producers/nvidia-smi/testdata/bin/nvidia-smi`;
const FIXTURE = fileURLToPath(new URL('../../../producers/nvidia-smi/testdata/captured/dual_2070-v13.xml', import.meta.url));

const run = randomBytes(3).toString('hex');
const prefix = `e2e-agent-${run}.`;
const hostname = `e2e-agent-${run}`;
const work = mkdtempSync(`${tmpdir()}/gpumon-agent-`);
const xmlPath = `${work}/nvidia-smi.xml`;
const kernelLog = `${work}/kern.log`;
const registry = createRegistryClient(loadConfig(registryOptions));
const pool = createPool(loadConfig(databaseOptions));
const fixtureXml = readFileSync(FIXTURE, 'utf8');
const [first, second] = parseNvidiaSmiXml(fixtureXml, { hostname, time: 0 }).samples as [GpuSample, GpuSample];

/** Attribution off: this test is about readings, and the fixture's pids would be looked up in this machine's /proc (attribution.test.ts has its own host). */
function agentArgs(state: string): string[] {
  return ['agent', '--interval', '1s', '--collect-timeout', '500ms', '--nvidia-smi', FAKE_NVIDIA_SMI,
    '--xid-source', `file:${kernelLog}`, '--state-dir', state, '--hostname', hostname, '--attribution', 'false'];
}

/** The fixture without its second GPU, as nvidia-smi prints a host whose GPU fell off the bus. */
function withoutSecondGpu(xml: string): string {
  const start = xml.indexOf('<gpu id=', xml.indexOf('<gpu id=') + 1);
  return xml.slice(0, start) + xml.slice(xml.indexOf('</gpu>', start) + '</gpu>'.length);
}

afterAll(async () => {
  for (const table of ['gpu_samples', 'gpu_device_configs', 'gpu_devices']) await pool.query(`DELETE FROM ${table} WHERE ${ofHosts(table, '= $1')}`, [hostname]);
  await pool.end();
  await removeTopics(createKafka(loadConfig(kafkaOptions), 'e2e'), registry, prefix);
  rmSync(work, { recursive: true, force: true });
});

describe('gpumon agent, end to end', () => {
  let agent: CliProcess;
  let sink: CliProcess;
  let metricsPort: number;

  beforeAll(async () => {
    writeFileSync(xmlPath, fixtureXml);
    writeFileSync(kernelLog, '');
    metricsPort = await freePort();
    const env = { GPUMON_TOPIC_PREFIX: prefix, FAKE_NVIDIA_SMI_XML: xmlPath, GPUMON_AGENT_METRICS_PORT: String(metricsPort) };
    await provisionTopics(env);
    sink = startCli(['sink', '--streams', 'samples', '--group', `e2e-agent-${run}-sink`], env);
    agent = startCli(agentArgs(`${work}/state`), env);
  });

  afterAll(async () => {
    await Promise.all([agent?.stop(), sink?.stop()]);
  });

  async function rows(): Promise<GpuSample[]> {
    const result = await pool.query(`SELECT * FROM gpu_samples WHERE ${ofHosts('gpu_samples', '= $1')}`, [hostname]);
    return result.rows.map((row: Record<string, unknown>) => rowToRecord('samples', row) as unknown as GpuSample).sort(byGpuAndTime);
  }

  it('writes each GPU\'s readings exactly as parsed from nvidia-smi, and what describes the GPU to gpu_devices', { timeout: 60_000 }, async () => {
    const found = await eventually('three rounds of both GPUs', async () => {
      const all = await rows();
      return all.filter((r) => r.gpu_uuid === second.gpu_uuid).length >= 3 ? all : undefined;
    }, 50_000);
    const previous = new Map<string, number>();
    for (const row of found.filter((r) => !r.gpu_lost)) {
      const parsed = parseNvidiaSmiXml(fixtureXml, { hostname, time: row.time }).samples.find((s) => s.gpu_uuid === row.gpu_uuid)!;
      const before = previous.get(row.gpu_uuid);
      const expected = { ...parsed, xid_events: row.xid_events, interval_s: before === undefined ? null : (row.time - before) / 1000 };
      expect(row).toEqual(storedRecord('samples', expected));
      previous.set(row.gpu_uuid, row.time);
    }
    const devices = await pool.query('SELECT gpu_uuid, hostname, pci_bus_id, product_name, driver_version, power_limit_w FROM gpu_devices WHERE hostname = $1 ORDER BY gpu_uuid', [hostname]);
    expect(devices.rows).toEqual([first, second].sort(byGpuAndTime).map((gpu) => ({
      gpu_uuid: gpu.gpu_uuid, hostname, pci_bus_id: gpu.pci_bus_id, product_name: gpu.product_name, driver_version: gpu.driver_version,
      power_limit_w: gpu.power_limit_w,
    })));
  });

  it('attaches a kernel-log Xid to the next sample of that GPU, then reports the GPU lost', { timeout: 60_000 }, async () => {
    const pci = second.pci_bus_id!.slice(4, 14).toLowerCase();
    writeFileSync(xmlPath, withoutSecondGpu(fixtureXml));
    appendFileSync(kernelLog, `2026-11-26T05:40:01+0000 ${hostname} kernel: NVRM: Xid (PCI:${pci}): 79, pid=0, GPU has fallen off the bus.\n`);
    const lost = await eventually('a lost record with the Xid', async () => {
      const all = (await rows()).filter((r) => r.gpu_uuid === second.gpu_uuid && r.gpu_lost && r.xid_events.length > 0);
      return all.length > 0 ? all[0] : undefined;
    }, 50_000, () => `--- agent (last 4 KB) ---\n${agent.output().slice(-4096)}\n--- sink (last 4 KB) ---\n${sink.output().slice(-4096)}`);
    expect(lost).toMatchObject({
      gpu_uuid: second.gpu_uuid, gpu_lost: true,
      temperature_gpu_c: null, power_draw_w: null, utilization_gpu_pct: null,
      xid_events: [{ time: Date.parse('2026-11-26T05:40:01Z'), code: 79, pci_id: pci, message: expect.stringContaining('fallen off the bus') }],
    });
    const stillThere = (await rows()).filter((r) => r.gpu_uuid === first.gpu_uuid && r.time > lost.time);
    await eventually('the other GPU keeps reporting', async () => ((await rows()).some((r) => r.gpu_uuid === first.gpu_uuid && r.time > lost.time) ? true : undefined), 10_000);
    expect(stillThere.every((r) => !r.gpu_lost)).toBe(true);
  });

  it('--once --output json prints what it sees on this host, one JSON line per GPU, and sends nothing', async () => {
    const once = startCli([...agentArgs(`${work}/unused`), '--once', '--output', 'json'], { FAKE_NVIDIA_SMI_XML: xmlPath, KAFKA_BROKERS: 'localhost:1' });
    expect(await once.exited, once.output()).toBe(0);
    const lines = once.output().trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as GpuSample);
    const time = lines[0]!.time;
    const expected = parseNvidiaSmiXml(readFileSync(xmlPath, 'utf8'), { hostname, time }).samples;
    expect(lines.map((l) => ({ ...l, features: null }))).toEqual(expected);
    expect(lines.every((l) => l.interval_s === null)).toBe(true);
    expect(lines.every((l) => l.features !== null && l.features.history_s === 0)).toBe(true);
  });

  it('serves /metrics and /healthz', async () => {
    const metrics = await (await fetch(`http://localhost:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/gpumon_records_received_total\{component="agent"\} [1-9]/);
    expect(metrics).toMatch(/gpumon_records_sent_total\{component="agent"\} [1-9]/);
    expect(metrics).toContain('gpumon_agent_spooled_samples');
    expect(metrics).toMatch(/^gpumon_agent_spool_bytes \d+$/m);
    expect(metrics).toMatch(new RegExp(`^gpumon_agent_spool_limit_bytes ${256 * 1024 * 1024}$`, 'm'));
    expect((await fetch(`http://localhost:${metricsPort}/healthz`)).status).toBe(200);
  });

  it('stops cleanly on SIGTERM', async () => {
    expect(await agent.stop(), agent.output()).toBe(0);
  });
});

describe('gpumon agent when nvidia-smi misbehaves', () => {
  it('counts hung, failing and garbled rounds, keeps to its interval, and recovers', { timeout: 60_000 }, async () => {
    const modeFile = `${work}/mode`;
    writeFileSync(xmlPath, fixtureXml);
    writeFileSync(modeFile, 'hang');
    const metricsPort = await freePort();
    const agent = startCli([...agentArgs(`${work}/misbehaving-state`), '--output', 'json'], {
      FAKE_NVIDIA_SMI_XML: xmlPath, FAKE_NVIDIA_SMI_MODE_FILE: modeFile, GPUMON_AGENT_METRICS_PORT: String(metricsPort),
    });
    const failures = (reason: string): Promise<number> => metricValue(metricsPort, `gpumon_agent_collection_failures_total{reason="${reason}"}`);
    await eventually('two hung rounds killed', async () => ((await failures('service_unreachable')) >= 2 ? true : undefined), 20_000);
    expect(agent.output()).toMatch(/nvidia-smi timed out after 500 ms and was killed/);
    await eventually('unhealthy after three intervals without a collection', async () => ((await fetch(`http://localhost:${metricsPort}/healthz`)).status === 503 ? true : undefined), 10_000);
    writeFileSync(modeFile, 'fail');
    await eventually('a failing round named with its exit code', async () => (/exited with code 9/.test(agent.output()) ? true : undefined), 10_000);
    writeFileSync(modeFile, 'garbage');
    await eventually('a garbled round skipped', async () => ((await failures('decode_failed')) >= 1 ? true : undefined), 10_000);
    writeFileSync(modeFile, 'normal');
    await eventually('samples again', async () => (agent.output().includes(`"gpu_uuid":"${first.gpu_uuid}"`) ? true : undefined), 10_000);
    expect((await fetch(`http://localhost:${metricsPort}/healthz`)).status).toBe(200);
    expect(await agent.stop(), agent.output()).toBe(0);
  });
});

describe('gpumon agent through a broker outage and its own restart', () => {
  let broker: PrivateService | undefined;

  afterAll(async () => {
    await broker?.remove();
  });

  it('delivers every sample it collected, in order, once Kafka is back', { timeout: 240_000 }, async () => {
    const kafkaBroker = await privateKafka();
    broker = kafkaBroker;
    await kafkaBroker.up();
    writeFileSync(xmlPath, fixtureXml);
    const env = { GPUMON_TOPIC_PREFIX: prefix, FAKE_NVIDIA_SMI_XML: xmlPath, KAFKA_BROKERS: kafkaBroker.brokers, GPUMON_AGENT_METRICS_PORT: '0' };
    await provisionTopics(env);
    const state = `${work}/outage-state`;
    const before = startCli(agentArgs(state), env);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await kafkaBroker.down();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(await before.stop(), before.output()).toBe(0);
    const modeFile = `${work}/outage-mode`;
    const metricsPort = await freePort();
    const after = startCli(agentArgs(state), { ...env, FAKE_NVIDIA_SMI_MODE_FILE: modeFile, GPUMON_AGENT_METRICS_PORT: String(metricsPort) });
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await kafkaBroker.up();
    await eventually('Kafka back for the agent', async () => (/Kafka is back/.test(after.output()) ? true : undefined), 60_000);
    // A stop leaves what is still spooled on disk for the next start; so nothing more is collected
    // and the spool sent in full before this agent stops, or the test would wait for samples it kept.
    writeFileSync(modeFile, 'fail');
    await eventually('a round collecting nothing, then an empty spool', async () => (
      (await metricValue(metricsPort, 'gpumon_agent_collection_failures_total')) >= 1 && (await metricValue(metricsPort, 'gpumon_agent_spooled_samples')) === 0 ? true : undefined
    ), 60_000, () => after.output().slice(-4096));
    expect(await after.stop(), after.output()).toBe(0);
    expect(after.output()).toMatch(/stopped .*spooled=0\b/);

    const collected = [before, after].reduce((sum, p) => sum + Number(/stopped received=(\d+)/.exec(p.output())?.[1] ?? NaN), 0);
    const kafka = createKafka(loadConfig(kafkaOptions, { kafkaBrokers: kafkaBroker.brokers }), 'e2e-outage');
    const codec = new TopicCodec(registry, 'samples', prefix);
    await codec.register();
    // What the topic holds, before a consumer group is involved: a lost sample fails here, a slow group below.
    const admin = kafka.admin();
    await admin.connect();
    const held = (await admin.fetchTopicOffsets(codec.topic)).reduce((sum, p) => sum + Number(p.high), 0);
    await admin.disconnect();
    expect(held).toBe(collected);
    const consumer = kafka.consumer({ groupId: `e2e-outage-${run}` });
    const received: GpuSample[] = [];
    const crashes: string[] = [];
    consumer.on(consumer.events.CRASH, ({ payload }) => void crashes.push(`${payload.error.message} (restarting: ${payload.restart})`));
    await consumer.connect();
    await consumer.subscribe({ topic: codec.topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void received.push(await codec.decode(message.value)) });
    // A fresh group on a broker just restarted waits for its coordinator to load, slower when the machine is busy.
    await eventually(`${collected} samples read back`, async () => (received.length >= collected ? true : undefined), 120_000,
      () => `${received.length} read back; the consumer crashed ${crashes.length} times: ${crashes.join('; ')}`);
    await consumer.disconnect();

    // It really went through the spool: the first agent could not send, the second started with a backlog.
    expect(before.output()).toMatch(/cannot send to Kafka; keeping samples in the spool/);
    expect(Number(/collecting .*spooled=(\d+)/.exec(after.output())?.[1])).toBeGreaterThan(0);
    expect(collected).toBeGreaterThanOrEqual(10);
    expect(received).toHaveLength(collected);
    for (const gpu of [first.gpu_uuid, second.gpu_uuid]) {
      const times = received.filter((s) => s.gpu_uuid === gpu).map((s) => s.time);
      expect(times).toEqual([...times].sort((a, b) => a - b));
      expect(new Set(times).size).toBe(times.length);
    }
  });
});
