import { describe, expect, it } from 'vitest';
import type { GpuEconomics, GpuSample } from '@gpumon/schemas/types.generated';
import { GpumonError } from './errors.js';
import { validateRecord } from './sample-validation.js';

const T = Date.UTC(2026, 0, 1);
const sample = { time: T, gpu_uuid: 'GPU-1', hostname: 'host-1', power_draw_w: 300, features: null, processes: null, workloads: null, mig_instances: [], xid_events: [] } as unknown as GpuSample;
const economics = {
  time: T, gpu_uuid: 'GPU-1', hostname: 'host-1', product_name: null, currency: 'USD', interval_s: 10, energy_kwh: 0.004, energy_cost_micros: 600,
  allocated_cost_micros: 4000, used_cost_micros: 1000, idle_cost_micros: 3000, efficiency: 0.25, co2e_kg: 0.002, cost_per_used_gpu_hour_micros: null, workloads: [],
} as GpuEconomics;

function refusal(run: () => void): GpumonError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(GpumonError);
    return error as GpumonError;
  }
  throw new Error('accepted');
}

describe('validateRecord', () => {
  it('passes a possible sample and a finite record of another stream', () => {
    validateRecord('samples', sample, T);
    validateRecord('economics', economics, T);
  });

  it('refuses a sample past its bounds, naming the GPU, the host, the field and the value', () => {
    const error = refusal(() => validateRecord('samples', { ...sample, power_draw_w: Number.NaN }, T));
    expect([error.code, error.message]).toEqual(['validation_failed', 'impossible sample from GPU GPU-1 on host-1: power_draw_w=NaN outside [0, 5000]']);
  });

  it('refuses a record of another stream past its bounds, NaN and ±Infinity included, at any depth', () => {
    const bad = {
      ...economics, efficiency: Number.POSITIVE_INFINITY, idle_cost_micros: -1,
      workloads: [{ workload_id: null, team: 't', share: Number.NaN, energy_kwh: 0, allocated_cost_micros: 0, used_cost_micros: 0, idle_cost_micros: 0 }],
    };
    const error = refusal(() => validateRecord('economics', bad, T));
    expect([error.code, error.message]).toEqual([
      'validation_failed',
      'impossible economics record from GPU GPU-1 on host-1: idle_cost_micros=-1 outside [0, 1000000000000000]; efficiency=Infinity outside [0, 1]; workloads[].share=NaN outside [0, 1]',
    ]);
  });

  it('refuses a record of another stream stamped far from its message', () => {
    const error = refusal(() => validateRecord('economics', economics, T + 400 * 86_400_000));
    expect(error.message).toMatch(/^impossible economics record from GPU GPU-1 on host-1: time 2026-01-01T00:00:00.000Z is more than 395 days before/);
  });
});
