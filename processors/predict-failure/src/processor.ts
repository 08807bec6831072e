import type { BatchProcessor } from '@gpumon/runtime/processor';
import type { GpuSample } from '@gpumon/schemas/types.generated';
import { referenceRow } from './contributions.js';
import { loadInterruptionCosts } from './interruption-costs.js';
import { predictFailureOptions } from './options.js';
import { predictBatch } from './predict-batch.js';

export const predictFailureProcessor: BatchProcessor<'samples', 'predictions' | 'alerts', typeof predictFailureOptions> = {
  name: 'predict-failure',
  description: 'Failure probability within the model\'s horizon per sample (XGBoost in ONNX): gpu.samples.v1 → gpu.predictions.v1, and gpu.alerts.v1 for HIGH risk.',
  input: 'samples',
  outputs: ['predictions', 'alerts'],
  options: predictFailureOptions,
  createBatch: async (settings) => {
    // Loaded here, not with the definition: `gpumon process <another processor>` never loads onnxruntime or pg.
    const [{ FailureModel }, { registerModel }] = await Promise.all([import('./model.js'), import('./model-registry.js')]);
    const costs = loadInterruptionCosts(settings.interruptionCosts);
    const model = await FailureModel.load(settings.model);
    try {
      if (settings.registerModel) await registerModel(settings, model.manifest);
    } catch (error) {
      await model.release();
      throw error;
    }
    const predictor = {
      model, costs, reference: referenceRow(model.manifest.features.map((f) => f.reference)), alertResolveAfterMs: settings.alertResolveAfter,
    };
    return {
      transformBatch: (samples: readonly GpuSample[]) => predictBatch(samples, predictor),
      close: () => model.release(),
    };
  },
};
