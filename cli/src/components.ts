import { detectAnomaliesProcessor } from '@gpumon/detect-anomalies/processor';
import { predictFailureProcessor } from '@gpumon/predict-failure/processor';
import { priceUsageProcessor } from '@gpumon/price-usage/processor';
import { parse, type ConfigSpec } from '@gpumon/runtime/config';
import { COLOCATED_COMPONENT, type EnrichedStream, type ProcessorDefinition } from '@gpumon/runtime/processor';
import type { Stream } from '@gpumon/schemas/topics';
import { scoreHealthProcessor } from '@gpumon/score-health/processor';
import { TABLE_NAMES } from '@gpumon/sink-timescaledb/tables';

/**
 * The one list of gpumon's processors: `gpumon process <name>`, the demo, the status line, the
 * end-to-end benchmark and the tests all read it, so a processor added here is everywhere.
 * Their definitions are light; a processor's heavy modules load when it starts.
 */
export const PROCESSORS = [scoreHealthProcessor, detectAnomaliesProcessor, priceUsageProcessor, predictFailureProcessor] as const;

/** The processors as their common type, for code that treats them alike. */
export const PROCESSOR_DEFINITIONS = PROCESSORS as unknown as ReadonlyArray<ProcessorDefinition<'samples', EnrichedStream, ConfigSpec>>;

const PROCESSOR_NAMES = PROCESSORS.map((p) => p.name) as [string, ...string[]];

/** What `gpumon process all` adds to every processor's settings and all of theirs. */
export const colocatedOptions = {
  processors: {
    env: 'GPUMON_PROCESSORS', flag: 'processors', default: PROCESSOR_NAMES.join(','), example: 'score-health,price-usage',
    description: 'The processors `gpumon process all` runs on its one consumer (one decode per sample for them all), comma-separated.',
    schema: parse.someOf(PROCESSOR_NAMES),
  },
} as const;

/**
 * How the processors run: co-located, all on one consumer (`gpumon process all`: one decode per
 * sample, the CPU they share), or split, each on its own (`gpumon process <name>`: isolated, scaled
 * on its own); docs/scaling.md says when to choose which.
 */
export const PROCESSOR_LAYOUTS = ['co-located', 'split'] as const;
export type ProcessorLayout = (typeof PROCESSOR_LAYOUTS)[number];

/** A consuming stage: how it is started and what it reads, for the demo, the status line and the tests. */
export interface ConsumerStage {
  /** Its name in the demo and the tests. */
  name: string;
  /** Its component name: metrics, dead letters and its default consumer group (`gpumon-<component>`). */
  component: string;
  args: readonly string[];
  streams: readonly Stream[];
  /** The streams whose rates the status line shows for it: each of its processors' first output (none for the sink). */
  outputs: readonly Stream[];
  group: string;
}

function stage(name: string, component: string, args: readonly string[], streams: readonly Stream[], outputs: readonly Stream[]): ConsumerStage {
  return { name, component, args, streams, outputs, group: `gpumon-${component}` };
}

/** The TimescaleDB sink: every stream that has a table. */
export const SINK = stage('sink', 'sink-timescaledb', ['sink'], Object.keys(TABLE_NAMES) as Stream[], []);

/** Every processor on one consumer: `gpumon process all`. */
export const COLOCATED_PROCESSORS = stage(COLOCATED_COMPONENT, COLOCATED_COMPONENT, ['process', 'all'], ['samples'], PROCESSORS.map((p) => p.outputs[0]!));

/** Each processor on its own consumer: `gpumon process <name>`. */
export const SPLIT_PROCESSORS = PROCESSORS.map((p) => stage(p.name, p.name, ['process', p.name], [p.input], [p.outputs[0]!]));

/** The stages that run the processors in `layout`. */
export function processorStages(layout: ProcessorLayout): readonly ConsumerStage[] {
  return layout === 'co-located' ? [COLOCATED_PROCESSORS] : SPLIT_PROCESSORS;
}

/** Every consuming stage the demo runs and the status line follows in `layout`, each with its default consumer group. */
export function consumerStages(layout: ProcessorLayout): readonly ConsumerStage[] {
  return [SINK, ...processorStages(layout)];
}

/** The consuming stages of either layout, once each: what `gpumon status` looks for. */
export const CONSUMER_STAGES: readonly ConsumerStage[] = [SINK, COLOCATED_PROCESSORS, ...SPLIT_PROCESSORS];
