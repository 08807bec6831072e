import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '@gpumon/runtime/config';
import { lostSample } from '@gpumon/schemas/lost-sample';
import type { GpuFeatures, GpuSample } from '@gpumon/schemas/types.generated';
import { SimulatedFleet } from '@gpumon/simulator/fleet';
import { detectAnomalies, pcieReplayLimitPerMin } from './detect.js';
import { thresholdOptions } from './options.js';

const thresholds = loadConfig(thresholdOptions, {}, {});

/** A healthy fleet after 8 simulated hours at one reading a minute: real readings with real features. */
function healthyFleet(): GpuSample[] {
  const fleet = new SimulatedFleet({ seed: 3, hosts: 6, gpusPerHost: 8, hostPrefix: 'p', faultRateScale: 0 });
  const start = Date.parse('2026-01-05T00:00:00Z');
  let last: GpuSample[] = [];
  for (let minute = 0; minute <= 8 * 60; minute++) last = fleet.sample(start + minute * 60_000);
  return last;
}

const healthy = healthyFleet();
const idle = healthy.filter((s) => s.utilization_gpu_pct === 0 && s.remapped_rows_pending !== null);
const base = idle[0]!;
const features = base.features!;

function withFeatures(patch: Partial<GpuFeatures>, sample: GpuSample = base): GpuSample {
  return { ...sample, features: { ...sample.features!, ...patch } };
}

function kinds(sample: GpuSample): string[] {
  return detectAnomalies(sample, thresholds).map((a) => `${a.kind}/${a.severity}`);
}

function xids(...codes: number[]): GpuSample['xid_events'] {
  return codes.map((code) => ({ time: base.time, code, pci_id: '0000:18:00', message: `test ${code}` }));
}

describe('hard rules', () => {
  it('finds nothing on a healthy fleet', () => {
    expect(healthy.length).toBe(48);
    expect(idle.length).toBeGreaterThan(3);
    expect(healthy.flatMap((s) => detectAnomalies(s, thresholds))).toEqual([]);
  });

  it('flags double-bit ECC errors as critical, with the count and a baseline of 0', () => {
    const [anomaly] = detectAnomalies({ ...base, ecc_volatile_dbe: 2 }, thresholds);
    expect(anomaly).toMatchObject({
      kind: 'ecc_dbe', severity: 'CRITICAL', metric: 'ecc_volatile_dbe', value: 2, baseline: 0, score: null,
      dedup_key: `ecc_dbe:${base.gpu_uuid}`, time: base.time, hostname: base.hostname,
    });
    expect(anomaly?.message).toContain('2 uncorrectable');
  });

  it('rates Xids by the catalog: DCGM FAIL critical, others warnings, application errors and unknown codes informational', () => {
    const found = detectAnomalies({ ...base, xid_events: xids(79, 63, 13, 999, 63) }, thresholds);
    expect(found.map((a) => [a.kind, a.severity, a.value, a.dedup_key])).toEqual([
      ['xid', 'INFO', 1, `xid:${base.gpu_uuid}:13`],
      ['xid', 'WARNING', 2, `xid:${base.gpu_uuid}:63`],
      ['xid_critical', 'CRITICAL', 1, `xid_critical:${base.gpu_uuid}:79`],
      ['xid', 'INFO', 1, `xid:${base.gpu_uuid}:999`],
    ]);
    expect(found[1]?.message).toContain('Xid 63 (row remap or page retirement recorded) ×2');
    expect(kinds({ ...base, xid_events: xids(48, 64, 74, 95, 119, 120) }).every((k) => k === 'xid_critical/CRITICAL')).toBe(true);
    expect(kinds({ ...base, xid_events: xids(31, 43, 92, 94) })).toEqual(['xid/INFO', 'xid/INFO', 'xid/WARNING', 'xid/WARNING']);
  });

  it('flags row-remap failure, pending remaps and retirements, and DCGM\'s page and row limits', () => {
    expect(kinds({ ...base, remapped_rows_failure: true })).toEqual(['row_remap_failure/CRITICAL']);
    expect(kinds({ ...base, remapped_rows_pending: true })).toEqual(['row_remap_pending/WARNING']);
    expect(kinds({ ...base, retired_pages_pending: true })).toEqual(['page_retirement_pending/WARNING']);
    expect(kinds({ ...base, retired_pages_sbe: 60, retired_pages_dbe: 2 })).toEqual([]);
    expect(kinds({ ...base, retired_pages_sbe: 60, retired_pages_dbe: 3 })).toEqual(['retired_pages_limit/CRITICAL']);
    expect(kinds({ ...base, remapped_rows_uncorrectable: 511 })).toEqual([]);
    expect(kinds({ ...base, remapped_rows_uncorrectable: 512 })).toEqual(['remapped_rows_limit/WARNING']);
  });

  it('flags thermal slowdown against the threshold crossed, critical at the shutdown threshold', () => {
    const hot = { ...base, temperature_gpu_c: 88, throttle_sw_thermal_slowdown: true };
    const [sw] = detectAnomalies(hot, thresholds);
    expect(sw).toMatchObject({ kind: 'thermal_slowdown', severity: 'WARNING', metric: 'temperature_gpu_c', value: 88, baseline: base.temperature_max_operating_c });
    const [hw] = detectAnomalies({ ...hot, throttle_hw_thermal_slowdown: true }, thresholds);
    expect(hw).toMatchObject({ severity: 'WARNING', baseline: base.temperature_slowdown_c, dedup_key: sw?.dedup_key });
    expect(kinds({ ...hot, throttle_hw_thermal_slowdown: true, temperature_gpu_c: base.temperature_shutdown_c })).toEqual(['thermal_slowdown/CRITICAL']);
  });

  it('flags the power brake, a narrowed PCIe link and a GPU off the bus', () => {
    expect(kinds({ ...base, throttle_hw_power_brake_slowdown: true })).toEqual(['power_brake/WARNING']);
    const [narrow] = detectAnomalies({ ...base, pcie_link_width: 8 }, thresholds);
    expect(narrow).toMatchObject({ kind: 'pcie_link_narrow', severity: 'WARNING', value: 8, baseline: 16 });
    const lost = { ...lostSample(base, base.time + 60_000), features: base.features, xid_events: xids(79) };
    expect(kinds(lost)).toEqual(['gpu_lost/CRITICAL', 'xid_critical/CRITICAL']);
  });
});

describe('statistical rules', () => {
  const stdT = Math.max(features.temperature_std_24h!, thresholds.temperatureStdFloorC);

  it('flags a temperature excursion the power does not explain, after the minimum history', () => {
    const hot = withFeatures({ temperature_mean_5m: features.temperature_mean_24h! + 5 * stdT });
    const [anomaly] = detectAnomalies(hot, thresholds);
    expect(anomaly).toMatchObject({
      kind: 'temperature_zscore', severity: 'WARNING', metric: 'features.temperature_mean_5m',
      value: hot.features!.temperature_mean_5m, baseline: features.temperature_mean_24h, dedup_key: `temperature_zscore:${base.gpu_uuid}`,
    });
    expect(anomaly!.score).toBeGreaterThanOrEqual(thresholds.zThreshold);
    const loaded = withFeatures({ ...hot.features, power_mean_5m: features.power_mean_24h! + 10 * Math.max(features.power_std_24h!, 35) });
    expect(kinds(loaded).filter((k) => k.startsWith('temperature'))).toEqual([]);
    expect(kinds(withFeatures({ ...hot.features, history_s: thresholds.minHistoryS - 1 }))).toEqual([]);
  });

  it('floors the std, so a flat history does not make a small wiggle an anomaly', () => {
    expect(kinds(withFeatures({ temperature_std_24h: 0, temperature_mean_5m: features.temperature_mean_24h! + 2 }))).toEqual([]);
  });

  it('flags power above what the utilization explains', () => {
    const floor = base.power_limit_w! * (thresholds.powerStdFloorPct / 100);
    const drawn = withFeatures({ power_mean_5m: features.power_mean_24h! + 6 * Math.max(features.power_std_24h!, floor) });
    expect(kinds(drawn)).toEqual(['power_zscore/WARNING']);
    expect(kinds(withFeatures({ ...drawn.features, utilization_mean_5m: features.utilization_mean_24h! + 10 * Math.max(features.utilization_std_24h!, 5) }))).toEqual([]);
  });

  it('flags a correctable-ECC rate at the limit', () => {
    expect(kinds(withFeatures({ ecc_sbe_increase_1h: thresholds.sbePerHour - 1 }))).toEqual([]);
    const [anomaly] = detectAnomalies(withFeatures({ ecc_sbe_increase_1h: 2 * thresholds.sbePerHour }), thresholds);
    expect(anomaly).toMatchObject({ kind: 'ecc_sbe_rate', value: 2 * thresholds.sbePerHour, baseline: thresholds.sbePerHour, score: 2 });
  });

  it('holds PCIe replays against DCGM\'s limit for the current link', () => {
    expect([pcieReplayLimitPerMin(4, 16), pcieReplayLimitPerMin(5, 16), pcieReplayLimitPerMin(1, 16), pcieReplayLimitPerMin(9, 16)]).toEqual([16, 31, 3, null]);
    const gen4 = { ...base, pcie_link_gen: 4, pcie_link_width: 16, pcie_link_width_max: 16 };
    expect(kinds(withFeatures({ pcie_replays_per_min_5m: 16 }, gen4))).toEqual([]);
    const [anomaly] = detectAnomalies(withFeatures({ pcie_replays_per_min_5m: 32 }, gen4), thresholds);
    expect(anomaly).toMatchObject({ kind: 'pcie_replay_rate', severity: 'WARNING', value: 32, baseline: 16, score: 2 });
  });

  it('flags a shrinking slowdown margin', () => {
    expect(kinds(withFeatures({ slowdown_margin_c: thresholds.slowdownMarginC + 1 }))).toEqual([]);
    expect(kinds(withFeatures({ slowdown_margin_c: thresholds.slowdownMarginC }))).toEqual(['slowdown_margin/WARNING']);
  });

  it('flags throttle duty cycles, and hardware slowdown only when neither thermal slowdown nor the brake explains it', () => {
    const duty = 2 * thresholds.throttleDuty;
    const keys = (patch: Partial<GpuFeatures>) => detectAnomalies(withFeatures(patch), thresholds).map((a) => a.dedup_key);
    expect(keys({ throttle_thermal_duty_1h: duty, throttle_hw_slowdown_duty_1h: duty })).toEqual([`throttle_duty:${base.gpu_uuid}:throttle_thermal_duty_1h`]);
    expect(keys({ throttle_power_brake_duty_1h: duty, throttle_hw_slowdown_duty_1h: duty })).toEqual([`throttle_duty:${base.gpu_uuid}:throttle_power_brake_duty_1h`]);
    expect(keys({ throttle_hw_slowdown_duty_1h: duty })).toEqual([`throttle_duty:${base.gpu_uuid}:throttle_hw_slowdown_duty_1h`]);
    expect(keys({ throttle_power_cap_duty_1h: 1 })).toEqual([]);
  });
});

describe('properties', () => {
  const quiet = fc.record({
    sample: fc.constantFrom(...idle),
    jitterC: fc.double({ min: -2, max: 2, noNaN: true }),
    sbe: fc.nat(thresholds.sbePerHour - 1),
    replaysPerMin: fc.double({ min: 0, max: 2, noNaN: true }),
  });

  it('finds nothing on a healthy idle GPU with ordinary noise', () => {
    fc.assert(fc.property(quiet, ({ sample, jitterC, sbe, replaysPerMin }) => {
      const f = sample.features!;
      const noisy = withFeatures({
        temperature_mean_5m: f.temperature_mean_5m! + jitterC, ecc_sbe_increase_1h: sbe, pcie_replays_per_min_5m: replaysPerMin,
      }, { ...sample, temperature_gpu_c: sample.temperature_gpu_c! + Math.round(jitterC), ecc_volatile_sbe: sbe });
      return detectAnomalies(noisy, thresholds).length === 0;
    }), { numRuns: 500 });
  });

  it('never removes the double-bit anomaly when double-bit errors grow', () => {
    fc.assert(fc.property(fc.constantFrom(...healthy), fc.integer({ min: 1, max: 1000 }), fc.nat(1000), (sample, dbe, more) => {
      const has = (n: number) => detectAnomalies({ ...sample, ecc_volatile_dbe: n }, thresholds).some((a) => a.kind === 'ecc_dbe');
      return has(dbe) && has(dbe + more);
    }), { numRuns: 300 });
  });

  it('keeps the dedup keys of an ongoing anomaly across consecutive samples whose values change', () => {
    const ongoing = fc.record({ dbe: fc.integer({ min: 1, max: 50 }), temperature: fc.integer({ min: 90, max: 95 }), sbe: fc.integer({ min: 10, max: 10_000 }), xid: fc.constantFrom(48, 63, 79, 92) });
    fc.assert(fc.property(fc.constantFrom(...healthy), ongoing, ongoing, (sample, a, b) => {
      const at = (o: typeof a, time: number) => withFeatures({ ecc_sbe_increase_1h: o.sbe }, {
        ...sample, time, ecc_volatile_dbe: o.dbe, temperature_gpu_c: o.temperature, throttle_hw_thermal_slowdown: true,
        xid_events: [{ time, code: a.xid, pci_id: '0000:18:00', message: 'm' }],
      });
      const keys = (s: GpuSample) => detectAnomalies(s, thresholds).map((x) => x.dedup_key).sort();
      const first = keys(at(a, sample.time));
      return first.length >= 4 && JSON.stringify(first) === JSON.stringify(keys(at(b, sample.time + 60_000)));
    }), { numRuns: 300 });
  });
});
