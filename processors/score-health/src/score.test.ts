import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { GpuSample } from '@gpumon/schemas/types.generated';
import { SimulatedFleet } from '@gpumon/simulator/fleet';
import { BANDS, scoreHealth } from './score.js';

/** A real idle reading of each simulated board model, the base the properties perturb. */
const idle: GpuSample[] = new SimulatedFleet({ seed: 3, hosts: 50, gpusPerHost: 8, hostPrefix: 'p' })
  .sample(1_700_000_000_000)
  .filter((s) => s.utilization_gpu_pct === 0);

const faults = fc.record({
  base: fc.constantFrom(...idle),
  dbe: fc.nat(100),
  sbe: fc.nat(1000),
  pendingRemap: fc.boolean(),
  remapFailure: fc.boolean(),
  thermal: fc.boolean(),
  narrowLink: fc.boolean(),
  xids: fc.array(fc.constantFrom(13, 31, 43, 48, 62, 63, 64, 74, 79, 94, 95, 119, 120), { maxLength: 3 }),
});

function sampleOf(f: typeof faults extends fc.Arbitrary<infer T> ? T : never): GpuSample {
  const rows = f.base.remapped_rows_pending !== null;
  return {
    ...f.base,
    ecc_volatile_dbe: f.dbe,
    ecc_volatile_sbe: f.sbe,
    remapped_rows_pending: rows ? f.pendingRemap : null,
    remapped_rows_failure: rows ? f.remapFailure : null,
    throttle_hw_thermal_slowdown: f.thermal,
    pcie_link_width: f.narrowLink ? 8 : f.base.pcie_link_width,
    xid_events: f.xids.map((code) => ({ time: f.base.time, code, pci_id: '0000:18:00', message: 'test' })),
  };
}

describe('health score', () => {
  it('gives a healthy idle GPU at least 95 and PASS everywhere', () => {
    expect(idle.length).toBeGreaterThan(10);
    for (const sample of idle) {
      const health = scoreHealth(sample);
      expect(health.score).toBeGreaterThanOrEqual(95);
      expect([health.verdict, health.memory, health.thermal_power, health.pcie, health.driver]).toEqual(['PASS', 'PASS', 'PASS', 'PASS', 'PASS']);
    }
  });

  it('keeps every score inside its verdict band, so a FAIL never scores above any WARN nor a WARN above any PASS', () => {
    fc.assert(fc.property(faults, (f) => {
      const health = scoreHealth(sampleOf(f));
      const band = BANDS[health.verdict];
      return health.score <= band.top && health.score >= band.floor && BANDS.FAIL.top < BANDS.WARN.floor && BANDS.WARN.top < BANDS.PASS.floor;
    }), { numRuns: 2000 });
  });

  it('never raises the score when double-bit errors grow', () => {
    fc.assert(fc.property(faults, fc.nat(50), (f, more) => {
      return scoreHealth(sampleOf({ ...f, dbe: f.dbe + more })).score <= scoreHealth(sampleOf(f)).score;
    }), { numRuns: 2000 });
  });

  it('follows the DCGM rules for memory and Xid events', () => {
    const base = idle[0]!;
    expect(scoreHealth({ ...base, ecc_volatile_dbe: 1 }).memory).toBe('FAIL');
    expect(scoreHealth({ ...base, remapped_rows_pending: true }).memory).toBe('WARN');
    expect(scoreHealth({ ...base, remapped_rows_failure: true }).memory).toBe('FAIL');
    const xid = (code: number) => scoreHealth({ ...base, xid_events: [{ time: 0, code, pci_id: 'x', message: 'm' }] }).driver;
    expect([xid(13), xid(31), xid(48), xid(79), xid(119)]).toEqual(['PASS', 'WARN', 'FAIL', 'FAIL', 'FAIL']);
  });

  it('loses points near slowdown by the absolute threshold, or by the margin alone on T.Limit-only boards', () => {
    const near = (s: GpuSample) => scoreHealth(s).reasons.filter((r) => r.code === 'temperature_near_slowdown').map((r) => r.message);
    const base = { ...idle[0]!, temperature_gpu_c: 87, temperature_slowdown_c: 90, temperature_slowdown_margin_c: 3 };
    expect(near(base)).toEqual(['87 °C is within 5 °C of the 90 °C slowdown threshold']);
    const tlimitOnly = { ...base, temperature_shutdown_c: null, temperature_slowdown_c: null, temperature_max_operating_c: null };
    expect(near(tlimitOnly)).toEqual(["within 5 °C of slowdown (3 °C left on the driver's T.Limit scale)"]);
    expect(scoreHealth(tlimitOnly)).toMatchObject({ verdict: 'PASS', thermal_power: 'PASS', score: BANDS.PASS.top - 5 });
    expect(near({ ...tlimitOnly, temperature_slowdown_margin_c: 27 })).toEqual([]);
    expect(near({ ...tlimitOnly, temperature_slowdown_margin_c: 0 })).toEqual([]);
  });

  it('explains every lost point with a reason, worst first', () => {
    const health = scoreHealth({ ...idle[0]!, ecc_volatile_dbe: 2, remapped_rows_pending: true, ecc_volatile_sbe: 3 });
    expect(health.verdict).toBe('FAIL');
    expect(health.reasons.map((r) => [r.code, r.verdict])).toEqual([
      ['ecc_volatile_dbe', 'FAIL'], ['remapped_rows_pending', 'WARN'], ['ecc_volatile_sbe', 'PASS'],
    ]);
    expect(health.score).toBe(BANDS.FAIL.top - 22);
  });
});
