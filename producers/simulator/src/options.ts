import { parse } from '@gpumon/runtime/config';

export const simulatorOptions = {
  gpus: {
    env: 'GPUMON_SIM_GPUS', flag: 'gpus', default: '64', example: '100000',
    description: 'Number of GPUs in the simulated fleet.', schema: parse.int(1, 10_000_000),
  },
  gpusPerHost: {
    env: 'GPUMON_SIM_GPUS_PER_HOST', flag: 'gpus-per-host', default: '8', example: '4',
    description: 'GPUs per simulated host.', schema: parse.int(1, 64),
  },
  hostPrefix: {
    env: 'GPUMON_SIM_HOST_PREFIX', flag: 'host-prefix', default: 'sim', example: 'dc1-rack',
    description: 'Simulated host names are this prefix, a dash and a number.',
    schema: parse.string().regex(/^[a-z0-9][a-z0-9.-]*$/i, { error: 'letters, digits, dots and dashes' }),
  },
  seed: {
    env: 'GPUMON_SIM_SEED', flag: 'seed', default: '1', example: '42',
    description: 'Seed of the fleet: the same seed gives the same GPUs and the same readings.', schema: parse.int(0, 2 ** 32 - 1),
  },
  interval: {
    env: 'GPUMON_SIM_INTERVAL', flag: 'interval', default: '10s', example: '1s',
    description: 'Time between two readings of a GPU.', schema: parse.durationMs(),
  },
  clock: {
    env: 'GPUMON_SIM_CLOCK', flag: 'clock', default: 'wall', example: 'simulated',
    description: 'wall: read every interval in real time. simulated: emit readings as fast as Kafka takes them, timestamped from --start one interval apart (backfills, tests).',
    schema: parse.oneOf(['wall', 'simulated']),
  },
  start: {
    env: 'GPUMON_SIM_START', flag: 'start', example: '2026-01-01T00:00:00Z',
    description: 'Time of the first reading with --clock simulated (default: now).',
    schema: parse.optionalString().refine((v) => v === undefined || !Number.isNaN(Date.parse(v)), { error: 'must be an ISO 8601 time' }),
  },
  ticks: {
    env: 'GPUMON_SIM_TICKS', flag: 'ticks', example: '360',
    description: 'Stop after this many readings of each GPU (default: run until stopped).', schema: parse.int(1).optional(),
  },
} as const;
