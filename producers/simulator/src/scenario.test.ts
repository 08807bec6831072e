import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FAULT_KINDS } from './faults/fault.js';
import { SimulatedFleet } from './fleet.js';
import { loadScenario, parseScenario } from './scenario.js';

const START = Date.parse('2026-01-05T00:00:00Z');
const fleet = { seed: 1, hosts: 2, gpusPerHost: 8, hostPrefix: 's' };

describe('fault scenarios', () => {
  it('reads YAML: kinds, GPUs, onsets after the start or at an ISO time, durations', () => {
    const scenario = parseScenario(`
random_faults: false
faults:
  - { kind: ecc_storm, host: 2, gpu: 5, onset: 2h, duration: 36h }
  - { kind: gsp_error, host: 1, gpu: 0, onset: "2026-01-05T06:00:00Z" }
`, 'inline.yaml');
    expect(scenario).toEqual({
      source: 'inline.yaml',
      randomFaults: false,
      faults: [
        { kind: 'ecc_storm', host: 2, gpu: 5, onset: { afterStartMs: 7_200_000 }, durationMs: 129_600_000 },
        { kind: 'gsp_error', host: 1, gpu: 0, onset: { atMs: Date.parse('2026-01-05T06:00:00Z') }, durationMs: undefined },
      ],
    });
    const sim = new SimulatedFleet({ ...fleet, scenario });
    expect(sim.gpus.filter((g) => g.plannedFault !== null).map((g) => [g.hostname, g.index, g.plannedFault])).toEqual([
      ['s-001', 0, { kind: 'gsp_error', onset: { atMs: Date.parse('2026-01-05T06:00:00Z') }, durationMs: 300_000 }],
      ['s-002', 5, { kind: 'ecc_storm', onset: { afterStartMs: 7_200_000 }, durationMs: 129_600_000 }],
    ]);
    const later = sim.sample(START).concat(sim.sample(START + 6 * 3_600_000));
    expect(later.filter((s) => s.simulated_fault !== null).map((s) => s.simulated_fault!.kind).sort()).toEqual(['ecc_storm', 'gsp_error']);
  });

  it('reads JSON, and keeps random faults by default', () => {
    const scenario = parseScenario('{"faults": [{"kind": "fall_off_bus", "host": 1, "gpu": 1, "onset": "90s"}]}', 'x.json');
    expect(scenario.randomFaults).toBe(true);
    expect(scenario.faults[0]!.onset).toEqual({ afterStartMs: 90_000 });
  });

  it('ships every-fault.yaml with one fault of each kind on distinct GPUs of a two-host fleet', () => {
    const scenario = loadScenario(fileURLToPath(new URL('../scenarios/every-fault.yaml', import.meta.url)));
    expect(scenario.faults.map((f) => f.kind).sort()).toEqual([...FAULT_KINDS].sort());
    expect(new SimulatedFleet({ ...fleet, scenario }).gpus.filter((g) => g.plannedFault !== null)).toHaveLength(FAULT_KINDS.length);
  });

  it.each([
    ['faults: [{ kind: meltdown, host: 1, gpu: 0, onset: 1h }]', /bad\.yaml:\n {2}faults\[0\]\.kind: must be one of thermal_cooling, ecc_storm/],
    ['faults: [{ kind: ecc_storm, host: 0, gpu: 0, onset: 1h }]', /faults\[0\]\.host: must be a host number from 1/],
    ['faults: [{ kind: ecc_storm, host: 1, gpu: 0, onset: soon }]', /faults\[0\]\.onset: must be a duration after the start like 2h, or an ISO 8601 time/],
    ['faults: [{ kind: ecc_storm, host: 1, gpu: 0, onset: 1h, duration: 3 }]', /faults\[0\]\.duration: must be a duration like 90s/],
    ['faults: [{ kind: ecc_storm, host: 1, gpu: 0, onset: 1h, gpus: 3 }]', /faults\[0\]: Unrecognized key: "gpus"/],
    ['random_faults: maybe', /random_faults: must be true or false/],
    ['faults: [', /bad\.yaml: not valid YAML or JSON/],
    ['- just a list', /\(top level\): must be a mapping/],
  ])('rejects %j, naming the file and the entry', (text, message) => {
    expect(() => parseScenario(text, 'bad.yaml')).toThrow(message);
  });

  it('rejects faults on GPUs the fleet does not have, or two on one GPU', () => {
    const scenario = parseScenario(`
faults:
  - { kind: ecc_storm, host: 3, gpu: 0, onset: 1h }
  - { kind: gsp_error, host: 1, gpu: 8, onset: 1h }
  - { kind: power_brake, host: 1, gpu: 1, onset: 1h }
  - { kind: fall_off_bus, host: 1, gpu: 1, onset: 2h }
`, 'fleet.yaml');
    expect(() => new SimulatedFleet({ ...fleet, scenario })).toThrow(
      'scenario fleet.yaml:\n' +
      '  faults[0] (ecc_storm on host 3, gpu 0): the fleet has 2 hosts\n' +
      '  faults[1] (gsp_error on host 1, gpu 8): hosts have 8 GPUs, numbered from 0\n' +
      '  faults[3] (fall_off_bus on host 1, gpu 1): that GPU already has a fault',
    );
  });

  it('names a file it cannot read', () => {
    expect(() => loadScenario('/nonexistent/scenario.yaml')).toThrow(/scenario \/nonexistent\/scenario\.yaml: cannot read it/);
  });
});
