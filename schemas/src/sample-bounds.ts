import { topicName, type Stream } from './topics.js';

/**
 * The one table of what the numbers of every record a gpumon consumer reads may be: physical
 * bounds no real reading crosses, and for the enriched streams what their producers can make of
 * readings within those, so a value outside them is a broken or hostile producer, not a hot GPU.
 * Every numeric field of every stream but the DLQ has its row (a test walks the schemas);
 * `sample-bounds.md` is generated from it. A path names a field inside nested records with `.`
 * and each item of an array with `[]`.
 */
export interface Bound {
  min: number;
  max: number;
  why: string;
}

const bound = (min: number, max: number, why: string): Bound => ({ min, max, why });

/** 2000-01-01 to 2100-01-01 (epoch ms): no GPU reading is from outside, whatever the clock says. */
const INSTANT = bound(Date.UTC(2000, 0, 1), Date.UTC(2100, 0, 1), 'an instant this century');
const PERCENT = bound(0, 100, 'a percentage');
const FRACTION = bound(0, 1, 'a share');
/** 10 TiB, far above any board's memory. */
const MIB = bound(0, 10_000_000, 'memory of one board (10 TiB at most)');
const TEMPERATURE = bound(-40, 150, 'a sensor in a running server (°C)');
const THRESHOLD = bound(0, 200, 'a temperature threshold the driver sets (°C)');
const TEMPERATURE_SPREAD = bound(0, 200, 'a standard deviation of temperatures (°C)');
const MARGIN = bound(-200, 200, 'degrees to a threshold, negative past it (°C)');
const WATTS = bound(0, 5000, 'the power of one board (W)');
const MHZ = bound(0, 10_000, 'a clock of one board (MHz)');
const COUNT = bound(0, Number.MAX_SAFE_INTEGER, 'a counter: never negative, exact as a double');
const INSTANCE_ID = bound(0, 255, 'a MIG instance id');
const PID = bound(0, 4_194_304, 'a Linux pid (pid_max at most 2^22)');

/** What a consumer validates: every stream but the dead letters (their consumers are people). */
export type BoundedStream = Exclude<Stream, 'dlq'>;

export const SAMPLE_BOUNDS: Readonly<Record<string, Bound>> = {
  time: INSTANT,
  gpu_index: bound(0, 1023, 'a GPU index on one host'),
  utilization_gpu_pct: PERCENT,
  utilization_memory_pct: PERCENT,
  utilization_encoder_pct: PERCENT,
  utilization_decoder_pct: PERCENT,
  memory_total_mib: MIB,
  memory_used_mib: MIB,
  memory_free_mib: MIB,
  memory_reserved_mib: MIB,
  bar1_total_mib: MIB,
  bar1_used_mib: MIB,
  temperature_gpu_c: TEMPERATURE,
  temperature_memory_c: TEMPERATURE,
  temperature_shutdown_c: THRESHOLD,
  temperature_slowdown_c: THRESHOLD,
  temperature_max_operating_c: THRESHOLD,
  temperature_memory_max_c: THRESHOLD,
  power_draw_w: WATTS,
  power_draw_average_w: WATTS,
  power_limit_w: WATTS,
  power_limit_default_w: WATTS,
  power_limit_min_w: WATTS,
  power_limit_max_w: WATTS,
  clock_graphics_mhz: MHZ,
  clock_sm_mhz: MHZ,
  clock_memory_mhz: MHZ,
  clock_video_mhz: MHZ,
  clock_graphics_max_mhz: MHZ,
  clock_sm_max_mhz: MHZ,
  clock_memory_max_mhz: MHZ,
  performance_state: bound(0, 32, 'a P-state, P0 to P15, or 32 (NVML: unknown)'),
  fan_speed_pct: PERCENT,
  ecc_volatile_sbe: COUNT,
  ecc_volatile_dbe: COUNT,
  ecc_aggregate_sbe: COUNT,
  ecc_aggregate_dbe: COUNT,
  retired_pages_sbe: COUNT,
  retired_pages_dbe: COUNT,
  remapped_rows_correctable: COUNT,
  remapped_rows_uncorrectable: COUNT,
  pcie_link_gen: bound(1, 8, 'a PCIe generation'),
  pcie_link_gen_max: bound(1, 8, 'a PCIe generation'),
  pcie_link_width: bound(0, 32, 'PCIe lanes'),
  pcie_link_width_max: bound(0, 32, 'PCIe lanes'),
  pcie_replay_count: COUNT,
  pcie_replay_rollover_count: COUNT,
  pcie_tx_kbps: bound(0, 1e9, 'PCIe throughput (KB/s; 1 TB/s at most)'),
  pcie_rx_kbps: bound(0, 1e9, 'PCIe throughput (KB/s; 1 TB/s at most)'),
  process_count: bound(0, 1_000_000, 'processes on one GPU'),
  'mig_instances[].gpu_instance_id': INSTANCE_ID,
  'mig_instances[].compute_instance_id': INSTANCE_ID,
  'mig_instances[].memory_total_mib': MIB,
  'mig_instances[].memory_used_mib': MIB,
  'xid_events[].time': INSTANT,
  'xid_events[].code': bound(0, 65_535, 'an Xid code'),
  'features.temperature_mean_5m': TEMPERATURE,
  'features.temperature_max_5m': TEMPERATURE,
  'features.temperature_std_5m': TEMPERATURE_SPREAD,
  'features.temperature_mean_1h': TEMPERATURE,
  'features.temperature_max_1h': TEMPERATURE,
  'features.temperature_std_1h': TEMPERATURE_SPREAD,
  'features.temperature_mean_24h': TEMPERATURE,
  'features.temperature_max_24h': TEMPERATURE,
  'features.temperature_std_24h': TEMPERATURE_SPREAD,
  'features.power_mean_5m': WATTS,
  'features.power_max_5m': WATTS,
  'features.power_std_5m': WATTS,
  'features.power_mean_1h': WATTS,
  'features.power_max_1h': WATTS,
  'features.power_std_1h': WATTS,
  'features.power_mean_24h': WATTS,
  'features.power_max_24h': WATTS,
  'features.power_std_24h': WATTS,
  'features.utilization_mean_5m': PERCENT,
  'features.utilization_max_5m': PERCENT,
  'features.utilization_std_5m': PERCENT,
  'features.utilization_mean_1h': PERCENT,
  'features.utilization_max_1h': PERCENT,
  'features.utilization_std_1h': PERCENT,
  'features.utilization_mean_24h': PERCENT,
  'features.utilization_max_24h': PERCENT,
  'features.utilization_std_24h': PERCENT,
  'features.ecc_sbe_increase_1h': COUNT,
  'features.ecc_sbe_increase_24h': COUNT,
  'features.ecc_dbe_increase_1h': COUNT,
  'features.ecc_dbe_increase_24h': COUNT,
  'features.retired_pages_increase_24h': COUNT,
  'features.remapped_rows_increase_24h': COUNT,
  'features.remapped_rows_uncorrectable_increase_24h': COUNT,
  'features.pcie_replays_per_min_5m': COUNT,
  'features.pcie_replays_per_min_1h': COUNT,
  'features.xid_count_1h': COUNT,
  'features.xid_count_24h': COUNT,
  'features.xid_critical_count_24h': COUNT,
  'features.throttle_thermal_duty_1h': FRACTION,
  'features.throttle_power_cap_duty_1h': FRACTION,
  'features.throttle_power_brake_duty_1h': FRACTION,
  'features.throttle_hw_slowdown_duty_1h': FRACTION,
  'features.slowdown_margin_c': MARGIN,
  'features.slowdown_margin_min_1h': MARGIN,
  'features.history_s': bound(0, 90_000, 'history of the 24-hour window, its last bucket included (s)'),
  'simulated_fault.onset_time': INSTANT,
  'simulated_fault.failure_time': INSTANT,
  interval_s: bound(0, 31_622_400, 'time between two readings of one GPU (s; a year at most)'),
  temperature_slowdown_margin_c: MARGIN,
  'processes[].pid': PID,
  'processes[].used_memory_mib': MIB,
  'processes[].gpu_instance_id': INSTANCE_ID,
  'processes[].compute_instance_id': INSTANCE_ID,
  'workloads[].gpu_instance_id': INSTANCE_ID,
  'workloads[].pids[]': PID,
  'workloads[].used_memory_mib': MIB,
};

/** A reading of any sample field or feature, as an anomaly or a prediction's top feature quotes it: the union of SAMPLE_BOUNDS, rounded out (float32 rounds 2^53 − 1 up). */
const READING = bound(-1_000, 2 ** 53, 'a reading of any sample field or feature (the union of their bounds)');
/** A billion currency units for one GPU over one interval: a year of the dearest GPU in the weakest currency is far below. */
const MICROS = bound(0, 1e15, 'an amount of money (currency micro-units; 10^9 units at most)');
/** A year of one board at its 5,000 W ceiling behind a PUE of 3 is 131,760 kWh. */
const KWH = bound(0, 1_000_000, 'energy of one board over one interval (kWh)');
const SCORE = bound(0, 100, 'health points');

export const RECORD_BOUNDS: Readonly<Record<BoundedStream, Readonly<Record<string, Bound>>>> = {
  samples: SAMPLE_BOUNDS,
  health: {
    time: INSTANT,
    score: SCORE,
    'reasons[].penalty': SCORE,
  },
  anomalies: {
    time: INSTANT,
    value: READING,
    baseline: READING,
    // A std floor of 0 (allowed) divides by Number.EPSILON: a reading's whole range over it stays below 10^20.
    score: bound(-1e20, 1e20, 'a z-score in floored standard deviations, or a rule\'s strength'),
  },
  economics: {
    time: INSTANT,
    interval_s: SAMPLE_BOUNDS.interval_s!,
    energy_kwh: KWH,
    energy_cost_micros: MICROS,
    allocated_cost_micros: MICROS,
    used_cost_micros: MICROS,
    idle_cost_micros: MICROS,
    efficiency: FRACTION,
    co2e_kg: bound(0, 10_000_000, 'emissions of that energy (kg CO2e; 10 kg per kWh at most)'),
    cost_per_used_gpu_hour_micros: MICROS,
    'workloads[].share': FRACTION,
    'workloads[].energy_kwh': KWH,
    'workloads[].allocated_cost_micros': MICROS,
    'workloads[].used_cost_micros': MICROS,
    'workloads[].idle_cost_micros': MICROS,
  },
  predictions: {
    time: INSTANT,
    horizon_hours: bound(1, 87_600, 'a model\'s horizon (h; ten years at most)'),
    probability: FRACTION,
    threshold: FRACTION,
    'top_features[].value': READING,
    'top_features[].reference': READING,
    'top_features[].contribution': FRACTION,
    interruption_cost_micros: MICROS,
    expected_cost_micros: MICROS,
  },
  alerts: {
    time: INSTANT,
    starts_at: INSTANT,
    ends_at: INSTANT,
  },
};

/**
 * How far the `time` of any record may lie from the Kafka timestamp of its message: back to the longest any table
 * keeps what a sample yields (gpu_economics, 395 days: a backfill older than that is worth nothing
 * anywhere), ahead by a day of clock skew. Judged against the message's timestamp, not the wall
 * clock, so every consumer, and a replay next year, judges one record the same way (the sink and
 * the processors must dead-letter exactly the same records); the broker bounds that timestamp
 * itself (Kafka 4: message.timestamp.after.max.ms, an hour), and INSTANT bounds `time` whatever it is.
 */
export const SAMPLE_MAX_AGE_MS = 395 * 86_400_000;
export const SAMPLE_MAX_SKEW_MS = 86_400_000;

/** One bound to check: a path, the steps to its values (a field name, or '[]' for each item of an array), and its range. */
interface Rule {
  path: string;
  b: Bound;
  steps: string[];
}

/** What a stream's check adds to `problems`: each value at a rule's path outside its bounds, rule by rule in table order. */
type Check = (record: unknown, problems: string[]) => void;

/**
 * Writes the rules of one stream as one JavaScript function, a block per rule with each step a
 * property read: every consumer runs it on every record, and walking the paths step by step cost
 * 5 to 7 µs per sample. Only the paths' field names (as string literals) and the bounds go into the code.
 */
function compile(rules: readonly Rule[]): Check {
  const blocks = rules.map((rule, k) => {
    let code = `if (!(typeof v${rule.steps.length} === 'number' && v${rule.steps.length} >= ${rule.b.min} && v${rule.steps.length} <= ${rule.b.max})) `
      + `problems.push(line(${k}, v${rule.steps.length}));\n`;
    for (let i = rule.steps.length - 1; i >= 0; i--) {
      const [from, to] = [`v${i}`, `v${i + 1}`];
      code = rule.steps[i] === '[]'
        ? `if (Array.isArray(${from})) for (let i${i} = 0; i${i} < ${from}.length; i${i}++) {\nconst ${to} = ${from}[i${i}];\nif (${to} !== null && ${to} !== undefined) {\n${code}}\n}\n`
        : `{\nconst ${to} = ${from}[${JSON.stringify(rule.steps[i])}];\nif (${to} !== null && ${to} !== undefined) {\n${code}}\n}\n`;
    }
    return `{\nconst v0 = record;\n${code}}\n`;
  });
  const line = (k: number, value: unknown): string => {
    const { path, b } = rules[k]!;
    return `${path}=${String(value)} outside [${b.min}, ${b.max}]`;
  };
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- generated from the bounds table only: field names as JSON strings, numbers
  return new Function('line', `return function check(record, problems) {\nif (record === null || record === undefined) return;\n${blocks.join('')}};`)(line) as Check;
}

const CHECKS = Object.fromEntries(Object.entries(RECORD_BOUNDS).map(([stream, bounds]) => [
  stream, compile(Object.entries(bounds).map(([path, b]): Rule => ({ path, b, steps: path.split(/\.|(?=\[\])/) }))),
])) as Record<BoundedStream, Check>;

const iso = (ms: number): string => (Number.isFinite(ms) && Math.abs(ms) < 8.64e15 ? new Date(ms).toISOString() : String(ms));

/** What is impossible about a decoded record of `stream`, one line each (none: it may be true). */
export function recordProblems(stream: BoundedStream, record: { time: number }, messageTimestampMs: number): string[] {
  const problems: string[] = [];
  CHECKS[stream](record, problems);
  if (record.time > messageTimestampMs + SAMPLE_MAX_SKEW_MS) {
    problems.push(`time ${iso(record.time)} is more than a day after the message was written (${iso(messageTimestampMs)})`);
  }
  if (record.time < messageTimestampMs - SAMPLE_MAX_AGE_MS) {
    problems.push(`time ${iso(record.time)} is more than 395 days before the message was written (${iso(messageTimestampMs)})`);
  }
  return problems;
}

/** The table as Markdown, for sample-bounds.md. */
export function renderBounds(): string {
  const sections = Object.entries(RECORD_BOUNDS).map(([stream, bounds]) => {
    const rows = Object.entries(bounds).map(([path, b]) => `| \`${path}\` | ${b.min} | ${b.max} | ${b.why} |`);
    return `## ${topicName(stream as BoundedStream)}\n\n| field | min | max | what it is |\n| --- | --- | --- | --- |\n${rows.join('\n')}\n`;
  });
  return `# Bounds of every record a gpumon consumer reads\n\nGenerated from [src/sample-bounds.ts](src/sample-bounds.ts) by \`npm run generate -w @gpumon/schemas\`. Do not edit.\n\n`
    + 'Every consumer (each processor, the TimescaleDB sink and the Alertmanager forwarder) dead-letters a record with any number outside\n'
    + 'its bounds, NaN and ±Infinity included, as `validation_failed`; null values are fine. The `time` of every record must also lie\n'
    + 'within 395 days before and one day after the Kafka timestamp of its message.\n\n'
    + sections.join('\n');
}
