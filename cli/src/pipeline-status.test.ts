import { describe, expect, it } from 'vitest';
import { formatStatus, layoutInUse, type StatusSnapshot } from './pipeline-status.js';

function snapshot(at: number, written: number, groups: StatusSnapshot['groups']): StatusSnapshot {
  return { at, written: { samples: written, health: written, anomalies: 0, economics: written, predictions: written, alerts: 0, dlq: 1 }, groups, failingGpus: null, atRiskGpus: null };
}

describe('the status line', () => {
  const before = snapshot(0, 0, {});

  it('shows the co-located group\'s lag beside each processor\'s output rate', () => {
    const now = snapshot(10_000, 1000, { 'gpumon-processors': { committed: 990, lag: 10 }, 'gpumon-sink-timescaledb': { committed: 3000, lag: 5 } });
    expect(layoutInUse(now)).toBe('co-located');
    expect(formatStatus(before, now, 'co-located')).toBe(
      'samples 100/s | health 100/s anomalies 0/s economics 100/s predictions 100/s lag 10 | alerts 0/s | db 300 rows/s lag 5 | dlq 1',
    );
  });

  it('shows each split processor\'s lag beside its output rate', () => {
    const now = snapshot(10_000, 1000, { 'gpumon-score-health': { committed: 1000, lag: 0 }, 'gpumon-price-usage': { committed: 900, lag: 100 } });
    expect(layoutInUse(now)).toBe('split');
    expect(formatStatus(before, now, 'split')).toBe(
      'samples 100/s | health 100/s lag 0 | anomalies 0/s lag 0 | economics 100/s lag 100 | predictions 100/s lag 0 | alerts 0/s | db 0 rows/s lag 0 | dlq 1',
    );
  });
});
