import type { ProcessorDefinition } from '@gpumon/runtime/processor';
import { scoreHealth } from './score.js';

export const scoreHealthProcessor: ProcessorDefinition<'samples', 'health'> = {
  name: 'score-health',
  input: 'samples',
  outputs: ['health'],
  transform: (sample) => [{ stream: 'health', record: scoreHealth(sample) }],
};
