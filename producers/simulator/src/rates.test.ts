import { describe, expect, it } from 'vitest';
import { FAULT_KINDS, type FaultKind } from './faults/fault.js';
import { ANNUAL_RATES, annualRate } from './faults/rates.js';
import { SimulatedFleet } from './fleet.js';

const YEAR_MS = 365.25 * 24 * 3_600_000;

/** Random faults whose onset falls within `windowMs` of the start, by kind. */
function onsets(fleet: SimulatedFleet, windowMs: number): Record<FaultKind, number> {
  const counts = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
  for (const gpu of fleet.gpus) {
    const fault = gpu.plannedFault;
    if (fault !== null && 'afterStartMs' in fault.onset && fault.onset.afterStartMs < windowMs) counts[fault.kind]++;
  }
  return counts;
}

describe('random fault rates', () => {
  it('derive from the published fleet figures: ~11 % of GPUs a year, ~3 % memory', () => {
    const total = Object.values(ANNUAL_RATES).reduce((a, b) => a + b, 0);
    expect(total).toBeCloseTo(0.108, 3);
    expect(ANNUAL_RATES.ecc_storm + ANNUAL_RATES.row_remap_failure).toBeGreaterThan(0.029);
  });

  it('realise the configured rates per kind and per model (100,000 GPUs, half a year, twice the default rates)', () => {
    const scale = 2;
    const fleet = new SimulatedFleet({ seed: 99, hosts: 12_500, gpusPerHost: 8, hostPrefix: 'r', faultRateScale: scale });
    const windowMs = YEAR_MS / 2;
    const observed = onsets(fleet, windowMs);
    for (const kind of FAULT_KINDS) {
      // The first fault of each GPU wins: a kind's count is its share of 1 − e^(−total rate × window).
      let expected = 0;
      for (const gpu of fleet.gpus) {
        const total = FAULT_KINDS.reduce((sum, k) => sum + annualRate(k, gpu.model, scale), 0);
        expected += (annualRate(kind, gpu.model, scale) / total) * (1 - Math.exp(-total * 0.5));
      }
      expect(Math.abs(observed[kind] - expected), `${kind}: ${observed[kind]} vs ${expected.toFixed(0)}`).toBeLessThan(5 * Math.sqrt(expected));
    }
    const memoryFaultsPerGpu = (product: string) => {
      const gpus = fleet.gpus.filter((g) => g.model.productName === product);
      const memory = gpus.filter((g) => g.plannedFault !== null && 'afterStartMs' in g.plannedFault.onset &&
        g.plannedFault.onset.afterStartMs < windowMs && ['ecc_storm', 'row_remap_failure'].includes(g.plannedFault.kind));
      return memory.length / gpus.length;
    };
    expect(memoryFaultsPerGpu('NVIDIA H100 80GB HBM3')).toBeGreaterThan(2.5 * memoryFaultsPerGpu('NVIDIA A100-SXM4-80GB'));
  });

  it('give a 1,000-GPU fleet a handful of faults in 30 days, and none at scale 0', () => {
    const month = 30 * 24 * 3_600_000;
    const fleet = new SimulatedFleet({ seed: 1, hosts: 125, gpusPerHost: 8, hostPrefix: 'r' });
    const faults = Object.values(onsets(fleet, month)).reduce((a, b) => a + b, 0);
    expect(faults).toBeGreaterThanOrEqual(2);
    expect(faults).toBeLessThanOrEqual(20);
    const none = new SimulatedFleet({ seed: 1, hosts: 125, gpusPerHost: 8, hostPrefix: 'r', faultRateScale: 0 });
    expect(none.gpus.every((g) => g.plannedFault === null)).toBe(true);
  });
});
