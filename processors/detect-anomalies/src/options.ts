import { alertOptions } from '@gpumon/runtime/alert';
import { parse, type ConfigOf } from '@gpumon/runtime/config';

/** A non-negative decimal number, at most `max`. */
function decimal(max: number) {
  return parse.string()
    .regex(/^\d+(\.\d+)?$/, { error: 'must be a number like 4 or 0.5' })
    .transform(Number)
    .refine((v) => v <= max, { error: `must be at most ${max}` });
}

/** The detector's thresholds; the defaults are the ones the simulator evaluation in the README measured. */
export const thresholdOptions = {
  zThreshold: {
    env: 'GPUMON_ANOMALY_Z_THRESHOLD', flag: 'anomaly-z-threshold', default: '4', example: '5',
    description: 'Temperature or power excursions: z-score (5-minute mean against the 24-hour mean and std), beyond what the load explains, at which they are anomalies.',
    schema: decimal(100),
  },
  temperatureStdFloorC: {
    env: 'GPUMON_ANOMALY_TEMPERATURE_STD_FLOOR', flag: 'anomaly-temperature-std-floor', default: '3', example: '5',
    description: 'Smallest 24-hour temperature std (°C) a z-score divides by, so a flat history does not turn every wiggle into an anomaly.',
    schema: decimal(100),
  },
  powerStdFloorPct: {
    env: 'GPUMON_ANOMALY_POWER_STD_FLOOR_PCT', flag: 'anomaly-power-std-floor-pct', default: '5', example: '10',
    description: 'Smallest 24-hour power std a z-score divides by, as a percent of the power limit.',
    schema: decimal(100),
  },
  utilizationStdFloorPct: {
    env: 'GPUMON_ANOMALY_UTILIZATION_STD_FLOOR', flag: 'anomaly-utilization-std-floor', default: '5', example: '10',
    description: 'Smallest 24-hour utilization std (percentage points) a z-score divides by.',
    schema: decimal(100),
  },
  minHistoryS: {
    env: 'GPUMON_ANOMALY_MIN_HISTORY', flag: 'anomaly-min-history', default: '6h', example: '12h',
    description: 'History the edge windows must hold (features.history_s) before z-score rules fire.',
    schema: parse.durationMs().transform((ms) => ms / 1000),
  },
  sbePerHour: {
    env: 'GPUMON_ANOMALY_SBE_PER_HOUR', flag: 'anomaly-sbe-per-hour', default: '10', example: '20',
    description: 'Correctable (single-bit) ECC errors in the last hour at which the rate is an anomaly.',
    schema: decimal(1e9),
  },
  pcieReplayLimitScale: {
    env: 'GPUMON_ANOMALY_PCIE_REPLAY_LIMIT_SCALE', flag: 'anomaly-pcie-replay-limit-scale', default: '1', example: '2',
    description: 'Multiplies DCGM\'s PCIe replay limit, ceil(1e-12 × GT/s × 60 × lanes) per minute, that the 5-minute replay rate is held against.',
    schema: decimal(1000),
  },
  slowdownMarginC: {
    env: 'GPUMON_ANOMALY_SLOWDOWN_MARGIN', flag: 'anomaly-slowdown-margin', default: '5', example: '8',
    description: 'Slowdown margin (slowdown threshold minus GPU temperature, °C) at or below which the GPU is too close to slowing down.',
    schema: decimal(100),
  },
  throttleDuty: {
    env: 'GPUMON_ANOMALY_THROTTLE_DUTY', flag: 'anomaly-throttle-duty', default: '0.05', example: '0.1',
    description: 'Share of the last hour\'s samples with thermal slowdown, power brake or hardware slowdown active at which the throttling is an anomaly.',
    schema: decimal(1),
  },
} as const;

export type Thresholds = ConfigOf<typeof thresholdOptions>;

export const detectAnomaliesOptions = { ...thresholdOptions, ...alertOptions } as const;
