import { describe, expect, it } from 'vitest';
import type { GpuSample } from '@gpumon/schemas/types.generated';
import { SimulatedFleet } from '@gpumon/simulator/fleet';
import { healthAlerts } from './alerts.js';
import { scoreHealth } from './score.js';

const base = new SimulatedFleet({ seed: 5, hosts: 1, gpusPerHost: 1, hostPrefix: 'a' }).sample(1_700_000_000_000)[0] as GpuSample;
const xid = (code: number, message: string): GpuSample['xid_events'][number] => ({ time: base.time, code, pci_id: '0000:17:00.0', message });

describe('healthAlerts', () => {
  it('pages once per rule: two Xid 79 events in one sample are one alert, each other rule its own', () => {
    const health = scoreHealth({ ...base, xid_events: [xid(79, 'fallen off the bus'), xid(79, 'fallen off the bus again'), xid(31, 'page fault')] });
    const alerts = healthAlerts(health, 300_000);
    expect(alerts.map((a) => a.alert_key).sort()).toEqual([`health_xid_31:${base.gpu_uuid}`, `health_xid_79:${base.gpu_uuid}`]);
    expect(new Set(alerts.map((a) => a.alert_key)).size).toBe(alerts.length);
  });
});
