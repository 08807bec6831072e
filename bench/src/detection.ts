import { evaluateDetection, TARGETS } from '@gpumon/detect-anomalies/evaluate';
import { thresholdOptions } from '@gpumon/detect-anomalies/options';
import { loadConfig } from '@gpumon/runtime/config';
import { table } from './measure.js';

const SEEDS = [1, 2, 3, 4, 5];
/** 512 GPUs for three simulated days: 36,864 GPU-hours of a fault-free fleet. */
const HEALTHY_HOSTS = 64;
const HEALTHY_HOURS = 72;

/**
 * detect-anomalies on the simulator with its default thresholds: per fault kind, the share of
 * injected faults detected (before failure for gradual kinds, by the sample that shows the failure
 * for abrupt ones) and the median lead time; then false anomalies on a fault-free fleet.
 */
export async function runDetectionBench(): Promise<Record<string, unknown>> {
  const started = process.cpuUsage();
  const report = evaluateDetection({
    thresholds: loadConfig(thresholdOptions, {}, {}), seeds: SEEDS, hostsPerKind: 1,
    healthyHosts: HEALTHY_HOSTS, healthyHours: HEALTHY_HOURS, intervalMs: 60_000, startMs: Date.parse('2026-01-05T00:00:00Z'),
  });
  const cpu = process.cpuUsage(started);
  const r2 = (x: number) => Math.round(x * 100) / 100;
  console.log(`Detection: ${SEEDS.length} seeds x 8 GPUs per fault kind, one reading a minute`);
  table(report.kinds.map((k) => ({
    kind: k.kind, abrupt: k.abrupt ? 'yes' : 'no', instances: k.instances, detected: k.detected, before_failure: k.detectedBeforeFailure,
    rate: r2(k.rate), target: TARGETS.detectionRate, of_target: r2(k.rate / TARGETS.detectionRate),
    median_lead_min: k.medianLeadMin === null ? '–' : Math.round(k.medianLeadMin * 10) / 10,
    first_by: Object.entries(k.firstKinds).map(([kind, n]) => `${kind} ${n}`).join(', '),
  })));
  const h = report.healthy;
  console.log(`False positives: ${h.gpus} fault-free GPUs for ${HEALTHY_HOURS} h (anomalies before onset on the faulty GPUs: ${report.preOnsetAnomalies})`);
  table([{
    gpu_hours: h.gpuHours, anomalies: h.anomalies, records: h.records, per_1000_gpu_hours: r2(h.anomaliesPerThousandGpuHours),
    target: TARGETS.falsePerThousandGpuHours, of_target: r2(h.anomaliesPerThousandGpuHours / TARGETS.falsePerThousandGpuHours),
  }]);
  return { ...report, targets: TARGETS, cpu_seconds: r2((cpu.user + cpu.system) / 1e6) };
}
