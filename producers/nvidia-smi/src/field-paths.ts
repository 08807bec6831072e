import type { GpuSample } from '@gpumon/schemas/types.generated';

/**
 * Where each GpuSample reading sits below `<gpu>`, across nvidia-smi schema versions.
 *
 * Each field lists its places newest layout first; the first one that holds a reading wins, and
 * N/A falls through to the next. The table is keyed by field rather than by DOCTYPE version
 * because the layout follows the driver, not the DTD number: v12 captures from driver 525 still
 * print `power_readings` and `clocks_throttle_reasons`, a v12 capture from driver 570 already
 * splits `sram_uncorrectable` into parity and SEC-DED, and two v13 captures disagree on whether
 * temperature thresholds are absolute.
 *
 * A place written as a list is a sum of parts (see ECC below).
 */
type Place = string | readonly string[];

type NullableKey<T> = {
  [K in keyof GpuSample]-?: null extends GpuSample[K] ? (GpuSample[K] extends T | null ? K : never) : never;
}[keyof GpuSample];

/**
 * Numbers read elsewhere: gpu_index is the position in the XML, the P-state and process count have
 * their own forms, the slowdown margin is a difference of two readings (parse.ts).
 */
// interval_s is the agent's own measure between rounds (known-gpus.ts), not something nvidia-smi prints.
type TabledNumberKey = Exclude<
  NullableKey<number>,
  'gpu_index' | 'performance_state' | 'process_count' | 'interval_s' | 'temperature_slowdown_margin_c'
>;
/** Strings read elsewhere: the driver and CUDA versions sit in the document header, the schema in the DOCTYPE. */
type TabledStringKey = Exclude<NullableKey<string>, 'driver_version' | 'cuda_version' | 'nvsmi_schema'>;

export interface NumberSpec {
  /** The unit the text must carry ('' for a plain count). */
  unit: string;
  integer: boolean;
  from: readonly Place[];
}

const quantity = (unit: string, ...from: Place[]): NumberSpec => ({ unit, integer: false, from });
const count = (unit: string, ...from: Place[]): NumberSpec => ({ unit, integer: true, from });

/**
 * ECC error totals, by layout:
 * - the older layout (Pascal boards on drivers 418 and 525 among the fixtures):
 *   `{volatile,aggregate}/{single,double}_bit/total`, the driver's own sum over device memory,
 *   register file, caches and the rest;
 * - the newer layout: `sram_correctable + dram_correctable` for single-bit (correctable) errors and
 *   `sram_uncorrectable + dram_uncorrectable` for double-bit (uncorrectable) ones;
 * - drivers 570+ split `sram_uncorrectable` into `sram_uncorrectable_parity + sram_uncorrectable_secded`.
 * Parts reading N/A are left out of a sum; a sum with no part reading is null.
 */
function eccSum(scope: 'volatile' | 'aggregate', kind: 'correctable' | 'uncorrectable'): NumberSpec {
  const base = `ecc_errors/${scope}`;
  const total = `${base}/${kind === 'correctable' ? 'single_bit' : 'double_bit'}/total`;
  const parts = kind === 'correctable'
    ? [`${base}/sram_correctable`, `${base}/dram_correctable`]
    : [
        `${base}/sram_uncorrectable`,
        `${base}/sram_uncorrectable_parity`,
        `${base}/sram_uncorrectable_secded`,
        `${base}/dram_uncorrectable`,
      ];
  return count('', total, parts);
}

const PCIE = 'pci/pci_gpu_link_info';

export const NUMBER_FIELDS: Readonly<Record<TabledNumberKey, NumberSpec>> = {
  utilization_gpu_pct: quantity('%', 'utilization/gpu_util'),
  utilization_memory_pct: quantity('%', 'utilization/memory_util'),
  utilization_encoder_pct: quantity('%', 'utilization/encoder_util'),
  utilization_decoder_pct: quantity('%', 'utilization/decoder_util'),
  memory_total_mib: quantity('MiB', 'fb_memory_usage/total'),
  memory_used_mib: quantity('MiB', 'fb_memory_usage/used'),
  memory_free_mib: quantity('MiB', 'fb_memory_usage/free'),
  memory_reserved_mib: quantity('MiB', 'fb_memory_usage/reserved'),
  bar1_total_mib: quantity('MiB', 'bar1_memory_usage/total'),
  bar1_used_mib: quantity('MiB', 'bar1_memory_usage/used'),
  temperature_gpu_c: quantity('C', 'temperature/gpu_temp'),
  temperature_memory_c: quantity('C', 'temperature/memory_temp'),
  // Absolute thresholds only. Ada and later boards on drivers 575+ print them instead as signed
  // margins on the T.Limit scale (`gpu_temp_*_tlimit_threshold`, e.g. "-7 C"), which are not
  // temperatures: those boards get null here (their slowdown margin is read from TLIMIT_SCALE).
  temperature_shutdown_c: quantity('C', 'temperature/gpu_temp_max_threshold'),
  temperature_slowdown_c: quantity('C', 'temperature/gpu_temp_slow_threshold'),
  temperature_max_operating_c: quantity('C', 'temperature/gpu_temp_max_gpu_threshold'),
  temperature_memory_max_c: quantity('C', 'temperature/gpu_temp_max_mem_threshold'),
  // Drivers 530+ print `gpu_power_readings`; drivers 570+ replace its power_draw by
  // instant_power_draw + average_power_draw. Older ones print `power_readings`, whose
  // enforced_power_limit (the limit in effect) is preferred over power_limit (the one requested).
  power_draw_w: quantity('W', 'gpu_power_readings/instant_power_draw', 'gpu_power_readings/power_draw', 'power_readings/power_draw'),
  power_draw_average_w: quantity('W', 'gpu_power_readings/average_power_draw'),
  power_limit_w: quantity('W', 'gpu_power_readings/current_power_limit', 'power_readings/enforced_power_limit', 'power_readings/power_limit'),
  power_limit_default_w: quantity('W', 'gpu_power_readings/default_power_limit', 'power_readings/default_power_limit'),
  power_limit_min_w: quantity('W', 'gpu_power_readings/min_power_limit', 'power_readings/min_power_limit'),
  power_limit_max_w: quantity('W', 'gpu_power_readings/max_power_limit', 'power_readings/max_power_limit'),
  clock_graphics_mhz: quantity('MHz', 'clocks/graphics_clock'),
  clock_sm_mhz: quantity('MHz', 'clocks/sm_clock'),
  clock_memory_mhz: quantity('MHz', 'clocks/mem_clock'),
  clock_video_mhz: quantity('MHz', 'clocks/video_clock'),
  clock_graphics_max_mhz: quantity('MHz', 'max_clocks/graphics_clock'),
  clock_sm_max_mhz: quantity('MHz', 'max_clocks/sm_clock'),
  clock_memory_max_mhz: quantity('MHz', 'max_clocks/mem_clock'),
  fan_speed_pct: quantity('%', 'fan_speed'),
  ecc_volatile_sbe: eccSum('volatile', 'correctable'),
  ecc_volatile_dbe: eccSum('volatile', 'uncorrectable'),
  ecc_aggregate_sbe: eccSum('aggregate', 'correctable'),
  ecc_aggregate_dbe: eccSum('aggregate', 'uncorrectable'),
  retired_pages_sbe: count('', 'retired_pages/multiple_single_bit_retirement/retired_count'),
  retired_pages_dbe: count('', 'retired_pages/double_bit_retirement/retired_count'),
  // The whole `remapped_rows` element reads N/A on boards without row remapping and while MIG
  // instances are active.
  remapped_rows_correctable: count('', 'remapped_rows/remapped_row_corr'),
  remapped_rows_uncorrectable: count('', 'remapped_rows/remapped_row_unc'),
  // `max_link_gen` is the highest generation GPU and host reach together (newer drivers also
  // print the device's and the host's own maxima).
  pcie_link_gen: count('', `${PCIE}/pcie_gen/current_link_gen`),
  pcie_link_gen_max: count('', `${PCIE}/pcie_gen/max_link_gen`),
  pcie_link_width: count('x', `${PCIE}/link_widths/current_link_width`),
  pcie_link_width_max: count('x', `${PCIE}/link_widths/max_link_width`),
  pcie_replay_count: count('', 'pci/replay_counter'),
  pcie_replay_rollover_count: count('', 'pci/replay_rollover_counter'),
  pcie_tx_kbps: quantity('KB/s', 'pci/tx_util'),
  pcie_rx_kbps: quantity('KB/s', 'pci/rx_util'),
};

/**
 * The T.Limit scale: `gpu_temp_tlimit` is how many °C the hottest internal sensor is below T.Limit,
 * and slowdown starts where it reaches `gpu_temp_slow_tlimit_threshold` (e.g. "-2 C"). That sensor
 * is not `gpu_temp`, so the scale gives the slowdown margin but no absolute threshold.
 */
export const TLIMIT_SCALE = {
  margin: quantity('C', 'temperature/gpu_temp_tlimit'),
  slowdown: quantity('C', 'temperature/gpu_temp_slow_tlimit_threshold'),
} as const satisfies Record<string, NumberSpec>;

/** Drivers before about 535 call clock event reasons "throttle reasons"; the reasons themselves kept their names. */
const clockEvent = (reason: string): readonly string[] => [
  `clocks_event_reasons/clocks_event_reason_${reason}`,
  `clocks_throttle_reasons/clocks_throttle_reason_${reason}`,
];

export const FLAG_FIELDS: Readonly<Record<NullableKey<boolean>, readonly string[]>> = {
  throttle_gpu_idle: clockEvent('gpu_idle'),
  throttle_applications_clocks_setting: clockEvent('applications_clocks_setting'),
  throttle_sw_power_cap: clockEvent('sw_power_cap'),
  throttle_hw_slowdown: clockEvent('hw_slowdown'),
  throttle_hw_thermal_slowdown: clockEvent('hw_thermal_slowdown'),
  throttle_hw_power_brake_slowdown: clockEvent('hw_power_brake_slowdown'),
  throttle_sw_thermal_slowdown: clockEvent('sw_thermal_slowdown'),
  throttle_sync_boost: clockEvent('sync_boost'),
  throttle_display_clocks_setting: clockEvent('display_clocks_setting'),
  ecc_mode_enabled: ['ecc_mode/current_ecc'],
  retired_pages_pending: ['retired_pages/pending_retirement'],
  remapped_rows_pending: ['remapped_rows/remapped_row_pending'],
  remapped_rows_failure: ['remapped_rows/remapped_row_failure'],
  mig_mode_enabled: ['mig_mode/current_mig'],
};

export const STRING_FIELDS: Readonly<Record<TabledStringKey, readonly string[]>> = {
  serial: ['serial'],
  // Minimal outputs (no `pci` details) still carry the bus id as the `<gpu id="…">` attribute.
  pci_bus_id: ['pci/pci_bus_id', '$/id'],
  product_name: ['product_name'],
  architecture: ['product_architecture'],
  vbios_version: ['vbios_version'],
};
