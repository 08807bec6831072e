import { FAULT_KINDS, type FaultKind } from '@gpumon/simulator/faults/fault';
import { FAULT_SPECS } from '@gpumon/simulator/faults/kinds';
import { SimulatedFleet } from '@gpumon/simulator/fleet';
import { createRandom, seedFrom } from '@gpumon/simulator/random';
import type { Scenario } from '@gpumon/simulator/scenario-faults';
import { detectAnomalies } from './detect.js';
import type { Thresholds } from './options.js';

/** Faults with no lead-up in their telemetry: they can only be caught in the sample that shows them. */
export const ABRUPT_KINDS: ReadonlySet<FaultKind> = new Set(['gsp_error', 'fall_off_bus']);
export const TARGETS = { detectionRate: 0.95, falsePerThousandGpuHours: 1 } as const;

const GPUS_PER_HOST = 8;
const HOUR_MS = 3_600_000;
/** Onsets fall uniformly between these times after the start, so some come on short histories. */
const ONSET_MS: readonly [number, number] = [0.5 * HOUR_MS, 24 * HOUR_MS];

export interface EvaluationOptions {
  thresholds: Thresholds;
  /** One faulty run per seed and kind. */
  seeds: readonly number[];
  /** Hosts of 8 GPUs per seed and kind, every GPU with one fault of the kind. */
  hostsPerKind: number;
  /** Hosts of 8 GPUs in the fault-free run, and how long it runs. */
  healthyHosts: number;
  healthyHours: number;
  intervalMs: number;
  startMs: number;
}

export interface KindResult {
  kind: FaultKind;
  abrupt: boolean;
  instances: number;
  /** An anomaly on the GPU from its onset up to and including the first sample that shows the failure. */
  detected: number;
  /** An anomaly from the onset strictly before failure_time. */
  detectedBeforeFailure: number;
  /** The rate the target applies to: before failure for gradual kinds, by the failing sample for abrupt ones. */
  rate: number;
  /** Median of failure_time − first detection over detected faults (minutes; negative: after failure_time). */
  medianLeadMin: number | null;
  /** Which anomaly kinds made the first detections, with counts. */
  firstKinds: Record<string, number>;
}

export interface HealthyResult {
  gpus: number;
  gpuHours: number;
  /** Anomaly records (one per sample while an anomaly lasts). */
  records: number;
  /** Distinct anomalies: a dedup key that was not on the GPU's previous sample. */
  anomalies: number;
  anomaliesPerThousandGpuHours: number;
  byKind: Record<string, number>;
}

export interface DetectionReport {
  kinds: KindResult[];
  /** Anomalies on faulty GPUs before their onset: false positives of the faulty runs. */
  preOnsetAnomalies: number;
  healthy: HealthyResult;
}

interface Tracked {
  failureMs: number;
  firstMs: number | null;
  firstKinds: string[];
  done: boolean;
}

function scenarioOf(kind: FaultKind, seed: number, hosts: number): Scenario {
  const random = createRandom(seedFrom(seed, kind, 'evaluation'));
  const faults = [];
  for (let host = 1; host <= hosts; host++) {
    for (let gpu = 0; gpu < GPUS_PER_HOST; gpu++) {
      const afterStartMs = Math.round(ONSET_MS[0] + random() * (ONSET_MS[1] - ONSET_MS[0]));
      // The random draw's spread: the kind's default duration ± 50 %.
      const durationMs = Math.round(FAULT_SPECS[kind].defaultDurationMs * (0.5 + random()));
      faults.push({ kind, host, gpu, onset: { afterStartMs }, durationMs });
    }
  }
  return { source: `evaluation ${kind} seed ${seed}`, randomFaults: false, faults };
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Runs one kind's faulty fleets until every GPU has shown its failure; returns each fault's first detection. */
function runKind(kind: FaultKind, options: EvaluationOptions): { tracked: Tracked[]; preOnset: number } {
  const tracked: Tracked[] = [];
  let preOnset = 0;
  for (const seed of options.seeds) {
    const scenario = scenarioOf(kind, seed, options.hostsPerKind);
    const fleet = new SimulatedFleet({ seed, hosts: options.hostsPerKind, gpusPerHost: GPUS_PER_HOST, hostPrefix: kind.replaceAll('_', '-'), scenario });
    const byGpu = scenario.faults.map((f): Tracked => {
      const onsetMs = options.startMs + ('afterStartMs' in f.onset ? f.onset.afterStartMs : 0);
      return { failureMs: onsetMs + (f.durationMs ?? 0), firstMs: null, firstKinds: [], done: false };
    });
    for (let time = options.startMs; byGpu.some((t) => !t.done); time += options.intervalMs) {
      fleet.sample(time).forEach((sample, i) => {
        const t = byGpu[i]!;
        if (t.done) return;
        const anomalies = detectAnomalies(sample, options.thresholds);
        if (sample.simulated_fault === null) {
          preOnset += anomalies.length;
          return;
        }
        if (t.firstMs === null && anomalies.length > 0) {
          t.firstMs = sample.time;
          t.firstKinds = [...new Set(anomalies.map((a) => a.kind))];
        }
        t.done = sample.simulated_fault.phase === 'FAILED';
      });
    }
    tracked.push(...byGpu);
  }
  return { tracked, preOnset };
}

function kindResult(kind: FaultKind, tracked: Tracked[]): KindResult {
  const abrupt = ABRUPT_KINDS.has(kind);
  const detected = tracked.filter((t) => t.firstMs !== null);
  const detectedBeforeFailure = detected.filter((t) => t.firstMs! < t.failureMs).length;
  const firstKinds: Record<string, number> = {};
  for (const t of detected) for (const k of t.firstKinds) firstKinds[k] = (firstKinds[k] ?? 0) + 1;
  return {
    kind,
    abrupt,
    instances: tracked.length,
    detected: detected.length,
    detectedBeforeFailure,
    rate: (abrupt ? detected.length : detectedBeforeFailure) / tracked.length,
    medianLeadMin: median(detected.map((t) => (t.failureMs - t.firstMs!) / 60_000)),
    firstKinds,
  };
}

/** A fault-free fleet (faultRateScale 0): every anomaly on it is a false one. */
function runHealthy(options: EvaluationOptions): HealthyResult {
  const fleet = new SimulatedFleet({ seed: options.seeds[0] ?? 1, hosts: options.healthyHosts, gpusPerHost: GPUS_PER_HOST, hostPrefix: 'healthy', faultRateScale: 0 });
  const ticks = Math.floor((options.healthyHours * HOUR_MS) / options.intervalMs) + 1;
  const previous = new Map<string, Set<string>>();
  const byKind: Record<string, number> = {};
  let records = 0;
  let anomalies = 0;
  for (let tick = 0; tick < ticks; tick++) {
    for (const sample of fleet.sample(options.startMs + tick * options.intervalMs)) {
      const found = detectAnomalies(sample, options.thresholds);
      if (found.length === 0 && !previous.has(sample.gpu_uuid)) continue;
      const before = previous.get(sample.gpu_uuid);
      const keys = new Set(found.map((a) => a.dedup_key));
      for (const a of found) {
        if (before?.has(a.dedup_key) === true) continue;
        anomalies++;
        byKind[a.kind] = (byKind[a.kind] ?? 0) + 1;
      }
      records += found.length;
      if (keys.size === 0) previous.delete(sample.gpu_uuid);
      else previous.set(sample.gpu_uuid, keys);
    }
  }
  const gpus = options.healthyHosts * GPUS_PER_HOST;
  const gpuHours = (gpus * (ticks - 1) * options.intervalMs) / HOUR_MS;
  return { gpus, gpuHours, records, anomalies, anomaliesPerThousandGpuHours: (anomalies / gpuHours) * 1000, byKind };
}

/**
 * Scores the detector on the simulator, deterministically: for each fault kind, faulty fleets
 * (one per seed, every GPU with one fault of the kind, onsets 30 min to 24 h after the start,
 * durations the kind's default ± 50 %) run until every GPU has shown its failure; then a
 * fault-free fleet for the false positives.
 */
export function evaluateDetection(options: EvaluationOptions): DetectionReport {
  let preOnsetAnomalies = 0;
  const kinds = FAULT_KINDS.map((kind) => {
    const { tracked, preOnset } = runKind(kind, options);
    preOnsetAnomalies += preOnset;
    return kindResult(kind, tracked);
  });
  return { kinds, preOnsetAnomalies, healthy: runHealthy(options) };
}
