import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FeatureEngine } from '@gpumon/features/engine';
import { parseNvidiaSmiXml } from '@gpumon/nvidia-smi/parse';
import { TopicCodec } from '@gpumon/runtime/avro-codec';
import { loadConfig } from '@gpumon/runtime/config';
import { createKafka, keyPartitioner, type KafkaSettings } from '@gpumon/runtime/kafka';
import { createLogger } from '@gpumon/runtime/log';
import { pipelineOptions } from '@gpumon/runtime/pipeline';
import { createRegistryClient } from '@gpumon/runtime/registry';
import { removeTopics } from '@gpumon/runtime/remove-topics';
import { topicName } from '@gpumon/schemas/topics';
import { simulatorOptions } from '@gpumon/simulator/options';
import { runSimulator } from '@gpumon/simulator/run';
import { cpuMicrosPerRun, table } from './measure.js';
import { provisionTopics } from './topics.js';

const FIXTURES = fileURLToPath(new URL('../../producers/nvidia-smi/testdata/captured/', import.meta.url));
const SIMULATOR_TARGET_PER_S = 50_000;
const SIMULATED_TICKS = 60;
/** Bytes of an encoded simulated sample with its features and attribution (the mean of 120,000 of them, measured), for the ceiling run. */
const SAMPLE_BYTES = 1272;

/** Agent CPU per GPU sample on the real captures: parsing alone, and the whole round (parse, features, Avro). */
async function agentCost(): Promise<Record<string, unknown>> {
  const registry = createRegistryClient(loadConfig(pipelineOptions));
  const prefix = `bench-${randomBytes(3).toString('hex')}.`;
  const codec = new TopicCodec(registry, 'samples', prefix);
  await codec.register();
  const rows: Array<{ fixture: string; gpus: number; kib: number; parse_us_per_gpu: number; round_us_per_gpu: number }> = [];
  for (const file of readdirSync(FIXTURES).filter((f) => f.endsWith('.xml')).sort()) {
    const xml = readFileSync(`${FIXTURES}${file}`, 'utf8');
    const gpus = parseNvidiaSmiXml(xml, { hostname: 'bench', time: 0 }).samples.length;
    const parse = cpuMicrosPerRun(() => parseNvidiaSmiXml(xml, { hostname: 'bench', time: 0 }), 500);
    const engine = new FeatureEngine();
    let time = 0;
    const round = cpuMicrosPerRun(() => {
      time += 10_000;
      for (const sample of parseNvidiaSmiXml(xml, { hostname: 'bench', time }).samples) codec.encode({ ...sample, features: engine.update(sample) });
    }, 500);
    rows.push({ fixture: file, gpus, kib: Math.round(xml.length / 1024), parse_us_per_gpu: Math.round(parse.micros / gpus), round_us_per_gpu: Math.round(round.micros / gpus) });
  }
  await registry.deleteSubject(codec.subject, false).catch(() => undefined);
  await registry.deleteSubject(codec.subject, true).catch(() => undefined);
  table(rows);
  const mean = (key: 'parse_us_per_gpu' | 'round_us_per_gpu') => Math.round(rows.reduce((s, r) => s + r[key], 0) / rows.length);
  return { fixtures: rows, parse_us_per_gpu_mean: mean('parse_us_per_gpu'), round_us_per_gpu_mean: mean('round_us_per_gpu') };
}

/**
 * The simulator's sustained rate into the real broker: simulated clock, no pacing, every record
 * acknowledged. SIMULATED_TICKS of 10,000 GPUs: the ~1 s a run spends before its first record
 * (loading the worker, building the fleet, the first tick's compilation) is a ninth of the run, not
 * the third it was of 12 ticks.
 */
async function simulatorRate(): Promise<Record<string, unknown>> {
  const prefix = `bench-${randomBytes(3).toString('hex')}.`;
  const settings = {
    ...loadConfig(pipelineOptions, { topicPrefix: prefix }),
    ...loadConfig(simulatorOptions, { hosts: '1250', gpusPerHost: '8', clock: 'simulated', start: '2026-01-01T00:00:00Z', ticks: String(SIMULATED_TICKS) }),
  };
  await provisionTopics(settings);
  const started = performance.now();
  const cpuStart = process.cpuUsage();
  const { sent } = await runSimulator(settings, createLogger('bench-simulator'), new AbortController().signal);
  const seconds = (performance.now() - started) / 1000;
  const cpuUs = cpuMicrosPerSample(cpuStart, sent);
  const perSecond = Math.round(sent / seconds);
  const ceiling = await producerCeiling(settings, topicName('samples', prefix), sent);
  await removeTopics(createKafka(settings, 'bench'), createRegistryClient(settings), prefix, ['samples', 'dlq']);
  const ratio = (x: number) => Math.round(x * 100) / 100;
  table([{
    samples: sent, seconds: ratio(seconds), samples_per_s: perSecond, cpu_us_per_sample: cpuUs,
    kafkajs_ceiling_per_s: ceiling.perSecond, ceiling_cpu_us_per_sample: ceiling.cpuUs, of_ceiling: ratio(perSecond / ceiling.perSecond), target: SIMULATOR_TARGET_PER_S, of_target: ratio(perSecond / SIMULATOR_TARGET_PER_S),
  }]);
  return {
    simulator_samples: sent, simulator_seconds: seconds, simulator_samples_per_s: perSecond, simulator_cpu_us_per_sample: cpuUs,
    kafkajs_ceiling_per_s: ceiling.perSecond, kafkajs_ceiling_cpu_us_per_sample: ceiling.cpuUs, simulator_target_per_s: SIMULATOR_TARGET_PER_S,
  };
}

/**
 * What the same producer settings get through the same broker with nothing to compute: records
 * of the simulator's size, already encoded. The simulator cannot beat it.
 */
async function producerCeiling(settings: KafkaSettings, topic: string, count: number): Promise<{ perSecond: number; cpuUs: number }> {
  const producer = createKafka(settings, 'bench-ceiling').producer({ createPartitioner: keyPartitioner });
  await producer.connect();
  const value = Buffer.alloc(SAMPLE_BYTES, 7);
  const messages = Array.from({ length: count }, (_, i) => ({ key: `GPU-${String(i % 10_000).padStart(8, '0')}-0000-0000-0000-000000000000`, value }));
  const started = performance.now();
  const cpuStart = process.cpuUsage();
  const inFlight = new Set<Promise<unknown>>();
  for (let i = 0; i < messages.length; i += 2000) {
    while (inFlight.size >= 4) await Promise.race(inFlight);
    const request: Promise<unknown> = producer.send({ topic, acks: -1, messages: messages.slice(i, i + 2000) }).finally(() => inFlight.delete(request));
    inFlight.add(request);
  }
  await Promise.all(inFlight);
  const perSecond = Math.round(count / ((performance.now() - started) / 1000));
  const cpuUs = cpuMicrosPerSample(cpuStart, count);
  await producer.disconnect();
  return { perSecond, cpuUs };
}

/** This process's CPU (user + system, every thread) since `start`, per sample, in µs. */
function cpuMicrosPerSample(start: NodeJS.CpuUsage, samples: number): number {
  const used = process.cpuUsage(start);
  return Math.round(((used.user + used.system) / samples) * 10) / 10;
}

export async function runProducersBench(): Promise<Record<string, unknown>> {
  console.log('Agent: CPU per GPU sample on the nvidia-smi captures');
  const agent = await agentCost();
  console.log(`Simulator: 10,000 GPUs x ${SIMULATED_TICKS} ticks into Kafka, as fast as acknowledged`);
  const simulator = await simulatorRate();
  return { agent, simulator };
}
