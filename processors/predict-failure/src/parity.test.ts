import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FailureModel } from './model.js';
import { testModelPath } from './test-model.js';

interface ParityVectors {
  features: string[];
  threshold: number;
  rows: Array<{ features: Array<number | null>; probability: number }>;
}

/**
 * The committed model run by onnxruntime-node against XGBoost's own probabilities on held-out
 * rows, written by the training script beside the model (models/failure/parity.json).
 */
describe('parity of onnxruntime-node with XGBoost', async () => {
  const model = await FailureModel.load(testModelPath());
  const parity = JSON.parse(readFileSync(join(dirname(testModelPath()), 'parity.json'), 'utf8')) as ParityVectors;
  afterAll(() => model.release());
  const rows = Float32Array.from(parity.rows.flatMap((r) => r.features.map((v) => v ?? Number.NaN)));
  const probabilities = await model.probabilities(rows);

  it('has vectors for the model\'s features, with missing values and both classes among them', () => {
    expect(parity.features).toEqual(model.manifest.features.map((f) => f.name));
    expect(parity.threshold).toBe(model.manifest.threshold);
    expect(parity.rows.length).toBeGreaterThanOrEqual(100);
    expect(parity.rows.some((r) => r.features.includes(null))).toBe(true);
    expect(parity.rows.some((r) => r.probability >= parity.threshold)).toBe(true);
    expect(parity.rows.some((r) => r.probability < parity.threshold)).toBe(true);
  });

  it('gives XGBoost\'s probability within 1e-5 on every row, and no row changes class at the threshold', () => {
    const worst = Math.max(...parity.rows.map((r, i) => Math.abs((probabilities[i] as number) - r.probability)));
    expect(worst).toBeLessThan(1e-5);
    const flipped = parity.rows.filter((r, i) => ((probabilities[i] as number) >= parity.threshold) !== (r.probability >= parity.threshold));
    expect(flipped).toEqual([]);
  });

  it('scores a row the same alone as in a batch', async () => {
    const width = parity.features.length;
    for (const i of [0, Math.floor(parity.rows.length / 2), parity.rows.length - 1]) {
      const [alone] = await model.probabilities(rows.slice(i * width, (i + 1) * width));
      expect(alone).toBe(probabilities[i]);
    }
  });
});
