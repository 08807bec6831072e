import { describe, expect, it } from 'vitest';
import { buildAlert } from '@gpumon/runtime/alert';
import { toPostableAlert } from './alertmanager-payload.js';

describe('Alertmanager payload', () => {
  const alert = buildAlert({
    time: Date.parse('2026-11-26T06:00:00Z'), gpu_uuid: 'GPU-1', hostname: 'node-7', rule: 'anomaly_xid_critical', source: 'detect-anomalies',
    severity: 'CRITICAL', summary: 'node-7 GPU-1: Xid 79', runbook: 'drain and reboot the node', subject: '79', labels: { xid: '79' },
  }, 300_000);

  it('identifies the alert by labels that do not change while it fires, and puts the text in annotations', () => {
    expect(toPostableAlert(alert)).toEqual({
      labels: {
        xid: '79', alertname: 'anomaly_xid_critical', alert_key: 'anomaly_xid_critical:GPU-1:79', gpu_uuid: 'GPU-1',
        hostname: 'node-7', severity: 'critical', source: 'detect-anomalies',
      },
      annotations: { summary: 'node-7 GPU-1: Xid 79', runbook: 'drain and reboot the node' },
      startsAt: '2026-11-26T06:00:00.000Z',
      endsAt: '2026-11-26T06:05:00.000Z',
    });
  });

  it('gives a refreshed alert the same labels, so Alertmanager merges it rather than paging again', () => {
    const later = buildAlert({ ...alert, time: alert.time + 10_000, subject: '79', summary: 'node-7 GPU-1: Xid 79 again' }, 300_000);
    expect(toPostableAlert(later).labels).toEqual(toPostableAlert(alert).labels);
    expect(toPostableAlert(later).endsAt).toBe('2026-11-26T06:05:10.000Z');
  });

  it('throws on a date Alertmanager cannot be given, so the forwarder dead-letters that alert alone', () => {
    expect(() => toPostableAlert({ ...alert, ends_at: 9e15 })).toThrow(RangeError);
  });
});
