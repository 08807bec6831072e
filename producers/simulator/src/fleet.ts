import { FeatureEngine } from '@gpumon/features/engine';
import { lostSample } from '@gpumon/schemas/lost-sample';
import type { GpuSample, SimulatedFault, XidEvent } from '@gpumon/schemas/types.generated';
import type { ActiveFault, FaultTimeline, PlannedFault } from './faults/fault.js';
import { FAULT_SPECS } from './faults/kinds.js';
import { drawRandomFault } from './faults/rates.js';
import { GPU_MODELS, type GpuModel } from './gpu-models.js';
import { busyShare, localHour, utcOffsetHours } from './load.js';
import { createRandom, normal, seedFrom } from './random.js';
import { scenarioFaultsByGpu, type Scenario, type ScenarioFault } from './scenario-faults.js';
import type { GpuState } from './state.js';
import { GpuWorkloads } from './workloads/attribution.js';
import { lanesOfGpu, rackOf } from './workloads/lanes.js';
import { placeHost, type FleetPlan, type HostPlacement } from './workloads/placement.js';

export interface FleetOptions {
  seed: number;
  hosts: number;
  gpusPerHost: number;
  hostPrefix: string;
  /** Multiplies the default annual fault rates; 0: no random faults. Default 1. */
  faultRateScale?: number;
  /** Faults placed on chosen GPUs; without one, every GPU draws random faults. */
  scenario?: Scenario;
  /**
   * Simulate who holds each GPU (processes, workloads, MIG slices). Default true; the training
   * dataset, which never reads them, turns it off to save their cost on every reading.
   */
  attribution?: boolean;
  /**
   * Build only the GPUs [from, to) of the fleet's order (a worker thread's slice); each still
   * reads exactly as in the whole fleet, since a board's readings depend on the seed and its place only.
   */
  slice?: { from: number; to: number };
}

const AMBIENT_C = 24;
const DRIVER = { driver_version: '550.90.07', cuda_version: '12.4' };
/** Thermal time constant of a loaded board with its heat sink (s). */
const THERMAL_TAU_S = 60;
/** Utilization follows a job's target with this time constant (s). */
const UTILIZATION_TAU_S = 30;
/** PCI buses of the eight GPUs of an HGX board; hosts with more GPUs continue in the next PCI domain. */
const PCI_BUSES = ['18', '2a', '3a', '5d', '9a', 'ab', 'ba', 'db'] as const;

/** A board's place among the fleet's clusters, which fixes who holds it over time. */
export interface WorkloadSeat {
  plan: FleetPlan;
  rack: readonly HostPlacement[];
  host: HostPlacement;
}

/**
 * One simulated board: its identity and fault are fixed by the seed and its place in the fleet;
 * its readings evolve tick by tick and depend only on the sequence of tick times.
 */
export class SimulatedGpu {
  readonly uuid: string;
  private readonly serial: string;
  private readonly pciBusId: string;
  private readonly pciId: string;
  private readonly random: () => number;
  private readonly state: GpuState;
  private lastMs: number | undefined;
  private timeline: FaultTimeline | null = null;
  private fault: ActiveFault | null = null;
  private readonly workloads: GpuWorkloads | null;

  constructor(
    readonly hostname: string,
    readonly index: number,
    readonly model: GpuModel,
    /** Hours the host's local time is ahead of UTC; its daily load cycle follows local time. */
    readonly utcOffsetHours: number,
    /** The fault this GPU will go through, if any. */
    readonly plannedFault: PlannedFault | null,
    private readonly seed: number,
    /** Where the board sits among the fleet's clusters; without it, readings carry no attribution (processes and workloads null). */
    seat: WorkloadSeat | null = null,
  ) {
    const hex = seedFrom(seed, hostname, index).toString(16).padStart(8, '0') +
      seedFrom(seed, hostname, index, 'uuid').toString(16).padStart(8, '0') +
      seedFrom(seed, hostname, index, 'uuid2').toString(16).padStart(8, '0') +
      seedFrom(seed, hostname, index, 'uuid3').toString(16).padStart(8, '0');
    this.uuid = `GPU-${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
    this.serial = `SIM${seedFrom(this.uuid).toString().padStart(10, '0')}`;
    const domain = Math.floor(index / PCI_BUSES.length).toString(16).padStart(4, '0');
    const bus = PCI_BUSES[index % PCI_BUSES.length] as string;
    this.pciBusId = `0000${domain}:${bus.toUpperCase()}:00.0`;
    this.pciId = `${domain}:${bus}:00`;
    this.random = createRandom(seedFrom(seed, hostname, index, 'readings'));
    this.workloads = seat === null ? null : new GpuWorkloads(lanesOfGpu(seat.plan, seat.rack, seat.host, index, this.uuid), model.memoryTotalMib);
    this.state = {
      utilization: 0, jobTarget: 0, jobMemoryFraction: 0, jobRemainingS: 0, jobPid: 0,
      temperatureC: AMBIENT_C + 6, temperatureExcessC: 0, clockFactor: 1, powerBrake: false,
      eccVolatileSbe: 0, eccAggregateSbe: Math.floor(this.random() * 4), eccVolatileDbe: 0, eccAggregateDbe: 0,
      retiredPagesSbe: 0, retiredPagesDbe: 0, retiredPagesPending: false,
      remappedRowsCorrectable: 0, remappedRowsUncorrectable: 0, remappedRowsPending: false, remappedRowsFailure: false,
      pcieReplays: 0, pcieGenCap: model.pcieGen, pcieWidth: model.pcieWidth,
    };
  }

  /** When this GPU's fault begins and when the GPU fails: the ground truth, known from the first reading on. */
  get faultTimeline(): FaultTimeline | null {
    return this.timeline;
  }

  /** The board's reading at `timeMs`; the first call is the simulation's start. */
  sample(timeMs: number): GpuSample {
    const m = this.model;
    const s = this.state;
    const r = this.random;
    const first = this.lastMs === undefined;
    const fromMs = this.lastMs ?? -Infinity;
    const dtS = first ? 0 : (timeMs - fromMs) / 1000;
    this.lastMs = timeMs;
    if (first && this.plannedFault !== null) this.timeline = timelineOf(this.plannedFault, timeMs);

    const timeline = this.timeline;
    const active = timeline !== null && timeMs >= timeline.onsetMs;
    const failed = active && timeMs >= timeline.failureMs;
    if (active && this.fault === null) {
      this.fault = FAULT_SPECS[timeline.kind].start({
        model: m, timeline, pciId: this.pciId, gpuIndex: this.index,
        random: createRandom(seedFrom(this.seed, this.hostname, this.index, 'fault')),
      });
    }

    if (failed) {
      // A failed GPU's job dies and the scheduler gives it no more work.
      s.jobTarget = 0;
      s.jobPid = 0;
      s.jobRemainingS = Infinity;
      s.utilization = 0;
    } else {
      this.churnJobs(timeMs, dtS, first);
    }
    const busy = Math.round(s.utilization) > 0;

    const loadPower = m.idlePowerW + (m.powerLimitW - m.idlePowerW) * (s.utilization / 100) ** 1.15 * s.clockFactor ** 1.5;
    const steadyC = AMBIENT_C + 6 + (loadPower / m.powerLimitW) * 48;
    s.temperatureC += (steadyC - s.temperatureC) * (first ? 1 : 1 - Math.exp(-dtS / THERMAL_TAU_S));

    const xids: XidEvent[] = [];
    const fault = active ? this.fault : null;
    fault?.advance(s, fromMs, timeMs, xids);
    const label = timeline !== null && active ? labelOf(timeline, failed) : null;

    const util = Math.round(s.utilization);
    const temperature = Math.round(s.temperatureC + s.temperatureExcessC + normal(r) * 0.4);
    const swThermal = temperature >= m.maxOperatingC;
    const hwThermal = temperature >= m.slowdownC;
    // Software thermal slowdown trims clocks progressively; hardware slowdown (thermal or power
    // brake) pins them low.
    let clockFactor = swThermal ? 1 - 0.4 * Math.min(1, (temperature - m.maxOperatingC) / (m.slowdownC - m.maxOperatingC)) : 1;
    if (hwThermal) clockFactor = Math.min(clockFactor, 0.4);
    if (s.powerBrake) clockFactor = Math.min(clockFactor, 0.25);
    s.clockFactor = clockFactor;
    const brakeCapW = m.idlePowerW + 0.15 * (m.powerLimitW - m.idlePowerW);
    const power = round2(clamp(loadPower + normal(r) * 3, m.idlePowerW * 0.9, s.powerBrake ? brakeCapW : m.powerLimitW));

    // Correctable ECC errors and PCIe replays are rare and random on a healthy board.
    if (r() < 0.00005 * dtS) { s.eccVolatileSbe++; s.eccAggregateSbe++; }
    if (r() < 0.0001 * dtS) s.pcieReplays++;

    const memoryUsed = Math.round(busy ? m.memoryTotalMib * s.jobMemoryFraction : 0.5);
    // A job's process holds memory; utilization still decaying after it ended, or an idle blip, is no process.
    const attribution = this.workloads?.at(timeMs, failed ? null : { running: busy && s.jobMemoryFraction > 0, memoryUsedMib: memoryUsed, pid: s.jobPid }) ?? null;
    const graphics = busy ? Math.round(m.graphicsMaxMhz * (0.9 + r() * 0.1) * clockFactor) : 210;
    const linkShare = s.pcieWidth / m.pcieWidth;
    const sample: GpuSample = {
      time: timeMs,
      gpu_uuid: this.uuid,
      hostname: this.hostname,
      source: 'SIMULATOR',
      gpu_index: this.index,
      serial: this.serial,
      pci_bus_id: this.pciBusId,
      product_name: m.productName,
      architecture: m.architecture,
      driver_version: DRIVER.driver_version,
      cuda_version: DRIVER.cuda_version,
      vbios_version: '96.00.99.00.01',
      nvsmi_schema: null,
      utilization_gpu_pct: util,
      utilization_memory_pct: Math.round(util * 0.6),
      utilization_encoder_pct: 0,
      utilization_decoder_pct: 0,
      memory_total_mib: m.memoryTotalMib,
      memory_used_mib: memoryUsed,
      memory_free_mib: m.memoryTotalMib - m.memoryReservedMib - memoryUsed,
      memory_reserved_mib: m.memoryReservedMib,
      bar1_total_mib: m.bar1TotalMib,
      bar1_used_mib: busy ? 64 : 2,
      temperature_gpu_c: temperature,
      temperature_memory_c: m.memoryMaxC === null ? null : temperature + 4,
      temperature_shutdown_c: m.shutdownC,
      temperature_slowdown_c: m.slowdownC,
      temperature_max_operating_c: m.maxOperatingC,
      temperature_memory_max_c: m.memoryMaxC,
      temperature_slowdown_margin_c: m.slowdownC - temperature,
      power_draw_w: power,
      power_draw_average_w: power,
      power_limit_w: m.powerLimitW,
      power_limit_default_w: m.powerLimitW,
      power_limit_min_w: m.powerLimitMinW,
      power_limit_max_w: m.powerLimitMaxW,
      clock_graphics_mhz: graphics,
      clock_sm_mhz: graphics,
      clock_memory_mhz: busy ? m.memoryMaxMhz : 405,
      clock_video_mhz: busy ? Math.round(graphics * 0.9) : 555,
      clock_graphics_max_mhz: m.graphicsMaxMhz,
      clock_sm_max_mhz: m.graphicsMaxMhz,
      clock_memory_max_mhz: m.memoryMaxMhz,
      performance_state: busy ? 0 : 8,
      fan_speed_pct: null,
      throttle_gpu_idle: !busy,
      throttle_applications_clocks_setting: false,
      throttle_sw_power_cap: power >= m.powerLimitW * 0.98,
      throttle_hw_slowdown: hwThermal || s.powerBrake,
      throttle_hw_thermal_slowdown: hwThermal,
      throttle_hw_power_brake_slowdown: s.powerBrake,
      throttle_sw_thermal_slowdown: swThermal,
      throttle_sync_boost: false,
      throttle_display_clocks_setting: false,
      ecc_mode_enabled: true,
      ecc_volatile_sbe: s.eccVolatileSbe,
      ecc_volatile_dbe: s.eccVolatileDbe,
      ecc_aggregate_sbe: s.eccAggregateSbe,
      ecc_aggregate_dbe: s.eccAggregateDbe,
      retired_pages_sbe: m.remapsRows ? null : s.retiredPagesSbe,
      retired_pages_dbe: m.remapsRows ? null : s.retiredPagesDbe,
      retired_pages_pending: m.remapsRows ? null : s.retiredPagesPending,
      remapped_rows_correctable: m.remapsRows ? s.remappedRowsCorrectable : null,
      remapped_rows_uncorrectable: m.remapsRows ? s.remappedRowsUncorrectable : null,
      remapped_rows_pending: m.remapsRows ? s.remappedRowsPending : null,
      remapped_rows_failure: m.remapsRows ? s.remappedRowsFailure : null,
      pcie_link_gen: busy ? Math.min(m.pcieGen, s.pcieGenCap) : 1,
      pcie_link_gen_max: m.pcieGen,
      pcie_link_width: s.pcieWidth,
      pcie_link_width_max: m.pcieWidth,
      pcie_replay_count: s.pcieReplays,
      pcie_replay_rollover_count: 0,
      pcie_tx_kbps: busy ? Math.round((2000 + r() * 50_000) * linkShare) : 0,
      pcie_rx_kbps: busy ? Math.round((2000 + r() * 50_000) * linkShare) : 0,
      process_count: attribution === null ? (busy ? 1 : 0) : attribution.processes.length,
      mig_mode_enabled: this.workloads?.migMode === true ? true : m.remapsRows && m.architecture !== 'Ada Lovelace' ? false : null,
      mig_instances: attribution?.migInstances ?? [],
      processes: attribution?.processes ?? null,
      workloads: attribution?.workloads ?? null,
      attribution_problems: [],
      xid_events: xids,
      gpu_lost: false,
      features: null,
      simulated_fault: label,
      interval_s: first ? null : dtS,
    };
    if (failed && fault?.lostWhenFailed === true) {
      return { ...lostSample(sample, timeMs), xid_events: xids, simulated_fault: label, interval_s: sample.interval_s };
    }
    return failed && fault?.unreadableWhenFailed === true ? unreadable(sample) : sample;
  }

  /**
   * Jobs come and go, busy jobs more often in the host's working hours; between jobs the GPU
   * idles. The first reading finds the fleet in the middle of its jobs.
   */
  private churnJobs(timeMs: number, dtS: number, first: boolean): void {
    const s = this.state;
    const r = this.random;
    s.jobRemainingS -= dtS;
    if (s.jobRemainingS <= 0) {
      const busy = r() < busyShare(localHour(timeMs, this.utcOffsetHours));
      s.jobTarget = busy ? 55 + r() * 45 : 0;
      s.jobMemoryFraction = busy ? 0.3 + r() * 0.65 : 0;
      s.jobPid = busy ? 1000 + Math.floor(r() * 4_000_000) : 0;
      s.jobRemainingS = (busy ? 1800 + r() * 14_400 : 900 + r() * 5400) * (first ? r() : 1);
    }
    const pull = first ? 1 : 1 - Math.exp(-dtS / UTILIZATION_TAU_S);
    s.utilization = clamp(s.utilization + (s.jobTarget - s.utilization) * pull + normal(r) * (s.jobTarget > 0 ? 4 : 0.3), 0, 100);
  }
}

/**
 * A fleet of hosts with `gpusPerHost` boards of one model each, fixed by the seed. Its readings
 * carry the edge features of the shared feature engine, as the agent's do.
 */
export class SimulatedFleet {
  readonly gpus: SimulatedGpu[] = [];
  private readonly features = new FeatureEngine();

  constructor(options: FleetOptions) {
    const scale = options.faultRateScale ?? 1;
    const scenario = options.scenario;
    const placed = scenario === undefined ? new Map<string, ScenarioFault>() : scenarioFaultsByGpu(scenario, options.hosts, options.gpusPerHost);
    const randomFaults = scale > 0 && (scenario?.randomFaults ?? true);
    const width = Math.max(3, String(options.hosts).length);
    const placements = Array.from({ length: options.hosts }, (_, k) => {
      const hostname = `${options.hostPrefix}-${String(k + 1).padStart(width, '0')}`;
      return placeHost(options, k + 1, hostname, pickModel(createRandom(seedFrom(options.seed, hostname, 'model'))()));
    });
    const { from, to } = options.slice ?? { from: 0, to: options.hosts * options.gpusPerHost };
    for (const host of placements) {
      const { hostname, model, number: h } = host;
      const first = (h - 1) * options.gpusPerHost;
      if (first + options.gpusPerHost <= from || first >= to) continue;
      const utcOffset = utcOffsetHours(createRandom(seedFrom(options.seed, hostname, 'utc-offset'))());
      const rack = rackOf(placements, host);
      for (let i = Math.max(0, from - first); i < Math.min(options.gpusPerHost, to - first); i++) {
        const chosen = placed.get(`${h}:${i}`);
        const planned = chosen !== undefined
          ? { kind: chosen.kind, onset: chosen.onset, durationMs: chosen.durationMs ?? FAULT_SPECS[chosen.kind].defaultDurationMs }
          : randomFaults ? drawRandomFault(createRandom(seedFrom(options.seed, hostname, i, 'faults')), model, scale) : null;
        const seat = options.attribution === false ? null : { plan: options, rack, host };
        this.gpus.push(new SimulatedGpu(hostname, i, model, utcOffset, planned, options.seed, seat));
      }
    }
  }

  /** The readings at `timeMs` of the boards [from, to) (default: every board); a board's first reading is its simulation's start. */
  sample(timeMs: number, from = 0, to = this.gpus.length): GpuSample[] {
    const samples = new Array<GpuSample>(to - from);
    for (let i = from; i < to; i++) samples[i - from] = this.sampleOf(i, timeMs);
    return samples;
  }

  /** The reading at `timeMs` of board `i` in the fleet's order, with its features. */
  sampleOf(i: number, timeMs: number): GpuSample {
    const sample = (this.gpus[i] as SimulatedGpu).sample(timeMs);
    sample.features = this.features.update(sample);
    return sample;
  }
}

function timelineOf(planned: PlannedFault, startMs: number): FaultTimeline {
  const onsetMs = 'atMs' in planned.onset ? planned.onset.atMs : startMs + planned.onset.afterStartMs;
  return { kind: planned.kind, onsetMs, failureMs: onsetMs + planned.durationMs };
}

function labelOf(timeline: FaultTimeline, failed: boolean): SimulatedFault {
  return { kind: timeline.kind, phase: failed ? 'FAILED' : 'PRECURSOR', onset_time: timeline.onsetMs, failure_time: timeline.failureMs };
}

/** The readings that need the GSP: nvidia-smi prints ERR! for them once it stops answering. */
function unreadable(sample: GpuSample): GpuSample {
  return {
    ...sample,
    utilization_gpu_pct: null, utilization_memory_pct: null, utilization_encoder_pct: null, utilization_decoder_pct: null,
    memory_used_mib: null, memory_free_mib: null, bar1_used_mib: null,
    temperature_gpu_c: null, temperature_memory_c: null, temperature_slowdown_margin_c: null, power_draw_w: null, power_draw_average_w: null,
    clock_graphics_mhz: null, clock_sm_mhz: null, clock_memory_mhz: null, clock_video_mhz: null, performance_state: null,
    throttle_gpu_idle: null, throttle_applications_clocks_setting: null, throttle_sw_power_cap: null, throttle_hw_slowdown: null,
    throttle_hw_thermal_slowdown: null, throttle_hw_power_brake_slowdown: null, throttle_sw_thermal_slowdown: null,
    throttle_sync_boost: null, throttle_display_clocks_setting: null,
    pcie_link_gen: null, pcie_link_width: null, pcie_tx_kbps: null, pcie_rx_kbps: null, process_count: null,
    processes: null, mig_instances: sample.mig_instances.map((instance) => ({ ...instance, memory_used_mib: null })),
  };
}


function pickModel(u: number): GpuModel {
  let acc = 0;
  for (const model of GPU_MODELS) {
    acc += model.weight;
    if (u < acc) return model;
  }
  return GPU_MODELS[GPU_MODELS.length - 1] as GpuModel;
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
