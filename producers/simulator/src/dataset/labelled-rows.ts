import type { FeatureEngine } from '@gpumon/features/engine';
import { FEATURE_NAMES } from '@gpumon/features/definitions';
import type { GpuFeatures, GpuSample } from '@gpumon/schemas/types.generated';
import type { SimulatedGpu } from '../fleet.js';

/** What decides the rows of a dataset; the same spec gives the same rows. */
export interface DatasetSpec {
  seed: number;
  gpus: number;
  gpusPerHost: number;
  days: number;
  startMs: number;
  intervalMs: number;
  rowEveryMs: number;
  horizonMs: number;
  faultRateScale: number;
}

/**
 * Columns before the features: who and when, the label and the ground truth it comes from (never
 * the features), and two raw readings that the rule-based baseline needs and the features do not
 * carry. Times are Unix epoch milliseconds.
 */
export const META_COLUMNS = [
  'gpu_uuid', 'hostname', 'product_name', 'time', 'label', 'fault_kind', 'onset_time', 'failure_time',
  'raw_remapped_rows_pending', 'raw_retired_pages_pending',
] as const;

export const CSV_HEADER = `${[...META_COLUMNS, ...FEATURE_NAMES].join(',')}\n`;

export interface RowCounts {
  rows: number;
  positives: number;
}

/**
 * Runs one GPU through the whole simulated period on the simulated clock, every reading through
 * `engine` (the edge's feature engine), and appends a CSV line every `rowEveryMs`. The label is
 * 1 when the simulator's planned failure falls in (time, time + horizon]. Rows stop at the
 * failure: a failed GPU is the health score's business, not a prediction's.
 */
export function appendGpuRows(gpu: SimulatedGpu, engine: FeatureEngine, spec: DatasetSpec, lines: string[]): RowCounts {
  const counts: RowCounts = { rows: 0, positives: 0 };
  const endMs = spec.startMs + spec.days * 86_400_000;
  for (let t = spec.startMs; t < endMs; t += spec.intervalMs) {
    const sample = gpu.sample(t);
    const features = engine.update(sample);
    const timeline = gpu.faultTimeline;
    if (timeline !== null && t >= timeline.failureMs) break;
    if ((t - spec.startMs) % spec.rowEveryMs !== 0) continue;
    const label = timeline !== null && timeline.failureMs - t <= spec.horizonMs ? 1 : 0;
    lines.push(csvLine(sample, features, label, timeline));
    counts.rows++;
    counts.positives += label;
  }
  engine.forget(gpu.uuid);
  return counts;
}

function csvLine(sample: GpuSample, features: GpuFeatures, label: number, timeline: SimulatedGpu['faultTimeline']): string {
  const cells: string[] = [
    sample.gpu_uuid, sample.hostname, quoted(sample.product_name), String(sample.time), String(label),
    timeline?.kind ?? '', timeline === null ? '' : String(timeline.onsetMs), timeline === null ? '' : String(timeline.failureMs),
    flag(sample.remapped_rows_pending), flag(sample.retired_pages_pending),
  ];
  const values = features as unknown as Record<string, number | null>;
  for (const name of FEATURE_NAMES) {
    const value = values[name];
    // Empty is missing: training hands it to XGBoost as NaN, as serving does with a null.
    cells.push(value === null || value === undefined ? '' : float32Text(value));
  }
  return `${cells.join(',')}\n`;
}

/**
 * The shortest text that reads back as the same float32: the model sees features as float32 (XGBoost
 * and ONNX alike), so nothing it sees is lost, and nine significant digits always suffice.
 */
function float32Text(value: number): string {
  if (Number.isInteger(value)) return String(value);
  const single = Math.fround(value);
  for (let digits = 6; digits < 9; digits++) {
    const text = single.toPrecision(digits);
    if (Math.fround(Number(text)) === single) return String(Number(text));
  }
  return String(Number(single.toPrecision(9)));
}

function flag(value: boolean | null): string {
  return value === null ? '' : value ? '1' : '0';
}

function quoted(value: string | null): string {
  return value === null ? '' : `"${value.replaceAll('"', '""')}"`;
}
