import { loadConfig } from '@gpumon/runtime/config';
import { predictFailureOptions } from './options.js';

/** The model the tests run: the committed one (GPUMON_MODEL_MANIFEST points elsewhere when set). */
export function testModelPath(): string {
  return loadConfig(predictFailureOptions, { registerModel: 'false' }).model;
}
