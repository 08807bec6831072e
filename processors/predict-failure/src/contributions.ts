import type { FeatureContribution } from '@gpumon/schemas/types.generated';

/** How many features a prediction names. */
export const TOP_FEATURES = 3;

/** The manifest's references as a model row: null (no healthy value seen) is NaN, missing. */
export function referenceRow(references: ReadonlyArray<number | null>): Float32Array {
  return Float32Array.from(references, (r) => r ?? Number.NaN);
}

function same(a: number, b: number): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

/**
 * Occlusion: for each feature of `row` that differs from its reference, a copy of the row with
 * only that feature set to the reference. Scoring them shows how much each feature alone holds
 * the probability up: cheap (one batched inference), model-agnostic, and exact for a feature that
 * acts alone; with interacting features it is an approximation, not a Shapley value.
 */
export function occlusionRows(row: Float32Array, reference: Float32Array): { features: number[]; variants: Float32Array } {
  const width = reference.length;
  const features: number[] = [];
  for (let f = 0; f < width; f++) if (!same(row[f] as number, reference[f] as number)) features.push(f);
  const variants = new Float32Array(features.length * width);
  features.forEach((f, k) => {
    variants.set(row, k * width);
    variants[k * width + f] = reference[f] as number;
  });
  return { features, variants };
}

/** The features whose reference lowers the probability most, largest drop first (ties: input order). */
export function topContributions(
  probability: number, variantProbabilities: Float32Array, features: readonly number[], row: Float32Array, reference: Float32Array,
  names: readonly string[], limit = TOP_FEATURES,
): FeatureContribution[] {
  return features
    .map((f, k) => ({ f, drop: probability - (variantProbabilities[k] as number) }))
    .filter(({ drop }) => drop > 0)
    .sort((a, b) => b.drop - a.drop || a.f - b.f)
    .slice(0, limit)
    .map(({ f, drop }) => ({
      name: names[f] as string,
      value: valueOf(row[f] as number),
      reference: valueOf(reference[f] as number),
      contribution: drop,
    }));
}

function valueOf(x: number): number | null {
  return Number.isNaN(x) ? null : x;
}
