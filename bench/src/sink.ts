import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { from as copyFrom } from 'pg-copy-streams';
import { migrate } from '@gpumon/migrations/migrate';
import { scratchDatabase } from '@gpumon/migrations/scratch-database';
import { TopicCodec } from '@gpumon/runtime/avro-codec';
import { loadConfig } from '@gpumon/runtime/config';
import { withClient, type DatabaseSettings } from '@gpumon/runtime/database';
import { createKafka } from '@gpumon/runtime/kafka';
import { createLogger } from '@gpumon/runtime/log';
import { NODE_HEAP_ARGS, NODE_PROCESS_ENV } from '@gpumon/runtime/node-heap';
import { pipelineOptions, type PipelineSettings } from '@gpumon/runtime/pipeline';
import { createRegistryClient } from '@gpumon/runtime/registry';
import { removeTopics } from '@gpumon/runtime/remove-topics';
import { topicName } from '@gpumon/schemas/topics';
import { columnEncoding, columnTypes, copyBinary } from '@gpumon/sink-timescaledb/copy-binary';
import { deviceInventory } from '@gpumon/sink-timescaledb/devices';
import { tableOf } from '@gpumon/sink-timescaledb/tables';
import { workloadInventory } from '@gpumon/sink-timescaledb/workloads';
import { simulatorOptions } from '@gpumon/simulator/options';
import { runSimulator } from '@gpumon/simulator/run';
import { cpuSeconds } from './e2e/cpu.js';
import { peakRssMb } from './e2e/stages.js';
import { table } from './measure.js';
import { provisionTopics } from './topics.js';

const TARGET_RATIO = 0.7;
/** 1250 hosts x 8 GPUs x 10 ticks: 100,000 samples. */
const HOSTS = 1250;
const TICKS = 10;
const COPY_CHUNK_ROWS = 5000;
/** How often the sink's PostgreSQL backends are looked up (their CPU is read on every poll). */
const BACKEND_LOOKUP_MS = 500;

/** Every record of the topic, decoded, in no particular order: the rows both runs load. */
async function readAll(settings: PipelineSettings, codec: TopicCodec<'samples'>, count: number): Promise<Array<Record<string, unknown>>> {
  const consumer = createKafka(settings, 'bench-sink-read').consumer({ groupId: `bench-sink-read-${randomBytes(3).toString('hex')}` });
  const records: Array<Record<string, unknown>> = [];
  await consumer.connect();
  await consumer.subscribe({ topic: codec.topic, fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const message of batch.messages) records.push((await codec.decode(message.value)) as unknown as Record<string, unknown>);
    },
  });
  while (records.length < count) await sleep(50);
  await consumer.disconnect();
  return records;
}

/** The ceiling: the rows already encoded as the sink encodes them (binary COPY), streamed into the empty hypertable in one transaction. */
export async function copyCeiling(settings: DatabaseSettings, records: ReadonlyArray<Record<string, unknown>>): Promise<number> {
  const columns = tableOf('samples').columns;
  return withClient(settings, async (client) => {
    const encoding = columnEncoding(columns, await columnTypes(client, 'gpu_samples', columns));
    const chunks: Buffer[] = [];
    for (let i = 0; i < records.length; i += COPY_CHUNK_ROWS) chunks.push(copyBinary(records.slice(i, i + COPY_CHUNK_ROWS), encoding));
    const started = performance.now();
    await client.query('BEGIN');
    for (const chunk of chunks) {
      await pipeline(Readable.from([chunk]), client.query(copyFrom(`COPY gpu_samples (${columns.map((c) => `"${c.name}"`).join(', ')}) FROM STDIN (FORMAT binary)`)));
    }
    await client.query('COMMIT');
    return Math.round(records.length / ((performance.now() - started) / 1000));
  });
}

const CLI = fileURLToPath(new URL('../../cli/bin/gpumon.js', import.meta.url));

/** CPU seconds of the backends serving `database`, by pid, as far as this poll has seen them. */
class BackendCpu {
  private readonly latest = new Map<number, number>();
  private lookedUp = 0;

  constructor(private readonly settings: DatabaseSettings, private readonly database: string) {}

  async poll(): Promise<void> {
    if (performance.now() - this.lookedUp >= BACKEND_LOOKUP_MS) {
      this.lookedUp = performance.now();
      const pids = await withClient(this.settings, (c) => c.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend' AND pid <> pg_backend_pid()", [this.database],
      ));
      for (const { pid } of pids.rows) if (!this.latest.has(pid)) this.latest.set(pid, 0);
    }
    // A backend gone keeps the last reading: its CPU up to then still counts.
    for (const pid of this.latest.keys()) this.latest.set(pid, Math.max(this.latest.get(pid)!, cpuSeconds(pid)));
  }

  /** Their CPU seconds so far, keyed by backend, so a later total subtracts only what each had then. */
  snapshot(): Map<number, number> {
    return new Map(this.latest);
  }

  since(earlier: ReadonlyMap<number, number>): number {
    return [...this.latest].reduce((sum, [pid, seconds]) => sum + seconds - (earlier.get(pid) ?? 0), 0);
  }
}

interface SinkRun {
  perS: number;
  rssMb: number;
  /** CPU µs per row of the sink process (every thread) and of the PostgreSQL backends it used, first commit to last. */
  sinkCpuUs: number;
  postgresCpuUs: number;
}

/**
 * `gpumon sink` as its own process, as it runs in production (with the heap limit of docs/scaling.md), in a fresh group from the oldest
 * record: rows/s from its first commit to its last, the CPU it and its database backends used meanwhile, and its peak memory alone.
 * GPUMON_BENCH_SINK_NODE_ARGS gives it node flags, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
 */
async function sinkRate(settings: PipelineSettings & DatabaseSettings, databaseName: string, count: number): Promise<SinkRun> {
  const groupId = `bench-sink-${randomBytes(3).toString('hex')}`;
  const nodeArgs = process.env.GPUMON_BENCH_SINK_NODE_ARGS?.split(' ').filter((a) => a !== '') ?? [];
  const sink = spawn(process.execPath, [...NODE_HEAP_ARGS, ...nodeArgs, CLI, 'sink', '--streams', 'samples', '--group', groupId], {
    env: { ...process.env, ...NODE_PROCESS_ENV, GPUMON_TOPIC_PREFIX: settings.topicPrefix ?? '', DATABASE_URL: settings.databaseUrl, GPUMON_METRICS_PORT: '0' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => sink.on('exit', (code) => resolve(code)));
  const admin = createKafka(settings, 'bench-sink-watch').admin();
  await admin.connect();
  const topic = topicName('samples', settings.topicPrefix);
  const committed = async (): Promise<number> => {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return (offsets?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  };
  const backends = new BackendCpu(settings, databaseName);
  try {
    let first: { at: number; done: number; cpu: number; backends: Map<number, number> } | undefined;
    let done = 0;
    let rssMb = 0;
    while (done < count) {
      if (sink.exitCode !== null) throw new Error(`gpumon sink exited with code ${sink.exitCode}`);
      done = await committed();
      await backends.poll();
      if (first === undefined && done > 0) first = { at: performance.now(), done, cpu: cpuSeconds(sink.pid as number), backends: backends.snapshot() };
      rssMb = Math.max(rssMb, peakRssMb(sink.pid as number));
      await sleep(20);
    }
    // From the first commit seen, so the group's join time is not counted, nor what that commit covered.
    const seconds = (performance.now() - first!.at) / 1000;
    const rows = count - first!.done;
    const perRowUs = (cpu: number): number => Math.round((cpu / Math.max(rows, 1)) * 1e6);
    return {
      perS: Math.round(rows / Math.max(seconds, 0.001)),
      rssMb,
      sinkCpuUs: perRowUs(cpuSeconds(sink.pid as number) - first!.cpu),
      postgresCpuUs: perRowUs(backends.since(first!.backends)),
    };
  } finally {
    await admin.disconnect();
    sink.kill('SIGTERM');
    await exited;
  }
}

/**
 * Heap bytes a GPU that the sink's inventory keeps from one batch to the next (the gpu_devices,
 * gpu_device_configs and gpu_workloads rows it remembers having written, WrittenRows), once the
 * batch's decoded records are gone: it grows with the GPUs and workloads a sink has seen, up to
 * REMEMBERED_KEYS of each table.
 */
async function inventoryBytesPerGpu(database: DatabaseSettings, load: () => Promise<Array<Record<string, unknown>>>): Promise<number> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const writeInventories = async (records: Array<Record<string, unknown>>, end: 'COMMIT' | 'ROLLBACK'): Promise<unknown[]> => {
    const inventories = [deviceInventory(), workloadInventory()];
    const remember = await withClient(database, async (client) => {
      await client.query('BEGIN');
      const after = [];
      for (const inventory of inventories) after.push(await inventory(client as Parameters<typeof inventory>[0], records));
      await client.query(end);
      return after;
    });
    for (const after of remember) after?.();
    return inventories;
  };
  // A first pass, rolled back, loads and compiles the whole path, so the heap measured next is the
  // inventory's alone. A second one of a few records follows: after the first alone, its 10,000
  // GPUs were still live when the measure began and gone when it ended (10–19 bytes a GPU).
  const warmUp = await load();
  await writeInventories(warmUp, 'ROLLBACK');
  await writeInventories(warmUp.slice(0, 8), 'ROLLBACK');
  warmUp.length = 0;
  gc();
  const before = process.memoryUsage().heapUsed;
  let records: Array<Record<string, unknown>> | undefined = await load();
  const gpus = new Set(records.map((r) => r.gpu_uuid)).size;
  const inventories = await writeInventories(records, 'COMMIT');
  records = undefined;
  gc();
  const bytes = process.memoryUsage().heapUsed - before;
  // Read after the collection, so that the inventories (their remembered rows) are still live during it.
  return inventories.length > 0 ? Math.round(bytes / gpus) : 0;
}

/**
 * The sink against the fastest load PostgreSQL allows: the same simulated samples COPYed straight
 * into an empty gpu_samples, then consumed by the sink from Kafka into an empty gpu_samples, in a
 * scratch database of its own.
 */
export async function runSinkBench(): Promise<Record<string, unknown>> {
  const prefix = `bench-${randomBytes(3).toString('hex')}.`;
  const scratch = scratchDatabase('bench');
  const database = scratch.settings;
  // Yesterday, so no record is older than the retention the sink honours.
  const start = new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000 - 86_400_000).toISOString();
  const input = {
    ...loadConfig(pipelineOptions, { topicPrefix: prefix }),
    ...loadConfig(simulatorOptions, { hosts: String(HOSTS), gpusPerHost: '8', clock: 'simulated', start, ticks: String(TICKS) }),
  };
  await provisionTopics(input);
  const { sent: rows } = await runSimulator(input, createLogger('bench-input'), new AbortController().signal);
  console.log(`${rows} samples on ${topicName('samples', prefix)}; scratch database ${scratch.name}`);
  await scratch.create();
  try {
    await migrate(database, createLogger('bench-migrate'));
    const codec = new TopicCodec(createRegistryClient(input), 'samples', prefix);
    await codec.register();
    const copy = await copyCeiling(database, await readAll(input, codec, rows));
    const inventoryBytes = await inventoryBytesPerGpu(database, () => readAll(input, codec, rows));
    console.log(`inventory: ${inventoryBytes} heap bytes a GPU remembered between batches`);
    await withClient(database, (c) => c.query('TRUNCATE gpu_samples, gpu_devices, gpu_device_configs, gpu_workloads'));
    const sink = await sinkRate({ ...input, ...database }, scratch.name, rows);
    const ratio = Math.round((sink.perS / copy) * 100) / 100;
    const cpu = { sink_cpu_us_per_row: sink.sinkCpuUs, postgres_cpu_us_per_row: sink.postgresCpuUs };
    table([{ rows, copy_rows_per_s: copy, sink_rows_per_s: sink.perS, ratio, target: TARGET_RATIO, ...cpu, peak_rss_mb: sink.rssMb, inventory_bytes_per_gpu: inventoryBytes }]);
    return { sink_rows_per_s: sink.perS, copy_rows_per_s: copy, ratio, target_ratio: TARGET_RATIO, ...cpu, peak_rss_mb: sink.rssMb, inventory_bytes_per_gpu: inventoryBytes, rows };
  } finally {
    await scratch.drop();
    await removeTopics(createKafka(input, 'bench'), createRegistryClient(input), prefix);
  }
}
