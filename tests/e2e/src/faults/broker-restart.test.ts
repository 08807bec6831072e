import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { FeatureEngine } from '@gpumon/features/engine';
import { loadConfig } from '@gpumon/runtime/config';
import { createPool, databaseOptions } from '@gpumon/runtime/database';
import { createKafka, kafkaOptions } from '@gpumon/runtime/kafka';
import { createRegistryClient, registryOptions } from '@gpumon/runtime/registry';
import { removeTopics } from '@gpumon/runtime/remove-topics';
import type { GpuSample } from '@gpumon/schemas/types.generated';
import { freePort } from '../cleanup.js';
import { eventually, metricValue, provisionTopics, startCli, type CliProcess } from '../cli-process.js';
import { privateKafka } from '../private-stack.js';
import { byGpuAndTime, ofHosts, rowToRecord } from '../records.js';
import { expectedOutputs, type RunEnv } from '../whole-pipeline.js';
import { expectStillRunning, startStages, stopAll } from './fault-run.js';
import { countRows, expectEachRecordOnce, removeRows, tallyWhenCaughtUp, type TableTally } from './tally.js';

/**
 * A private Kafka broker stops and starts again under a running `gpumon agent` (reading a fake
 * nvidia-smi that prints a two-GPU capture), the processors and the sink. The agent keeps
 * collecting into its spool and sends it once the broker is back; the processors and the sink
 * retry. Every round the agent collected before, during and after the outage has its rows and
 * its outputs, once. The schema registry is the shared one, which keeps answering: it stores its
 * schemas in the shared Kafka.
 */
const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const FAKE_NVIDIA_SMI = `${REPO}producers/nvidia-smi/testdata/bin/nvidia-smi`;
const FIXTURE = fileURLToPath(new URL('../../../../producers/nvidia-smi/testdata/captured/dual_2070-v13.xml', import.meta.url));
const hostname = `e2e-faults-broker-${randomBytes(3).toString('hex')}`;
const prefix = `${hostname}.`;
const work = mkdtempSync(`${tmpdir()}/gpumon-faults-broker-`);
const modeFile = `${work}/nvidia-smi-mode`;
const pool = createPool(loadConfig(databaseOptions));
const broker = await privateKafka();
const processes: CliProcess[] = [];

afterAll(async () => {
  const stuck = await stopAll(processes);
  await removeRows(pool, hostname);
  await pool.end();
  try {
    await removeTopics(createKafka(loadConfig(kafkaOptions, { kafkaBrokers: broker.brokers }), 'e2e-faults'), createRegistryClient(loadConfig(registryOptions)), prefix);
  } finally {
    await broker.remove();
    rmSync(work, { recursive: true, force: true });
  }
  expect(stuck, 'stages that did not stop on SIGTERM').toEqual([]);
});

/**
 * gpu_samples against what the agent collected. Each sample carries interval_s, the time since
 * the agent's previous reading of its GPU, so a GPU's rows must chain back to its first: a row
 * whose predecessor has no row is a lost sample even when the counts happen to agree.
 */
function tallySamples(collected: number, rows: GpuSample[]): TableTally & { broken: string[] } {
  const distinct = new Map(rows.map((r) => [`${r.gpu_uuid} ${r.time}`, r]));
  const broken: string[] = [];
  let previous: GpuSample | undefined;
  for (const row of [...distinct.values()].sort(byGpuAndTime)) {
    const first = previous?.gpu_uuid !== row.gpu_uuid;
    const linked = first ? row.interval_s === null : Math.round(row.time - row.interval_s! * 1000) === previous!.time;
    if (!linked) broken.push(`${row.gpu_uuid} at ${new Date(row.time).toISOString()} (interval_s ${row.interval_s})`);
    previous = row;
  }
  return { table: 'gpu_samples', produced: collected, written: rows.length, duplicates: rows.length - distinct.size, missing: collected - distinct.size, broken };
}

describe('faults: Kafka broker restart', () => {
  it('the broker stopped and started under the agent, the processors and the sink: every collected round is in every table once', async () => {
    await broker.up();
    const env: RunEnv = { GPUMON_TOPIC_PREFIX: prefix, KAFKA_BROKERS: broker.brokers };
    await provisionTopics(env);
    const stages = await startStages({ env });
    processes.push(...stages.values());
    writeFileSync(modeFile, 'normal');
    const metricsPort = await freePort();
    const agent = startCli([
      'agent', '--interval', '250ms', '--collect-timeout', '200ms', '--nvidia-smi', FAKE_NVIDIA_SMI, '--xid-source', 'none',
      '--state-dir', `${work}/state`, '--hostname', hostname, '--attribution', 'false',
    ], { ...env, FAKE_NVIDIA_SMI_XML: FIXTURE, FAKE_NVIDIA_SMI_MODE_FILE: modeFile, GPUMON_AGENT_METRICS_PORT: String(metricsPort) });
    processes.push(agent);
    const received = (): Promise<number> => metricValue(metricsPort, 'gpumon_records_received_total{component="agent"}');
    const sent = (): Promise<number> => metricValue(metricsPort, 'gpumon_records_sent_total{component="agent"}');
    const spooled = (): Promise<number> => metricValue(metricsPort, 'gpumon_agent_spooled_samples');

    await eventually('rounds flowing through to gpu_health', async () => ((await countRows(pool, 'gpu_health', hostname)) >= 4 ? true : undefined), 120_000);
    await broker.down();
    await eventually('rounds piling up in the spool', async () => ((await spooled()) >= 20 ? true : undefined));
    await broker.up();
    const back = Date.now();
    const spooledAtRestart = await eventually('the agent sending again', async () => /Kafka is back; sending the spool spooled=(\d+)/.exec(agent.output())?.[1], 120_000);
    await eventually('rounds collected after the outage written', async () => {
      const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM gpu_samples WHERE ${ofHosts('gpu_samples', '= $1')} AND time > $2`, [hostname, new Date(back)]);
      return rows[0]!.n >= 8 ? true : undefined;
    }, 120_000, () => [...stages].map(([stage, p]) => `--- ${stage} (last 3 KB) ---\n${p.output().slice(-3072)}`).join('\n'));
    // No more rounds: what the agent collected is final once its spool is empty.
    writeFileSync(modeFile, 'fail');
    await eventually('the spool sent', async () => ((await spooled()) === 0 && (await sent()) === (await received()) ? true : undefined));
    const collected = await received();
    expect(await agent.stop(), agent.output()).toBe(0);
    console.log(`faults/broker-restart agent: collected ${collected} samples; its spool still held ${spooledAtRestart} when the broker was back`);
    expect(agent.output()).toMatch(/cannot send to Kafka; keeping samples in the spool/);

    // The samples as the processors got them: with attribution off, `workloads` (which gpu_samples does not hold) was null; what
    // describes the GPU is gpu_devices' (0014), and the features are those the agent's engine gave each reading in turn.
    const rows = async (): Promise<GpuSample[]> => {
      const engine = new FeatureEngine();
      const { rows: found } = await pool.query(
        'SELECT d.*, s.* FROM gpu_samples s JOIN gpu_devices d USING (gpu_uuid) WHERE d.hostname = $1 ORDER BY s.gpu_uuid, s.time', [hostname]);
      return found.map((row: Record<string, unknown>) => {
        const sample = { ...rowToRecord('samples', row), workloads: null } as unknown as GpuSample;
        return { ...sample, features: engine.update(sample) };
      });
    };
    const written = await eventually('every collected sample written', async () => {
      const found = await rows();
      return found.length >= collected ? found : undefined;
    }, 120_000).catch(rows);
    const samples = tallySamples(collected, written);
    const enriched = await tallyWhenCaughtUp(pool, hostname, await expectedOutputs(written));
    expectEachRecordOnce('faults/broker-restart', [samples, ...enriched.filter((t) => t.table !== 'gpu_samples')]);
    expect(samples.broken, 'rows whose previous reading has no row').toEqual([]);
    expectStillRunning(stages);
  });
});
