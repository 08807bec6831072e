import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { GpuSample } from '@gpumon/schemas/types.generated';
import { FAULT_KINDS, type FaultKind } from './faults/fault.js';
import { SimulatedFleet, SimulatedGpu } from './fleet.js';
import { GPU_MODELS, type GpuModel } from './gpu-models.js';
import { loadScenario } from './scenario.js';

const START = Date.parse('2026-01-05T00:00:00Z');
const HOUR = 3_600_000;
const ONSET = START + HOUR;
const [H100, A100, , , T4] = GPU_MODELS as [GpuModel, GpuModel, GpuModel, GpuModel, GpuModel];

/** One GPU from an hour before the onset of `kind` to two hours after its failure. */
function timeline(kind: FaultKind, model: GpuModel, durationMs: number, intervalMs = 10_000) {
  const gpu = new SimulatedGpu('f-001', 2, model, 0, { kind, onset: { afterStartMs: HOUR }, durationMs }, 11);
  const failure = ONSET + durationMs;
  const samples: GpuSample[] = [];
  for (let t = START; t <= failure + 2 * HOUR; t += intervalMs) samples.push(gpu.sample(t));
  return {
    samples,
    failure,
    precursor: samples.filter((s) => s.time >= ONSET && s.time < failure),
    failed: samples.filter((s) => s.time >= failure),
    xids: samples.flatMap((s) => s.xid_events),
  };
}

const firstTime = (samples: GpuSample[], test: (s: GpuSample) => boolean) => samples.find(test)?.time ?? Infinity;

describe('fault timelines', () => {
  it.each(FAULT_KINDS.flatMap((kind) => [[kind, H100], [kind, T4]] as const))('%s labels every reading from onset, phase by failure time (%s)', (kind, model) => {
    const { samples, failure } = timeline(kind, model, 2 * HOUR, 30_000);
    for (const s of samples) {
      if (s.time < ONSET) expect(s.simulated_fault).toBeNull();
      else expect(s.simulated_fault).toEqual({ kind, phase: s.time < failure ? 'PRECURSOR' : 'FAILED', onset_time: ONSET, failure_time: failure });
      for (const x of s.xid_events) expect(x).toMatchObject({ pci_id: '0000:3a:00', message: expect.stringMatching(/^pid=/) });
    }
  });

  it('thermal_cooling: heats past max operating, then slowdown (sw then hw flags, clocks down), and fails at shutdown', () => {
    const { precursor, failed, failure } = timeline('thermal_cooling', H100, 6 * HOUR);
    const sw = firstTime(precursor, (s) => s.throttle_sw_thermal_slowdown === true);
    const hw = firstTime(precursor, (s) => s.throttle_hw_thermal_slowdown === true && s.throttle_hw_slowdown === true);
    expect(sw).toBeLessThan(hw);
    expect(hw).toBeLessThan(failure);
    expect(precursor.find((s) => s.time === hw)!.temperature_gpu_c).toBeGreaterThanOrEqual(H100.slowdownC);
    expect(precursor[0]!.temperature_gpu_c).toBeLessThan(H100.maxOperatingC - 5);
    const hot = precursor.filter((s) => s.throttle_hw_thermal_slowdown && s.utilization_gpu_pct! > 0);
    expect(hot.length).toBeGreaterThan(0);
    for (const s of hot) expect(s.clock_graphics_mhz).toBeLessThanOrEqual(0.4 * H100.graphicsMaxMhz);
    for (const s of failed) {
      expect(s.temperature_gpu_c).toBeGreaterThanOrEqual(H100.shutdownC - 1);
      expect(s).toMatchObject({ utilization_gpu_pct: 0, throttle_hw_thermal_slowdown: true, gpu_lost: false });
    }
  });

  it('ecc_storm: correctable errors accelerate, Xid 92 then 63 (pending remap), then 48 and 64 with a remap failure', () => {
    const { precursor, failed, failure, xids } = timeline('ecc_storm', H100, 36 * HOUR, 60_000);
    const sbeIn = (from: number, to: number) =>
      precursor.find((s) => s.time >= to)!.ecc_volatile_sbe! - precursor.find((s) => s.time >= from)!.ecc_volatile_sbe!;
    expect(sbeIn(ONSET + 33 * HOUR, ONSET + 35 * HOUR)).toBeGreaterThan(20 * Math.max(1, sbeIn(ONSET, ONSET + 2 * HOUR)));
    expect(xids.map((x) => x.code)).toEqual([92, 63, 48, 64]);
    expect(xids.slice(2).map((x) => x.time)).toEqual([failure, failure]);
    expect(precursor.at(-1)).toMatchObject({ remapped_rows_pending: true, remapped_rows_correctable: 1, remapped_rows_failure: false, ecc_volatile_dbe: 0 });
    for (const s of failed) expect(s).toMatchObject({ remapped_rows_failure: true, ecc_volatile_dbe: 1, utilization_gpu_pct: 0, gpu_lost: false });
  });

  it('ecc_storm on a pre-Ampere board retires pages instead of remapping rows', () => {
    const { failed, xids } = timeline('ecc_storm', T4, 12 * HOUR, 60_000);
    expect(xids.map((x) => x.code)).toEqual([92, 63, 48, 64]);
    expect(xids[1]!.message).toContain('Dynamic Page Retirement');
    for (const s of failed) {
      expect(s).toMatchObject({ retired_pages_sbe: 1, retired_pages_pending: true, ecc_volatile_dbe: 1, remapped_rows_failure: null, remapped_rows_pending: null });
    }
  });

  it('row_remap_failure: uncorrectable remaps come faster and faster, then a remap fails (Xid 64)', () => {
    const { precursor, failed, failure, xids } = timeline('row_remap_failure', A100, 24 * HOUR, 60_000);
    const remaps = xids.filter((x) => x.code === 63).map((x) => x.time);
    expect(remaps).toHaveLength(7);
    expect(remaps.at(-1)! - remaps.at(-2)!).toBeLessThan(remaps[1]! - remaps[0]!);
    expect(xids.filter((x) => x.code === 94)).toHaveLength(8);
    expect(xids.at(-1)).toMatchObject({ code: 64, time: failure });
    expect(precursor.at(-1)).toMatchObject({ remapped_rows_uncorrectable: 7, remapped_rows_pending: true, remapped_rows_failure: false });
    for (const s of failed) expect(s).toMatchObject({ remapped_rows_uncorrectable: 7, remapped_rows_failure: true, ecc_volatile_dbe: 8 });
  });

  it('row_remap_failure on a pre-Ampere board climbs in retired pages', () => {
    const { failed, xids } = timeline('row_remap_failure', T4, 24 * HOUR, 60_000);
    expect(xids.filter((x) => x.code === 48)).toHaveLength(8);
    expect(xids.at(-1)!.code).toBe(64);
    for (const s of failed) expect(s).toMatchObject({ retired_pages_dbe: 7, retired_pages_pending: true, remapped_rows_uncorrectable: null });
  });

  it('gsp_error: abrupt: one Xid 119 at onset, then at failure; afterwards every query times out and live readings are null', () => {
    const { precursor, failed, failure, xids } = timeline('gsp_error', H100, 5 * 60_000);
    expect(xids[0]).toMatchObject({ code: 119, time: ONSET });
    expect(xids[1]).toMatchObject({ time: failure });
    expect([119, 120]).toContain(xids[1]!.code);
    expect(precursor.every((s) => s.temperature_gpu_c !== null)).toBe(true);
    for (const s of failed.slice(1)) {
      expect(s.xid_events.map((x) => x.code)).toEqual([119]);
      expect(s).toMatchObject({ gpu_lost: false, utilization_gpu_pct: null, power_draw_w: null, clock_sm_mhz: null, temperature_gpu_c: null });
      expect(s.product_name).toBe(H100.productName);
    }
  });

  it('fall_off_bus: a burst of replays, Xid 79, then lost for good with every reading null', () => {
    const { samples, precursor, failed, failure } = timeline('fall_off_bus', H100, 60_000);
    expect(precursor.at(-1)!.pcie_replay_count!).toBeGreaterThan(precursor[0]!.pcie_replay_count!);
    expect(samples.filter((s) => s.time < failure).every((s) => !s.gpu_lost)).toBe(true);
    expect(failed[0]!.xid_events).toEqual([expect.objectContaining({ code: 79, time: failure, message: expect.stringContaining('fallen off the bus') })]);
    expectLost(failed);
  });

  it('power_brake: brake episodes (power capped, clocks low) grow frequent, then the brake sticks', () => {
    const { precursor, failed } = timeline('power_brake', H100, 12 * HOUR);
    const braked = precursor.filter((s) => s.throttle_hw_power_brake_slowdown);
    expect(braked.length).toBeGreaterThan(0);
    expect(braked.length).toBeLessThan(precursor.length / 2);
    const starts = precursor.filter((s, i) => s.throttle_hw_power_brake_slowdown && !precursor[i - 1]?.throttle_hw_power_brake_slowdown);
    const half = ONSET + 6 * HOUR;
    expect(starts.filter((s) => s.time >= half).length).toBeGreaterThan(2 * starts.filter((s) => s.time < half).length);
    for (const s of [...braked, ...failed]) {
      expect(s).toMatchObject({ throttle_hw_power_brake_slowdown: true, throttle_hw_slowdown: true });
      expect(s.power_draw_w).toBeLessThanOrEqual(H100.idlePowerW + 0.15 * (H100.powerLimitW - H100.idlePowerW));
      expect(s.clock_graphics_mhz).toBeLessThanOrEqual(0.25 * H100.graphicsMaxMhz);
    }
  });

  it('pcie_degradation: replays climb at rising rates, the link narrows then slows, then Xid 79 and lost', () => {
    const { precursor, failed, failure } = timeline('pcie_degradation', A100, 72 * HOUR, 60_000);
    const replaysIn = (from: number, to: number) =>
      precursor.find((s) => s.time >= to)!.pcie_replay_count! - precursor.find((s) => s.time >= from)!.pcie_replay_count!;
    const early = replaysIn(ONSET, ONSET + 6 * HOUR);
    const late = replaysIn(failure - 7 * HOUR, failure - HOUR);
    expect(late).toBeGreaterThan(50 * Math.max(1, early));
    const narrow = firstTime(precursor, (s) => s.pcie_link_width === 8);
    const slow = firstTime(precursor, (s) => s.pcie_link_gen === 2);
    expect(narrow).toBeLessThan(slow);
    expect(slow).toBeLessThan(failure);
    expect(precursor.filter((s) => s.time >= narrow).every((s) => s.pcie_link_width === 8)).toBe(true);
    expect(precursor.filter((s) => s.time >= slow).every((s) => s.pcie_link_gen! <= 2)).toBe(true);
    expect(failed[0]!.xid_events.map((x) => x.code)).toEqual([79]);
    expectLost(failed);
  });

  it('labels exactly the scenario\'s GPUs, from their onsets', () => {
    const scenario = loadScenario(fileURLToPath(new URL('../scenarios/every-fault.yaml', import.meta.url)));
    const fleet = new SimulatedFleet({ seed: 5, hosts: 3, gpusPerHost: 8, hostPrefix: 's', scenario });
    const names = new Map(fleet.gpus.map((g) => [g.uuid, `${g.hostname}/${g.index}`]));
    const labelled = new Map<string, number>();
    for (let k = 0; k < 12 * 60; k++) {
      for (const s of fleet.sample(START + k * 60_000)) {
        const name = names.get(s.gpu_uuid)!;
        if (s.simulated_fault !== null && !labelled.has(name)) labelled.set(name, s.time - START);
      }
    }
    expect(Object.fromEntries(labelled)).toEqual({
      's-001/0': 0.5 * HOUR, 's-001/2': HOUR, 's-001/4': HOUR, 's-001/6': 2 * HOUR,
      's-002/1': 3 * HOUR, 's-002/3': 0.5 * HOUR, 's-002/5': HOUR,
    });
  });
});

function expectLost(samples: GpuSample[]): void {
  for (const s of samples) {
    // The identity stays (as the agent reports a lost GPU: lostSample), every reading goes.
    const {
      time, gpu_uuid, hostname, source, mig_instances, xid_events, attribution_problems, gpu_lost, simulated_fault,
      gpu_index, serial, pci_bus_id, product_name, architecture, driver_version, cuda_version, vbios_version, nvsmi_schema, interval_s,
      ...readings
    } = s;
    expect({ gpu_uuid, hostname, source, mig_instances, attribution_problems, gpu_lost, phase: simulated_fault?.phase, pci_bus_id, product_name, serial }).toMatchObject({
      gpu_uuid: expect.stringMatching(/^GPU-/), hostname: 'f-001', source: 'SIMULATOR', mig_instances: [], attribution_problems: [], gpu_lost: true, phase: 'FAILED',
      pci_bus_id: expect.stringMatching(/^00000000:/), product_name: expect.stringMatching(/^NVIDIA /), serial: expect.stringMatching(/^SIM/),
    });
    expect([gpu_index, architecture, driver_version, cuda_version, vbios_version, nvsmi_schema, interval_s].every((v) => v !== undefined)).toBe(true);
    expect(Object.values(readings).every((v) => v === null), JSON.stringify(readings)).toBe(true);
    if (time > samples[0]!.time) expect(xid_events).toEqual([]);
  }
}
