import { GpumonError } from '@gpumon/runtime/errors';
import { slowdownMargin } from '@gpumon/schemas/slowdown-margin';
import type { GpuFeatures, GpuSample } from '@gpumon/schemas/types.generated';
import { Arena, CHUNK_GPUS } from './arena.js';
import {
  COUNTER_ECC_DBE, COUNTER_ECC_SBE, COUNTER_PCIE_REPLAY, COUNTER_REMAP_CORRECTABLE, COUNTER_REMAP_UNCORRECTABLE,
  COUNTER_RETIRED_DBE, COUNTER_RETIRED_SBE, GAUGES, GAUGE_POWER, GAUGE_TEMPERATURE, GAUGE_UTILIZATION, LAST_TIME,
  MINUTE_MS, PREVIOUS, PREVIOUS_REPLAY_TIME, PREVIOUS_SEEN, STRIDE, THROTTLE_HW_SLOWDOWN, THROTTLE_POWER_BRAKE, THROTTLE_POWER_CAP,
  THROTTLE_THERMAL, THROTTLES, TIER_1H, TIER_24H, TIER_5M, TIERS, U16_MAX, U32_MAX, XID_ALL, XID_CRITICAL, type Tier,
} from './layout.js';

/** Positions of the tiers in TIERS, for `current`. */
const AT_1H = TIERS.indexOf(TIER_1H);
const AT_24H = TIERS.indexOf(TIER_24H);

/** Xid codes DCGM rates FAIL (NVIDIA Xid catalog; shared DOMAIN.md). */
const CRITICAL_XIDS: ReadonlySet<number> = new Set([48, 64, 74, 79, 95, 119, 120]);

/** One GPU's state: its layout's typed blocks, as numbers (all finite, so JSON keeps them exactly). */
export interface GpuCheckpoint {
  gpu_uuid: string;
  f64: number[];
  f32: number[];
  u32: number[];
  u16: number[];
  u8: number[];
}

/** Every tracked GPU's state. A change of the layout (layout.ts) must bump `version`. */
export interface FeatureCheckpoint {
  version: 1;
  gpus: GpuCheckpoint[];
}

interface GaugeWindow {
  mean: number | null;
  max: number | null;
  std: number | null;
}

const NO_READING: GaugeWindow = { mean: null, max: null, std: null };

const BLOCKS = ['f64', 'f32', 'u32', 'u16', 'u8'] as const;

function mod(a: number, n: number): number {
  const r = a % n;
  return r < 0 ? r + n : r;
}

function isReading(value: number | null): value is number {
  return value !== null && Number.isFinite(value);
}

/** Counters are non-negative integers; anything else is treated as a missing reading. */
function isCount(value: number | null): value is number {
  return value !== null && Number.isSafeInteger(value) && value >= 0;
}

/** Three-valued OR: true if either is true, false if either is false and none true, null if both unknown. */
function either(a: boolean | null, b: boolean | null): boolean | null {
  if (a === true || b === true) return true;
  if (a === false || b === false) return false;
  return null;
}

function invalid(message: string): GpumonError {
  return new GpumonError('decode_failed', `feature checkpoint: ${message}`);
}

/**
 * Per-GPU rolling-window features (the GpuFeatures record), computed at the edge by the one engine
 * the agent, the simulator and model training share.
 *
 * Windows: a window of length W ending at time t is made of the buckets whose start s satisfies
 * t - W < s <= t, buckets aligned to the Unix epoch. That is always exactly `buckets` buckets (5 of
 * 1 min, 12 of 5 min, 24 of 1 h): the current, partial bucket and the ones before it, so a window
 * spans between W minus one bucket and W. A reading leaves the 5 m window when the fifth minute
 * bucket after its own begins, 4 to 5 minutes after it was taken.
 *
 * Time: samples of a GPU are recorded in time order. A sample older than the GPU's newest is not
 * recorded (recording it would put it in a bucket that may already have been recycled); its features
 * are the windows as they stand at the newest time, with its own slowdown_margin_c. Samples with
 * equal times are all recorded. When no earlier sample of the GPU is left in its 24 h window (always
 * so after a gap longer than 24 h) the GPU starts afresh, counters' last readings included.
 *
 * Readings: null or non-finite gauge readings and counter readings that are not non-negative integers
 * are skipped. A counter's increase (cur - prev, or cur when it went down: a reset) counts in the
 * bucket of the reading that shows it.
 */
export class FeatureEngine {
  private readonly slots = new Map<string, number>();
  private readonly arena = new Arena();

  // The selected GPU's blocks and its offsets into them (see select()).
  private f64: Float64Array = new Float64Array(0);
  private f32: Float32Array = new Float32Array(0);
  private u32: Uint32Array = new Uint32Array(0);
  private u16: Uint16Array = new Uint16Array(0);
  private u8: Uint8Array = new Uint8Array(0);
  private o64 = 0;
  private o32f = 0;
  private o32 = 0;
  private o16 = 0;
  private o8 = 0;
  /** Ring slot of the current bucket, per tier (TIERS order). */
  private readonly current = new Int32Array(TIERS.length);

  /** GPUs tracked. */
  get size(): number {
    return this.slots.size;
  }

  /** Records `sample` into its GPU's history (keyed by sample.gpu_uuid) and returns the features up to and including it. */
  update(sample: GpuSample): GpuFeatures {
    const t = sample.time;
    let slot = this.slots.get(sample.gpu_uuid);
    if (slot === undefined) {
      slot = this.arena.allocate();
      this.slots.set(sample.gpu_uuid, slot);
      this.select(slot);
    } else {
      this.select(slot);
      const last = this.f64[this.o64 + LAST_TIME]!;
      if (t < last) return this.features(last, sample);
      const hours = TIER_24H.bucketMs;
      if (Math.floor(t / hours) - Math.floor(last / hours) >= TIER_24H.buckets) this.arena.zero(slot);
      else this.advance(last, t);
    }
    this.record(sample);
    return this.features(t, sample);
  }

  /** Drops a GPU's history (GPU removed from the host/fleet). */
  forget(gpuUuid: string): void {
    const slot = this.slots.get(gpuUuid);
    if (slot === undefined) return;
    this.slots.delete(gpuUuid);
    this.arena.release(slot);
  }

  /** JSON-serialisable state of every GPU, versioned, for the agent's disk checkpoint. */
  checkpoint(): FeatureCheckpoint {
    const gpus: GpuCheckpoint[] = [];
    for (const [gpuUuid, slot] of this.slots) {
      const chunk = this.arena.chunk(slot);
      const local = slot % CHUNK_GPUS;
      const gpu: GpuCheckpoint = { gpu_uuid: gpuUuid, f64: [], f32: [], u32: [], u16: [], u8: [] };
      for (const block of BLOCKS) {
        gpu[block] = Array.from(chunk[block].subarray(local * STRIDE[block], (local + 1) * STRIDE[block]));
      }
      gpus.push(gpu);
    }
    return { version: 1, gpus };
  }

  /** An engine holding a checkpoint's state; throws a GpumonError (decode_failed) naming what is wrong. */
  static restore(checkpoint: FeatureCheckpoint): FeatureEngine {
    const input: unknown = checkpoint;
    if (typeof input !== 'object' || input === null) throw invalid('not an object');
    const { version, gpus } = input as { version?: unknown; gpus?: unknown };
    if (version !== 1) throw invalid(`version ${JSON.stringify(version)} is not supported (this build reads version 1)`);
    if (!Array.isArray(gpus)) throw invalid('gpus is not an array');
    const engine = new FeatureEngine();
    gpus.forEach((gpu: unknown, i) => {
      if (typeof gpu !== 'object' || gpu === null) throw invalid(`gpus[${i}] is not an object`);
      const record = gpu as Record<string, unknown>;
      const gpuUuid = record['gpu_uuid'];
      if (typeof gpuUuid !== 'string') throw invalid(`gpus[${i}].gpu_uuid is not a string`);
      if (engine.slots.has(gpuUuid)) throw invalid(`gpus[${i}]: GPU ${gpuUuid} appears twice`);
      const slot = engine.arena.allocate();
      engine.slots.set(gpuUuid, slot);
      const chunk = engine.arena.chunk(slot);
      const local = slot % CHUNK_GPUS;
      for (const block of BLOCKS) {
        const values = record[block];
        const where = `gpus[${i}].${block} (GPU ${gpuUuid})`;
        if (!Array.isArray(values) || values.length !== STRIDE[block]) {
          throw invalid(`${where} must be an array of ${STRIDE[block]} numbers`);
        }
        const target = chunk[block];
        const integer = block !== 'f64' && block !== 'f32';
        values.forEach((value: unknown, j) => {
          if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(`${where}[${j}] is not a finite number`);
          target[local * STRIDE[block] + j] = value;
          if (integer && target[local * STRIDE[block] + j] !== value) throw invalid(`${where}[${j}] = ${value} is out of range`);
        });
      }
    });
    return engine;
  }

  private select(slot: number): void {
    const chunk = this.arena.chunk(slot);
    const local = slot % CHUNK_GPUS;
    this.f64 = chunk.f64;
    this.f32 = chunk.f32;
    this.u32 = chunk.u32;
    this.u16 = chunk.u16;
    this.u8 = chunk.u8;
    this.o64 = local * STRIDE.f64;
    this.o32f = local * STRIDE.f32;
    this.o32 = local * STRIDE.u32;
    this.o16 = local * STRIDE.u16;
    this.o8 = local * STRIDE.u8;
  }

  /** Empties the buckets that time has moved past, between the newest sample's bucket and t's. */
  private advance(last: number, t: number): void {
    for (const tier of TIERS) {
      const from = Math.floor(last / tier.bucketMs);
      const steps = Math.min(Math.floor(t / tier.bucketMs) - from, tier.buckets);
      for (let k = 1; k <= steps; k++) this.clear(tier, mod(from + k, tier.buckets));
    }
  }

  private clear(tier: Tier, i: number): void {
    const n = tier.buckets;
    for (let g = 0; g < GAUGES; g++) {
      this.f64[this.o64 + tier.mean + g * n + i] = 0;
      this.f64[this.o64 + tier.max + g * n + i] = 0;
      this.f32[this.o32f + tier.m2 + g * n + i] = 0;
      this.u16[this.o16 + tier.count + g * n + i] = 0;
    }
    this.u8[this.o8 + tier.mask + i] = 0;
    for (let c = 0; c < tier.increaseColumns; c++) this.u32[this.o32 + tier.increase + c * n + i] = 0;
    for (let c = 0; c < tier.xidColumns; c++) this.u16[this.o16 + tier.xid + c * n + i] = 0;
    if (tier.throttle >= 0) for (let c = 0; c < 2 * THROTTLES; c++) this.u16[this.o16 + tier.throttle + c * n + i] = 0;
    if (tier.replaySpan >= 0) this.u32[this.o32 + tier.replaySpan + i] = 0;
    if (tier.marginMin >= 0) this.f64[this.o64 + tier.marginMin + i] = 0;
    if (tier.firstSeen >= 0) this.u32[this.o32 + tier.firstSeen + i] = 0;
  }

  private record(s: GpuSample): void {
    const t = s.time;
    this.f64[this.o64 + LAST_TIME] = t;
    for (let k = 0; k < TIERS.length; k++) {
      const tier = TIERS[k]!;
      this.current[k] = mod(Math.floor(t / tier.bucketMs), tier.buckets);
    }

    this.recordGauge(GAUGE_TEMPERATURE, s.temperature_gpu_c);
    this.recordGauge(GAUGE_POWER, s.power_draw_w);
    this.recordGauge(GAUGE_UTILIZATION, s.utilization_gpu_pct);

    this.recordCounter(COUNTER_ECC_SBE, s.ecc_volatile_sbe, t);
    this.recordCounter(COUNTER_ECC_DBE, s.ecc_volatile_dbe, t);
    this.recordCounter(COUNTER_RETIRED_SBE, s.retired_pages_sbe, t);
    this.recordCounter(COUNTER_RETIRED_DBE, s.retired_pages_dbe, t);
    this.recordCounter(COUNTER_REMAP_CORRECTABLE, s.remapped_rows_correctable, t);
    this.recordCounter(COUNTER_REMAP_UNCORRECTABLE, s.remapped_rows_uncorrectable, t);
    this.recordCounter(COUNTER_PCIE_REPLAY, s.pcie_replay_count, t);

    this.recordThrottle(THROTTLE_THERMAL, either(s.throttle_hw_thermal_slowdown, s.throttle_sw_thermal_slowdown));
    this.recordThrottle(THROTTLE_POWER_CAP, s.throttle_sw_power_cap);
    this.recordThrottle(THROTTLE_POWER_BRAKE, s.throttle_hw_power_brake_slowdown);
    this.recordThrottle(THROTTLE_HW_SLOWDOWN, s.throttle_hw_slowdown);

    const margin = slowdownMargin(s);
    if (margin !== null) {
      const tier = TIER_1H;
      const i = this.current[AT_1H]!;
      const at = this.o64 + tier.marginMin + i;
      const mask = this.o8 + tier.mask + i;
      const bit = 1 << tier.marginBit;
      if ((this.u8[mask]! & bit) === 0 || margin < this.f64[at]!) this.f64[at] = margin;
      this.u8[mask] = this.u8[mask]! | bit;
    }

    if (s.xid_events.length > 0) {
      let critical = 0;
      for (const event of s.xid_events) if (CRITICAL_XIDS.has(event.code)) critical++;
      this.addXids(TIER_1H, this.current[AT_1H]!, XID_ALL, s.xid_events.length);
      this.addXids(TIER_24H, this.current[AT_24H]!, XID_ALL, s.xid_events.length);
      this.addXids(TIER_24H, this.current[AT_24H]!, XID_CRITICAL, critical);
    }

    const hour = this.current[AT_24H]!;
    const seen = this.o32 + TIER_24H.firstSeen + hour;
    if (this.u32[seen] === 0) this.u32[seen] = mod(t, TIER_24H.bucketMs) + 1;
  }

  /** Welford's update of the current bucket's mean and M2; a bucket full to U16_MAX readings only updates its max. */
  private recordGauge(g: number, value: number | null): void {
    if (!isReading(value)) return;
    for (let k = 0; k < TIERS.length; k++) {
      const tier = TIERS[k]!;
      const at = g * tier.buckets + this.current[k]!;
      const count = this.u16[this.o16 + tier.count + at]!;
      const max = this.o64 + tier.max + at;
      if (count === 0 || value > this.f64[max]!) this.f64[max] = value;
      if (count === U16_MAX) continue;
      const n = count + 1;
      const meanAt = this.o64 + tier.mean + at;
      const mean = this.f64[meanAt]!;
      const delta = value - mean;
      const next = mean + delta / n;
      this.f64[meanAt] = next;
      this.f32[this.o32f + tier.m2 + at] = this.f32[this.o32f + tier.m2 + at]! + delta * (value - next);
      this.u16[this.o16 + tier.count + at] = n;
    }
  }

  /**
   * Adds cur - prev (cur after a reset, 0 for a first reading) to the current bucket of each tier that
   * sums this counter; for the PCIe replay counter also the time since its previous reading, the rate's denominator.
   */
  private recordCounter(c: number, value: number | null, t: number): void {
    if (!isCount(value)) return;
    const seenAt = this.o16 + PREVIOUS_SEEN;
    const prevAt = this.o64 + PREVIOUS + c;
    const seen = this.u16[seenAt]!;
    const prev = this.f64[prevAt]!;
    const first = (seen & (1 << c)) === 0;
    const increase = first ? 0 : value >= prev ? value - prev : value;
    this.f64[prevAt] = value;
    this.u16[seenAt] = seen | (1 << c);
    let span = 0;
    if (c === COUNTER_PCIE_REPLAY) {
      const timeAt = this.o64 + PREVIOUS_REPLAY_TIME;
      span = first ? 0 : t - this.f64[timeAt]!;
      this.f64[timeAt] = t;
    }
    for (let k = 0; k < TIERS.length; k++) {
      const tier = TIERS[k]!;
      const column = tier.counterColumn[c]!;
      if (column < 0) continue;
      const i = this.current[k]!;
      const at = this.o32 + tier.increase + column * tier.buckets + i;
      this.u32[at] = Math.min(this.u32[at]! + increase, U32_MAX);
      this.u8[this.o8 + tier.mask + i] = this.u8[this.o8 + tier.mask + i]! | (1 << column);
      if (c === COUNTER_PCIE_REPLAY) {
        const spanAt = this.o32 + tier.replaySpan + i;
        this.u32[spanAt] = Math.min(this.u32[spanAt]! + span, U32_MAX);
      }
    }
  }

  private recordThrottle(flag: number, active: boolean | null): void {
    if (active === null) return;
    const n = TIER_1H.buckets;
    const trueAt = this.o16 + TIER_1H.throttle + 2 * flag * n + this.current[AT_1H]!;
    const knownAt = trueAt + n;
    if (this.u16[knownAt] === U16_MAX) return;
    this.u16[knownAt] = this.u16[knownAt]! + 1;
    if (active) this.u16[trueAt] = this.u16[trueAt]! + 1;
  }

  private addXids(tier: Tier, i: number, column: number, events: number): void {
    const at = this.o16 + tier.xid + column * tier.buckets + i;
    this.u16[at] = Math.min(this.u16[at]! + events, U16_MAX);
  }

  /** Features of the selected GPU with every window ending at `t` (its newest sample's time). */
  private features(t: number, s: GpuSample): GpuFeatures {
    const temperature5m = this.gauge(TIER_5M, GAUGE_TEMPERATURE);
    const temperature1h = this.gauge(TIER_1H, GAUGE_TEMPERATURE);
    const temperature24h = this.gauge(TIER_24H, GAUGE_TEMPERATURE);
    const power5m = this.gauge(TIER_5M, GAUGE_POWER);
    const power1h = this.gauge(TIER_1H, GAUGE_POWER);
    const power24h = this.gauge(TIER_24H, GAUGE_POWER);
    const utilization5m = this.gauge(TIER_5M, GAUGE_UTILIZATION);
    const utilization1h = this.gauge(TIER_1H, GAUGE_UTILIZATION);
    const utilization24h = this.gauge(TIER_24H, GAUGE_UTILIZATION);
    const remapCorrectable = this.increase(TIER_24H, COUNTER_REMAP_CORRECTABLE);
    const remapUncorrectable = this.increase(TIER_24H, COUNTER_REMAP_UNCORRECTABLE);
    return {
      temperature_mean_5m: temperature5m.mean,
      temperature_max_5m: temperature5m.max,
      temperature_std_5m: temperature5m.std,
      temperature_mean_1h: temperature1h.mean,
      temperature_max_1h: temperature1h.max,
      temperature_std_1h: temperature1h.std,
      temperature_mean_24h: temperature24h.mean,
      temperature_max_24h: temperature24h.max,
      temperature_std_24h: temperature24h.std,
      power_mean_5m: power5m.mean,
      power_max_5m: power5m.max,
      power_std_5m: power5m.std,
      power_mean_1h: power1h.mean,
      power_max_1h: power1h.max,
      power_std_1h: power1h.std,
      power_mean_24h: power24h.mean,
      power_max_24h: power24h.max,
      power_std_24h: power24h.std,
      utilization_mean_5m: utilization5m.mean,
      utilization_max_5m: utilization5m.max,
      utilization_std_5m: utilization5m.std,
      utilization_mean_1h: utilization1h.mean,
      utilization_max_1h: utilization1h.max,
      utilization_std_1h: utilization1h.std,
      utilization_mean_24h: utilization24h.mean,
      utilization_max_24h: utilization24h.max,
      utilization_std_24h: utilization24h.std,
      ecc_sbe_increase_1h: this.increase(TIER_1H, COUNTER_ECC_SBE),
      ecc_sbe_increase_24h: this.increase(TIER_24H, COUNTER_ECC_SBE),
      ecc_dbe_increase_1h: this.increase(TIER_1H, COUNTER_ECC_DBE),
      ecc_dbe_increase_24h: this.increase(TIER_24H, COUNTER_ECC_DBE),
      // Single- and double-bit retirements share one column (layout.ts).
      retired_pages_increase_24h: this.increase(TIER_24H, COUNTER_RETIRED_SBE),
      remapped_rows_increase_24h:
        remapCorrectable === null ? remapUncorrectable : remapCorrectable + (remapUncorrectable ?? 0),
      remapped_rows_uncorrectable_increase_24h: remapUncorrectable,
      pcie_replays_per_min_5m: this.replaysPerMinute(TIER_5M),
      pcie_replays_per_min_1h: this.replaysPerMinute(TIER_1H),
      xid_count_1h: this.xids(TIER_1H, XID_ALL),
      xid_count_24h: this.xids(TIER_24H, XID_ALL),
      xid_critical_count_24h: this.xids(TIER_24H, XID_CRITICAL),
      throttle_thermal_duty_1h: this.duty(THROTTLE_THERMAL),
      throttle_power_cap_duty_1h: this.duty(THROTTLE_POWER_CAP),
      throttle_power_brake_duty_1h: this.duty(THROTTLE_POWER_BRAKE),
      throttle_hw_slowdown_duty_1h: this.duty(THROTTLE_HW_SLOWDOWN),
      slowdown_margin_c: slowdownMargin(s),
      slowdown_margin_min_1h: this.marginMin(),
      history_s: this.historyMs(t) / 1000,
    };
  }

  /** Merges the window's buckets (Chan et al.'s pairwise update): constant readings give exactly their value and 0. */
  private gauge(tier: Tier, g: number): GaugeWindow {
    let n = 0;
    let mean = 0;
    let m2 = 0;
    let max = 0;
    for (let i = 0; i < tier.buckets; i++) {
      const at = g * tier.buckets + i;
      const count = this.u16[this.o16 + tier.count + at]!;
      if (count === 0) continue;
      const bucketMean = this.f64[this.o64 + tier.mean + at]!;
      const bucketM2 = this.f32[this.o32f + tier.m2 + at]!;
      const bucketMax = this.f64[this.o64 + tier.max + at]!;
      if (n === 0) {
        mean = bucketMean;
        m2 = bucketM2;
        max = bucketMax;
      } else {
        const total = n + count;
        const delta = bucketMean - mean;
        mean += (delta * count) / total;
        m2 += bucketM2 + (delta * delta * n * count) / total;
        if (bucketMax > max) max = bucketMax;
      }
      n += count;
    }
    return n === 0 ? NO_READING : { mean, max, std: Math.sqrt(m2 / n) };
  }

  /** Summed increases of the counter's column; null when no bucket of the window holds a reading of it. */
  private increase(tier: Tier, counter: number): number | null {
    const column = tier.counterColumn[counter]!;
    let sum = 0;
    let seen = 0;
    for (let i = 0; i < tier.buckets; i++) {
      seen |= this.u8[this.o8 + tier.mask + i]!;
      sum += this.u32[this.o32 + tier.increase + column * tier.buckets + i]!;
    }
    return (seen & (1 << column)) === 0 ? null : sum;
  }

  /**
   * PCIe replays per minute: the window's summed increases ÷ the summed time between the readings they
   * come from, so the rate is exact whatever the sampling interval and wherever t falls in its bucket.
   * Null when the window has no reading or no time has passed between readings yet.
   */
  private replaysPerMinute(tier: Tier): number | null {
    const increase = this.increase(tier, COUNTER_PCIE_REPLAY);
    let spanMs = 0;
    for (let i = 0; i < tier.buckets; i++) spanMs += this.u32[this.o32 + tier.replaySpan + i]!;
    return increase === null || spanMs === 0 ? null : increase / (spanMs / MINUTE_MS);
  }

  private xids(tier: Tier, column: number): number {
    let sum = 0;
    for (let i = 0; i < tier.buckets; i++) sum += this.u16[this.o16 + tier.xid + column * tier.buckets + i]!;
    return sum;
  }

  private duty(flag: number): number | null {
    const n = TIER_1H.buckets;
    const base = this.o16 + TIER_1H.throttle + 2 * flag * n;
    let active = 0;
    let known = 0;
    for (let i = 0; i < n; i++) {
      active += this.u16[base + i]!;
      known += this.u16[base + n + i]!;
    }
    return known === 0 ? null : active / known;
  }

  private marginMin(): number | null {
    const tier = TIER_1H;
    const bit = 1 << tier.marginBit;
    let min: number | null = null;
    for (let i = 0; i < tier.buckets; i++) {
      if ((this.u8[this.o8 + tier.mask + i]! & bit) === 0) continue;
      const margin = this.f64[this.o64 + tier.marginMin + i]!;
      if (min === null || margin < min) min = margin;
    }
    return min;
  }

  /** t minus the time of the oldest sample in the 24 h window (ms). */
  private historyMs(t: number): number {
    const tier = TIER_24H;
    const newest = Math.floor(t / tier.bucketMs);
    for (let bucket = newest - tier.buckets + 1; bucket <= newest; bucket++) {
      const seen = this.u32[this.o32 + tier.firstSeen + mod(bucket, tier.buckets)]!;
      if (seen !== 0) return t - (bucket * tier.bucketMs + seen - 1);
    }
    return 0;
  }
}
