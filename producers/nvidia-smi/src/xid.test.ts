import { describe, expect, it } from 'vitest';
import type { GpuSample } from '@gpumon/schemas/types.generated';
import { assignXidEvents, normalizePciId, parseXidLine } from './xid.js';

const BOOT = Date.parse('2026-01-01T00:00:00.000Z');
const NOW = Date.parse('2026-01-02T00:00:00.000Z');
const clock = { bootTimeMs: BOOT, nowMs: NOW };

describe('parseXidLine', () => {
  // [line, time, code, pci_id, message]
  const cases: Array<[string, number, number, string, string]> = [
    [
      '[ 1234.567890] NVRM: Xid (PCI:0000:3b:00): 13, pid=2874, name=python3, Graphics SM Warp Exception on (GPC 0, TPC 0, SM 0): Out Of Range Address',
      BOOT + 1_234_568, 13, '0000:3b:00', 'pid=2874, name=python3, Graphics SM Warp Exception on (GPC 0, TPC 0, SM 0): Out Of Range Address',
    ],
    [
      '[ 8812.003411] NVRM: Xid (PCI:0000:01:00): 31, pid=1234, name=python, Ch 00000010, intr 10000000. MMU Fault: ENGINE GRAPHICS GPCCLIENT_T1_0 faulted @ 0x7f3c_00000000. Fault is of type FAULT_PDE ACCESS_TYPE_READ',
      BOOT + 8_812_003, 31, '0000:01:00', 'pid=1234, name=python, Ch 00000010, intr 10000000. MMU Fault: ENGINE GRAPHICS GPCCLIENT_T1_0 faulted @ 0x7f3c_00000000. Fault is of type FAULT_PDE ACCESS_TYPE_READ',
    ],
    ['[   77.100000] NVRM: Xid (PCI:0000:86:00): 43, pid=15151, Ch 00000008', BOOT + 77_100, 43, '0000:86:00', 'pid=15151, Ch 00000008'],
    [
      '2026-01-01T10:00:00,123456+00:00 NVRM: Xid (PCI:0000:86:00): 45, pid=15151, name=train.py, Ch 00000008',
      Date.parse('2026-01-01T10:00:00.123Z'), 45, '0000:86:00', 'pid=15151, name=train.py, Ch 00000008',
    ],
    [
      // Pre-R450 drivers print the address without "PCI:".
      '[1000000.000001] NVRM: Xid (0000:3b:00): 48, An uncorrectable double bit error (DBE) has been detected on GPU in the framebuffer at partition 6, subpartition 0.',
      BOOT + 1_000_000_000, 48, '0000:3b:00', 'An uncorrectable double bit error (DBE) has been detected on GPU in the framebuffer at partition 6, subpartition 0.',
    ],
    ['[  500.250000] NVRM: Xid (PCI:0000:02:00): 61, 0cb3(2f6c) 00000000 00000000', BOOT + 500_250, 61, '0000:02:00', '0cb3(2f6c) 00000000 00000000'],
    [
      '2026-01-01T10:00:05+0000 gpu-node-17 kernel: NVRM: Xid (PCI:0000:3B:00): 62, 1d0b(1dc4) 00000000 00000000',
      Date.parse('2026-01-01T10:00:05Z'), 62, '0000:3b:00', '1d0b(1dc4) 00000000 00000000',
    ],
    [
      '2026-01-01T11:30:00.500000+01:00 gpu-node-17 kernel: [ 3000.000000] NVRM: Xid (PCI:0000:3b:00): 63, Row Remapping Event: Row remap pending, reboot to activate',
      Date.parse('2026-01-01T10:30:00.500Z'), 63, '0000:3b:00', 'Row Remapping Event: Row remap pending, reboot to activate',
    ],
    [
      '[ 3100.000000] NVRM: Xid (0000:3b:00): 63, Dynamic Page Retirement: New page retired, reboot to activate (0x00000000001a2b3c).',
      BOOT + 3_100_000, 63, '0000:3b:00', 'Dynamic Page Retirement: New page retired, reboot to activate (0x00000000001a2b3c).',
    ],
    [
      '[ 3200.000000] NVRM: Xid (PCI:0000:3b:00): 64, Dynamic Page Retirement: Fatal error, unable to retire page (0x00000000001a2b3c).',
      BOOT + 3_200_000, 64, '0000:3b:00', 'Dynamic Page Retirement: Fatal error, unable to retire page (0x00000000001a2b3c).',
    ],
    [
      '[ 9999.999999] NVRM: Xid (PCI:0000:07:00): 74, NVLink: fatal error detected on link 5(0x0, 0x0, 0x10000, 0x0, 0x0, 0x0, 0x0)',
      BOOT + 10_000_000, 74, '0000:07:00', 'NVLink: fatal error detected on link 5(0x0, 0x0, 0x10000, 0x0, 0x0, 0x0, 0x0)',
    ],
    [
      '[12345.678901] NVRM: Xid (PCI:0000:3b:00): 79, pid=1234, name=python, GPU has fallen off the bus.',
      BOOT + 12_345_679, 79, '0000:3b:00', 'pid=1234, name=python, GPU has fallen off the bus.',
    ],
    [
      // A VMD domain beyond 0xffff, and the pid the driver could not resolve.
      "[12345.700000] NVRM: Xid (PCI:10000:01:00): 79, pid='<unknown>', name=<unknown>, GPU has fallen off the bus.",
      BOOT + 12_345_700, 79, '10000:01:00', "pid='<unknown>', name=<unknown>, GPU has fallen off the bus.",
    ],
    ['[  600.000000] NVRM: Xid (PCI:0000:04:00): 92, High single-bit ECC error rate detected', BOOT + 600_000, 92, '0000:04:00', 'High single-bit ECC error rate detected'],
    [
      '2026-01-01T12:00:00Z host kernel: NVRM: Xid (PCI:0000:b7:00): 94, pid=3395, name=python, Contained: SM (0x1). RST: No, D-RST: No',
      Date.parse('2026-01-01T12:00:00Z'), 94, '0000:b7:00', 'pid=3395, name=python, Contained: SM (0x1). RST: No, D-RST: No',
    ],
    [
      "[  700.000000] NVRM: Xid (PCI:0000:b7:00): 95, pid='<unknown>', name=<unknown>, Uncontained: FBHUB. RST: Yes, D-RST: No",
      BOOT + 700_000, 95, '0000:b7:00', "pid='<unknown>', name=<unknown>, Uncontained: FBHUB. RST: Yes, D-RST: No",
    ],
    [
      '[ 4242.424242] NVRM: Xid (PCI:0000:c1:00): 119, pid=98765, name=nv-hostengine, Timeout after 6s of waiting for RPC response from GPU0 GSP! Expected function 76 (GSP_RM_CONTROL) (0x20802a02 0x8).',
      BOOT + 4_242_424, 119, '0000:c1:00', 'pid=98765, name=nv-hostengine, Timeout after 6s of waiting for RPC response from GPU0 GSP! Expected function 76 (GSP_RM_CONTROL) (0x20802a02 0x8).',
    ],
    [
      '[ 4300.000000] NVRM: Xid (PCI:0000:c1:00.0): 120, pid=98765, name=python, GSP task timeout @ pc:0x1c5e9a4, task: 1',
      BOOT + 4_300_000, 120, '0000:c1:00', 'pid=98765, name=python, GSP task timeout @ pc:0x1c5e9a4, task: 1',
    ],
    // Classic syslog stamps have no year: the read time stands in.
    ['May  1 12:34:56 node kernel: NVRM: Xid (PCI:0000:3b:00): 79', NOW, 79, '0000:3b:00', ''],
  ];

  it.each(cases)('%s', (line, time, code, pci_id, message) => {
    expect(parseXidLine(line, clock)).toEqual({ time, code, pci_id, message });
  });

  it.each([
    '[ 1234.567890] NVRM: GPU at PCI:0000:3b:00: GPU-513536b6-7d19-9063-b049-1e69664bb298',
    '[ 1234.567890] NVRM: loading NVIDIA UNIX x86_64 Kernel Module  535.54.03',
    '[ 1234.567890] pcieport 0000:3a:00.0: AER: Corrected error received: 0000:3a:00.0',
    '',
  ])('ignores a line that is not an Xid: %j', (line) => {
    expect(parseXidLine(line, clock)).toBeNull();
  });
});

describe('normalizePciId', () => {
  it.each([
    ['00000000:3B:00.0', '0000:3b:00'],
    ['0000:3b:00', '0000:3b:00'],
    ['00010000:01:00.0', '10000:01:00'],
    ['0:1e:00', '0000:1e:00'],
  ])('%s → %s', (id, normal) => {
    expect(normalizePciId(id)).toBe(normal);
  });

  it('refuses what is not a PCI address', () => {
    expect(normalizePciId('GPU-513536b6')).toBeNull();
  });
});

describe('assignXidEvents', () => {
  const sample = (uuid: string, pci: string | null): GpuSample => ({ gpu_uuid: uuid, pci_bus_id: pci, xid_events: [] }) as unknown as GpuSample;
  const xid = (code: number, pci_id: string) => ({ time: NOW, code, pci_id, message: '' });

  it('gives each event to the GPU at its address and returns the rest', () => {
    const { samples, unmatched } = assignXidEvents(
      [sample('GPU-a', '00000000:3B:00.0'), sample('GPU-b', '00000000:86:00.0'), sample('GPU-c', null)],
      [xid(48, '0000:3b:00'), xid(79, '0000:af:00'), xid(63, '0000:3b:00')],
    );
    expect(samples.map((s) => [s.gpu_uuid, s.xid_events.map((e) => e.code)])).toEqual([
      ['GPU-a', [48, 63]],
      ['GPU-b', []],
      ['GPU-c', []],
    ]);
    expect(unmatched).toEqual([xid(79, '0000:af:00')]);
  });
});
