import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig, type ConfigSpec } from '@gpumon/runtime/config';
import { createKafka } from '@gpumon/runtime/kafka';
import { createLogger } from '@gpumon/runtime/log';
import { pipelineOptions } from '@gpumon/runtime/pipeline';
import { processorOptions, runProcessor, type EnrichedStream, type ProcessorDefinition } from '@gpumon/runtime/processor';
import { createRegistryClient } from '@gpumon/runtime/registry';
import { removeTopics } from '@gpumon/runtime/remove-topics';
import { topicName } from '@gpumon/schemas/topics';
import { detectAnomaliesProcessor } from '@gpumon/detect-anomalies/processor';
import { predictFailureProcessor } from '@gpumon/predict-failure/processor';
import { priceUsageProcessor } from '@gpumon/price-usage/processor';
import { scoreHealthProcessor } from '@gpumon/score-health/processor';
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

/** A processor in a fresh consumer group from the oldest record of `prefix`'s samples, until it has read them all. */
export async function measureThroughBroker(definition: ProcessorDefinition<'samples', EnrichedStream, ConfigSpec>, prefix: string, records: number): Promise<{ per_s: number; outputs: number }> {
  const settings = {
    ...loadConfig(pipelineOptions, { topicPrefix: prefix }),
    // No metrics endpoint: the bench runs processors side by side in one process.
    ...loadConfig(processorOptions, { groupId: `bench-${definition.name}-${randomBytes(3).toString('hex')}`, metricsPort: '0' }),
    ...loadConfig(definition.options),
  };
  const running = await runProcessor(definition, settings, createLogger(`bench-${definition.name}`));
  // From the first record read to the last one committed, its outputs acknowledged by the broker.
  let started: number | undefined;
  while (running.committed() < records) {
    if (started === undefined && running.counters.snapshot().received > 0) started = performance.now();
    await sleep(10);
  }
  const seconds = (performance.now() - (started ?? performance.now())) / 1000;
  const { sent } = running.counters.snapshot();
  await running.stop();
  return { per_s: Math.round(records / Math.max(seconds, 0.001)), outputs: sent };
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

export async function runProcessorsBench(): Promise<Record<string, unknown>> {
  const { prefix, records, remove } = await benchInput();
  const definitions = [baseline, scoreHealthProcessor, detectAnomaliesProcessor, priceUsageProcessor, predictFailureProcessor] as unknown as Array<ProcessorDefinition<'samples', EnrichedStream, ConfigSpec>>;
  const rows = [];
  for (const definition of definitions) rows.push({ processor: definition.name, ...(await measureThroughBroker(definition, prefix, records)) });
  const base = rows[0]!.per_s;
  table(rows.map((r) => ({ ...r, of_baseline: Math.round((r.per_s / base) * 100) / 100, target: TARGET_PER_S, of_target: Math.round((r.per_s / TARGET_PER_S) * 100) / 100 })));
  await remove();
  return { records, target_per_s: TARGET_PER_S, processors: rows };
}
