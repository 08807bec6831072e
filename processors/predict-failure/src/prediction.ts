import { buildAlert } from '@gpumon/runtime/alert';
import type { FeatureContribution, GpuAlert, GpuPrediction, GpuSample, RiskBand } from '@gpumon/schemas/types.generated';
import type { InterruptionCost } from './interruption-costs.js';
import type { ModelManifest } from './manifest.js';

export function riskBandOf(probability: number, bands: ModelManifest['risk_bands']): RiskBand {
  if (probability >= bands.high) return 'HIGH';
  return probability >= bands.medium ? 'MEDIUM' : 'LOW';
}

/** The prediction record of one sample: a function of the sample, its probability, the model and the costs. */
export function predictionOf(
  sample: GpuSample, probability: number, manifest: ModelManifest, cost: InterruptionCost | null, topFeatures: FeatureContribution[],
): GpuPrediction {
  return {
    time: sample.time,
    gpu_uuid: sample.gpu_uuid,
    hostname: sample.hostname,
    model_name: manifest.name,
    model_version: manifest.version,
    horizon_hours: manifest.horizon_hours,
    probability,
    threshold: manifest.threshold,
    at_risk: probability >= manifest.threshold,
    risk_band: riskBandOf(probability, manifest.risk_bands),
    top_features: topFeatures,
    interruption_cost_micros: cost?.micros ?? null,
    expected_cost_micros: cost === null ? null : Math.round(probability * cost.micros),
    currency: cost?.currency ?? null,
  };
}

/** A HIGH-risk prediction pages (WARNING: a forecast, not a failure) until predictions stop saying so. */
export function predictionAlert(prediction: GpuPrediction, resolveAfterMs: number): GpuAlert | null {
  if (prediction.risk_band !== 'HIGH') return null;
  const percent = (prediction.probability * 100).toFixed(0);
  const cost = prediction.expected_cost_micros === null ? '' : `, expected cost ${(prediction.expected_cost_micros / 1e6).toFixed(2)} ${prediction.currency}`;
  const drivers = prediction.top_features.length === 0 ? '' : `; driven by ${prediction.top_features.map((f) => `${f.name}=${f.value ?? 'missing'}`).join(', ')}`;
  return buildAlert({
    time: prediction.time,
    gpu_uuid: prediction.gpu_uuid,
    hostname: prediction.hostname,
    rule: 'failure_predicted',
    source: 'predict-failure',
    severity: 'WARNING',
    summary: `${prediction.hostname} ${prediction.gpu_uuid}: ${percent} % chance of failure within ${prediction.horizon_hours} h (model ${prediction.model_name} ${prediction.model_version}${cost})${drivers}`,
    runbook: 'drain the GPU at the next checkpoint of its job, run DCGM diagnostics (dcgmi diag -r 3) and check the features named in the alert',
    labels: { model: prediction.model_name, model_version: prediction.model_version, risk_band: prediction.risk_band },
  }, resolveAfterMs);
}
