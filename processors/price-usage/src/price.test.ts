import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadConfig, renderOptionsTable } from '@gpumon/runtime/config';
import { GpumonError } from '@gpumon/runtime/errors';
import { schemaOf } from '@gpumon/schemas/avro';
import { lostSample } from '@gpumon/schemas/lost-sample';
import type { GpuEconomics, GpuSample, Workload } from '@gpumon/schemas/types.generated';
import { priceUsageOptions } from './options.js';
import { MAX_INTERVAL_S, allocatedUpTo, priceUsage } from './price.js';
import { parsePricing, priceOf } from './pricing.js';
import { parseTeams } from './teams.js';
import { priceUsageProcessor } from './processor.js';

/** 2026-01-01T00:00:00Z, an hour boundary. */
const T0 = 1_767_225_600_000;
const SITE = { electricity_per_kwh: 0.08, pue: 1.5, carbon_kg_per_kwh: 0.39 };
const PRICING = parsePricing({
  currency: 'USD', defaults: SITE,
  models: [{ match: 'H100', hourly_price: 2.99 }, { match: 'A100', amortized: { purchase_price: 15000, years: 4 } }],
}, 'test-pricing.yaml');
const TEAMS = parseTeams({ rules: [{ team_from: 'namespace', match: { kind: 'KUBERNETES_POD' } }, { team_from: 'account' }] }, 'test-teams.yaml');
const H100 = 'NVIDIA H100 80GB HBM3';
const A100 = 'NVIDIA A100-SXM4-80GB';

/** Every field of gpu.samples.v1 at its default (null, [] or false). */
const BLANK = Object.fromEntries(schemaOf('samples').fields.map((field) => [field.name, field.default ?? null])) as unknown as GpuSample;

function sampleOf(fields: Partial<GpuSample>): GpuSample {
  return { ...BLANK, time: T0 + 10_000, gpu_uuid: 'GPU-example', hostname: 'example-host', source: 'SIMULATOR', product_name: H100, interval_s: 10, ...fields };
}

function priced(fields: Partial<GpuSample>, pricing = PRICING): GpuEconomics {
  const economics = priceUsage(sampleOf(fields), pricing, TEAMS);
  if (economics === null) throw new Error('expected a record');
  return economics;
}

function rejection(fields: Partial<GpuSample>, pricing = PRICING): GpumonError {
  try {
    priceUsage(sampleOf(fields), pricing, TEAMS);
  } catch (error) {
    expect(error).toBeInstanceOf(GpumonError);
    expect((error as GpumonError).code).toBe('transform_failed');
    return error as GpumonError;
  }
  throw new Error('expected the sample to be rejected');
}

/** Exact value × 10^5 of a number with at most 2 decimals (the test's powers and prices), as an integer. */
const centi = (x: number): bigint => BigInt(Math.round(x * 100));

/**
 * A GPU sampled for a whole day: every 10 s with up to ±1 s of jitter, and every 700th interval a
 * 3-minute gap. interval_s is computed as producers do, (time − previous) ÷ 1000 in doubles.
 */
function day(product: string): { start: number; end: number; samples: GpuSample[] } {
  const start = T0 + 1_234;
  const samples: GpuSample[] = [];
  let time = start;
  for (let k = 1; time < start + 86_400_000; k++) {
    const previous = time;
    time += k % 700 === 0 ? 180_000 : 10_000 + ((k * 7919) % 2001) - 1000;
    samples.push(sampleOf({
      time, interval_s: (time - previous) / 1000, product_name: product,
      power_draw_average_w: 60 + ((k * 37) % 640) + 0.37, utilization_gpu_pct: (k * 13) % 101,
    }));
  }
  return { start, end: time, samples };
}

describe('money without drift over a day of samples', () => {
  it.each([H100, A100])('%s: allocated costs add up exactly to the price of the whole span', (product) => {
    const { start, end, samples } = day(product);
    expect(samples.length).toBeGreaterThan(8000);
    const records = samples.map((s) => priceUsage(s, PRICING, TEAMS)!);
    const total = records.reduce((sum, r) => sum + BigInt(r.allocated_cost_micros), 0n);
    const { hourlyMicros: hourly, microsPerMs } = priceOf(PRICING, product)!;
    expect(total).toBe(BigInt(allocatedUpTo(microsPerMs, end)) - BigInt(allocatedUpTo(microsPerMs, start)));
    // Within one micro-unit of the exact price of the span: |total × den × 3.6e6 − num × span| < den × 3.6e6.
    const scale = BigInt(hourly.den) * 3_600_000n;
    const off = total * scale - BigInt(hourly.num) * BigInt(end - start);
    expect(off < scale && off > -scale).toBe(true);
  });

  it('energy and used costs are each within half a micro-unit per record of the exact total', () => {
    const { samples } = day(H100);
    const records = samples.map((s) => priceUsage(s, PRICING, TEAMS)!);
    const n = BigInt(records.length);
    // Exact energy cost in micros × 3600 × 10^5: W (2 decimals) × ms × PUE (1 decimal) × $/kWh (2 decimals).
    const energyScale = 3600n * 100_000n;
    const exactEnergy = samples.reduce((sum, s) => sum + centi(s.power_draw_average_w!) * BigInt(Math.round(s.interval_s! * 1000)) * 15n * 8n, 0n);
    const energy = records.reduce((sum, r) => sum + BigInt(r.energy_cost_micros), 0n);
    const energyOff = energy * energyScale - exactEnergy;
    expect(energyOff <= (n * energyScale) / 2n && energyOff >= -(n * energyScale) / 2n).toBe(true);
    // Used cost against the exact allocated × utilization, in micros × 100 (utilization is a whole percent here).
    const exactUsed = records.reduce((sum, r, i) => sum + BigInt(r.allocated_cost_micros) * BigInt(samples[i]!.utilization_gpu_pct!), 0n);
    const usedOff = records.reduce((sum, r) => sum + BigInt(r.used_cost_micros), 0n) * 100n - exactUsed;
    expect(usedOff <= n * 50n && usedOff >= -n * 50n).toBe(true);
  });
});

describe('pricing a sample', () => {
  it('gives no record for a first reading, which closes no interval', () => {
    expect(priceUsage(sampleOf({ interval_s: null }), PRICING, TEAMS)).toBeNull();
    expect(priceUsage(sampleOf({ interval_s: null, product_name: 'NVIDIA B200' }), PRICING, TEAMS)).toBeNull();
  });

  it('rejects a product no entry prices, naming it and the pricing file; a catch-all prices it', () => {
    expect(rejection({ product_name: 'NVIDIA B200' }).message).toBe(
      'no price for GPU GPU-example on example-host: its product "NVIDIA B200" matches no models entry of test-pricing.yaml; add one, or a catch-all (match: "*")',
    );
    expect(rejection({ product_name: null }).message).toContain('its product null matches no models entry');
    const withCatchAll = parsePricing({ currency: 'USD', defaults: SITE, models: [{ match: 'H100', hourly_price: 2.99 }, { match: '*', hourly_price: 1.8 }] }, 'inline');
    expect(priced({ product_name: 'NVIDIA B200', time: T0 + 3_600_000, interval_s: 3600 }, withCatchAll).allocated_cost_micros).toBe(1_800_000);
    expect(priced({ product_name: null, time: T0 + 3_600_000, interval_s: 3600 }, withCatchAll).allocated_cost_micros).toBe(1_800_000);
  });

  it('takes the average power where there is one, else the instantaneous, else none', () => {
    expect(priced({ power_draw_average_w: 360, power_draw_w: 720 }).energy_kwh).toBeCloseTo((360 * 10 * 1.5) / 3.6e6, 15);
    expect(priced({ power_draw_average_w: null, power_draw_w: 720 }).energy_kwh).toBeCloseTo((720 * 10 * 1.5) / 3.6e6, 15);
    const none = priced({ utilization_gpu_pct: 50 });
    expect([none.energy_kwh, none.energy_cost_micros, none.co2e_kg]).toEqual([0, 0, 0]);
    expect(none.allocated_cost_micros).toBe(8305);
  });

  it('charges a lost GPU as allocated and idle, with no energy', () => {
    const last = sampleOf({ power_draw_average_w: 700, utilization_gpu_pct: 100 });
    const lost = priceUsage({ ...lostSample(last, T0 + 20_000), interval_s: 10 }, PRICING, TEAMS)!;
    expect(lost).toMatchObject({
      allocated_cost_micros: 8306, used_cost_micros: 0, idle_cost_micros: 8306, efficiency: 0,
      energy_kwh: 0, energy_cost_micros: 0, co2e_kg: 0, cost_per_used_gpu_hour_micros: null, product_name: H100,
    });
  });

  it('treats a missing utilization as idle', () => {
    expect(priced({ utilization_gpu_pct: null })).toMatchObject({ used_cost_micros: 0, idle_cost_micros: 8305, efficiency: 0, cost_per_used_gpu_hour_micros: null });
    expect(priced({ utilization_gpu_pct: 100 })).toMatchObject({ used_cost_micros: 8305, idle_cost_micros: 0, efficiency: 1, cost_per_used_gpu_hour_micros: 2_990_000 });
    // A trillionth of a percent busy: $2.99 ÷ 1e-14 per used hour is past what a number carries exactly.
    expect(priced({ utilization_gpu_pct: 1e-12 }).cost_per_used_gpu_hour_micros).toBeNull();
  });

  it('charges whole milliseconds, recovering the producers\' interval from its double', () => {
    const previous = T0 + 1;
    const time = T0 + 10_003;
    const economics = priced({ time, interval_s: (time - previous) / 1000 });
    expect(economics.interval_s).toBe(10.002);
    expect(economics.allocated_cost_micros).toBe(Number(BigInt(allocatedUpTo(PRICING.models[0]!.microsPerMs, time)) - BigInt(allocatedUpTo(PRICING.models[0]!.microsPerMs, previous))));
  });

  it.each([
    [{ interval_s: 0 }, 'interval_s is 0; must be at least 0.001 s'],
    [{ interval_s: -10 }, 'interval_s is -10;'],
    [{ interval_s: 0.0004 }, 'interval_s is 0.0004;'],
    [{ interval_s: Number.NaN }, 'interval_s is NaN;'],
    [{ power_draw_average_w: -3 }, 'power_draw_average_w is -3; must be a finite number of watts, at least 0'],
    [{ power_draw_w: -1 }, 'power_draw_w is -1;'],
    [{ power_draw_w: Number.POSITIVE_INFINITY }, 'power_draw_w is Infinity;'],
    [{ utilization_gpu_pct: 100.5 }, 'utilization_gpu_pct is 100.5; must be between 0 and 100 %'],
    [{ utilization_gpu_pct: -1 }, 'utilization_gpu_pct is -1;'],
  ] as Array<[Partial<GpuSample>, string]>)('rejects the impossible reading %o', (fields, why) => {
    expect(rejection(fields).message).toContain(`impossible reading of GPU GPU-example on example-host: ${why}`);
  });

  it('bills no gap longer than a day: nobody knows whether the GPU was allocated', () => {
    expect(priceUsage(sampleOf({ interval_s: MAX_INTERVAL_S + 1 }), PRICING, TEAMS)).toBeNull();
  });

  it('accepts a day-long interval and a 1 ms one', () => {
    expect(priced({ time: T0 + 86_400_000, interval_s: MAX_INTERVAL_S }).allocated_cost_micros).toBe(24 * 2_990_000);
    expect(priced({ interval_s: 0.001 }).interval_s).toBe(0.001);
  });
});

const readings = fc.record({
  time: fc.integer({ min: T0, max: T0 + 10 ** 11 }),
  intervalMs: fc.integer({ min: 1, max: MAX_INTERVAL_S * 1000 }),
  product: fc.constantFrom(H100, A100),
  power: fc.option(fc.double({ min: 0, max: 1000, noNaN: true })),
  average: fc.option(fc.double({ min: 0, max: 1000, noNaN: true })),
  utilization: fc.option(fc.double({ min: 0, max: 100, noNaN: true })),
  lost: fc.boolean(),
});
type Reading = typeof readings extends fc.Arbitrary<infer T> ? T : never;

function economicsOf(r: Reading, intervalMs = r.intervalMs): GpuEconomics {
  return priced({
    time: r.time, interval_s: intervalMs / 1000, product_name: r.product, gpu_lost: r.lost,
    power_draw_w: r.power, power_draw_average_w: r.average, utilization_gpu_pct: r.utilization,
  });
}

describe('properties', () => {
  it('splits allocated cost into used and idle, with efficiency in 0–1 and a cost per used hour only when used', () => {
    fc.assert(fc.property(readings, (r) => {
      const e = economicsOf(r);
      const busy = !r.lost && (r.utilization ?? 0) > 0;
      return e.used_cost_micros + e.idle_cost_micros === e.allocated_cost_micros
        && e.used_cost_micros >= 0 && e.idle_cost_micros >= 0
        && e.efficiency >= 0 && e.efficiency <= 1
        && (e.cost_per_used_gpu_hour_micros === null
          ? !busy || (r.utilization ?? 0) < 1e-6
          : busy && Number.isSafeInteger(e.cost_per_used_gpu_hour_micros))
        && Number.isSafeInteger(e.allocated_cost_micros) && Number.isSafeInteger(e.energy_cost_micros);
    }), { numRuns: 2000 });
  });

  it('charges within one micro-unit of the exact price of the interval', () => {
    fc.assert(fc.property(readings, (r) => {
      const hourly = priceOf(PRICING, r.product)!.hourlyMicros;
      const scale = BigInt(hourly.den) * 3_600_000n;
      const off = BigInt(economicsOf(r).allocated_cost_micros) * scale - BigInt(hourly.num) * BigInt(r.intervalMs);
      return off < scale && off > -scale;
    }), { numRuns: 2000 });
  });

  it('never charges less for a longer interval ending at the same time', () => {
    fc.assert(fc.property(readings, fc.integer({ min: 0, max: 3_600_000 }), (r, more) => {
      const longer = Math.min(r.intervalMs + more, MAX_INTERVAL_S * 1000);
      const [a, b] = [economicsOf(r), economicsOf(r, longer)];
      return a.allocated_cost_micros <= b.allocated_cost_micros && a.energy_cost_micros <= b.energy_cost_micros
        && a.energy_kwh <= b.energy_kwh && a.co2e_kg <= b.co2e_kg;
    }), { numRuns: 2000 });
  });

  it('charges an interval cut in two exactly what it charges it whole', () => {
    fc.assert(fc.property(readings, fc.integer({ min: 1, max: MAX_INTERVAL_S * 1000 - 1 }), (r, cutMs) => {
      const whole = Math.max(r.intervalMs, cutMs + 1);
      const first = economicsOf({ ...r, time: r.time - (whole - cutMs) }, cutMs);
      const second = economicsOf(r, whole - cutMs);
      return first.allocated_cost_micros + second.allocated_cost_micros === economicsOf(r, whole).allocated_cost_micros;
    }), { numRuns: 2000 });
  });
});

describe('the README', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const examples = [...readme.matchAll(/```json worked-example\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]!) as {
    pricing: unknown;
    sample: Partial<GpuSample>;
    expected: Omit<GpuEconomics, 'time' | 'gpu_uuid' | 'hostname' | 'product_name' | 'workloads'>;
  });

  it('has worked examples', () => {
    expect(examples.length).toBeGreaterThanOrEqual(4);
  });

  it.each(examples.map((example, i) => [i + 1, example] as const))('worked example %i holds', (_, { pricing, sample, expected }) => {
    const full = sampleOf({ interval_s: null, product_name: null, ...sample });
    const actual = priceUsage(full, parsePricing(pricing, 'README.md'), TEAMS)!;
    // Measurements are doubles, written in the README to 10 significant digits; money is exact.
    for (const field of ['energy_kwh', 'co2e_kg', 'efficiency', 'interval_s'] as const) {
      expect(Math.abs(actual[field] - expected[field]), field).toBeLessThanOrEqual(Math.abs(expected[field]) * 1e-9);
    }
    // These samples carry no attribution (workloads null), so nothing is split among workloads.
    expect(actual).toEqual({
      ...expected, workloads: [], time: full.time, gpu_uuid: full.gpu_uuid, hostname: full.hostname, product_name: full.product_name,
      energy_kwh: actual.energy_kwh, co2e_kg: actual.co2e_kg, efficiency: actual.efficiency, interval_s: actual.interval_s,
    });
  });

  it('carries the current options table', () => {
    expect(readme).toContain(renderOptionsTable(priceUsageOptions));
  });
});

describe('the processor', () => {
  const transform = priceUsageProcessor.create(loadConfig(priceUsageOptions, {}, {}));

  it('prices with the shipped example by default, one economics record per closed interval', () => {
    expect(transform(sampleOf({ interval_s: null }))).toEqual([]);
    const outputs = transform(sampleOf({ time: T0 + 3_600_000, interval_s: 3600, utilization_gpu_pct: 50 }));
    expect(outputs).toHaveLength(1);
    expect(outputs[0]).toMatchObject({ stream: 'economics', record: { allocated_cost_micros: 2_990_000, used_cost_micros: 1_495_000, currency: 'USD' } });
  });

  it('names teams by the shipped team file by default', () => {
    const workload: Workload = {
      workload_id: 'slurm:4242', kind: 'SLURM_JOB', source: 'simulator', device_uuid: 'GPU-example', gpu_instance_id: null, cluster: null, namespace: null,
      pod: null, pod_uid: null, container: null, job_id: '4242', user: 'alice', account: 'ml-research', partition: 'gpu', pids: [], used_memory_mib: null,
    };
    const outputs = transform(sampleOf({ time: T0 + 3_600_000, interval_s: 3600, workloads: [workload], processes: [] }));
    expect(outputs[0]?.record.workloads).toEqual([expect.objectContaining({ workload_id: 'slurm:4242', team: 'research', share: 1, allocated_cost_micros: 2_990_000 })]);
  });

  it('will not start on a pricing or team file it cannot use', () => {
    const defaults = loadConfig(priceUsageOptions, {}, {});
    expect(() => priceUsageProcessor.create({ ...defaults, pricingFile: '/nonexistent/pricing.yaml' })).toThrow(/cannot read pricing file/);
    expect(() => priceUsageProcessor.create({ ...defaults, teamsFile: '/nonexistent/teams.yaml' })).toThrow(/cannot read team file/);
  });
});
