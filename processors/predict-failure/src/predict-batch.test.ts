import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { FEATURE_NAMES } from '@gpumon/features/definitions';
import type { Output } from '@gpumon/runtime/processor';
import type { GpuPrediction, GpuSample } from '@gpumon/schemas/types.generated';
import { SimulatedFleet } from '@gpumon/simulator/fleet';
import { loadScenario } from '@gpumon/simulator/scenario';
import { referenceRow } from './contributions.js';
import { interruptionCostOf, parseInterruptionCosts } from './interruption-costs.js';
import { FailureModel } from './model.js';
import { predictBatch, type Predictor } from './predict-batch.js';
import { testModelPath } from './test-model.js';

const SCENARIO = fileURLToPath(new URL('../../../producers/simulator/scenarios/every-fault.yaml', import.meta.url));
const START = Date.UTC(2026, 2, 2);

/** 16 GPUs going through one fault of each kind, read every minute for 12 hours: 11,520 samples. */
function scenarioSamples(): GpuSample[] {
  const fleet = new SimulatedFleet({ seed: 3, hosts: 2, gpusPerHost: 8, hostPrefix: 'train', scenario: loadScenario(SCENARIO) });
  return Array.from({ length: 720 }, (_, k) => fleet.sample(START + k * 60_000)).flat();
}

describe('predicting a batch', async () => {
  const model = await FailureModel.load(testModelPath());
  afterAll(() => model.release());
  const costs = parseInterruptionCosts('currency: EUR\nhosts:\n  - {match: "train-001", cost: 1000}\n', 'test');
  const predictor: Predictor = { model, costs, reference: referenceRow(model.manifest.features.map((f) => f.reference)), alertResolveAfterMs: 300_000 };
  const samples = scenarioSamples();
  const results = await predictBatch(samples, predictor);
  const outputs = (i: number): Array<Output<'predictions' | 'alerts'>> => results[i] as Array<Output<'predictions' | 'alerts'>>;
  const predictions = results.flatMap((r) => (r instanceof Error ? [] : r)).filter((o) => o.stream === 'predictions').map((o) => o.record as GpuPrediction);

  it('predicts every readable sample once, naming the model, and nothing for a lost GPU', () => {
    expect(results).toHaveLength(samples.length);
    samples.forEach((sample, i) => {
      const own = outputs(i);
      if (sample.gpu_lost) {
        expect(own).toEqual([]);
        return;
      }
      const prediction = own[0]!.record as GpuPrediction;
      expect(own[0]!.stream).toBe('predictions');
      expect(prediction).toMatchObject({
        time: sample.time, gpu_uuid: sample.gpu_uuid, hostname: sample.hostname, model_name: model.manifest.name,
        model_version: model.manifest.version, horizon_hours: model.manifest.horizon_hours, threshold: model.manifest.threshold,
        at_risk: prediction.probability >= model.manifest.threshold,
      });
      expect(prediction.probability).toBeGreaterThanOrEqual(0);
      expect(prediction.probability).toBeLessThanOrEqual(1);
    });
    expect(samples.some((s) => s.gpu_lost)).toBe(true);
  });

  it('bands the risk by the manifest and alerts on HIGH only', () => {
    const { medium, high } = model.manifest.risk_bands;
    for (const [i] of samples.entries()) {
      const [first, alert] = outputs(i);
      if (first === undefined) continue;
      const p = first.record as GpuPrediction;
      expect(p.risk_band).toBe(p.probability >= high ? 'HIGH' : p.probability >= medium ? 'MEDIUM' : 'LOW');
      if (p.risk_band === 'HIGH') {
        expect(alert).toMatchObject({ stream: 'alerts', record: { rule: 'failure_predicted', source: 'predict-failure', severity: 'WARNING', gpu_uuid: p.gpu_uuid, ends_at: p.time + 300_000 } });
        expect(alert!.record).toHaveProperty('summary', expect.stringContaining(`chance of failure within ${p.horizon_hours} h`));
      } else {
        expect(alert).toBeUndefined();
      }
    }
    // The scenario's gradual faults are what the model is for: some of their samples score HIGH.
    const high_ = predictions.filter((p) => p.risk_band === 'HIGH');
    expect(high_.length).toBeGreaterThan(0);
  });

  it('names the features that held MEDIUM and HIGH probabilities up, largest first, and none for LOW', () => {
    const explained = predictions.filter((p) => p.risk_band !== 'LOW');
    for (const p of predictions) {
      if (p.risk_band === 'LOW') expect(p.top_features).toEqual([]);
      const contributions = p.top_features.map((f) => f.contribution);
      expect(contributions).toEqual([...contributions].sort((a, b) => b - a));
      for (const f of p.top_features) {
        expect(FEATURE_NAMES).toContain(f.name);
        expect(f.contribution).toBeGreaterThan(0);
        expect(f.contribution).toBeLessThanOrEqual(p.probability);
      }
    }
    expect(explained.filter((p) => p.top_features.length > 0).length).toBeGreaterThan(explained.length / 2);
  });

  it('prices the expected failure by the host\'s interruption cost', () => {
    for (const p of predictions) {
      const cost = interruptionCostOf(costs, p.hostname);
      if (cost === null) {
        expect(p).toMatchObject({ interruption_cost_micros: null, expected_cost_micros: null, currency: null });
      } else {
        expect(p).toMatchObject({ interruption_cost_micros: 1_000_000_000, expected_cost_micros: Math.round(p.probability * 1_000_000_000), currency: 'EUR' });
      }
    }
    expect(predictions.some((p) => p.currency === null) && predictions.some((p) => p.currency === 'EUR')).toBe(true);
  });

  it('gives a sample the same outputs alone as in its batch', async () => {
    for (const i of [0, 4321, samples.length - 1]) expect((await predictBatch([samples[i]!], predictor))[0]).toEqual(results[i]);
  });

  it('scores missing features as missing, never as 0, and dead-letters a NaN or infinite one by name', async () => {
    const sample = samples.find((s) => !s.gpu_lost)!;
    const noFeatures = { ...sample, features: null };
    const allNaN = await model.probabilities(new Float32Array(FEATURE_NAMES.length).fill(Number.NaN));
    const allZero = await model.probabilities(new Float32Array(FEATURE_NAMES.length));
    // The model tells the two apart, so scoring missing as 0 would fail here.
    expect(allZero[0]).not.toBe(allNaN[0]);
    const [scored] = await predictBatch([noFeatures], predictor);
    expect(((scored as Array<Output<'predictions'>>)[0]!.record).probability).toBe(allNaN[0]);

    const broken = { ...sample, features: { ...sample.features!, power_mean_1h: Number.NaN } };
    const infinite = { ...sample, features: { ...sample.features!, xid_count_24h: Number.POSITIVE_INFINITY } };
    const [bad, worse, fine] = await predictBatch([broken, infinite, sample], predictor);
    expect(bad).toBeInstanceOf(Error);
    expect((bad as Error).message).toMatch(new RegExp(`GPU ${sample.gpu_uuid} at .*: feature power_mean_1h is NaN`));
    expect((worse as Error).message).toContain('feature xid_count_24h is Infinity');
    expect(fine).toEqual(results[samples.indexOf(sample)]);
  });
});
