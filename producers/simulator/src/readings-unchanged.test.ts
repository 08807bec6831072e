import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SimulatedFleet, type FleetOptions } from './fleet.js';
import { loadScenario } from './scenario.js';

const START = Date.parse('2026-01-05T00:00:00Z');
const everyFault = loadScenario(fileURLToPath(new URL('../scenarios/every-fault.yaml', import.meta.url)));

/** What attribution adds or may change; everything else is a reading the failure model was trained on. */
const ATTRIBUTION_FIELDS = new Set(['process_count', 'mig_mode_enabled', 'mig_instances', 'processes', 'workloads', 'attribution_problems']);

/** sha256 of every reading (features included) of the fleet over `ticks`, attribution left out unless `attribution`. */
function readingsDigest(options: FleetOptions, ticks: number, intervalMs: number, attribution = false): string {
  const fleet = new SimulatedFleet(options);
  const hash = createHash('sha256');
  for (let k = 0; k < ticks; k++) {
    for (const sample of fleet.sample(START + k * intervalMs)) {
      hash.update(JSON.stringify(sample, (key, value: unknown) => (!attribution && ATTRIBUTION_FIELDS.has(key) ? undefined : value)));
    }
  }
  return hash.digest('hex');
}

// Digests of the simulator's output before workloads were simulated (commit 017fa93): the dataset
// the failure model was trained on must not move when the workload layer changes.
describe('readings under simulated workloads', () => {
  it('are those of the simulator before workloads, fault by fault (every-fault scenario, 12 h at 1 min)', () => {
    const options: FleetOptions = { seed: 7, hosts: 4, gpusPerHost: 8, hostPrefix: 'sim', scenario: everyFault };
    expect(readingsDigest(options, 720, 60_000)).toBe('947252bb56111d87aed173997608f4837ecfdb91522225e2fb6d581284965a4f');
  });

  it('are those of the simulator before workloads, random faults on 128 GPUs (2 h at 10 s)', () => {
    const options: FleetOptions = { seed: 11, hosts: 16, gpusPerHost: 8, hostPrefix: 'sim', faultRateScale: 300 };
    expect(readingsDigest(options, 720, 10_000)).toBe('34c2fd73778d20a74881e8aef375b0ded75225686ff74ad623057e1e60e01099');
  });

  // Attribution included, digest of commit f291f1b: drawing a lane's tenants as readings reach them,
  // rather than a whole epoch's at once, must not move a single reading.
  it('with their attribution, are those of the tenants of a whole epoch drawn at once (128 GPUs, 5 h at 1 min)', () => {
    const options: FleetOptions = { seed: 11, hosts: 16, gpusPerHost: 8, hostPrefix: 'sim' };
    expect(readingsDigest(options, 300, 60_000, true)).toBe('c08354031a31e1468ae79c91d3c36cd2094c8ca1ea63c97986d484811bd1831c');
  });
});
