import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import avro from 'avsc';
import type pg from 'pg';
import { PROCESSOR_LAYOUTS, consumerStages, type ProcessorLayout } from '@gpumon/cli/components';
import { migrate } from '@gpumon/migrations/migrate';
import { scratchDatabase } from '@gpumon/migrations/scratch-database';
import { loadConfig, parse } from '@gpumon/runtime/config';
import { createPool } from '@gpumon/runtime/database';
import { createKafka } from '@gpumon/runtime/kafka';
import { createLogger } from '@gpumon/runtime/log';
import { pipelineOptions, type PipelineSettings } from '@gpumon/runtime/pipeline';
import { createRegistryClient } from '@gpumon/runtime/registry';
import { removeTopics } from '@gpumon/runtime/remove-topics';
import { schemaOf } from '@gpumon/schemas/avro';
import { TABLE_NAMES } from '@gpumon/sink-timescaledb/tables';
import { SimulatedFleet } from '@gpumon/simulator/fleet';
import { simulatorOptions } from '@gpumon/simulator/options';
import { runSimulator } from '@gpumon/simulator/run';
import { cpuSeconds, stackCpuSeconds, v8HelperCpuSeconds, type CpuPart } from './e2e/cpu.js';
import { measureKafkaCeiling } from './e2e/kafka-ceiling.js';
import { addIngestClock, completeSamples, stepLatency, type StepLatency } from './e2e/latency.js';
import { latencySvg, svgToPng } from './e2e/plot.js';
import { assertRunning, peakRssMb, startStage, stopStages, type Stage } from './e2e/stages.js';
import { describeMachine } from './machine.js';
import { copyCeiling } from './sink.js';
import { table } from './measure.js';

/** Seconds of load per step of the search by default; each latency run takes 1.5 times as long. */
const STEP_TICKS = 20;
/** A step is sustained when every sample is fully written and the p99 stays under this. */
const SUSTAINED_P99_MS = 2000;
/** How long a step's last samples may take to be fully written before it counts as not sustained. */
const DRAIN_MS = 10_000;
const FIRST_RATE = 500;
const MAX_RATE = 32_000;
const BISECTIONS = 2;
const TARGETS = { samples_per_s: 10_000, p99_ms_at_25pct: 500, peak_rss_mb: 300 };
const TABLES = Object.values(TABLE_NAMES);
const RESULTS = fileURLToPath(new URL('../results/', import.meta.url));

interface Step extends StepLatency {
  rate: number;
  sent: number;
  /** The simulator sent every tick on its wall-clock grid (it was not the bottleneck). */
  on_time: boolean;
  /** From the last tick to the step's last sample fully written (ms); null when it took longer than DRAIN_MS. */
  drained_ms: number | null;
  sustained: boolean;
  /** CPU µs per sample of each process during the step. */
  cpu_us_per_sample: Record<string, number>;
  /** Of that, the part of each Node process's V8 helper threads (mostly garbage collection). */
  v8_helpers_us_per_sample: Record<string, number>;
  /** Of that, the part each process spent in the kernel (system time). */
  kernel_us_per_sample: Record<string, number>;
  /** The scratch database's size at the step's end (MB): PostgreSQL's CPU a sample grows with it. */
  database_mb: number;
}

/** The figures the report leads with. */
interface Headline {
  date: string;
  machine: ReturnType<typeof describeMachine>;
  samples_per_s: number;
  kafka_ceiling_per_s: number;
  kafka_producer_per_s: number;
  kafka_consumer_per_s: number;
  copy_ceiling_rows_per_s: number;
  db_rows_per_s: number;
  rate_25pct: number;
  p50_ms_at_25pct: number;
  p95_ms_at_25pct: number;
  p99_ms_at_25pct: number;
  rate_50pct: number;
  p50_ms_at_50pct: number;
  p95_ms_at_50pct: number;
  p99_ms_at_50pct: number;
}

interface Run {
  settings: PipelineSettings;
  hostPrefix: string;
  client: pg.ClientBase;
  /** The PostgreSQL backend serving `client`: the bench's own queries, not the pipeline's. */
  benchBackend: number;
  stages: Stage[];
}

/**
 * CPU seconds of `part` so far of the pipeline's processes, the stack's, and this process (the
 * simulator). PostgreSQL's leaves out the backend of the bench's own queries (the completion polls
 * while a step drains).
 */
function cpuSnapshot(run: Run, part: CpuPart = 'all'): Record<string, number> {
  const snapshot: Record<string, number> = {};
  for (const stage of run.stages) snapshot[stage.name] = cpuSeconds(stage.child.pid!, false, part);
  const usage = process.cpuUsage();
  snapshot['simulate (bench process)'] = (usage.system + (part === 'all' ? usage.user : 0)) / 1e6;
  const stack = stackCpuSeconds(part);
  return { ...snapshot, ...stack, postgres: stack.postgres - cpuSeconds(run.benchBackend, false, part) };
}

/** CPU seconds so far of the V8 helper threads of the gpumon processes and of this process (the simulator). */
function v8HelperSnapshot(run: Run): Record<string, number> {
  const snapshot: Record<string, number> = {};
  for (const stage of run.stages) snapshot[stage.name] = v8HelperCpuSeconds(stage.child.pid!);
  snapshot['simulate (bench process)'] = v8HelperCpuSeconds('self');
  return snapshot;
}

/** Per name, the µs per sample between two snapshots of CPU seconds. */
function usPerSample(before: Record<string, number>, after: Record<string, number>, sent: number): Record<string, number> {
  return Object.fromEntries(Object.keys(after).map((name) => [name, Math.round(((after[name]! - (before[name] ?? 0)) / sent) * 1e6)]));
}

/** Waits until every sample of [from, to) is fully written; how long that took (null: not within `timeoutMs`). */
async function waitWritten(run: Run, from: Date, to: Date, sent: number, timeoutMs: number): Promise<number | null> {
  const started = Date.now();
  for (;;) {
    assertRunning(run.stages);
    if (await completeSamples(run.client, from, to) >= sent) return Date.now() - started;
    if (Date.now() - started > timeoutMs) return null;
    await sleep(250);
  }
}

/**
 * The scratch database's size and the server's shared_buffers, in MB. PostgreSQL's CPU a sample
 * grows with the data written, inside shared_buffers or past them (docs/benchmarks.md), so a
 * step's figures depend on how much the run had written by then.
 */
async function databaseSizes(client: pg.ClientBase): Promise<{ database_mb: number; shared_buffers_mb: number }> {
  const { rows } = await client.query<{ database_mb: number; shared_buffers_mb: number }>(
    `SELECT (pg_database_size(current_database()) / 1048576)::int AS database_mb,
            (pg_size_bytes(current_setting('shared_buffers')) / 1048576)::int AS shared_buffers_mb`,
  );
  return rows[0]!;
}

/** `rate` samples/s from the wall-clock simulator (rate/8 hosts of 8 GPUs, one reading a second) for `ticks` seconds. */
async function runStep(run: Run, rate: number, ticks: number): Promise<Step> {
  const hosts = Math.max(1, Math.round(rate / 8));
  const settings = {
    ...run.settings,
    ...loadConfig(simulatorOptions, { hosts: String(hosts), gpusPerHost: '8', interval: '1s', ticks: String(ticks), hostPrefix: `${run.hostPrefix}-${rate}` }),
  };
  const cpuBefore = cpuSnapshot(run);
  const kernelBefore = cpuSnapshot(run, 'kernel');
  const helpersBefore = v8HelperSnapshot(run);
  const from = new Date(Date.now() - 1000);
  const started = performance.now();
  const { sent } = await runSimulator(settings, createLogger('bench-simulate'), new AbortController().signal);
  const simulatedS = (performance.now() - started) / 1000;
  const to = new Date(Date.now() + 1);
  const waitedMs = await waitWritten(run, from, to, sent, DRAIN_MS);
  const cpuAfter = cpuSnapshot(run);
  const kernelAfter = cpuSnapshot(run, 'kernel');
  const helpersAfter = v8HelperSnapshot(run);
  // After the CPU snapshot: the percentiles' query is the bench's work, not PostgreSQL's share of the pipeline.
  const latency = await stepLatency(run.client, from, to);
  const { database_mb } = await databaseSizes(run.client);
  const cpu = usPerSample(cpuBefore, cpuAfter, sent);
  const onTime = simulatedS <= ticks + 1.5;
  const step: Step = {
    rate: hosts * 8, sent, on_time: onTime, drained_ms: waitedMs, ...latency,
    sustained: onTime && waitedMs !== null && latency.p99_ms <= SUSTAINED_P99_MS, cpu_us_per_sample: cpu,
    v8_helpers_us_per_sample: usPerSample(helpersBefore, helpersAfter, sent),
    kernel_us_per_sample: usPerSample(kernelBefore, kernelAfter, sent),
    database_mb,
  };
  console.log(`${step.rate} samples/s: sent ${sent}, fully written ${latency.complete}, p50 ${latency.p50_ms} ms, p99 ${latency.p99_ms} ms (first readings ${latency.first_readings_p99_ms}, later ${latency.later_readings_p99_ms}), ` +
    `drained ${waitedMs === null ? `not within ${DRAIN_MS} ms` : `${waitedMs} ms`}${onTime ? '' : ', simulator fell behind'}: ${step.sustained ? 'sustained' : 'NOT sustained'} (database ${database_mb} MB)`);
  // A step that fell behind leaves a backlog: let it clear so it does not weigh on the next one.
  if (waitedMs === null) await waitWritten(run, from, to, sent, 300_000);
  return step;
}

/** Doubles the rate until a step is not sustained, then bisects between the last two. */
async function findSustainedMax(run: Run, stepTicks: number): Promise<{ max: Step | undefined; steps: Step[] }> {
  const steps: Step[] = [];
  let pass: Step | undefined;
  let fail: Step | undefined;
  for (let rate = FIRST_RATE; rate <= MAX_RATE && fail === undefined; rate *= 2) {
    const step = await runStep(run, rate, stepTicks);
    steps.push(step);
    if (step.sustained) pass = step;
    else fail = step;
  }
  for (let i = 0; i < BISECTIONS && fail !== undefined; i++) {
    const rate = Math.round(((pass?.rate ?? 0) + fail.rate) / 2 / 8) * 8;
    if (rate === pass?.rate || rate < 8) break;
    const step = await runStep(run, rate, stepTicks);
    steps.push(step);
    if (step.sustained) pass = step;
    else fail = step;
  }
  return { max: pass, steps };
}

/** Rows the sink wrote per sample over the whole run: the sample, its enrichments, anomalies and alerts. */
async function rowsPerSample(client: pg.ClientBase): Promise<number> {
  const counts = await client.query<{ table: string; n: string }>(
    TABLES.map((t) => `SELECT '${t}' AS table, count(*) AS n FROM ${t}`).join(' UNION ALL '),
  );
  const n = Object.fromEntries(counts.rows.map((row) => [row.table, Number(row.n)]));
  return Object.values(n).reduce((a, b) => a + b, 0) / Math.max(1, n.gpu_samples ?? 0);
}

/** Mean size of one sample on the topic: Avro body plus the registry's 5-byte framing. */
function sampleRecords(): { records: Array<Record<string, unknown>>; bytes: number } {
  const fleet = new SimulatedFleet({ hosts: 1250, gpusPerHost: 8, seed: 7, hostPrefix: 'bench-e2e-copy' });
  const type = avro.Type.forSchema(schemaOf('samples') as avro.Schema);
  const records = [0, 1, 2, 3].flatMap((k) => fleet.sample(Date.now() - 3_600_000 + k * 10_000)) as unknown as Array<Record<string, unknown>>;
  const bytes = records.reduce((sum, r) => sum + type.toBuffer(r).length, 0) / records.length + 5;
  return { records, bytes: Math.round(bytes) };
}

/** A process's CPU µs per sample at the maximum, and the parts of it the report shows beside it. */
interface CpuAtMax {
  cpu: Record<string, number>;
  helpers: Record<string, number>;
  kernel: Record<string, number>;
}

function markdown(r: Headline, steps: Step[], quarter: Step, half: Step, rss: Record<string, number>, { cpu, helpers, kernel }: CpuAtMax, stepTicks: number): string {
  const ratio = (a: number, b: number): string => (b > 0 ? (a / b).toFixed(2) : '–');
  const lines = [
    `# End-to-end benchmark (${r.date}), processors ${String((r as ModeResult).processors)}`,
    '',
    `Machine: ${JSON.stringify(r.machine)}. Broker, registry, PostgreSQL, the simulator and every gpumon process share it.`,
    '',
    '| measure | pipeline | ceiling | ratio | target |',
    '| --- | ---: | ---: | ---: | ---: |',
    `| sustained samples/s, every enrichment written | ${r.samples_per_s} | Kafka ${r.kafka_ceiling_per_s} (perf tools: produce ${r.kafka_producer_per_s}, consume ${r.kafka_consumer_per_s}) | ${ratio(r.samples_per_s, r.kafka_ceiling_per_s)} | ${TARGETS.samples_per_s} |`,
    `| rows/s into TimescaleDB at that rate | ${r.db_rows_per_s} | COPY ${r.copy_ceiling_rows_per_s} | ${ratio(r.db_rows_per_s, r.copy_ceiling_rows_per_s)} | |`,
    `| latency at 25 % (${r.rate_25pct}/s): p50 / p95 / p99 ms | ${r.p50_ms_at_25pct} / ${r.p95_ms_at_25pct} / ${r.p99_ms_at_25pct} | | | p99 ≤ ${TARGETS.p99_ms_at_25pct} |`,
    `| latency at 50 % (${r.rate_50pct}/s): p50 / p95 / p99 ms | ${r.p50_ms_at_50pct} / ${r.p95_ms_at_50pct} / ${r.p99_ms_at_50pct} | | | |`,
    `| peak resident memory, largest process | ${Math.max(...Object.values(rss))} MB | | | < ${TARGETS.peak_rss_mb} MB |`,
    '',
    `Search for the sustained maximum (each step ${stepTicks} s of load; sustained: every sample fully written within 10 s of the last reading, p99 ≤ 2 s), then the 25 % and 50 % steps. A step's fleet is new to the pipeline: its first readings also create each GPU's inventory rows.`,
    '',
    `The database's size is at each step's end (shared_buffers: ${String((r as ModeResult).shared_buffers_mb)} MB); PostgreSQL's CPU a sample grows with it.`,
    '',
    '| samples/s | sent | fully written | p50 ms | p95 ms | p99 ms | p99 ms, first / later readings | drained ms | sustained | database MB |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |',
    ...[...steps, quarter, half].map((s) => `| ${s.rate} | ${s.sent} | ${s.complete} | ${s.p50_ms} | ${s.p95_ms} | ${s.p99_ms} | ${s.first_readings_p99_ms} / ${s.later_readings_p99_ms} | ${s.drained_ms ?? '>10,000'} | ${s.sustained ? 'yes' : 'no'} | ${s.database_mb} |`),
    '',
    `CPU per sample at the sustained maximum (µs; ${Object.values(cpu).reduce((a, b) => a + b, 0)} µs in all):`,
    '',
    '| process | µs/sample | of which V8 helper threads (mostly garbage collection) | of which in the kernel |',
    '| --- | ---: | ---: | ---: |',
    ...Object.entries(cpu).sort((a, b) => b[1] - a[1]).map(([name, us]) => `| ${name} | ${us} | ${helpers[name] ?? ''} | ${kernel[name] ?? ''} |`),
    '',
    'Peak resident memory (VmHWM) over the whole run:',
    '',
    '| process | MB |',
    '| --- | ---: |',
    ...Object.entries(rss).map(([name, mb]) => `| ${name} | ${mb} |`),
    '',
  ];
  return lines.join('\n');
}

/** The figures of one layout of the processors. */
type ModeResult = Headline & Record<string, unknown>;

interface Ceilings {
  kafka: { producer_per_s: number; consumer_per_s: number };
  copy: number;
  bytes: number;
}

/**
 * One layout of the processors, from scratch: its own topics, consumer groups and scratch
 * database, the search for the sustained maximum, then the latency at 25 % and 50 % of it.
 */
async function runMode(id: string, layout: ProcessorLayout, ceilings: Ceilings, stepTicks: number): Promise<ModeResult> {
  const prefix = `bench-e2e-${id}-${layout}.`;
  const settings = loadConfig(pipelineOptions, { topicPrefix: prefix });
  const scratch = scratchDatabase('bench');
  await scratch.create();
  const pool = createPool(scratch.settings, 1);
  const stages: Stage[] = [];
  try {
    await migrate(scratch.settings, createLogger('bench-migrate'));
    const client = await pool.connect();
    try {
      await addIngestClock(client);
      // In this backend alone, whose CPU the snapshots leave out: parallel workers would count as the pipeline's.
      await client.query('SET max_parallel_workers_per_gather = 0');
      const benchBackend = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      const env = { GPUMON_TOPIC_PREFIX: prefix, DATABASE_URL: scratch.settings.databaseUrl };
      const topics = startStage('topics', ['topics'], env);
      if ((await topics.exited) !== 0) throw new Error(`gpumon topics failed:\n${topics.output()}`);
      for (const stage of consumerStages(layout)) stages.push(startStage(stage.name, [...stage.args, '--group', `bench-e2e-${id}-${stage.name}`], env));
      const run: Run = { settings, hostPrefix: `bench-e2e-${id}`, client, benchBackend, stages };
      // Every process joined its group and warm: a small load, fully written.
      console.log(`${layout}: warming up`);
      await runStep(run, 200, 10);

      const { max, steps } = await findSustainedMax(run, stepTicks);
      const rate = max?.rate ?? 0;
      const latencyTicks = Math.round(stepTicks * 1.5);
      const quarter = await runStep(run, Math.max(8, rate / 4), latencyTicks);
      const half = await runStep(run, Math.max(8, rate / 2), latencyTicks);
      const rss = Object.fromEntries(stages.map((s) => [s.name, peakRssMb(s.child.pid!)]));
      const cpu = max?.cpu_us_per_sample ?? {};
      const helpers = max?.v8_helpers_us_per_sample ?? {};
      const kernel = max?.kernel_us_per_sample ?? {};
      const dbRowsPerSample = await rowsPerSample(client);
      const { shared_buffers_mb } = await databaseSizes(client);
      const result: ModeResult = {
        date: new Date().toISOString(),
        machine: describeMachine(),
        processors: layout,
        samples_per_s: rate,
        kafka_ceiling_per_s: Math.min(ceilings.kafka.producer_per_s, ceilings.kafka.consumer_per_s),
        kafka_producer_per_s: ceilings.kafka.producer_per_s,
        kafka_consumer_per_s: ceilings.kafka.consumer_per_s,
        record_bytes: ceilings.bytes,
        copy_ceiling_rows_per_s: ceilings.copy,
        db_rows_per_s: Math.round(rate * dbRowsPerSample),
        rate_25pct: quarter.rate, p50_ms_at_25pct: quarter.p50_ms, p95_ms_at_25pct: quarter.p95_ms, p99_ms_at_25pct: quarter.p99_ms,
        rate_50pct: half.rate, p50_ms_at_50pct: half.p50_ms, p95_ms_at_50pct: half.p95_ms, p99_ms_at_50pct: half.p99_ms,
        peak_rss_mb: rss,
        cpu_us_per_sample_at_max: cpu,
        v8_helpers_us_per_sample_at_max: helpers,
        kernel_us_per_sample_at_max: kernel,
        cpu_us_per_sample_total: Object.values(cpu).reduce((a, b) => a + b, 0),
        shared_buffers_mb,
        targets: TARGETS,
        // The CDFs are in the plot; the JSON keeps each step's figures.
        steps: [...steps, quarter, half].map((step) => ({ ...step, cdf_ms: undefined })),
      };

      const dir = `${RESULTS}e2e-${result.date.replace(/[:.]/g, '-')}-${layout}`;
      mkdirSync(dir, { recursive: true });
      const svg = latencySvg(`gpumon end to end, processors ${layout}: sample time to its last row (${result.machine.cpus} CPUs)`, [
        { label: `25 % load, ${quarter.rate} samples/s`, color: '#1f77b4', cdfMs: quarter.cdf_ms },
        { label: `50 % load, ${half.rate} samples/s`, color: '#d62728', cdfMs: half.cdf_ms },
      ]);
      writeFileSync(`${dir}/latency.svg`, svg);
      writeFileSync(`${dir}/latency.png`, svgToPng(svg));
      writeFileSync(`${dir}/result.json`, `${JSON.stringify(result, null, 2)}\n`);
      writeFileSync(`${dir}/result.md`, markdown(result, steps, quarter, half, rss, { cpu, helpers, kernel }, stepTicks));
      console.log(`${layout}: wrote ${dir}/result.json, result.md, latency.png`);
      return result;
    } finally {
      client.release();
    }
  } finally {
    await stopStages(stages);
    await pool.end();
    await scratch.drop();
    await removeTopics(createKafka(settings, 'bench-e2e'), createRegistryClient(settings), prefix);
  }
}

/** Kafka's own ceiling with records the size of a sample, and COPY's into an empty `gpu_samples`. */
async function measureCeilings(id: string): Promise<Ceilings> {
  const prefix = `bench-e2e-${id}.`;
  const settings = loadConfig(pipelineOptions, { topicPrefix: prefix });
  const scratch = scratchDatabase('bench');
  const kafka = createKafka(settings, 'bench-e2e');
  const admin = kafka.admin();
  await scratch.create();
  try {
    await migrate(scratch.settings, createLogger('bench-migrate'));
    const { records, bytes } = sampleRecords();
    const copy = await copyCeiling(scratch.settings, records);
    console.log(`COPY ceiling: ${copy} rows/s (${records.length} samples into gpu_samples)`);
    await admin.connect();
    const perfTopic = `${prefix}perf`;
    await admin.createTopics({ topics: [{ topic: perfTopic, numPartitions: settings.topicPartitions, replicationFactor: settings.topicReplicationFactor }], waitForLeaders: true });
    const kafkaCeiling = measureKafkaCeiling(settings.kafkaBrokers.join(','), perfTopic, 500_000, bytes);
    console.log(`Kafka ceiling (${bytes}-byte records): produce ${kafkaCeiling.producer_per_s}/s, consume ${kafkaCeiling.consumer_per_s}/s`);
    return { kafka: kafkaCeiling, copy, bytes };
  } finally {
    await admin.disconnect();
    await scratch.drop();
    await removeTopics(kafka, createRegistryClient(settings), prefix);
  }
}

/**
 * The whole pipeline on this machine: Kafka's and COPY's own ceilings, then for each layout of the
 * processors (`--modes co-located,split`; co-located by default) the highest sample rate that the
 * processors and the sink carry with every enrichment written, the latency from a sample's time to
 * its last row at 25 % and 50 % of that rate, CPU per sample of every process, and each process's
 * peak memory. `--step-seconds` (default 20) shortens or lengthens each step of load.
 */
export async function runE2eBench(args: string[]): Promise<Record<string, unknown>> {
  const { values } = parseArgs({ args, options: { modes: { type: 'string', default: 'co-located' }, 'step-seconds': { type: 'string', default: String(STEP_TICKS) }, json: { type: 'string' } } });
  const { modes, stepSeconds } = loadConfig({
    modes: { env: 'GPUMON_BENCH_MODES', flag: 'modes', example: 'co-located,split', description: 'Layouts of the processors to measure, in order.', schema: parse.someOf(PROCESSOR_LAYOUTS) },
    stepSeconds: { env: 'GPUMON_BENCH_STEP_SECONDS', flag: 'step-seconds', example: '10', description: 'Seconds of load per step of the search.', schema: parse.int(5, 600) },
  }, { modes: values.modes, stepSeconds: values['step-seconds'] });
  const id = randomBytes(3).toString('hex');
  const ceilings = await measureCeilings(id);
  const results: Partial<Record<ProcessorLayout, ModeResult>> = {};
  for (const mode of modes) results[mode] = await runMode(id, mode, ceilings, stepSeconds);
  const figures = modes.map((mode) => results[mode]!);
  table(figures.map((r) => ({
    processors: r.processors as string, samples_per_s: r.samples_per_s, kafka_ceiling_per_s: r.kafka_ceiling_per_s,
    db_rows_per_s: r.db_rows_per_s, copy_ceiling_rows_per_s: r.copy_ceiling_rows_per_s,
    p99_ms_at_25pct: r.p99_ms_at_25pct, p99_ms_at_50pct: r.p99_ms_at_50pct,
    max_rss_mb: Math.max(...Object.values(r.peak_rss_mb as Record<string, number>)), cpu_us_per_sample: r.cpu_us_per_sample_total as number,
  })));
  // Per process, a column per mode: CPU µs per sample at that mode's maximum, its V8 helper threads' part, its kernel part, and peak memory.
  const processes = [...new Set(figures.flatMap((r) => [...Object.keys(r.cpu_us_per_sample_at_max as object), ...Object.keys(r.peak_rss_mb as object)]))];
  table(processes.map((process) => Object.fromEntries([['process', process], ...figures.flatMap((r) => [
    [`${r.processors as string} cpu_us_per_sample`, (r.cpu_us_per_sample_at_max as Record<string, number>)[process] ?? ''],
    [`${r.processors as string} v8_helpers_us`, (r.v8_helpers_us_per_sample_at_max as Record<string, number>)[process] ?? ''],
    [`${r.processors as string} kernel_us`, (r.kernel_us_per_sample_at_max as Record<string, number>)[process] ?? ''],
    [`${r.processors as string} peak_rss_mb`, (r.peak_rss_mb as Record<string, number>)[process] ?? ''],
  ])])));
  // The first mode's figures lead (as before --modes), every mode's under `modes`.
  return { ...figures[0]!, modes: results };
}
