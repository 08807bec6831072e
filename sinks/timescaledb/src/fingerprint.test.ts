import { describe, expect, it } from 'vitest';
import { fingerprintOf } from './fingerprint.js';

describe('fingerprintOf', () => {
  const device = fingerprintOf(['product_name', 'driver_version', 'memory_total_mib', 'power_limit_w']);
  const h100 = { product_name: 'NVIDIA H100 80GB HBM3', driver_version: '550.54.15', memory_total_mib: 81559, power_limit_w: 699.5 };

  it('is the same for equal values, a missing value as null, other fields ignored', () => {
    expect(device({ ...h100, hostname: 'node-1' })).toBe(device({ ...h100 }));
    expect(device({ ...h100, power_limit_w: null })).toBe(device({ product_name: h100.product_name, driver_version: '550.54.15', memory_total_mib: 81559 }));
    expect(device({ ...h100, memory_total_mib: -0 })).toBe(device({ ...h100, memory_total_mib: 0 }));
    expect(Number.isSafeInteger(device(h100))).toBe(true);
  });

  it('differs for any one value changed, for a value moved across a field boundary, and for a number against its text', () => {
    const changes: Array<Record<string, unknown>> = [
      { driver_version: '550.54.14' }, { driver_version: '' }, { driver_version: null }, { memory_total_mib: 81560 },
      { power_limit_w: 699.25 }, { power_limit_w: 700 }, { memory_total_mib: '81559' }, { memory_total_mib: 2 ** 32 + 81559 },
      { product_name: 'NVIDIA H100 80GB HBM', driver_version: '3550.54.15' },
    ];
    const fingerprints = new Set([device(h100), ...changes.map((change) => device({ ...h100, ...change }))]);
    expect(fingerprints.size).toBe(changes.length + 1);
  });

  it('gives two field lists of one length the same fingerprint for the same values, so a record and a row compare', () => {
    const ofWorkload = fingerprintOf(['user', 'kind']);
    const ofRow = fingerprintOf(['job_user', 'kind']);
    expect(ofWorkload({ user: 'ana', kind: 'slurm' })).toBe(ofRow({ job_user: 'ana', kind: 'slurm' }));
    expect(ofWorkload({ user: 'ana', kind: 'slurm' })).not.toBe(ofRow({ job_user: 'bob', kind: 'slurm' }));
  });

  it('takes any field name as a name, quotes and code included', () => {
    const odd = `a"]) || true || (o["`;
    const of = fingerprintOf([odd]);
    expect(of({ [odd]: 1 })).not.toBe(of({ [odd]: 2 }));
  });

  it('spreads 100,000 serial numbers over distinct fingerprints', () => {
    const serial = fingerprintOf(['serial']);
    const seen = new Set<number>();
    for (let i = 0; i < 100_000; i++) seen.add(serial({ serial: `13240${String(i).padStart(8, '0')}` }));
    expect(seen.size).toBe(100_000);
  });
});
