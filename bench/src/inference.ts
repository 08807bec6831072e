import { FEATURE_NAMES } from '@gpumon/features/definitions';
import { writeFeatureRow } from '@gpumon/predict-failure/feature-row';
import { FailureModel } from '@gpumon/predict-failure/model';
import { COMMITTED_MODEL, predictFailureOptions } from '@gpumon/predict-failure/options';
import { predictFailureProcessor } from '@gpumon/predict-failure/processor';
import { loadConfig, type ConfigSpec } from '@gpumon/runtime/config';
import type { EnrichedStream, ProcessorDefinition } from '@gpumon/runtime/processor';
import { SimulatedFleet } from '@gpumon/simulator/fleet';
import { table } from './measure.js';
import { benchInput, measureThroughBroker } from './processors.js';

const BATCH_SIZES = [1, 64, 512, 4096];
const TARGET_ROWS_PER_S = 100_000;
const TARGET_SINGLE_P99_MS = 1;
/** Long enough per batch size for a steady rate on a shared 2-core machine. */
const MEASURE_MS = 3000;
const SINGLE_ROW_CALLS = 20_000;

/** Feature rows of a simulated fleet with faults, as the processor builds them from samples. */
function featureRows(count: number): Float32Array {
  const fleet = new SimulatedFleet({ seed: 11, hosts: 64, gpusPerHost: 8, hostPrefix: 'bench', faultRateScale: 50 });
  const rows = new Float32Array(count * FEATURE_NAMES.length);
  let filled = 0;
  // An hour of 1-minute readings first, so the windows hold history.
  for (let t = Date.UTC(2026, 0, 1); filled < count; t += 60_000) {
    for (const sample of fleet.sample(t)) {
      if (filled >= count || sample.gpu_lost || t < Date.UTC(2026, 0, 1, 1)) continue;
      writeFeatureRow(sample, rows, filled++);
    }
  }
  return rows;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

export async function runInferenceBench(): Promise<Record<string, unknown>> {
  const settings = loadConfig(predictFailureOptions, { registerModel: 'false' });
  const model = await FailureModel.load(settings.model);
  const width = FEATURE_NAMES.length;
  const rows = featureRows(4096);
  console.log(`model ${model.manifest.name} ${model.manifest.version} (${COMMITTED_MODEL}), ${width} features, onnxruntime-node on one thread`);

  const batches = [];
  for (const size of BATCH_SIZES) {
    const batch = rows.subarray(0, size * width);
    for (let i = 0; i < 20; i++) await model.probabilities(batch);
    let done = 0;
    const start = performance.now();
    while (performance.now() - start < MEASURE_MS) {
      await model.probabilities(batch);
      done += size;
    }
    const seconds = (performance.now() - start) / 1000;
    batches.push({ batch_size: size, rows_per_s: Math.round(done / seconds), of_target: Math.round((done / seconds / TARGET_ROWS_PER_S) * 100) / 100 });
  }
  table(batches);

  const latencies: number[] = [];
  for (let i = 0; i < SINGLE_ROW_CALLS; i++) {
    const row = rows.subarray((i % 4096) * width, ((i % 4096) + 1) * width);
    const start = performance.now();
    await model.probabilities(row);
    latencies.push(performance.now() - start);
  }
  latencies.sort((a, b) => a - b);
  const single = {
    p50_ms: Math.round(percentile(latencies, 50) * 1000) / 1000,
    p99_ms: Math.round(percentile(latencies, 99) * 1000) / 1000,
    max_ms: Math.round((latencies.at(-1) as number) * 1000) / 1000,
    target_p99_ms: TARGET_SINGLE_P99_MS,
  };
  table([{ calls: SINGLE_ROW_CALLS, ...single }]);
  await model.release();

  const { prefix, records, remove } = await benchInput();
  const processor = await measureThroughBroker({ name: predictFailureProcessor.name, definitions: [predictFailureProcessor as unknown as ProcessorDefinition<'samples', EnrichedStream, ConfigSpec>] }, prefix, records);
  table([{ processor: 'predict-failure', records, ...processor }]);
  await remove();

  return {
    model: { name: model.manifest.name, version: model.manifest.version },
    rows_per_s: Object.fromEntries(batches.map((b) => [String(b.batch_size), b.rows_per_s])),
    target_rows_per_s: TARGET_ROWS_PER_S,
    single_row: single,
    single_row_p99_ms: single.p99_ms,
    processor_records_per_s: processor.per_s,
  };
}
