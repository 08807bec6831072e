/**
 * The fixed memory layout of one GPU's feature state: every number the engine keeps, as offsets into
 * five typed blocks (float64, float32, uint32, uint16, uint8). Nothing else is kept per GPU, so the
 * state is the same size whatever the sampling rate, and a checkpoint is these blocks verbatim.
 *
 * Bucket i of column c of a tier sits at `tier.<column> + c * tier.buckets + i`, where
 * i = (bucket start ÷ bucket length) mod buckets: a ring, one slot per bucket of the window.
 */

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;

/** Gauges: mean, max and population standard deviation per window. */
export const GAUGE_TEMPERATURE = 0;
export const GAUGE_POWER = 1;
export const GAUGE_UTILIZATION = 2;
export const GAUGES = 3;

/** Counters whose increases the engine sums; the last reading of each is kept to diff the next one against. */
export const COUNTER_ECC_SBE = 0;
export const COUNTER_ECC_DBE = 1;
export const COUNTER_RETIRED_SBE = 2;
export const COUNTER_RETIRED_DBE = 3;
export const COUNTER_REMAP_CORRECTABLE = 4;
export const COUNTER_REMAP_UNCORRECTABLE = 5;
export const COUNTER_PCIE_REPLAY = 6;
export const COUNTERS = 7;

/** Throttle flags counted for duty cycles; each has a true-count and a known (non-null) count column. */
export const THROTTLE_THERMAL = 0;
export const THROTTLE_POWER_CAP = 1;
export const THROTTLE_POWER_BRAKE = 2;
export const THROTTLE_HW_SLOWDOWN = 3;
export const THROTTLES = 4;

/** Xid columns: all events, and the ones DCGM rates FAIL. */
export const XID_ALL = 0;
export const XID_CRITICAL = 1;

/** Saturation limits of the narrow columns (see README: at most one reading per 55 ms fits an hour bucket). */
export const U16_MAX = 0xffff;
export const U32_MAX = 0xffffffff;

class Block {
  size = 0;

  take(n: number): number {
    const at = this.size;
    this.size += n;
    return at;
  }
}

const f64 = new Block();
const f32 = new Block();
const u32 = new Block();
const u16 = new Block();
const u8 = new Block();

/** Time of the newest recorded sample (ms). */
export const LAST_TIME = f64.take(1);
/** Last reading of each counter. */
export const PREVIOUS = f64.take(COUNTERS);
/** Time of the last PCIe replay counter reading (ms). */
export const PREVIOUS_REPLAY_TIME = f64.take(1);
/** Bit c set: counter c has a last reading. */
export const PREVIOUS_SEEN = u16.take(1);

export interface TierSpec {
  bucketMs: number;
  buckets: number;
  /** Increase columns, each the sum of the listed counters' increases. */
  increases: readonly (readonly number[])[];
  xidColumns: 0 | 1 | 2;
  replaySpan: boolean;
  throttles: boolean;
  marginMin: boolean;
  firstSeen: boolean;
}

export interface Tier {
  readonly bucketMs: number;
  readonly buckets: number;
  /** Increase column each counter adds to, or -1; its bit in `mask` says the bucket holds a reading of it. */
  readonly counterColumn: readonly number[];
  readonly increaseColumns: number;
  /** f64, per gauge: running mean and maximum of the bucket's readings. */
  readonly mean: number;
  readonly max: number;
  /** f32, per gauge: sum of squared deviations from the mean (Welford's M2). */
  readonly m2: number;
  /** u16, per gauge: readings in the bucket. */
  readonly count: number;
  /** u8: bit c = increase column c has a reading in the bucket; bit `marginBit` = marginMin is set. */
  readonly mask: number;
  readonly marginBit: number;
  /** u32, per increase column: summed increases. */
  readonly increase: number;
  /** u32: summed time between the PCIe replay readings whose increases the bucket holds (ms); -1 when none. */
  readonly replaySpan: number;
  /** u16, per Xid column: events; -1 when the tier keeps none. */
  readonly xid: number;
  readonly xidColumns: number;
  /** u16, per throttle flag: samples with it true (column 2f), samples with it known (2f + 1); -1 when none. */
  readonly throttle: number;
  /** f64: smallest slowdown margin; -1 when none. */
  readonly marginMin: number;
  /** u32: 1 + offset (ms) of the first sample in the bucket from the bucket's start, 0 when empty; -1 when none. */
  readonly firstSeen: number;
}

function tier(spec: TierSpec): Tier {
  const n = spec.buckets;
  const counterColumn = new Array<number>(COUNTERS).fill(-1);
  spec.increases.forEach((counters, column) => {
    for (const counter of counters) counterColumn[counter] = column;
  });
  return {
    bucketMs: spec.bucketMs,
    buckets: n,
    counterColumn,
    increaseColumns: spec.increases.length,
    mean: f64.take(GAUGES * n),
    max: f64.take(GAUGES * n),
    m2: f32.take(GAUGES * n),
    count: u16.take(GAUGES * n),
    mask: u8.take(n),
    marginBit: spec.increases.length,
    increase: u32.take(spec.increases.length * n),
    replaySpan: spec.replaySpan ? u32.take(n) : -1,
    xid: spec.xidColumns > 0 ? u16.take(spec.xidColumns * n) : -1,
    xidColumns: spec.xidColumns,
    throttle: spec.throttles ? u16.take(2 * THROTTLES * n) : -1,
    marginMin: spec.marginMin ? f64.take(n) : -1,
    firstSeen: spec.firstSeen ? u32.take(n) : -1,
  };
}

/** 5 one-minute buckets: the 5 m window. */
export const TIER_5M = tier({
  bucketMs: MINUTE_MS,
  buckets: 5,
  increases: [[COUNTER_PCIE_REPLAY]],
  xidColumns: 0,
  replaySpan: true,
  throttles: false,
  marginMin: false,
  firstSeen: false,
});

/** 12 five-minute buckets: the 1 h window. */
export const TIER_1H = tier({
  bucketMs: 5 * MINUTE_MS,
  buckets: 12,
  increases: [[COUNTER_ECC_SBE], [COUNTER_ECC_DBE], [COUNTER_PCIE_REPLAY]],
  xidColumns: 1,
  replaySpan: true,
  throttles: true,
  marginMin: true,
  firstSeen: false,
});

/** 24 one-hour buckets: the 24 h window. */
export const TIER_24H = tier({
  bucketMs: HOUR_MS,
  buckets: 24,
  increases: [
    [COUNTER_ECC_SBE],
    [COUNTER_ECC_DBE],
    [COUNTER_RETIRED_SBE, COUNTER_RETIRED_DBE],
    [COUNTER_REMAP_CORRECTABLE],
    [COUNTER_REMAP_UNCORRECTABLE],
  ],
  xidColumns: 2,
  replaySpan: false,
  throttles: false,
  marginMin: false,
  firstSeen: true,
});

export const TIERS: readonly Tier[] = [TIER_5M, TIER_1H, TIER_24H];

/** Numbers of each type one GPU's state holds. */
export const STRIDE = { f64: f64.size, f32: f32.size, u32: u32.size, u16: u16.size, u8: u8.size } as const;

/** Bytes of typed-array state per GPU. */
export const STATE_BYTES = STRIDE.f64 * 8 + STRIDE.f32 * 4 + STRIDE.u32 * 4 + STRIDE.u16 * 2 + STRIDE.u8;
