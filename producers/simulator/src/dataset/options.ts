import { z } from 'zod';
import { parse } from '@gpumon/runtime/config';
import { simulatorOptions } from '../options.js';

export const datasetOptions = {
  gpus: {
    env: 'GPUMON_DATASET_GPUS', flag: 'gpus', default: '4000', example: '20000',
    description: 'GPUs in the simulated fleet, on hosts of --gpus-per-host boards.', schema: parse.int(1, 10_000_000),
  },
  gpusPerHost: { ...simulatorOptions.gpusPerHost, env: 'GPUMON_DATASET_GPUS_PER_HOST' },
  days: {
    env: 'GPUMON_DATASET_DAYS', flag: 'days', default: '30', example: '7',
    description: 'Simulated days per GPU.', schema: parse.int(1, 3650),
  },
  seed: { ...simulatorOptions.seed, env: 'GPUMON_DATASET_SEED', default: '7', description: 'Seed of the fleet: the same options give the same CSV, byte for byte.' },
  start: {
    env: 'GPUMON_DATASET_START', flag: 'start', default: '2026-01-05T00:00:00Z', example: '2026-06-01T00:00:00Z',
    description: 'Time of the first reading (a fixed default, so the dataset does not depend on the day it is made).',
    schema: z.string().refine((v) => !Number.isNaN(Date.parse(v)), { error: 'must be an ISO 8601 time' }),
  },
  interval: {
    env: 'GPUMON_DATASET_INTERVAL', flag: 'interval', default: '1m', example: '10s',
    description: 'Time between two readings of a GPU on the simulated clock; every reading goes through the feature engine.',
    schema: parse.durationMs(),
  },
  rowEvery: {
    env: 'GPUMON_DATASET_ROW_EVERY', flag: 'row-every', default: '1h', example: '30m',
    description: 'One labelled row per GPU this often (a whole multiple of --interval).', schema: parse.durationMs(),
  },
  horizon: {
    env: 'GPUMON_DATASET_HORIZON', flag: 'horizon', default: '24h', example: '48h',
    description: 'A row is labelled 1 when its GPU fails within this long after the row\'s time.', schema: parse.durationMs(),
  },
  faultRateScale: {
    ...simulatorOptions.faultRateScale, env: 'GPUMON_DATASET_FAULT_RATE_SCALE', default: '10', example: '1',
    description: 'Multiplies the published annual fault rates, so a month of a few thousand GPUs holds enough failures to learn from.',
  },
  out: {
    env: 'GPUMON_DATASET_OUT', flag: 'out', default: 'models/failure/data/dataset.csv.gz', example: '/tmp/dataset.csv.gz',
    description: 'Gzipped CSV to write; its description goes beside it as <out without .csv.gz>.json.', schema: parse.string(),
  },
  workers: {
    env: 'GPUMON_DATASET_WORKERS', flag: 'workers', example: '1',
    description: 'Worker threads, each simulating a contiguous range of GPUs (default: one per CPU core).', schema: parse.int(1, 256).optional(),
  },
} as const;
