import { describe, expect, it } from 'vitest';
import { loadConfig } from '@gpumon/runtime/config';
import { FAULT_KINDS } from '@gpumon/simulator/faults/fault';
import { evaluateDetection, TARGETS } from './evaluate.js';
import { thresholdOptions } from './options.js';

describe('evaluation on the simulator', () => {
  it('detects at least 95 % of each fault kind and raises at most 1 false anomaly per 1,000 GPU-hours', () => {
    const report = evaluateDetection({
      thresholds: loadConfig(thresholdOptions, {}, {}), seeds: [11, 12, 13], hostsPerKind: 1,
      healthyHosts: 16, healthyHours: 24, intervalMs: 60_000, startMs: Date.parse('2026-01-05T00:00:00Z'),
    });
    expect(report.kinds.map((k) => k.kind)).toEqual([...FAULT_KINDS]);
    for (const k of report.kinds) {
      expect(k.instances).toBe(24);
      expect(k.rate, k.kind).toBeGreaterThanOrEqual(TARGETS.detectionRate);
    }
    expect(report.kinds.find((k) => k.kind === 'gsp_error')?.abrupt).toBe(true);
    expect(report.preOnsetAnomalies).toBe(0);
    expect(report.healthy.gpuHours).toBe(3072);
    expect(report.healthy.anomaliesPerThousandGpuHours).toBeLessThanOrEqual(TARGETS.falsePerThousandGpuHours);
  });
});
