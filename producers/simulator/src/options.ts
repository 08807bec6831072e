import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { parse } from '@gpumon/runtime/config';

export const simulatorOptions = {
  hosts: {
    env: 'GPUMON_SIM_HOSTS', flag: 'hosts', default: '8', example: '100',
    description: 'Number of hosts in the simulated fleet; each holds --gpus-per-host boards of one model.', schema: parse.int(1, 1_000_000),
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
  scenario: {
    env: 'GPUMON_SIM_SCENARIO', flag: 'scenario', example: 'producers/simulator/scenarios/every-fault.yaml',
    description: 'YAML or JSON file that places faults on chosen GPUs at chosen times (see Fault scenarios); default: random faults only.',
    schema: parse.optionalString(),
  },
  faultRateScale: {
    env: 'GPUMON_SIM_FAULT_RATE_SCALE', flag: 'fault-rate-scale', default: '1', example: '100',
    description: 'Multiplies the default annual fault rates (published fleet figures); 0 disables random faults.',
    schema: z.coerce.number({ error: 'must be a number' }).min(0, { error: 'must be at least 0' }),
  },
  ticks: {
    env: 'GPUMON_SIM_TICKS', flag: 'ticks', example: '360',
    description: 'Stop after this many readings of each GPU (default: run until stopped).', schema: parse.int(1).optional(),
  },
  rate: {
    env: 'GPUMON_SIM_RATE', flag: 'rate', example: '25000',
    description: 'Send at most this many samples per second, for load tests (default: as fast as Kafka acknowledges them with --clock simulated, once per interval with --clock wall).',
    schema: parse.int(1).optional(),
  },
  workers: {
    env: 'GPUMON_SIM_WORKERS', flag: 'workers', example: '3',
    description: 'Worker threads that model and encode the fleet, each a contiguous slice of its GPUs, beside the thread that sends (default: one fewer than the CPU cores, at least 1). The records are the same for any number.',
    schema: parse.int(1, 256).optional(),
  },
} as const;

/** --workers when not given: the sending thread keeps a core of its own. */
export function defaultWorkers(): number {
  return Math.max(1, availableParallelism() - 1);
}
