import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { schemaOf } from '@gpumon/schemas/avro';
import { SimulatedFleet } from './fleet.js';

const options = { seed: 7, gpus: 20, gpusPerHost: 8, hostPrefix: 't' };
const sampleType = avro.Type.forSchema(schemaOf('samples') as avro.Schema);

function run(ticks: number) {
  const fleet = new SimulatedFleet(options);
  return Array.from({ length: ticks }, (_, k) => fleet.sample(1_700_000_000_000 + k * 10_000, 10)).flat();
}

describe('simulated fleet', () => {
  it('lays GPUs out on hosts, with unique UUIDs in nvidia-smi format', () => {
    const fleet = new SimulatedFleet(options);
    expect(fleet.gpus).toHaveLength(20);
    expect(new Set(fleet.gpus.map((g) => g.hostname))).toEqual(new Set(['t-001', 't-002', 't-003']));
    expect(new Set(fleet.gpus.map((g) => g.uuid)).size).toBe(20);
    for (const gpu of fleet.gpus) expect(gpu.uuid).toMatch(/^GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('gives the same readings for the same seed, and other readings for another', () => {
    expect(run(30)).toEqual(run(30));
    const other = new SimulatedFleet({ ...options, seed: 8 }).sample(1_700_000_000_000, 10);
    expect(other[0]?.gpu_uuid).not.toBe(run(1)[0]?.gpu_uuid);
  });

  it('writes records the Avro schema accepts, within each board\'s physical limits', () => {
    for (const sample of run(360)) {
      expect(sampleType.isValid(sample)).toBe(true);
      expect(sample.utilization_gpu_pct).toBeGreaterThanOrEqual(0);
      expect(sample.utilization_gpu_pct).toBeLessThanOrEqual(100);
      expect(sample.power_draw_w).toBeLessThanOrEqual(sample.power_limit_w!);
      expect(sample.temperature_gpu_c).toBeLessThan(sample.temperature_shutdown_c!);
      expect(sample.memory_used_mib! + sample.memory_free_mib! + sample.memory_reserved_mib!).toBe(sample.memory_total_mib);
    }
  });
});
