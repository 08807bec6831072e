import { alertOptions } from '@gpumon/runtime/alert';
import type { RecordProcessor } from '@gpumon/runtime/processor';
import { healthAlerts } from './alerts.js';
import { scoreHealth } from './score.js';

export const scoreHealthProcessor: RecordProcessor<'samples', 'health' | 'alerts', typeof alertOptions> = {
  name: 'score-health',
  description: 'Health score and DCGM verdicts per sample: gpu.samples.v1 → gpu.health.v1, and gpu.alerts.v1 for every WARN or FAIL reason.',
  input: 'samples',
  outputs: ['health', 'alerts'],
  options: alertOptions,
  create: (settings) => (sample) => {
    const health = scoreHealth(sample);
    return [
      { stream: 'health', record: health },
      ...healthAlerts(health, settings.alertResolveAfter).map((record) => ({ stream: 'alerts' as const, record })),
    ];
  },
};
