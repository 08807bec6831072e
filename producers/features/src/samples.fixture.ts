import { schemaOf } from '@gpumon/schemas/avro';
import type { GpuSample } from '@gpumon/schemas/types.generated';

/** 2026-01-01T00:00:00Z: a day, hour and minute boundary. */
export const T0 = Date.UTC(2026, 0, 1);
export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const GPU = 'GPU-00000000-0000-0000-0000-000000000001';

/** Every field of gpu.samples.v1 at its schema default (null, [], false). */
const DEFAULTS = Object.fromEntries(
  schemaOf('samples').fields.filter((field) => 'default' in field).map((field) => [field.name, field.default]),
);

/** A reading of GPU (or readings.gpu_uuid) at `time`: every field null but the given ones. */
export function sample(time: number, readings: Partial<GpuSample> = {}): GpuSample {
  return { ...DEFAULTS, time, gpu_uuid: GPU, hostname: 'host-1', source: 'SIMULATOR', ...readings } as GpuSample;
}

/** A seeded generator in [0, 1) (mulberry32), so random tests repeat. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random but plausible sequence of one GPU's samples: nulls, counter resets, Xids, throttles, gaps, late samples. */
export function randomSamples(seed: number, count: number, gpuUuid = GPU): GpuSample[] {
  const next = random(seed);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(next() * values.length)]!;
  const maybe = (value: number): number | null => (next() < 0.1 ? null : value);
  const flag = (p: number): boolean | null => (next() < 0.1 ? null : next() < p);
  let time = T0 + Math.floor(next() * HOUR);
  let sbe = 0;
  let replays = 0;
  const samples: GpuSample[] = [];
  for (let i = 0; i < count; i++) {
    if (next() < 0.02) {
      samples.push(sample(time - 5 * MINUTE, { gpu_uuid: gpuUuid, temperature_gpu_c: 99 }));
      continue;
    }
    const gap = next() < 0.005 ? 25 * HOUR : pick([1, 10, 10, 10, 30, 60, 600, 7200]) * SECOND;
    time += gap + Math.floor(next() * 1000);
    sbe = next() < 0.02 ? 0 : sbe + (next() < 0.2 ? 1 : 0);
    replays += Math.floor(next() * 5);
    if (next() < 0.02) {
      samples.push(sample(time, { gpu_uuid: gpuUuid, gpu_lost: true }));
      continue;
    }
    samples.push(sample(time, {
      gpu_uuid: gpuUuid,
      temperature_gpu_c: maybe(30 + next() * 60),
      temperature_slowdown_c: 89,
      power_draw_w: maybe(60 + next() * 640),
      utilization_gpu_pct: maybe(Math.floor(next() * 101)),
      ecc_volatile_sbe: maybe(sbe),
      ecc_volatile_dbe: maybe(0),
      retired_pages_sbe: maybe(i >> 6),
      retired_pages_dbe: maybe(0),
      remapped_rows_correctable: maybe(i >> 5),
      remapped_rows_uncorrectable: maybe(i >> 8),
      pcie_replay_count: maybe(replays),
      throttle_hw_thermal_slowdown: flag(0.1),
      throttle_sw_thermal_slowdown: flag(0.1),
      throttle_sw_power_cap: flag(0.3),
      throttle_hw_power_brake_slowdown: flag(0.05),
      throttle_hw_slowdown: flag(0.05),
      xid_events: next() < 0.05
        ? [{ time, code: pick([13, 31, 48, 79, 119]), pci_id: '0000:3b:00', message: 'test' }]
        : [],
    }));
  }
  return samples;
}
