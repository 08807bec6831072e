import type { GpuSample } from '@gpumon/schemas/types.generated';
import { GPU_MODELS, type GpuModel } from './gpu-models.js';
import { createRandom, normal, seedFrom } from './random.js';

export interface FleetOptions {
  seed: number;
  gpus: number;
  gpusPerHost: number;
  hostPrefix: string;
}

const AMBIENT_C = 24;
const DRIVER = { driver_version: '550.90.07', cuda_version: '12.4' };
/** Thermal time constant of a loaded board with its heat sink (s). */
const THERMAL_TAU_S = 60;

interface GpuState {
  utilization: number;
  /** Utilization the current job drives towards; 0 between jobs. */
  jobTarget: number;
  jobMemoryFraction: number;
  jobRemainingS: number;
  temperatureC: number;
  eccVolatileSbe: number;
  eccAggregateSbe: number;
  pcieReplays: number;
}

/** One simulated board: its identity is fixed by the seed and host, its readings evolve tick by tick. */
export class SimulatedGpu {
  readonly uuid: string;
  private readonly random: () => number;
  private readonly state: GpuState;

  constructor(
    readonly hostname: string,
    readonly index: number,
    readonly model: GpuModel,
    seed: number,
  ) {
    const hex = seedFrom(seed, hostname, index).toString(16).padStart(8, '0') +
      seedFrom(seed, hostname, index, 'uuid').toString(16).padStart(8, '0') +
      seedFrom(seed, hostname, index, 'uuid2').toString(16).padStart(8, '0') +
      seedFrom(seed, hostname, index, 'uuid3').toString(16).padStart(8, '0');
    this.uuid = `GPU-${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
    this.random = createRandom(seedFrom(seed, hostname, index, 'readings'));
    this.state = {
      utilization: 0, jobTarget: 0, jobMemoryFraction: 0, jobRemainingS: 0, temperatureC: AMBIENT_C + 6,
      eccVolatileSbe: 0, eccAggregateSbe: Math.floor(this.random() * 4), pcieReplays: 0,
    };
  }

  /** Advances the board by `dtS` seconds and reads it at `timeMs`. */
  sample(timeMs: number, dtS: number): GpuSample {
    const m = this.model;
    const s = this.state;
    const r = this.random;

    // Jobs come and go: most of a training fleet's time is busy, with idle gaps between jobs.
    s.jobRemainingS -= dtS;
    if (s.jobRemainingS <= 0) {
      const busy = r() < 0.8;
      s.jobTarget = busy ? 55 + r() * 45 : 0;
      s.jobMemoryFraction = busy ? 0.3 + r() * 0.65 : 0;
      s.jobRemainingS = (busy ? 1800 + r() * 14_400 : 300 + r() * 3600);
    }
    const pull = 1 - Math.exp(-dtS / 30);
    s.utilization = clamp(s.utilization + (s.jobTarget - s.utilization) * pull + normal(r) * (s.jobTarget > 0 ? 4 : 0.3), 0, 100);
    const util = Math.round(s.utilization);
    const busy = util > 0;

    const power = round2(clamp(m.idlePowerW + (m.powerLimitW - m.idlePowerW) * (util / 100) ** 1.15 + normal(r) * 3, m.idlePowerW * 0.9, m.powerLimitW));
    const steadyC = AMBIENT_C + 6 + (power / m.powerLimitW) * 48;
    s.temperatureC += (steadyC - s.temperatureC) * (1 - Math.exp(-dtS / THERMAL_TAU_S));
    const temperature = Math.round(s.temperatureC + normal(r) * 0.4);

    // Correctable ECC errors are rare and random on a healthy board.
    if (r() < 0.0005 * dtS / 10) { s.eccVolatileSbe++; s.eccAggregateSbe++; }
    if (r() < 0.001 * dtS / 10) s.pcieReplays++;

    const memoryUsed = Math.round(busy ? m.memoryTotalMib * s.jobMemoryFraction : 0.5);
    const graphics = busy ? Math.round(m.graphicsMaxMhz * (0.9 + r() * 0.1)) : 210;
    return {
      time: timeMs,
      gpu_uuid: this.uuid,
      hostname: this.hostname,
      source: 'SIMULATOR',
      gpu_index: this.index,
      serial: `SIM${seedFrom(this.uuid).toString().padStart(10, '0')}`,
      pci_bus_id: `00000000:${(0x18 + this.index * 0x10).toString(16).toUpperCase().padStart(2, '0')}:00.0`,
      product_name: m.productName,
      architecture: m.architecture,
      ...DRIVER,
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
      throttle_hw_slowdown: false,
      throttle_hw_thermal_slowdown: temperature >= m.slowdownC,
      throttle_hw_power_brake_slowdown: false,
      throttle_sw_thermal_slowdown: temperature >= m.maxOperatingC,
      throttle_sync_boost: false,
      throttle_display_clocks_setting: false,
      ecc_mode_enabled: true,
      ecc_volatile_sbe: s.eccVolatileSbe,
      ecc_volatile_dbe: 0,
      ecc_aggregate_sbe: s.eccAggregateSbe,
      ecc_aggregate_dbe: 0,
      retired_pages_sbe: m.remapsRows ? null : 0,
      retired_pages_dbe: m.remapsRows ? null : 0,
      retired_pages_pending: m.remapsRows ? null : false,
      remapped_rows_correctable: m.remapsRows ? 0 : null,
      remapped_rows_uncorrectable: m.remapsRows ? 0 : null,
      remapped_rows_pending: m.remapsRows ? false : null,
      remapped_rows_failure: m.remapsRows ? false : null,
      pcie_link_gen: busy ? m.pcieGen : 1,
      pcie_link_gen_max: m.pcieGen,
      pcie_link_width: m.pcieWidth,
      pcie_link_width_max: m.pcieWidth,
      pcie_replay_count: s.pcieReplays,
      pcie_replay_rollover_count: 0,
      pcie_tx_kbps: busy ? Math.round(2000 + r() * 50_000) : 0,
      pcie_rx_kbps: busy ? Math.round(2000 + r() * 50_000) : 0,
      process_count: busy ? 1 : 0,
      mig_mode_enabled: m.remapsRows && m.architecture !== 'Ada Lovelace' ? false : null,
      mig_instances: [],
      xid_events: [],
      gpu_lost: false,
      features: null,
      simulated_fault: null,
    };
  }
}

/** A fleet of hosts with `gpusPerHost` boards of one model each, fixed by the seed. */
export class SimulatedFleet {
  readonly gpus: SimulatedGpu[] = [];

  constructor(options: FleetOptions) {
    const hosts = Math.ceil(options.gpus / options.gpusPerHost);
    const width = String(hosts).length;
    for (let h = 0; h < hosts; h++) {
      const hostname = `${options.hostPrefix}-${String(h + 1).padStart(Math.max(3, width), '0')}`;
      const model = pickModel(createRandom(seedFrom(options.seed, hostname, 'model'))());
      const onHost = Math.min(options.gpusPerHost, options.gpus - h * options.gpusPerHost);
      for (let i = 0; i < onHost; i++) this.gpus.push(new SimulatedGpu(hostname, i, model, options.seed));
    }
  }

  /** Every board's reading at `timeMs`, `dtS` seconds after the previous one. */
  sample(timeMs: number, dtS: number): GpuSample[] {
    return this.gpus.map((gpu) => gpu.sample(timeMs, dtS));
  }
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
