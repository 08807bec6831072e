import { randomBytes } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TopicCodec } from '@gpumon/runtime/avro-codec';
import { loadConfig } from '@gpumon/runtime/config';
import { createPool, databaseOptions } from '@gpumon/runtime/database';
import { createKafka, kafkaOptions, keyPartitioner } from '@gpumon/runtime/kafka';
import { createRegistryClient, registryOptions } from '@gpumon/runtime/registry';
import { removeTopics } from '@gpumon/runtime/remove-topics';
import type { DeadLetter, GpuEconomics, GpuSample, Workload, WorkloadCost } from '@gpumon/schemas/types.generated';
import type { Stream } from '@gpumon/schemas/topics';
import { SimulatedFleet } from '@gpumon/simulator/fleet';
import { LAST_SEEN_LAG_MS } from '@gpumon/sink-timescaledb/written-rows';
import { eventually, provisionTopics, startCli, startCliServing, stoppedCounters } from './cli-process.js';
import { privatePostgres, type PrivateService } from './private-stack.js';
import { ofHosts } from './records.js';

/**
 * `gpumon sink` on samples written for the purpose: replayed by a second consumer group, with a
 * row PostgreSQL refuses, an unknown GPU and a record past retention; then through a restart of a
 * private PostgreSQL while the simulator produces.
 */
const run = randomBytes(3).toString('hex');
const prefix = `e2e-sink-${run}.`;
const hostPrefix = `e2e-sink-${run}`;
const kafka = createKafka(loadConfig(kafkaOptions), 'e2e-sink');
const registry = createRegistryClient(loadConfig(registryOptions));
const pool = createPool(loadConfig(databaseOptions));
const DAY_MS = 86_400_000;

async function produce<S extends Stream>(topicPrefix: string, stream: S, records: Array<Parameters<TopicCodec<S>['encode']>[0] & { gpu_uuid: string }>): Promise<void> {
  const codec = new TopicCodec(registry, stream, topicPrefix);
  await codec.register();
  const producer = kafka.producer({ createPartitioner: keyPartitioner });
  await producer.connect();
  await producer.send({ topic: codec.topic, acks: -1, messages: records.map((r) => ({ key: r.gpu_uuid, value: codec.encode(r) })) });
  await producer.disconnect();
}

async function deadLetters(topicPrefix: string, count: number): Promise<DeadLetter[]> {
  const codec = new TopicCodec(registry, 'dlq', topicPrefix);
  await codec.register();
  const consumer = kafka.consumer({ groupId: `e2e-sink-${run}-dlq-${randomBytes(2).toString('hex')}` });
  const letters: DeadLetter[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic: codec.topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void letters.push(await codec.decode(message.value)) });
  await eventually(`${count} dead letters`, async () => (letters.length >= count ? true : undefined));
  await consumer.disconnect();
  return letters;
}

async function topicRecords(client: Kafka, topic: string): Promise<number> {
  const admin = client.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  return offsets.reduce((sum, o) => sum + Number(o.high), 0);
}

afterAll(async () => {
  const ours = 'SELECT gpu_uuid FROM gpu_devices WHERE hostname LIKE $1';
  await pool.query(`DELETE FROM gpu_workload_samples WHERE gpu_uuid IN (${ours})`, [`${hostPrefix}%`]);
  await pool.query(`DELETE FROM gpu_workload_costs WHERE gpu_uuid IN (${ours})`, [`${hostPrefix}%`]);
  await pool.query('DELETE FROM gpu_workloads WHERE workload_id LIKE $1', [`%${run}%`]);
  await pool.query('DELETE FROM gpu_economics WHERE hostname LIKE $1', [`${hostPrefix}%`]);
  for (const table of ['gpu_samples', 'gpu_device_configs', 'gpu_devices']) await pool.query(`DELETE FROM ${table} WHERE ${ofHosts(table, 'LIKE $1')}`, [`${hostPrefix}%`]);
  await pool.end();
  await removeTopics(kafka, registry, prefix, ['samples', 'economics', 'dlq']);
});

/** A row's last_seen: one of its sightings' times, less than LAST_SEEN_LAG_MS before the latest (the sink leaves out smaller moves). */
function lastSeen(times: readonly number[]): unknown {
  const latest = Math.max(...times);
  return expect.toSatisfy((at: Date) => times.includes(at.getTime()) && at.getTime() > latest - LAST_SEEN_LAG_MS);
}

describe('gpumon sink on the shared stack', () => {
  const now = Date.now();
  const fleet = new SimulatedFleet({ seed: 3, hosts: 2, gpusPerHost: 8, hostPrefix });
  const job: Workload = {
    workload_id: `slurm:${run}`, kind: 'SLURM_JOB', source: 'slurm-job-map', device_uuid: null, gpu_instance_id: null, cluster: null,
    namespace: null, pod: null, pod_uid: null, container: null, job_id: run, user: 'alice', account: 'ml', partition: 'gpu',
    pids: [4242], used_memory_mib: 2048,
  };
  const pod: Workload = {
    workload_id: `k8s:team-a/train-${run}/main`, kind: 'KUBERNETES_POD', source: 'pod-resources', device_uuid: null, gpu_instance_id: null,
    cluster: 'prod', namespace: 'team-a', pod: `train-${run}`, pod_uid: `uid-${run}`, container: 'main', job_id: null, user: null,
    account: null, partition: null, pids: [], used_memory_mib: null,
  };
  // The first GPU runs a Slurm job and holds a pod; the others' attribution is off. Set here, whatever the simulator attributes.
  const simulated = Array.from({ length: 20 }, (_, k) => fleet.sample(now - 3_600_000 + k * 10_000)).flat();
  const firstGpu = simulated[0]!.gpu_uuid;
  const good = simulated.map((s): GpuSample => (s.gpu_uuid === firstGpu
    ? { ...s, workloads: [job, pod], attribution_problems: ['pid 7: exited before /proc was read'],
        processes: [{ pid: 4242, type: 'C', name: 'python', used_memory_mib: 2048, gpu_instance_id: null, compute_instance_id: null, workload_id: job.workload_id }] }
    : { ...s, workloads: null, processes: null, attribution_problems: [] }));
  const template = good[0]!;
  const childBad: GpuSample = { ...template, time: now - 20_000, workloads: [{ ...job, device_uuid: 'MIG-\u0000' }] };
  const part = (workload_id: string | null, team: string, share: number): WorkloadCost => ({
    workload_id, team, share, energy_kwh: 0.004 * share, allocated_cost_micros: 4000 * share, used_cost_micros: 1000 * share, idle_cost_micros: 3000 * share,
  });
  const economics: GpuEconomics[] = good.filter((s) => s.gpu_uuid === firstGpu).map((s) => ({
    time: s.time, gpu_uuid: s.gpu_uuid, hostname: s.hostname, product_name: s.product_name, currency: 'USD', interval_s: 10, energy_kwh: 0.004,
    energy_cost_micros: 600, allocated_cost_micros: 4000, used_cost_micros: 1000, idle_cost_micros: 3000, efficiency: 0.25, co2e_kg: 0.002,
    cost_per_used_gpu_hour_micros: null, workloads: [part(job.workload_id, 'ml', 0.5), part(pod.workload_id, 'team-a', 0.25), part(null, 'unattributed', 0.25)],
  }));
  const unknown: GpuSample = { ...template, gpu_uuid: `GPU-${run}-never-seen`, serial: `SN-${run}`, hostname: `${hostPrefix}-new`, time: now - 60_000 };
  const bad: GpuSample = { ...template, time: now - 30_000, serial: 'bad\u0000serial' };
  const old: GpuSample = { ...template, time: now - 40 * DAY_MS };
  const rowsWanted = good.length + 1;

  const rowCount = async (): Promise<number> =>
    Number((await pool.query(`SELECT count(*) AS n FROM gpu_samples WHERE gpu_uuid IN (SELECT gpu_uuid FROM gpu_devices WHERE hostname LIKE $1)`, [`${hostPrefix}%`])).rows[0].n);

  /** A sink in its own group over the whole topic, stopped once it has committed every record: its counters as it stopped, its /metrics before. */
  async function sinkOnce(group: string): Promise<{ counters: Record<string, number>; metrics: string }> {
    const { cli: sink, port: metricsPort } = await startCliServing(['sink', '--streams', 'samples,economics', '--group', group, '--batch-rows', '100', '--batch-wait', '200ms'], {
      GPUMON_TOPIC_PREFIX: prefix,
    });
    const total = good.length + 4 + economics.length;
    const metrics = await eventually('every record committed', async () => {
      const text = await fetch(`http://localhost:${metricsPort}/metrics`).then((r) => r.text(), () => '');
      return Number(/gpumon_consumer_records_committed_total\{[^}]*\} (\d+)/.exec(text)?.[1] ?? 0) >= total ? text : undefined;
    });
    expect(await sink.stop(), sink.output()).toBe(0);
    return { counters: stoppedCounters(sink.output()), metrics };
  }

  beforeAll(async () => {
    await provisionTopics({ GPUMON_TOPIC_PREFIX: prefix });
    await produce(prefix, 'samples', [...good, unknown, bad, childBad, old]);
    await produce(prefix, 'economics', economics);
  });

  it('writes every record once, dead-letters the refused rows with their SQLSTATE, skips the expired one; a replay adds nothing', async () => {
    const received = good.length + 4 + economics.length;
    const first = await sinkOnce(`e2e-sink-${run}-a`);
    expect(await rowCount()).toBe(rowsWanted);
    expect(first.counters).toMatchObject({ received, sent: rowsWanted + economics.length, errored: 2, dropped: 1 });
    const metric = (text: string, series: string): number => Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(metric(first.metrics, 'gpumon_sink_rows_total{table="gpu_samples"}')).toBe(rowsWanted);
    expect(metric(first.metrics, 'gpumon_sink_rows_total{table="gpu_economics"}')).toBe(economics.length);
    expect(metric(first.metrics, 'gpumon_sink_bytes_total{table="gpu_samples"}')).toBeGreaterThan(rowsWanted * 100);
    expect(metric(first.metrics, 'gpumon_sink_write_seconds_count{table="gpu_samples"}')).toBeGreaterThan(0);
    expect(metric(first.metrics, 'gpumon_dead_letters_total{component="sink-timescaledb",reason="database_rejected"}')).toBe(2);

    const replay = await sinkOnce(`e2e-sink-${run}-b`);
    expect(await rowCount()).toBe(rowsWanted);
    expect(replay.counters).toMatchObject({ received, sent: 0, errored: 2, dropped: rowsWanted + economics.length + 1 });
    expect(metric(replay.metrics, 'gpumon_sink_rows_total{table="gpu_samples"}'), 'a replay inserts nothing').toBe(0);

    const distinct = await pool.query(`SELECT count(DISTINCT (gpu_uuid, time)) AS n FROM gpu_samples WHERE gpu_uuid IN (SELECT gpu_uuid FROM gpu_devices WHERE hostname LIKE $1)`, [`${hostPrefix}%`]);
    expect(Number(distinct.rows[0].n)).toBe(rowsWanted);
    const expired = await pool.query('SELECT count(*) AS n FROM gpu_samples WHERE gpu_uuid = $1 AND time = $2', [old.gpu_uuid, new Date(old.time)]);
    expect(Number(expired.rows[0].n)).toBe(0);

    const letters = await deadLetters(prefix, 4);
    expect(letters.map((l) => l.error_message.replace(/: invalid byte sequence[\s\S]*/, '')).sort()).toEqual([
      // The bad serial is refused by gpu_devices, where a GPU's serial is kept (0014).
      'gpu_devices: SQLSTATE 22021', 'gpu_devices: SQLSTATE 22021', 'gpu_workload_samples: SQLSTATE 22021', 'gpu_workload_samples: SQLSTATE 22021',
    ]);
    for (const letter of letters) {
      expect(letter).toMatchObject({ component: 'sink-timescaledb', error_code: 'database_rejected', source_offset: expect.any(Number) });
    }
  });

  it('keeps each pod and job once in gpu_workloads, a row per sample and workload, a row per cost part, and the sample\'s processes', async () => {
    // The first GPU's samples and the unknown GPU's (a copy of the first sample) carry the job and the pod.
    const attributed = [...good.filter((s) => s.gpu_uuid === firstGpu), unknown];
    const times = attributed.map((s) => s.time);
    const workloads = await pool.query('SELECT workload_id, kind, namespace, pod, job_id, job_user, source, first_seen, last_seen FROM gpu_workloads WHERE workload_id LIKE $1 ORDER BY workload_id', [`%${run}%`]);
    const seen = { first_seen: new Date(Math.min(...times)), last_seen: lastSeen(times) };
    expect(workloads.rows).toEqual([
      { workload_id: pod.workload_id, kind: 'KUBERNETES_POD', namespace: 'team-a', pod: `train-${run}`, job_id: null, job_user: null, source: 'pod-resources', ...seen },
      { workload_id: job.workload_id, kind: 'SLURM_JOB', namespace: null, pod: null, job_id: run, job_user: 'alice', source: 'slurm-job-map', ...seen },
    ]);
    const sightings = await pool.query(
      'SELECT workload_id, count(*)::int AS n, count(DISTINCT (gpu_uuid, time))::int AS d FROM gpu_workload_samples WHERE workload_id LIKE $1 GROUP BY 1 ORDER BY 1', [`%${run}%`]);
    expect(sightings.rows).toEqual([
      { workload_id: pod.workload_id, n: attributed.length, d: attributed.length },
      { workload_id: job.workload_id, n: attributed.length, d: attributed.length },
    ]);
    const parts = await pool.query(
      `SELECT workload_id, team, count(*)::int AS n, sum(allocated_cost_micros)::int AS allocated FROM gpu_workload_costs WHERE gpu_uuid = $1
        GROUP BY 1, 2 ORDER BY 1 NULLS LAST`, [firstGpu]);
    expect(parts.rows).toEqual([
      { workload_id: pod.workload_id, team: 'team-a', n: economics.length, allocated: 1000 * economics.length },
      { workload_id: job.workload_id, team: 'ml', n: economics.length, allocated: 2000 * economics.length },
      { workload_id: null, team: 'unattributed', n: economics.length, allocated: 1000 * economics.length },
    ]);
    const stored = await pool.query('SELECT processes, attribution_problems FROM gpu_samples WHERE gpu_uuid = $1 AND time = $2', [firstGpu, new Date(template.time)]);
    expect(stored.rows).toEqual([{ processes: template.processes, attribution_problems: ['pid 7: exited before /proc was read'] }]);
  });

  it('keeps the inventory: a row per GPU with first and last seen, one created for a GPU never seen before', async () => {
    const devices = await pool.query('SELECT * FROM gpu_devices WHERE hostname LIKE $1 ORDER BY gpu_uuid', [`${hostPrefix}%`]);
    expect(devices.rows).toHaveLength(17);
    expect(devices.rows.find((d: { gpu_uuid: string }) => d.gpu_uuid === unknown.gpu_uuid)).toMatchObject({
      gpu_uuid: unknown.gpu_uuid, serial: `SN-${run}`, product_name: template.product_name, hostname: `${hostPrefix}-new`,
      driver_version: template.driver_version, first_seen: new Date(unknown.time), last_seen: new Date(unknown.time),
      pci_bus_id: template.pci_bus_id, power_limit_w: template.power_limit_w, memory_total_mib: template.memory_total_mib,
    });
    const firstGpu = devices.rows.find((d: { gpu_uuid: string }) => d.gpu_uuid === template.gpu_uuid);
    const times = good.filter((s) => s.gpu_uuid === template.gpu_uuid && !s.gpu_lost).map((s) => s.time);
    expect([firstGpu.first_seen, firstGpu.last_seen]).toEqual([new Date(Math.min(...times)), lastSeen(times)]);
  });
});

describe('gpumon sink through a PostgreSQL restart', () => {
  const pgPrefix = `e2e-sink-${run}-pg.`;
  let postgres: PrivateService | undefined;

  afterAll(async () => {
    await postgres?.remove();
    await removeTopics(kafka, registry, pgPrefix, ['samples', 'dlq']);
  });

  it('loses no record and doubles none', { timeout: 240_000 }, async () => {
    const service = await privatePostgres();
    const { url } = service;
    postgres = service;
    await service.up();
    const migrate = startCli(['migrate'], { DATABASE_URL: url });
    expect(await migrate.exited, migrate.output()).toBe(0);

    const env = { GPUMON_TOPIC_PREFIX: pgPrefix, DATABASE_URL: url };
    await provisionTopics(env);
    const sink = startCli(['sink', '--streams', 'samples', '--group', `e2e-sink-${run}-pg`, '--batch-wait', '100ms'], env);
    const simulate = startCli([
      'simulate', '--hosts', '2', '--gpus-per-host', '8', '--interval', '250ms', '--ticks', '60', '--host-prefix', `${hostPrefix}-pg`,
    ], env);
    const count = async (): Promise<[number, number]> => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const result = await client.query('SELECT count(*) AS n, count(DISTINCT (gpu_uuid, time)) AS d FROM gpu_samples');
        return [Number(result.rows[0].n), Number(result.rows[0].d)];
      } finally {
        await client.end();
      }
    };
    try {
      await eventually('rows arriving', async () => ((await count())[0] > 0 ? true : undefined));
      await service.down();
      await new Promise((resolve) => setTimeout(resolve, 3000));
      await service.up();
      expect(await simulate.exited, simulate.output()).toBe(0);
      const produced = await topicRecords(kafka, `${pgPrefix}gpu.samples.v1`);
      expect(produced).toBe(960);
      await eventually('every produced record in the table', async () => ((await count())[0] >= produced ? true : undefined));
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(await count()).toEqual([produced, produced]);
      expect(sink.output()).toMatch(/writing \d+ rows to gpu_samples failed, retrying/);
    } finally {
      await simulate.stop();
      expect(await sink.stop(), sink.output()).toBe(0);
    }
  });
});
