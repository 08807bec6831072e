import { CRITICAL_XIDS, XID_CATALOG } from '@gpumon/runtime/xid-catalog';
import type { AnomalySeverity, GpuAnomaly, GpuFeatures, GpuSample } from '@gpumon/schemas/types.generated';
import type { Thresholds } from './options.js';

/** Xids NVIDIA's Kubernetes device plugin counts as application errors: the GPU stays healthy (DOMAIN.md). */
export const APPLICATION_XIDS: ReadonlySet<number> = new Set([13, 31, 43, 45, 68]);
/** Retired pages at or above this count fail the memory subsystem (DCGM). */
export const RETIRED_PAGES_LIMIT = 63;
/** Rows remapped for uncorrectable errors at or above this count warn (DCGM). */
export const REMAPPED_UNCORRECTABLE_LIMIT = 512;
/** Transfer rate per lane of each PCIe generation (GT/s). */
const PCIE_GT_PER_S: Readonly<Record<number, number>> = { 1: 2.5, 2: 5, 3: 8, 4: 16, 5: 32, 6: 64 };

/**
 * DCGM's PCIe replay warning level: replays per minute above ceil(1e-12 × GT/s × 60 × lanes), the
 * replays a bit error rate of 1e-12 causes at the link's rate (16/min for Gen4 x16, 31 for Gen5 x16).
 */
export function pcieReplayLimitPerMin(gen: number, lanes: number): number | null {
  const gtPerS = PCIE_GT_PER_S[gen];
  return gtPerS === undefined ? null : Math.ceil(1e-12 * gtPerS * 1e9 * 60 * lanes);
}

interface Finding {
  kind: string;
  severity: AnomalySeverity;
  metric: string;
  value: number | null;
  baseline: number | null;
  score: number | null;
  message: string;
  /** Tells apart the anomalies one kind can raise on one GPU (an Xid code, a metric). */
  subject?: string;
}

function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function hardRules(s: GpuSample): Finding[] {
  const out: Finding[] = [];
  const flag = (kind: string, severity: AnomalySeverity, metric: string, message: string): void => {
    out.push({ kind, severity, metric, value: 1, baseline: 0, score: null, message });
  };
  if (s.gpu_lost) flag('gpu_lost', 'CRITICAL', 'gpu_lost', 'the GPU no longer answers: it has fallen off the bus');
  if ((s.ecc_volatile_dbe ?? 0) > 0) {
    out.push({ kind: 'ecc_dbe', severity: 'CRITICAL', metric: 'ecc_volatile_dbe', value: s.ecc_volatile_dbe, baseline: 0, score: null,
      message: `${s.ecc_volatile_dbe} uncorrectable (double-bit) ECC errors since driver load` });
  }
  if (s.remapped_rows_failure === true) flag('row_remap_failure', 'CRITICAL', 'remapped_rows_failure', 'a row remap failed: the GPU needs service');
  if (s.remapped_rows_pending === true) flag('row_remap_pending', 'WARNING', 'remapped_rows_pending', 'a row remap waits for the next GPU reset');
  if (s.retired_pages_pending === true) flag('page_retirement_pending', 'WARNING', 'retired_pages_pending', 'a page retirement waits for the next driver reload');
  const retired = (s.retired_pages_sbe ?? 0) + (s.retired_pages_dbe ?? 0);
  if (retired >= RETIRED_PAGES_LIMIT) {
    out.push({ kind: 'retired_pages_limit', severity: 'CRITICAL', metric: 'retired_pages_sbe+retired_pages_dbe', value: retired,
      baseline: RETIRED_PAGES_LIMIT, score: null, message: `${retired} retired pages, at or above DCGM's limit of ${RETIRED_PAGES_LIMIT}` });
  }
  const uncorrectable = s.remapped_rows_uncorrectable ?? 0;
  if (uncorrectable >= REMAPPED_UNCORRECTABLE_LIMIT) {
    out.push({ kind: 'remapped_rows_limit', severity: 'WARNING', metric: 'remapped_rows_uncorrectable', value: uncorrectable,
      baseline: REMAPPED_UNCORRECTABLE_LIMIT, score: null,
      message: `${uncorrectable} rows remapped for uncorrectable errors, at or above DCGM's limit of ${REMAPPED_UNCORRECTABLE_LIMIT}` });
  }
  out.push(...xidRules(s));
  const hw = s.throttle_hw_thermal_slowdown === true;
  if (hw || s.throttle_sw_thermal_slowdown === true) {
    const threshold = hw ? s.temperature_slowdown_c : s.temperature_max_operating_c;
    const shutdown = s.temperature_gpu_c !== null && s.temperature_shutdown_c !== null && s.temperature_gpu_c >= s.temperature_shutdown_c;
    out.push({ kind: 'thermal_slowdown', severity: shutdown ? 'CRITICAL' : 'WARNING', metric: 'temperature_gpu_c',
      value: s.temperature_gpu_c, baseline: threshold, score: null,
      message: `${hw ? 'hardware' : 'software'} thermal slowdown at ${s.temperature_gpu_c ?? '?'} °C (threshold ${threshold ?? '?'} °C${shutdown ? `, at the ${s.temperature_shutdown_c} °C shutdown threshold` : ''})` });
  }
  if (s.throttle_hw_power_brake_slowdown === true) {
    flag('power_brake', 'WARNING', 'throttle_hw_power_brake_slowdown', `hardware power brake is slowing the clocks (drawing ${s.power_draw_w ?? '?'} W)`);
  }
  if (s.pcie_link_width !== null && s.pcie_link_width_max !== null && s.pcie_link_width < s.pcie_link_width_max) {
    out.push({ kind: 'pcie_link_narrow', severity: 'WARNING', metric: 'pcie_link_width', value: s.pcie_link_width,
      baseline: s.pcie_link_width_max, score: null, message: `PCIe link runs x${s.pcie_link_width} of x${s.pcie_link_width_max}` });
  }
  return out;
}

/** One finding per Xid code in the sample: DCGM FAIL codes are critical, application errors informational. */
function xidRules(s: GpuSample): Finding[] {
  const counts = new Map<number, number>();
  for (const event of s.xid_events) counts.set(event.code, (counts.get(event.code) ?? 0) + 1);
  return [...counts].sort(([a], [b]) => a - b).map(([code, count]) => {
    const entry = XID_CATALOG.get(code);
    const critical = CRITICAL_XIDS.has(code);
    const severity: AnomalySeverity = critical ? 'CRITICAL' : entry === undefined || APPLICATION_XIDS.has(code) ? 'INFO' : 'WARNING';
    return {
      kind: critical ? 'xid_critical' : 'xid', severity, metric: 'xid_events', value: count, baseline: 0, score: null, subject: String(code),
      message: `Xid ${code} (${entry?.meaning ?? 'not in the catalog'})${count > 1 ? ` ×${count}` : ''}: ${s.xid_events.find((e) => e.code === code)?.message ?? ''}`,
    };
  });
}

/** (x − mean) ÷ max(std, floor), or null when a reading is missing. */
function zScore(x: number | null, mean: number | null, std: number | null, floor: number): number | null {
  if (x === null || mean === null || std === null) return null;
  return (x - mean) / Math.max(std, floor, Number.EPSILON);
}

/**
 * Excursions of the 5-minute mean from the 24-hour mean, in 24-hour stds (floored), less what the
 * driving quantity's own excursion explains: temperature follows power, power follows
 * utilization. A job starting on a GPU that idled all day raises both and is no anomaly; a GPU
 * that runs hotter at the same power is.
 */
function excursionRules(s: GpuSample, f: GpuFeatures, t: Thresholds): Finding[] {
  const out: Finding[] = [];
  const powerFloor = (s.power_limit_w ?? f.power_max_24h ?? 0) * (t.powerStdFloorPct / 100);
  const zPower = zScore(f.power_mean_5m, f.power_mean_24h, f.power_std_24h, powerFloor);
  const zUtil = zScore(f.utilization_mean_5m, f.utilization_mean_24h, f.utilization_std_24h, t.utilizationStdFloorPct);
  const zTemp = zScore(f.temperature_mean_5m, f.temperature_mean_24h, f.temperature_std_24h, t.temperatureStdFloorC);
  const excursion = (kind: string, metric: string, unit: string, z: number | null, driver: number | null, driverName: string,
    value: number | null, baseline: number | null): void => {
    if (z === null || value === null || baseline === null) return;
    const score = z - Math.max(0, driver ?? 0);
    if (score < t.zThreshold) return;
    out.push({ kind, severity: 'WARNING', metric, value, baseline, score: round(score),
      message: `5-minute mean ${round(value, 1)} ${unit} against a 24-hour mean of ${round(baseline, 1)} ${unit}: z ${round(z, 1)}, ${round(score, 1)} beyond what ${driverName} explains (limit ${t.zThreshold})` });
  };
  excursion('temperature_zscore', 'features.temperature_mean_5m', '°C', zTemp, zPower, 'power', f.temperature_mean_5m, f.temperature_mean_24h);
  excursion('power_zscore', 'features.power_mean_5m', 'W', zPower, zUtil, 'utilization', f.power_mean_5m, f.power_mean_24h);
  return out;
}

function rateRules(s: GpuSample, f: GpuFeatures, t: Thresholds): Finding[] {
  const out: Finding[] = [];
  if (f.ecc_sbe_increase_1h !== null && f.ecc_sbe_increase_1h >= t.sbePerHour) {
    out.push({ kind: 'ecc_sbe_rate', severity: 'WARNING', metric: 'features.ecc_sbe_increase_1h', value: f.ecc_sbe_increase_1h,
      baseline: t.sbePerHour, score: round(f.ecc_sbe_increase_1h / t.sbePerHour),
      message: `${f.ecc_sbe_increase_1h} correctable ECC errors in the last hour (limit ${t.sbePerHour}; ${f.ecc_sbe_increase_24h ?? '?'} in 24 h)` });
  }
  const gen = s.pcie_link_gen ?? s.pcie_link_gen_max;
  const lanes = s.pcie_link_width ?? s.pcie_link_width_max;
  const dcgmLimit = gen === null || lanes === null ? null : pcieReplayLimitPerMin(gen, lanes);
  const replays = f.pcie_replays_per_min_5m;
  if (dcgmLimit !== null && replays !== null && replays > dcgmLimit * t.pcieReplayLimitScale) {
    const limit = dcgmLimit * t.pcieReplayLimitScale;
    out.push({ kind: 'pcie_replay_rate', severity: 'WARNING', metric: 'features.pcie_replays_per_min_5m', value: round(replays, 3),
      baseline: limit, score: round(replays / limit),
      message: `${round(replays, 1)} PCIe replays/min over 5 minutes, above the limit of ${limit}/min for Gen${gen} x${lanes}` });
  }
  return out;
}

function thermalRules(f: GpuFeatures, t: Thresholds): Finding[] {
  const out: Finding[] = [];
  if (f.slowdown_margin_c !== null && f.slowdown_margin_c <= t.slowdownMarginC) {
    out.push({ kind: 'slowdown_margin', severity: 'WARNING', metric: 'features.slowdown_margin_c', value: f.slowdown_margin_c,
      baseline: t.slowdownMarginC, score: round(t.slowdownMarginC - f.slowdown_margin_c),
      message: `${f.slowdown_margin_c} °C below the slowdown threshold (warn at ${t.slowdownMarginC} °C)` });
  }
  const duty = (metric: keyof GpuFeatures & `throttle_${string}`, what: string): boolean => {
    const value = f[metric];
    if (value === null || value < t.throttleDuty) return false;
    out.push({ kind: 'throttle_duty', severity: 'WARNING', metric: `features.${metric}`, value: round(value, 4), baseline: t.throttleDuty,
      score: round(value / t.throttleDuty), subject: metric,
      message: `${what} ${round(value * 100, 1)} % of the last hour (limit ${round(t.throttleDuty * 100, 1)} %)` });
    return true;
  };
  const thermal = duty('throttle_thermal_duty_1h', 'thermal slowdown');
  const brake = duty('throttle_power_brake_duty_1h', 'power brake');
  // Hardware slowdown is thermal slowdown or power brake, or a cause neither flag names.
  if (!thermal && !brake) duty('throttle_hw_slowdown_duty_1h', 'hardware slowdown with neither thermal slowdown nor power brake');
  return out;
}

/**
 * Every anomaly of one GPU sample, from the sample and its edge features alone: hard rules on the
 * readings (DCGM's and the Xid catalog's), then statistics on the rolling windows. The z-score
 * rules wait for `minHistoryS` of history.
 */
export function detectAnomalies(sample: GpuSample, thresholds: Thresholds): GpuAnomaly[] {
  const f = sample.features;
  const findings = hardRules(sample);
  if (f !== null) {
    if ((f.history_s ?? 0) >= thresholds.minHistoryS) findings.push(...excursionRules(sample, f, thresholds));
    findings.push(...rateRules(sample, f, thresholds), ...thermalRules(f, thresholds));
  }
  return findings.map((x) => ({
    time: sample.time,
    gpu_uuid: sample.gpu_uuid,
    hostname: sample.hostname,
    kind: x.kind,
    severity: x.severity,
    metric: x.metric,
    value: x.value,
    baseline: x.baseline,
    score: x.score,
    dedup_key: [x.kind, sample.gpu_uuid, ...(x.subject === undefined ? [] : [x.subject])].join(':'),
    message: x.message,
  }));
}
