import { FEATURE_NAMES } from '@gpumon/features/definitions';
import { GpumonError } from '@gpumon/runtime/errors';
import type { GpuSample } from '@gpumon/schemas/types.generated';

/**
 * Writes a sample's features into `rows` at row `index`, in the model's input order. A null
 * feature (or a sample without features) is NaN, which the trees route the way XGBoost routes a
 * missing value, never as 0. NaN or infinity sent as a value is bad input: the sample is
 * dead-lettered, naming the feature.
 */
export function writeFeatureRow(sample: GpuSample, rows: Float32Array, index: number): void {
  const features = sample.features as unknown as Record<string, number | null> | null;
  const at = index * FEATURE_NAMES.length;
  for (let f = 0; f < FEATURE_NAMES.length; f++) {
    const name = FEATURE_NAMES[f] as string;
    const value = features === null ? null : (features[name] ?? null);
    if (value !== null && !Number.isFinite(value)) {
      throw new GpumonError('validation_failed', `GPU ${sample.gpu_uuid} at ${new Date(sample.time).toISOString()}: feature ${name} is ${value}; features must be finite numbers or null`);
    }
    rows[at + f] = value ?? Number.NaN;
  }
}
