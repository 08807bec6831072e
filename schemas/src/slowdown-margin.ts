import type { GpuSample } from './types.generated.js';

type Temperatures = Pick<GpuSample, 'temperature_slowdown_c' | 'temperature_gpu_c'>;

function isReading(value: number | null): value is number {
  return value !== null && Number.isFinite(value);
}

/** Slowdown temperature minus GPU temperature (°C); null unless both are readings. */
export function absoluteSlowdownMargin(sample: Temperatures): number | null {
  const slowdown = sample.temperature_slowdown_c;
  const temperature = sample.temperature_gpu_c;
  return isReading(slowdown) && isReading(temperature) ? slowdown - temperature : null;
}

/**
 * Degrees left before hardware slowdown (°C), negative past it. The driver's own margin where the
 * sample carries one: it is the only form Ada and later boards on drivers 575+ report. Otherwise
 * from the absolute threshold, which simulated and older records carry alone.
 */
export function slowdownMargin(sample: Temperatures & Pick<GpuSample, 'temperature_slowdown_margin_c'>): number | null {
  const reported = sample.temperature_slowdown_margin_c;
  return isReading(reported) ? reported : absoluteSlowdownMargin(sample);
}
