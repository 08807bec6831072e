import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { PROCESSOR_DEFINITIONS } from '@gpumon/cli/components';
import { loadConfig, type ConfigSpec } from '@gpumon/runtime/config';
import { createKafka } from '@gpumon/runtime/kafka';
import { createLogger } from '@gpumon/runtime/log';
import { pipelineOptions } from '@gpumon/runtime/pipeline';
import { COLOCATED_COMPONENT, processorOptions, runProcessors, type EnrichedStream, type ProcessorDefinition } from '@gpumon/runtime/processor';
import { createRegistryClient } from '@gpumon/runtime/registry';
import { removeTopics } from '@gpumon/runtime/remove-topics';
import { topicName } from '@gpumon/schemas/topics';
import { simulatorOptions } from '@gpumon/simulator/options';
import { runSimulator } from '@gpumon/simulator/run';
import { table } from './measure.js';
import { provisionTopics } from './topics.js';

const TARGET_PER_S = 20_000;
const HOSTS = 500;
const TICKS = 8;

/** The runtime alone: decode, one constant output encoded and produced, commit. */
const baseline: ProcessorDefinition<'samples', 'health', Record<string, never>> = {
  name: 'baseline',
  description: 'constant verdict: the runtime\'s own cost',
  input: 'samples',
  outputs: ['health'],
  options: {},
  create: () => (sample) => [{
    stream: 'health',
    record: {
      time: sample.time, gpu_uuid: sample.gpu_uuid, hostname: sample.hostname, score: 100, verdict: 'PASS',
      thermal_power: 'PASS', memory: 'PASS', pcie: 'PASS', nvlink: 'PASS', driver: 'PASS', reasons: [],
    },
  }],
};

/** What the bench measures: one processor alone, or several co-located on one consumer (`gpumon process all`). */
export interface BenchedProcessors {
  name: string;
  definitions: ReadonlyArray<ProcessorDefinition<'samples', EnrichedStream, ConfigSpec>>;
}

/**
 * Processors in a fresh consumer group from the oldest record of `prefix`'s samples, until they have
 * read them all: records/s, and the CPU (user + system) of this process per record over that time,
 * the steadier figure on a shared machine.
 */
export async function measureThroughBroker({ name, definitions }: BenchedProcessors, prefix: string, records: number): Promise<{ per_s: number; cpu_us_per_sample: number; outputs: number }> {
  const own = Object.assign({}, ...definitions.map((d) => d.options)) as ConfigSpec;
  const settings = {
    ...loadConfig(pipelineOptions, { topicPrefix: prefix }),
    // No metrics endpoint: the bench runs processors side by side in one process.
    ...loadConfig(processorOptions, { groupId: `bench-${name}-${randomBytes(3).toString('hex')}`, metricsPort: '0' }),
    ...loadConfig(own),
  };
  const component = definitions.length === 1 ? definitions[0]!.name : COLOCATED_COMPONENT;
  const running = await runProcessors(component, definitions, settings, createLogger(`bench-${name}`));
  // From the first record read to the last one committed, its outputs acknowledged by the broker.
  let started: { at: number; cpu: NodeJS.CpuUsage } | undefined;
  while (running.committed() < records) {
    if (started === undefined && running.counters.snapshot().received > 0) started = { at: performance.now(), cpu: process.cpuUsage() };
    await sleep(10);
  }
  const seconds = (performance.now() - (started?.at ?? performance.now())) / 1000;
  const cpu = process.cpuUsage(started?.cpu);
  const { sent } = running.counters.snapshot();
  await running.stop();
  return { per_s: Math.round(records / Math.max(seconds, 0.001)), cpu_us_per_sample: Math.round((cpu.user + cpu.system) / records), outputs: sent };
}

/** Simulated samples on a fresh topic prefix, for processors to read; `remove` drops the topics and subjects. */
export async function benchInput(): Promise<{ prefix: string; records: number; remove: () => Promise<void> }> {
  const prefix = `bench-${randomBytes(3).toString('hex')}.`;
  const input = { ...loadConfig(pipelineOptions, { topicPrefix: prefix }), ...loadConfig(simulatorOptions, { hosts: String(HOSTS), clock: 'simulated', start: '2026-01-01T00:00:00Z', ticks: String(TICKS), faultRateScale: '50' }) };
  await provisionTopics(input);
  const { sent: records } = await runSimulator(input, createLogger('bench-input'), new AbortController().signal);
  console.log(`${records} samples on ${topicName('samples', prefix)}; each processor reads them all through the broker`);
  return { prefix, records, remove: () => removeTopics(createKafka(input, 'bench'), createRegistryClient(input), prefix) };
}

const ALL = 'all';

/** `--only baseline,all`: measure just those (`all`: every processor co-located on one consumer); the baseline always runs first. */
export async function runProcessorsBench(args: string[]): Promise<Record<string, unknown>> {
  const { values } = parseArgs({ args, options: { only: { type: 'string' }, json: { type: 'string' } } });
  const candidates: BenchedProcessors[] = [
    ...PROCESSOR_DEFINITIONS.map((d) => ({ name: d.name, definitions: [d] })),
    { name: ALL, definitions: PROCESSOR_DEFINITIONS },
  ];
  const only = values.only?.split(',');
  const unknown = only?.filter((name) => !candidates.some((c) => c.name === name) && name !== baseline.name) ?? [];
  if (unknown.length > 0) throw new Error(`--only: no processors named ${unknown.join(', ')} (choose from ${[baseline.name, ...candidates.map((c) => c.name)].join(', ')})`);
  const measured: BenchedProcessors[] = [
    { name: baseline.name, definitions: [baseline as unknown as ProcessorDefinition<'samples', EnrichedStream, ConfigSpec>] },
    ...candidates.filter((c) => only?.includes(c.name) ?? true),
  ];
  const { prefix, records, remove } = await benchInput();
  const rows = [];
  for (const processors of measured) rows.push({ processor: processors.name, ...(await measureThroughBroker(processors, prefix, records)) });
  const base = rows[0]!.per_s;
  table(rows.map((r) => ({ ...r, of_baseline: Math.round((r.per_s / base) * 100) / 100, target: TARGET_PER_S, of_target: Math.round((r.per_s / TARGET_PER_S) * 100) / 100 })));
  await remove();
  return { records, target_per_s: TARGET_PER_S, processors: rows };
}
