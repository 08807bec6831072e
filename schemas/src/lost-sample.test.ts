import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { schemaOf } from './avro.js';
import { lostSample } from './lost-sample.js';
import type { GpuSample } from './types.generated.js';

describe('lostSample', () => {
  it('keeps the identity, nulls every reading, flags the GPU lost, and is a valid record', () => {
    const type = avro.Type.forSchema(schemaOf('samples') as avro.Schema);
    const defaults = type.fromBuffer(type.toBuffer({
      time: 1, gpu_uuid: 'GPU-1', hostname: 'h', source: 'AGENT',
    } as unknown as GpuSample)) as GpuSample;
    const last: GpuSample = {
      ...defaults, gpu_index: 3, serial: 'S1', pci_bus_id: '00000000:3B:00.0', product_name: 'NVIDIA H100 80GB HBM3',
      driver_version: '550.90.07', temperature_gpu_c: 40, power_draw_w: 300, ecc_volatile_dbe: 0, throttle_gpu_idle: false,
      xid_events: [{ time: 1, code: 13, pci_id: '0000:3b:00', message: 'm' }],
      processes: [], workloads: [], attribution_problems: ['pid 7: exited before /proc was read'],
    };
    const lost = lostSample(last, 2000);
    expect(type.isValid(lost)).toBe(true);
    expect(lost).toMatchObject({
      time: 2000, gpu_uuid: 'GPU-1', hostname: 'h', source: 'AGENT', gpu_index: 3, serial: 'S1', pci_bus_id: '00000000:3B:00.0',
      product_name: 'NVIDIA H100 80GB HBM3', driver_version: '550.90.07', gpu_lost: true,
      temperature_gpu_c: null, power_draw_w: null, ecc_volatile_dbe: null, throttle_gpu_idle: null, xid_events: [], mig_instances: [],
      features: null, simulated_fault: null, processes: null, workloads: null, attribution_problems: [],
    });
  });
});
