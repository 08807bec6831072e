import { FEATURE_NAMES } from '@gpumon/features/definitions';
import type { BatchResult, Output } from '@gpumon/runtime/processor';
import type { FeatureContribution, GpuSample } from '@gpumon/schemas/types.generated';
import { occlusionRows, topContributions } from './contributions.js';
import { writeFeatureRow } from './feature-row.js';
import { interruptionCostOf, type InterruptionCosts } from './interruption-costs.js';
import type { FailureModel } from './model.js';
import { predictionAlert, predictionOf, riskBandOf } from './prediction.js';

export interface Predictor {
  model: FailureModel;
  costs: InterruptionCosts;
  /** The manifest's references as a row (see contributions.ts). */
  reference: Float32Array;
  alertResolveAfterMs: number;
}

type PredictionOutput = Output<'predictions' | 'alerts'>;

/**
 * Scores a consumed batch with one inference call, plus one more for the occlusion rows of its
 * MEDIUM and HIGH predictions. Each sample's outputs depend on that sample alone. A lost GPU (no
 * readings) gets no prediction: it has failed already, which the health score reports.
 */
export async function predictBatch(samples: readonly GpuSample[], predictor: Predictor): Promise<BatchResult<'predictions' | 'alerts'>> {
  const { model, reference } = predictor;
  const width = FEATURE_NAMES.length;
  const results: BatchResult<'predictions' | 'alerts'> = samples.map(() => []);
  const scored: number[] = [];
  const rows = new Float32Array(samples.length * width);
  for (const [i, sample] of samples.entries()) {
    if (sample.gpu_lost) continue;
    try {
      writeFeatureRow(sample, rows, scored.length);
      scored.push(i);
    } catch (error) {
      results[i] = error as Error;
    }
  }
  const probabilities = await model.probabilities(rows.subarray(0, scored.length * width));

  const explained = scored.map((_, k) => k).filter((k) => riskBandOf(probabilities[k] as number, model.manifest.risk_bands) !== 'LOW');
  const occlusions = explained.map((k) => occlusionRows(rows.subarray(k * width, (k + 1) * width), reference));
  const variantProbabilities = await model.probabilities(concat(occlusions.map((o) => o.variants)));
  const top = new Map<number, FeatureContribution[]>();
  let offset = 0;
  explained.forEach((k, j) => {
    const { features } = occlusions[j]!;
    top.set(k, topContributions(probabilities[k] as number, variantProbabilities.subarray(offset, offset + features.length), features,
      rows.subarray(k * width, (k + 1) * width), reference, FEATURE_NAMES));
    offset += features.length;
  });

  for (const [k, i] of scored.entries()) {
    const sample = samples[i]!;
    // float32 → double: the record carries the model's own number, not a rounded one.
    const prediction = predictionOf(sample, probabilities[k] as number, model.manifest, interruptionCostOf(predictor.costs, sample.hostname), top.get(k) ?? []);
    const alert = predictionAlert(prediction, predictor.alertResolveAfterMs);
    const outputs: PredictionOutput[] = [{ stream: 'predictions', record: prediction }];
    if (alert !== null) outputs.push({ stream: 'alerts', record: alert });
    results[i] = outputs;
  }
  return results;
}

function concat(parts: Float32Array[]): Float32Array {
  const all = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    all.set(part, at);
    at += part.length;
  }
  return all;
}
