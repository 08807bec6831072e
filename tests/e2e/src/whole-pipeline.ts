import { fileURLToPath } from 'node:url';
import { CONSUMER_STAGES, PROCESSOR_DEFINITIONS as PROCESSORS, PROCESSOR_LAYOUTS, processorStages } from '@gpumon/cli/components';
import { loadConfig, parse } from '@gpumon/runtime/config';
import { createBatchTransform } from '@gpumon/runtime/processor';
import type { GpuSample } from '@gpumon/schemas/types.generated';
import type { Stream } from '@gpumon/schemas/topics';
import { SimulatedFleet } from '@gpumon/simulator/fleet';
import { loadScenario } from '@gpumon/simulator/scenario';
import { startCli, type CliProcess } from './cli-process.js';

const SCENARIO = fileURLToPath(new URL('../../../producers/simulator/scenarios/every-fault.yaml', import.meta.url));

/** What every stage of a run gets: its own topic prefix, plus any service addresses of its own (a private broker or database). */
export type RunEnv = { GPUMON_TOPIC_PREFIX: string } & Record<string, string>;

/**
 * One run of the whole pipeline on a small fleet going through one fault of each kind: its own
 * topic prefix and host names, so it shares the stack with anything else running.
 */
export interface PipelineRun {
  env: RunEnv;
  hostPrefix: string;
  seed: number;
  start: number;
  intervalMs: number;
  ticks: number;
  /** Samples per second the simulator sends at most, to spread the run over wall-clock time (default: as fast as Kafka takes them). */
  rate?: number;
}

const FLEET = { hosts: 2, gpusPerHost: 8 };

/**
 * How the whole-pipeline tests run the processors: GPUMON_TEST_PROCESSORS=co-located (the default:
 * `gpumon process all`) or split (each `gpumon process <name>`).
 */
export const LAYOUT = loadConfig({
  layout: {
    env: 'GPUMON_TEST_PROCESSORS', flag: 'processors', default: 'co-located', example: 'split',
    description: 'How the whole-pipeline tests run the processors.', schema: parse.oneOf(PROCESSOR_LAYOUTS),
  },
}).layout;

/** The stages that run the processors in this layout, as the tests name them. */
export const PROCESSOR_STAGES = processorStages(LAYOUT).map((s) => s.name);

/** The stages downstream of the producers, as the tests name them: the sink and the processors' stages. */
export const STAGES = ['sink', ...PROCESSOR_STAGES];

/** What each processor's own transform makes of `samples`, by stream, the samples included (the model registry is left to the processes under test). */
export async function expectedOutputs(samples: GpuSample[]): Promise<Map<Stream, unknown[]>> {
  const byStream = new Map<Stream, unknown[]>([['samples', samples]]);
  for (const definition of PROCESSORS) {
    const transform = await createBatchTransform(definition, loadConfig(definition.options, { registerModel: 'false' }));
    const outputs = (await transform.transformBatch(samples)).flatMap((result) => (result instanceof Error ? [] : result));
    await transform.close?.();
    for (const output of outputs) byStream.set(output.stream, [...(byStream.get(output.stream) ?? []), output.record]);
  }
  return byStream;
}

/** What the simulator produces in `run`, and what each processor's own transform makes of it, by stream. */
export async function expectedRecords(run: PipelineRun): Promise<Map<Stream, unknown[]>> {
  const fleet = new SimulatedFleet({ ...FLEET, seed: run.seed, hostPrefix: run.hostPrefix, scenario: loadScenario(SCENARIO) });
  return expectedOutputs(Array.from({ length: run.ticks }, (_, k) => fleet.sample(run.start + k * run.intervalMs)).flat());
}

/** Starts one stage (see STAGES; or a processor alone, in either layout) as a `gpumon` process in the run's consumer group for it; a restart joins the same group. */
export function startStage(run: Pick<PipelineRun, 'env'>, stage: string, args: string[] = [], env: Record<string, string> = {}): CliProcess {
  const group = `${run.env.GPUMON_TOPIC_PREFIX.replace(/\.$/, '')}-${stage}`;
  const command = CONSUMER_STAGES.find((s) => s.name === stage)?.args;
  if (command === undefined) throw new Error(`no stage ${stage}: one of ${CONSUMER_STAGES.map((s) => s.name).join(', ')}`);
  return startCli([...command, '--group', group, ...args], { ...run.env, ...env });
}

/** Starts `gpumon simulate` for the run: it exits 0 once every tick is sent. */
export function startSimulator(run: PipelineRun): CliProcess {
  return startCli([
    'simulate', '--clock', 'simulated', '--start', new Date(run.start).toISOString(), '--ticks', String(run.ticks),
    '--interval', `${run.intervalMs}ms`, '--hosts', String(FLEET.hosts), '--gpus-per-host', String(FLEET.gpusPerHost),
    '--seed', String(run.seed), '--host-prefix', run.hostPrefix, '--scenario', SCENARIO,
    ...(run.rate === undefined ? [] : ['--rate', String(run.rate)]),
  ], run.env);
}

/**
 * Starts the sink and every processor as `gpumon` processes, then runs the simulator to its end.
 * Resolves with the processes still running (sink first), for the caller to stop.
 */
export async function startWholePipeline(run: PipelineRun, sinkEnv: Record<string, string> = {}): Promise<CliProcess[]> {
  const running = STAGES.map((stage) => startStage(run, stage, [], stage === 'sink' ? sinkEnv : {}));
  const simulate = startSimulator(run);
  const code = await simulate.exited;
  if (code !== 0) throw new Error(`gpumon simulate exited with ${code}:\n${simulate.output()}`);
  return running;
}

/** The components that consume gpu.samples.v1, as they name themselves in dead letters (co-located, the processors are one). */
export const SAMPLE_CONSUMERS = ['sink-timescaledb', ...processorStages(LAYOUT).map((s) => s.component)].sort();
