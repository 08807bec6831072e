import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig, renderOptionsTable } from '@gpumon/runtime/config';
import type { GpuSample } from '@gpumon/schemas/types.generated';
import { SimulatedFleet } from '@gpumon/simulator/fleet';
import { detectAnomaliesProcessor } from './processor.js';
import { detectAnomaliesOptions } from './options.js';

const settings = loadConfig(detectAnomaliesOptions, {}, {});
const [base] = new SimulatedFleet({ seed: 5, hosts: 1, gpusPerHost: 1, hostPrefix: 'p', faultRateScale: 0 }).sample(1_767_571_200_000) as [GpuSample];

describe('detect-anomalies processor', () => {
  const transform = detectAnomaliesProcessor.create(settings);

  it('sends every anomaly, and an alert for each WARNING or CRITICAL one keyed like it', () => {
    const outputs = transform({
      ...base, ecc_volatile_dbe: 1, pcie_link_width: 8,
      xid_events: [13, 48].map((code) => ({ time: base.time, code, pci_id: '0000:18:00', message: 'm' })),
    });
    expect(outputs.filter((o) => o.stream === 'anomalies').map((o) => 'kind' in o.record && o.record.kind)).toEqual(['ecc_dbe', 'xid', 'xid_critical', 'pcie_link_narrow']);
    const alerts = outputs.flatMap((o) => (o.stream === 'alerts' ? [o.record] : []));
    expect(alerts.map((a) => [a.rule, a.severity, a.alert_key])).toEqual([
      ['anomaly_ecc_dbe', 'CRITICAL', `anomaly_ecc_dbe:${base.gpu_uuid}`],
      ['anomaly_xid_critical', 'CRITICAL', `anomaly_xid_critical:${base.gpu_uuid}:48`],
      ['anomaly_pcie_link_narrow', 'WARNING', `anomaly_pcie_link_narrow:${base.gpu_uuid}`],
    ]);
    expect(alerts[1]).toMatchObject({ source: 'detect-anomalies', runbook: 'reset the GPU; with Xid 63/64 drain the node and reset', labels: { metric: 'xid_events', xid: '48' } });
    expect(alerts[0]).toMatchObject({ starts_at: base.time, ends_at: base.time + settings.alertResolveAfter });
    expect(alerts.every((a) => a.runbook.length > 0 && a.summary.includes(base.gpu_uuid))).toBe(true);
  });

  it('sends nothing for a healthy sample', () => {
    expect(transform(base)).toEqual([]);
  });

  it('reads its thresholds from flags and the environment', () => {
    const custom = loadConfig(detectAnomaliesOptions, { zThreshold: '5.5' }, { GPUMON_ANOMALY_MIN_HISTORY: '12h' });
    expect([custom.zThreshold, custom.minHistoryS, settings.throttleDuty]).toEqual([5.5, 43_200, 0.05]);
    expect(() => loadConfig(detectAnomaliesOptions, { throttleDuty: '2' }, {})).toThrow(/GPUMON_ANOMALY_THROTTLE_DUTY.*at most 1/);
  });

  it('has its options table in the README', () => {
    expect(readFileSync(new URL('../README.md', import.meta.url), 'utf8')).toContain(renderOptionsTable(detectAnomaliesOptions));
  });
});
