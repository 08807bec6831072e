import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SimulatedFleet, type FleetOptions } from './fleet.js';
import { loadScenario } from './scenario.js';

const START = Date.parse('2026-01-05T00:00:00Z');
const everyFault = loadScenario(fileURLToPath(new URL('../scenarios/every-fault.yaml', import.meta.url)));

/** What attribution adds or may change; everything else is a reading the failure model was trained on. */
const ATTRIBUTION_FIELDS = new Set(['process_count', 'mig_mode_enabled', 'mig_instances', 'processes', 'workloads', 'attribution_problems']);

/** sha256 of every reading (features included) of the fleet over `ticks`, attribution left out. */
function readingsDigest(options: FleetOptions, ticks: number, intervalMs: number): string {
  const fleet = new SimulatedFleet(options);
  const hash = createHash('sha256');
  for (let k = 0; k < ticks; k++) {
    for (const sample of fleet.sample(START + k * intervalMs)) {
      hash.update(JSON.stringify(sample, (key, value: unknown) => (ATTRIBUTION_FIELDS.has(key) ? undefined : value)));
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
});
