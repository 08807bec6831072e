import { detectAnomaliesProcessor } from '@gpumon/detect-anomalies/processor';
import { predictFailureProcessor } from '@gpumon/predict-failure/processor';
import { priceUsageProcessor } from '@gpumon/price-usage/processor';
import type { ConfigSpec } from '@gpumon/runtime/config';
import type { EnrichedStream, ProcessorDefinition } from '@gpumon/runtime/processor';
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

/** A consuming stage that is not a processor: how it is started and what it reads, for the demo and the status line. */
export interface ConsumerStage {
  /** Its name in the demo and the tests. */
  name: string;
  /** Its component name: metrics, dead letters and its default consumer group (`gpumon-<component>`). */
  component: string;
  args: readonly string[];
  streams: readonly Stream[];
}

/** The TimescaleDB sink: every stream that has a table. */
export const SINK: ConsumerStage = { name: 'sink', component: 'sink-timescaledb', args: ['sink'], streams: Object.keys(TABLE_NAMES) as Stream[] };

/** Every consuming stage the demo runs and the status line follows, each with its default consumer group. */
export const CONSUMER_STAGES: ReadonlyArray<ConsumerStage & { group: string }> = [
  { ...SINK, group: `gpumon-${SINK.component}` },
  ...PROCESSORS.map((p) => ({ name: p.name, component: p.name, args: ['process', p.name], streams: [p.input], group: `gpumon-${p.name}` })),
];
