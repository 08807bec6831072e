import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { schemaOf, type AvroRecord } from '@gpumon/schemas/avro';
import type { GpuFeatures, GpuSample } from '@gpumon/schemas/types.generated';
import { FeatureEngine } from './engine.js';
import { STATE_BYTES } from './layout.js';
import { HOUR, MINUTE, SECOND, T0, randomSamples, sample } from './samples.fixture.js';

/** Features after feeding `samples` to a fresh engine, one result per sample. */
function run(samples: GpuSample[], engine = new FeatureEngine()): GpuFeatures[] {
  return samples.map((s) => engine.update(s));
}

function last(samples: GpuSample[]): GpuFeatures {
  return run(samples).at(-1)!;
}

/** Samples every `stepMs` from `from` to `to` inclusive, with readings from `readings(time)`. */
function every(stepMs: number, from: number, to: number, readings: (time: number) => Partial<GpuSample>): GpuSample[] {
  const out: GpuSample[] = [];
  for (let time = from; time <= to; time += stepMs) out.push(sample(time, readings(time)));
  return out;
}

describe('FeatureEngine: the record', () => {
  it('produces every field of the GpuFeatures Avro record, in schema order', () => {
    const features = schemaOf('samples').fields.find((field) => field.name === 'features')!;
    const record = (features.type as unknown[]).find((type): type is AvroRecord =>
      typeof type === 'object' && type !== null && (type as AvroRecord).type === 'record')!;
    const produced = new FeatureEngine().update(sample(T0, { temperature_gpu_c: 50 }));
    expect(Object.keys(produced)).toEqual(record.fields.map((field) => field.name));
  });

  it('gives a first sample its own readings, zero increases, no rate yet and no history', () => {
    const f = new FeatureEngine().update(sample(T0, {
      temperature_gpu_c: 50, temperature_slowdown_c: 89, power_draw_w: 300, utilization_gpu_pct: 80,
      ecc_volatile_sbe: 3, pcie_replay_count: 100, throttle_sw_power_cap: true,
    }));
    expect(f).toMatchObject({
      temperature_mean_5m: 50, temperature_max_5m: 50, temperature_std_5m: 0,
      temperature_mean_24h: 50, power_mean_1h: 300, utilization_max_24h: 80,
      ecc_sbe_increase_1h: 0, ecc_sbe_increase_24h: 0, ecc_dbe_increase_1h: null,
      retired_pages_increase_24h: null, remapped_rows_increase_24h: null,
      pcie_replays_per_min_5m: null, pcie_replays_per_min_1h: null,
      xid_count_1h: 0, xid_count_24h: 0, xid_critical_count_24h: 0,
      throttle_power_cap_duty_1h: 1, throttle_thermal_duty_1h: null,
      slowdown_margin_c: 39, slowdown_margin_min_1h: 39, history_s: 0,
    });
  });
});

describe('FeatureEngine: gauges', () => {
  it('computes mean, max and population std per window, buckets aligned to the epoch', () => {
    const engine = new FeatureEngine();
    const temperatures: [number, number][] = [[0, 50], [30 * SECOND, 60], [MINUTE, 70], [5 * MINUTE - 1, 80]];
    const results = run(temperatures.map(([at, c]) => sample(T0 + at, { temperature_gpu_c: c })), engine);
    // All four sit in minute buckets 0..4: one 5 m window.
    expect(results[3]!.temperature_mean_5m).toBe(65);
    expect(results[3]!.temperature_max_5m).toBe(80);
    expect(results[3]!.temperature_std_5m).toBeCloseTo(Math.sqrt(125), 12);
    // At T0 + 5 min minute bucket 0 leaves the 5 m window (buckets 1..5 remain), not the 1 h one.
    const f = engine.update(sample(T0 + 5 * MINUTE, { temperature_gpu_c: 90 }));
    expect(f.temperature_mean_5m).toBe(80);
    expect(f.temperature_max_5m).toBe(90);
    expect(f.temperature_std_5m).toBeCloseTo(Math.sqrt(200 / 3), 12);
    expect(f.temperature_mean_1h).toBe(70);
    expect(f.temperature_std_1h).toBeCloseTo(Math.sqrt(200), 12);
    expect(f.temperature_mean_24h).toBe(70);
    expect(f.temperature_max_24h).toBe(90);
  });

  it('drops a spike from the 5 m window when the fifth minute bucket after it ends, keeps it in 1 h, then 24 h only', () => {
    const spikeAt = T0 + 10 * MINUTE;
    const samples = every(10 * SECOND, T0, T0 + 71 * MINUTE, (time) => ({ temperature_gpu_c: time === spikeAt ? 90 : 40 }));
    const results = run(samples);
    const at = (time: number): GpuFeatures => results[samples.findIndex((s) => s.time === time)]!;
    expect(at(spikeAt + 4 * MINUTE + 50 * SECOND).temperature_max_5m).toBe(90);
    expect(at(spikeAt + 5 * MINUTE)).toMatchObject({ temperature_max_5m: 40, temperature_max_1h: 90, temperature_std_5m: 0 });
    // Its 5-minute bucket [T0+10m, T0+15m) leaves the 1 h window at T0 + 70 min.
    expect(at(T0 + 69 * MINUTE + 50 * SECOND).temperature_max_1h).toBe(90);
    expect(at(T0 + 70 * MINUTE)).toMatchObject({ temperature_max_1h: 40, temperature_max_24h: 90 });
  });

  it('skips null and non-finite readings rather than counting them as zero', () => {
    const f = last([
      sample(T0, { temperature_gpu_c: 50 }),
      sample(T0 + 10 * SECOND, { temperature_gpu_c: null }),
      sample(T0 + 20 * SECOND, { temperature_gpu_c: 70 }),
      sample(T0 + 30 * SECOND, { temperature_gpu_c: Number.NaN }),
    ]);
    expect(f).toMatchObject({ temperature_mean_5m: 60, temperature_max_5m: 70, temperature_std_5m: 10 });
    expect(f).toMatchObject({ power_mean_5m: null, power_max_5m: null, power_std_5m: null, power_mean_24h: null });
  });

  it('returns a constant reading exactly, with std exactly 0, across many buckets', () => {
    const f = last(every(10 * SECOND, T0, T0 + 3 * HOUR, () => ({ power_draw_w: 67.48, utilization_gpu_pct: 0.1 })));
    expect([f.power_mean_5m, f.power_mean_1h, f.power_mean_24h, f.power_max_24h]).toEqual([67.48, 67.48, 67.48, 67.48]);
    expect([f.utilization_mean_5m, f.utilization_mean_1h, f.utilization_mean_24h]).toEqual([0.1, 0.1, 0.1]);
    expect([f.power_std_5m, f.power_std_1h, f.power_std_24h, f.utilization_std_24h]).toEqual([0, 0, 0, 0]);
  });

  it('agrees with a direct computation over the readings in each window', () => {
    const samples = every(7 * SECOND, T0 + 123, T0 + 26 * HOUR, (time) => ({ temperature_gpu_c: 40 + ((time / 7000) % 37) }));
    const f = last(samples);
    const end = samples.at(-1)!.time;
    for (const [length, bucket, mean, std] of [
      [5 * MINUTE, MINUTE, f.temperature_mean_5m, f.temperature_std_5m],
      [HOUR, 5 * MINUTE, f.temperature_mean_1h, f.temperature_std_1h],
      [24 * HOUR, HOUR, f.temperature_mean_24h, f.temperature_std_24h],
    ] as const) {
      const windowStart = (Math.floor(end / bucket) + 1) * bucket - length;
      const values = samples.filter((s) => s.time >= windowStart).map((s) => s.temperature_gpu_c!);
      const expectedMean = values.reduce((a, b) => a + b, 0) / values.length;
      const expectedStd = Math.sqrt(values.reduce((a, b) => a + (b - expectedMean) ** 2, 0) / values.length);
      expect(mean).toBeCloseTo(expectedMean, 9);
      expect(std! / expectedStd).toBeCloseTo(1, 5);
    }
  });
});

describe('FeatureEngine: counters', () => {
  it('sums rises, counts a reset from zero, skips nulls, and is null where the window has no reading', () => {
    const engine = new FeatureEngine();
    const results = run([
      sample(T0, { ecc_volatile_sbe: 5 }),
      sample(T0 + 1 * MINUTE, { ecc_volatile_sbe: 7 }),
      sample(T0 + 2 * MINUTE, { ecc_volatile_sbe: null }),
      sample(T0 + 3 * MINUTE, { ecc_volatile_sbe: 7 }),
      sample(T0 + 4 * MINUTE, { ecc_volatile_sbe: 2 }), // driver reload: counts from zero again
      sample(T0 + 5 * MINUTE, { ecc_volatile_sbe: 4 }),
    ], engine);
    expect(results.map((f) => f.ecc_sbe_increase_1h)).toEqual([0, 2, 2, 2, 4, 6]);
    expect(results.at(-1)).toMatchObject({ ecc_sbe_increase_24h: 6, ecc_dbe_increase_1h: null, ecc_dbe_increase_24h: null });
    // The next reading's rise counts in the bucket of that reading.
    expect(engine.update(sample(T0 + 2 * HOUR, { ecc_volatile_sbe: 10 }))).toMatchObject({ ecc_sbe_increase_1h: 6, ecc_sbe_increase_24h: 12 });
    expect(engine.update(sample(T0 + 3 * HOUR + 5 * MINUTE, {}))).toMatchObject({ ecc_sbe_increase_1h: null, ecc_sbe_increase_24h: 12 });
  });

  it('adds single- and double-bit retired pages, and correctable and uncorrectable remapped rows', () => {
    const results = run([
      sample(T0, { retired_pages_sbe: 1, retired_pages_dbe: 0, remapped_rows_correctable: 3 }),
      sample(T0 + HOUR, { retired_pages_sbe: 2, retired_pages_dbe: 1, remapped_rows_correctable: 5 }),
      sample(T0 + 2 * HOUR, { remapped_rows_uncorrectable: 0 }),
      sample(T0 + 3 * HOUR, { remapped_rows_correctable: 6, remapped_rows_uncorrectable: 1 }),
    ]);
    expect(results[1]).toMatchObject({
      retired_pages_increase_24h: 2, remapped_rows_increase_24h: 2, remapped_rows_uncorrectable_increase_24h: null,
    });
    expect(results[3]).toMatchObject({
      retired_pages_increase_24h: 2, remapped_rows_increase_24h: 4, remapped_rows_uncorrectable_increase_24h: 1,
    });
  });

  it('gives PCIe replays per minute as increases over the time between the readings they come from', () => {
    const early = run([
      sample(T0, { pcie_replay_count: 0 }),
      sample(T0 + MINUTE, { pcie_replay_count: 10 }),
      sample(T0 + 2 * MINUTE, { pcie_replay_count: 30 }),
    ]);
    expect(early.map((f) => f.pcie_replays_per_min_5m)).toEqual([null, 10, 15]);
    expect(early.map((f) => f.pcie_replays_per_min_1h)).toEqual([null, 10, 15]);

    // A steady 6 per minute reads 6 wherever the time falls in its bucket.
    const steady = run(every(30 * SECOND, T0, T0 + 20 * MINUTE, (time) => ({ pcie_replay_count: ((time - T0) / 30_000) * 3 })));
    for (const f of steady.slice(1)) {
      expect(f.pcie_replays_per_min_5m).toBe(6);
      expect(f.pcie_replays_per_min_1h).toBe(6);
    }
  });

  it('counts a PCIe counter reset from zero and leaves the rate null while the counter is unreported', () => {
    const results = run([
      sample(T0, { pcie_replay_count: 100 }),
      sample(T0 + MINUTE, { pcie_replay_count: 4 }),
      sample(T0 + 10 * MINUTE, {}),
    ]);
    expect(results[1]!.pcie_replays_per_min_5m).toBe(4);
    expect(results[2]!.pcie_replays_per_min_5m).toBeNull();
    expect(results[2]!.pcie_replays_per_min_1h).toBe(4);
  });
});

describe('FeatureEngine: events, throttles, margins, history', () => {
  it('counts Xid events per window and the critical ones over 24 h', () => {
    const xid = (time: number, ...codes: number[]): Partial<GpuSample> => ({
      xid_events: codes.map((code) => ({ time, code, pci_id: '0000:3b:00', message: 'test' })),
    });
    const results = run([
      sample(T0, xid(T0, 79, 13)),
      sample(T0 + 30 * MINUTE, xid(T0 + 30 * MINUTE, 48)),
      sample(T0 + 2 * HOUR, xid(T0 + 2 * HOUR, 31)),
      sample(T0 + 2 * HOUR + MINUTE, {}),
    ]);
    expect(results[1]).toMatchObject({ xid_count_1h: 3, xid_count_24h: 3, xid_critical_count_24h: 2 });
    expect(results[3]).toMatchObject({ xid_count_1h: 1, xid_count_24h: 4, xid_critical_count_24h: 2 });
  });

  it('gives throttle duty cycles over the samples where the flag is known', () => {
    const f = last([
      sample(T0, { throttle_hw_thermal_slowdown: true, throttle_sw_power_cap: true, throttle_hw_slowdown: false }),
      sample(T0 + MINUTE, { throttle_hw_thermal_slowdown: false, throttle_sw_thermal_slowdown: true, throttle_sw_power_cap: false }),
      sample(T0 + 2 * MINUTE, { throttle_hw_thermal_slowdown: false, throttle_sw_thermal_slowdown: false }),
      sample(T0 + 3 * MINUTE, { throttle_sw_power_cap: false, throttle_hw_slowdown: false }),
    ]);
    expect(f.throttle_thermal_duty_1h).toBeCloseTo(2 / 3, 15);
    expect(f.throttle_power_cap_duty_1h).toBeCloseTo(1 / 3, 15);
    expect(f.throttle_power_brake_duty_1h).toBeNull();
    expect(f.throttle_hw_slowdown_duty_1h).toBe(0);
  });

  it('gives the slowdown margin now and its minimum over the hour', () => {
    const engine = new FeatureEngine();
    const margins = [[0, 60], [10 * MINUTE, 92], [20 * MINUTE, 85], [30 * MINUTE, 70]].map(([at, c]) =>
      engine.update(sample(T0 + at!, { temperature_gpu_c: c, temperature_slowdown_c: 89 })));
    expect(margins.map((f) => [f.slowdown_margin_c, f.slowdown_margin_min_1h])).toEqual([[29, 29], [-3, -3], [4, -3], [19, -3]]);
    // The 92 °C reading's bucket [T0+10m, T0+15m) leaves the 1 h window at T0 + 70 min.
    expect(engine.update(sample(T0 + 70 * MINUTE, { temperature_gpu_c: 80 }))).toMatchObject({
      slowdown_margin_c: null, slowdown_margin_min_1h: 4,
    });
  });

  it("takes the driver's margin from boards that report only the T.Limit scale (no slowdown temperature)", () => {
    const engine = new FeatureEngine();
    const margins = [[0, 27], [MINUTE, 3], [2 * MINUTE, 8]].map(([at, margin]) =>
      engine.update(sample(T0 + at!, { temperature_gpu_c: 59, temperature_slowdown_c: null, temperature_slowdown_margin_c: margin! })));
    expect(margins.map((f) => [f.slowdown_margin_c, f.slowdown_margin_min_1h])).toEqual([[27, 27], [3, 3], [8, 3]]);
  });

  it('measures history back to the oldest sample left in the 24 h window', () => {
    const results = run(every(HOUR, T0 + 10 * SECOND, T0 + 25 * HOUR + 10 * SECOND, () => ({})));
    expect(results[0]!.history_s).toBe(0);
    expect(results[1]!.history_s).toBe(3600);
    expect(results[23]!.history_s).toBe(23 * 3600);
    // At T0 + 24 h the hour bucket of T0 has left the window: 23 hours remain.
    expect(results[24]!.history_s).toBe(23 * 3600);
    expect(results[25]!.history_s).toBe(23 * 3600);
  });
});

describe('FeatureEngine: time', () => {
  it('starts a GPU afresh after a gap longer than 24 h, counters included', () => {
    const before = { temperature_gpu_c: 90, ecc_volatile_sbe: 5, pcie_replay_count: 5 };
    const after = { temperature_gpu_c: 40, ecc_volatile_sbe: 10, pcie_replay_count: 50 };
    const gap = last([sample(T0, before), sample(T0 + 25 * HOUR, after)]);
    expect(gap).toMatchObject({
      temperature_max_24h: 40, ecc_sbe_increase_24h: 0, pcie_replays_per_min_1h: null, history_s: 0,
    });
    const noGap = last([sample(T0, before), sample(T0 + 23 * HOUR, after)]);
    expect(noGap).toMatchObject({ temperature_max_24h: 90, ecc_sbe_increase_24h: 5, history_s: 23 * 3600 });
  });

  it('does not record a sample older than the newest: features stand as they are, with its own margin', () => {
    const engine = new FeatureEngine();
    const newest = run([
      sample(T0, { temperature_gpu_c: 50, ecc_volatile_sbe: 1 }),
      sample(T0 + MINUTE, { temperature_gpu_c: 60, ecc_volatile_sbe: 2 }),
    ], engine).at(-1)!;
    const late = engine.update(sample(T0 + 30 * SECOND, {
      temperature_gpu_c: 99, temperature_slowdown_c: 89, ecc_volatile_sbe: 100,
      xid_events: [{ time: T0, code: 79, pci_id: '0000:3b:00', message: 'test' }],
    }));
    expect(late).toEqual({ ...newest, slowdown_margin_c: -10 });
    const next = engine.update(sample(T0 + 2 * MINUTE, { temperature_gpu_c: 70, ecc_volatile_sbe: 3 }));
    expect(next).toMatchObject({ temperature_max_5m: 70, temperature_mean_5m: 60, ecc_sbe_increase_1h: 2, xid_count_1h: 0 });
  });

  it('records a gpu_lost sample: time advances, no readings are added', () => {
    const engine = new FeatureEngine();
    engine.update(sample(T0, { temperature_gpu_c: 50, temperature_slowdown_c: 89 }));
    const lost = engine.update(sample(T0 + MINUTE, { gpu_lost: true }));
    expect(lost).toMatchObject({ temperature_mean_5m: 50, temperature_std_5m: 0, slowdown_margin_c: null, history_s: 60 });
    const later = engine.update(sample(T0 + 10 * MINUTE, { gpu_lost: true }));
    expect(later).toMatchObject({ temperature_mean_5m: null, temperature_mean_1h: 50, history_s: 600 });
  });

  it('keeps samples with equal times', () => {
    const f = last([sample(T0, { temperature_gpu_c: 50 }), sample(T0, { temperature_gpu_c: 70 })]);
    expect(f).toMatchObject({ temperature_mean_5m: 60, history_s: 0 });
  });
});

describe('FeatureEngine: GPUs and determinism', () => {
  it('is deterministic, and a GPU\'s features do not depend on the other GPUs it shares the engine with', () => {
    const a = randomSamples(1, 400, 'GPU-a');
    const b = randomSamples(2, 400, 'GPU-b');
    const alone = JSON.stringify(run(a));
    expect(JSON.stringify(run(a))).toBe(alone);
    const shared = new FeatureEngine();
    const interleaved = a.map((s, i) => {
      shared.update(b[i]!);
      return shared.update(s);
    });
    expect(JSON.stringify(interleaved)).toBe(alone);
    expect(shared.size).toBe(2);
  });

  it('forgets a GPU: its slot is reused without leaking the old state', () => {
    const engine = new FeatureEngine();
    run(randomSamples(3, 200, 'GPU-a'), engine);
    engine.forget('GPU-a');
    engine.forget('GPU-unknown');
    expect(engine.size).toBe(0);
    const fresh = engine.update(sample(T0 + 1000 * HOUR, { gpu_uuid: 'GPU-b', temperature_gpu_c: 30, ecc_volatile_sbe: 5 }));
    expect(fresh).toEqual(new FeatureEngine().update(sample(T0 + 1000 * HOUR, { gpu_uuid: 'GPU-b', temperature_gpu_c: 30, ecc_volatile_sbe: 5 })));
    expect(engine.size).toBe(1);
  });

  it('handles the random sequences without producing a non-finite number or an out-of-range duty or history', () => {
    const faults: string[] = [];
    for (let seed = 10; seed < 20; seed++) {
      run(randomSamples(seed, 500)).forEach((f, i) => {
        const numbers = Object.values(f).filter((value) => value !== null);
        const duties = [f.throttle_thermal_duty_1h, f.throttle_power_cap_duty_1h, f.throttle_hw_slowdown_duty_1h].filter((d) => d !== null);
        if (!numbers.every(Number.isFinite)) faults.push(`seed ${seed} sample ${i}: non-finite`);
        if (!duties.every((d) => d >= 0 && d <= 1)) faults.push(`seed ${seed} sample ${i}: duty`);
        if (f.history_s === null || f.history_s < 0 || f.history_s > 24 * 3600) faults.push(`seed ${seed} sample ${i}: history`);
      });
    }
    expect(faults).toEqual([]);
  });
});

describe('FeatureEngine: memory', () => {
  it('keeps a small, fixed state per GPU', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const used = (): number => {
      gc();
      const memory = process.memoryUsage();
      return memory.heapUsed + memory.arrayBuffers;
    };
    const gpus = 10_000;
    const uuids = Array.from({ length: gpus }, (_, g) => `GPU-${String(g).padStart(8, '0')}-0000-0000-0000-000000000000`);
    const before = used();
    const engine = new FeatureEngine();
    for (let round = 0; round < 3; round++) {
      for (const uuid of uuids) engine.update(sample(T0 + round * 60_000, { gpu_uuid: uuid, temperature_gpu_c: 50, ecc_volatile_sbe: round }));
    }
    const perGpu = (used() - before) / gpus;
    expect(engine.size).toBe(gpus);
    expect(STATE_BYTES).toBeLessThanOrEqual(4096);
    expect(perGpu).toBeLessThan(4096 + 256);
  });
});
