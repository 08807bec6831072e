import { XID_CATALOG } from '@gpumon/runtime/xid-catalog';
import { slowdownMargin } from '@gpumon/schemas/slowdown-margin';
import type { GpuHealth, GpuSample, HealthReason, HealthSubsystem, HealthVerdict } from '@gpumon/schemas/types.generated';

/**
 * Score bands: the worst verdict picks the band, the penalties of the reasons at that verdict move
 * the score down inside it. So any FAIL scores below any WARN, and any WARN below any PASS.
 */
export const BANDS: Record<HealthVerdict, { top: number; floor: number }> = {
  PASS: { top: 100, floor: 80 },
  WARN: { top: 79, floor: 40 },
  FAIL: { top: 39, floor: 0 },
};

const RANK: Record<HealthVerdict, number> = { PASS: 0, WARN: 1, FAIL: 2 };

/** Retired pages at or above this count fail the memory subsystem (DCGM). */
const RETIRED_PAGES_FAIL = 63;
/** Uncorrectable remapped rows at or above this count warn (DCGM). */
const REMAPPED_UNCORRECTABLE_WARN = 512;
/** Within this many °C of the slowdown threshold a passing GPU loses points. */
const NEAR_SLOWDOWN_C = 5;

function reason(subsystem: HealthSubsystem, verdict: HealthVerdict, code: string, penalty: number, message: string): HealthReason {
  return { subsystem, verdict, code, penalty, message };
}

function memoryReasons(s: GpuSample): HealthReason[] {
  const out: HealthReason[] = [];
  if ((s.ecc_volatile_dbe ?? 0) > 0) {
    out.push(reason('MEMORY', 'FAIL', 'ecc_volatile_dbe', 20 + Math.min(19, s.ecc_volatile_dbe ?? 0),
      `${s.ecc_volatile_dbe} uncorrectable (double-bit) ECC errors since driver load`));
  }
  if (s.remapped_rows_failure === true) {
    out.push(reason('MEMORY', 'FAIL', 'remapped_rows_failure', 25, 'row remapping failed: the GPU needs service'));
  }
  const retired = (s.retired_pages_sbe ?? 0) + (s.retired_pages_dbe ?? 0);
  if (retired >= RETIRED_PAGES_FAIL) {
    out.push(reason('MEMORY', 'FAIL', 'retired_pages_limit', 20, `${retired} retired pages (limit ${RETIRED_PAGES_FAIL})`));
  }
  if (s.retired_pages_pending === true) {
    out.push(reason('MEMORY', 'WARN', 'retired_pages_pending', 15, 'a page retirement waits for the next driver reload'));
  }
  if (s.remapped_rows_pending === true) {
    out.push(reason('MEMORY', 'WARN', 'remapped_rows_pending', 15, 'a row remap waits for the next GPU reset'));
  }
  if ((s.remapped_rows_uncorrectable ?? 0) >= REMAPPED_UNCORRECTABLE_WARN) {
    out.push(reason('MEMORY', 'WARN', 'remapped_rows_uncorrectable', 15,
      `${s.remapped_rows_uncorrectable} rows remapped for uncorrectable errors (limit ${REMAPPED_UNCORRECTABLE_WARN})`));
  }
  if ((s.ecc_volatile_sbe ?? 0) > 0) {
    out.push(reason('MEMORY', 'PASS', 'ecc_volatile_sbe', Math.min(10, s.ecc_volatile_sbe ?? 0),
      `${s.ecc_volatile_sbe} correctable ECC errors since driver load`));
  }
  return out;
}

function thermalPowerReasons(s: GpuSample): HealthReason[] {
  const out: HealthReason[] = [];
  if (s.throttle_hw_thermal_slowdown === true || s.throttle_sw_thermal_slowdown === true) {
    out.push(reason('THERMAL_POWER', 'WARN', 'thermal_slowdown', 15, `clocks slowed for temperature at ${s.temperature_gpu_c} °C`));
  }
  if (s.throttle_hw_power_brake_slowdown === true) {
    out.push(reason('THERMAL_POWER', 'WARN', 'power_brake', 15, 'hardware power brake is slowing the clocks'));
  }
  const margin = slowdownMargin(s);
  if (margin !== null && margin > 0 && margin <= NEAR_SLOWDOWN_C) {
    out.push(reason('THERMAL_POWER', 'PASS', 'temperature_near_slowdown', 5, nearSlowdownMessage(s, margin)));
  }
  return out;
}

/** Boards that report only the T.Limit scale have no slowdown temperature to name, only the margin. */
function nearSlowdownMessage(s: GpuSample, margin: number): string {
  if (s.temperature_gpu_c !== null && s.temperature_slowdown_c !== null) {
    return `${s.temperature_gpu_c} °C is within ${NEAR_SLOWDOWN_C} °C of the ${s.temperature_slowdown_c} °C slowdown threshold`;
  }
  return `within ${NEAR_SLOWDOWN_C} °C of slowdown (${margin} °C left on the driver's T.Limit scale)`;
}

function pcieReasons(s: GpuSample): HealthReason[] {
  if (s.pcie_link_width !== null && s.pcie_link_width_max !== null && s.pcie_link_width < s.pcie_link_width_max) {
    return [reason('PCIE', 'WARN', 'pcie_link_width_degraded', 10, `PCIe link runs x${s.pcie_link_width} of x${s.pcie_link_width_max}`)];
  }
  return [];
}

function driverReasons(s: GpuSample): HealthReason[] {
  return s.xid_events.flatMap((event) => {
    const entry = XID_CATALOG.get(event.code);
    if (entry?.verdict === undefined || entry.verdict === null) return [];
    return [reason('DRIVER', entry.verdict, `xid_${event.code}`, entry.verdict === 'FAIL' ? 25 : 15, `Xid ${event.code} (${entry.meaning}): ${event.message}`)];
  });
}

function worst(reasons: readonly HealthReason[], subsystem?: HealthSubsystem): HealthVerdict {
  let verdict: HealthVerdict = 'PASS';
  for (const r of reasons) {
    if ((subsystem === undefined || r.subsystem === subsystem) && RANK[r.verdict] > RANK[verdict]) verdict = r.verdict;
  }
  return verdict;
}

/** The health of one GPU from one sample alone. */
export function scoreHealth(sample: GpuSample): GpuHealth {
  const reasons = [...memoryReasons(sample), ...thermalPowerReasons(sample), ...pcieReasons(sample), ...driverReasons(sample)]
    .sort((a, b) => RANK[b.verdict] - RANK[a.verdict] || b.penalty - a.penalty);
  const verdict = worst(reasons);
  const band = BANDS[verdict];
  const penalty = reasons.filter((r) => r.verdict === verdict).reduce((sum, r) => sum + r.penalty, 0);
  return {
    time: sample.time,
    gpu_uuid: sample.gpu_uuid,
    hostname: sample.hostname,
    score: Math.max(band.floor, band.top - penalty),
    verdict,
    thermal_power: worst(reasons, 'THERMAL_POWER'),
    memory: worst(reasons, 'MEMORY'),
    pcie: worst(reasons, 'PCIE'),
    nvlink: worst(reasons, 'NVLINK'),
    driver: worst(reasons, 'DRIVER'),
    reasons,
  };
}
