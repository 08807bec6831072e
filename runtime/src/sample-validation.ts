import type { GpuSample } from '@gpumon/schemas/types.generated';
import { GpumonError } from './errors.js';

/** Physical bounds no real reading crosses: a value outside them is a broken producer, not a hot GPU. */
const BOUNDS: ReadonlyArray<[keyof GpuSample, number, number]> = [
  ['temperature_gpu_c', -40, 150],
  ['temperature_memory_c', -40, 150],
  ['power_draw_w', 0, 5000],
  ['power_draw_average_w', 0, 5000],
  ['utilization_gpu_pct', 0, 100],
  ['utilization_memory_pct', 0, 100],
  ['memory_used_mib', 0, 10_000_000],
  ['fan_speed_pct', 0, 100],
  ['interval_s', 0, Number.MAX_SAFE_INTEGER],
];

/** A sample may be stamped at most this far after the producer wrote it (clock skew), never more. */
const MAX_FUTURE_MS = 24 * 3_600_000;

/**
 * Rejects a sample that decoded fine but cannot be true, naming the GPU, the field and the value.
 * The time is judged against the Kafka message's own timestamp, not the wall clock, so a replay
 * judges the same record the same way.
 */
export function validateSample(sample: GpuSample, messageTimestampMs: number): void {
  const problems: string[] = [];
  for (const [field, min, max] of BOUNDS) {
    const value = sample[field];
    if (typeof value === 'number' && !(value >= min && value <= max)) problems.push(`${field}=${value} outside [${min}, ${max}]`);
  }
  if (sample.time > messageTimestampMs + MAX_FUTURE_MS) {
    problems.push(`time ${new Date(sample.time).toISOString()} is more than a day after the message was written (${new Date(messageTimestampMs).toISOString()})`);
  }
  if (problems.length > 0) {
    throw new GpumonError('validation_failed', `impossible sample from GPU ${sample.gpu_uuid} on ${sample.hostname}: ${problems.join('; ')}`);
  }
}
