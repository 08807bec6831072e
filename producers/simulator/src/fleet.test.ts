import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { schemaOf } from '@gpumon/schemas/avro';
import { absoluteSlowdownMargin } from '@gpumon/schemas/slowdown-margin';
import type { GpuSample } from '@gpumon/schemas/types.generated';
import { SimulatedFleet, type FleetOptions } from './fleet.js';
import { localHour } from './load.js';
import { loadScenario } from './scenario.js';

const options: FleetOptions = { seed: 7, hosts: 3, gpusPerHost: 8, hostPrefix: 't' };
const sampleType = avro.Type.forSchema(schemaOf('samples') as avro.Schema);
const START = Date.parse('2026-01-05T00:00:00Z');
const everyFault = loadScenario(fileURLToPath(new URL('../scenarios/every-fault.yaml', import.meta.url)));

function run(fleetOptions: FleetOptions, ticks: number, intervalMs = 10_000): GpuSample[] {
  const fleet = new SimulatedFleet(fleetOptions);
  return Array.from({ length: ticks }, (_, k) => fleet.sample(START + k * intervalMs)).flat();
}

describe('simulated fleet', () => {
  it('says how long each reading covers: nothing for the first, the tick after that', () => {
    const fleet = new SimulatedFleet(options);
    expect(fleet.sample(START).every((s) => s.interval_s === null)).toBe(true);
    expect(fleet.sample(START + 10_000).every((s) => s.interval_s === 10)).toBe(true);
    expect(fleet.sample(START + 25_000).every((s) => s.interval_s === 15)).toBe(true);
  });

  it('lays GPUs out on hosts, with unique UUIDs in nvidia-smi format', () => {
    const fleet = new SimulatedFleet(options);
    expect(fleet.gpus).toHaveLength(24);
    expect(new Set(fleet.gpus.map((g) => g.hostname))).toEqual(new Set(['t-001', 't-002', 't-003']));
    expect(new Set(fleet.gpus.map((g) => g.uuid)).size).toBe(24);
    for (const gpu of fleet.gpus) expect(gpu.uuid).toMatch(/^GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('gives the same readings, faults and labels for the same seed, scenario and ticks, and others for another seed', () => {
    const withFaults = { ...options, scenario: everyFault, faultRateScale: 50 };
    const a = run(withFaults, 1500, 30_000);
    expect(a).toEqual(run(withFaults, 1500, 30_000));
    expect(a.some((s) => s.xid_events.length > 0)).toBe(true);
    expect(run(options, 30)).toEqual(run(options, 30));
    const other = new SimulatedFleet({ ...options, seed: 8 }).sample(START);
    expect(other[0]?.gpu_uuid).not.toBe(run(options, 1)[0]?.gpu_uuid);
  });

  it('writes records the Avro schema accepts, healthy or faulty, lost or not', () => {
    const samples = run({ ...options, scenario: everyFault }, 900, 60_000);
    expect(new Set(samples.map((s) => s.simulated_fault?.phase))).toEqual(new Set([undefined, 'PRECURSOR', 'FAILED']));
    expect(samples.some((s) => s.gpu_lost)).toBe(true);
    for (const sample of samples) expect(sampleType.isValid(sample), JSON.stringify(sample)).toBe(true);
  });

  it('reports the slowdown margin as the agent does: slowdown minus temperature, null without a temperature', () => {
    const samples = run({ ...options, scenario: everyFault }, 900, 60_000);
    const wrong = samples.filter((s) => s.temperature_slowdown_margin_c !== absoluteSlowdownMargin(s));
    expect(samples.some((s) => s.temperature_gpu_c === null)).toBe(true);
    expect(wrong.slice(0, 3)).toEqual([]);
  });

  it('keeps healthy GPUs within each board\'s physical limits', () => {
    const samples = run({ ...options, hosts: 12, faultRateScale: 0 }, 720, 30_000);
    const outside = samples.filter((s) => !(
      s.simulated_fault === null && s.xid_events.length === 0 && !s.gpu_lost &&
      s.utilization_gpu_pct! >= 0 && s.utilization_gpu_pct! <= 100 &&
      s.power_draw_w! > 0 && s.power_draw_w! <= s.power_limit_w! &&
      s.temperature_gpu_c! > 20 && s.temperature_gpu_c! < s.temperature_max_operating_c! &&
      s.clock_graphics_mhz! <= s.clock_graphics_max_mhz! &&
      s.pcie_link_width === s.pcie_link_width_max && s.ecc_volatile_dbe === 0 &&
      !s.throttle_hw_slowdown && !s.throttle_sw_thermal_slowdown &&
      s.memory_used_mib! + s.memory_free_mib! + s.memory_reserved_mib! === s.memory_total_mib
    ));
    expect(outside.slice(0, 3)).toEqual([]);
  });

  it('is busier in the hosts\' working hours than at night', () => {
    const fleet = new SimulatedFleet({ ...options, hosts: 40, faultRateScale: 0 });
    const offsets = new Map(fleet.gpus.map((g) => [g.uuid, g.utcOffsetHours]));
    const byHour = { day: [0, 0], night: [0, 0] };
    for (let k = 0; k < 4 * 24 * 12; k++) {
      for (const sample of fleet.sample(START + k * 300_000)) {
        const hour = localHour(sample.time, offsets.get(sample.gpu_uuid)!);
        const bucket = hour >= 13 && hour < 19 ? byHour.day : hour >= 1 && hour < 7 ? byHour.night : undefined;
        if (bucket === undefined) continue;
        bucket[0]! += sample.utilization_gpu_pct!;
        bucket[1]! += 1;
      }
    }
    const day = byHour.day[0]! / byHour.day[1]!;
    const night = byHour.night[0]! / byHour.night[1]!;
    expect(day).toBeGreaterThan(night + 15);
    expect(night).toBeGreaterThan(20);
  });
});
