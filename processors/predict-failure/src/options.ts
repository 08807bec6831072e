import { alertOptions } from '@gpumon/runtime/alert';
import { parse } from '@gpumon/runtime/config';
import { databaseOptions, writerDatabaseUrl } from '@gpumon/runtime/database';

/** The committed model and the shipped example costs, as paths from the repository root. */
export const COMMITTED_MODEL = 'models/failure/manifest.json';
export const EXAMPLE_INTERRUPTION_COSTS = 'processors/predict-failure/interruption-costs.example.yaml';

export const predictFailureOptions = {
  model: {
    env: 'GPUMON_MODEL_MANIFEST', flag: 'model', default: COMMITTED_MODEL, example: '/opt/gpumon/models/gpu-failure-1.1.0/manifest.json',
    description: 'Manifest of the failure model (models/failure); the ONNX file it names sits beside it. The processor refuses to start when the file is missing or corrupt, its sha256 differs or its features are not the feature engine\'s.',
    schema: parse.file(COMMITTED_MODEL),
  },
  interruptionCosts: {
    env: 'GPUMON_INTERRUPTION_COSTS_FILE', flag: 'interruption-costs', default: EXAMPLE_INTERRUPTION_COSTS, example: '/etc/gpumon/interruption-costs.yaml',
    description: 'YAML or JSON file: the cost of an unplanned interruption per host pattern, for expected_cost_micros. The default is the shipped example.',
    schema: parse.file(EXAMPLE_INTERRUPTION_COSTS),
  },
  registerModel: {
    env: 'GPUMON_REGISTER_MODEL', flag: 'register-model', default: 'true', example: 'false',
    description: 'At start, record the model in gpu_models and its features in gpu_feature_definitions (idempotent; needs DATABASE_URL with gpu_writer rights).',
    schema: parse.boolean(),
  },
  ...databaseOptions,
  databaseUrl: writerDatabaseUrl,
  ...alertOptions,
} as const;
