import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseNvidiaSmiList, type MigDevice } from './mig-devices.js';

const FIXTURES = new URL('../../testdata/nvidia-smi-L/', import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, FIXTURES), 'utf8');

function mig(gpuUuid: string, migUuid: string, profile: string | null, gpuInstanceId: number | null = null, computeInstanceId: number | null = null): MigDevice {
  return { gpuUuid, migUuid, profile, gpuInstanceId, computeInstanceId };
}

describe('parseNvidiaSmiList', () => {
  it('reads R470+ MIG devices, which carry no instance ids, under their GPU', () => {
    const gpu0 = 'GPU-51862d7a-143c-0b9f-ff69-3651422d0530';
    const gpu1 = 'GPU-bf33cabc-0410-1009-a85a-b03219f8a91d';
    expect(parseNvidiaSmiList(fixture('a100-sxm4-40gb-mig-r535.txt'))).toEqual([
      mig(gpu0, 'MIG-9ed1262c-5e24-5a27-ae47-bbaf4c3891c2', '3g.20gb'),
      mig(gpu0, 'MIG-7ffbccea-5098-5c99-8662-cb09944a91d0', '2g.10gb'),
      mig(gpu0, 'MIG-a24bf185-3e53-5b09-9a2c-9927bdd31fa6', '1g.5gb'),
      mig(gpu0, 'MIG-8210db6f-5e9e-53c1-8b66-6fe07f3d2e11', '1g.5gb'),
      mig(gpu1, 'MIG-335480a9-7379-50e9-8d71-834cbd9ae62d', '7g.40gb'),
    ]);
  });

  it('keeps compute-instance and media-extension profiles whole', () => {
    const gpu0 = 'GPU-7b1fe01c-ee1c-181c-502c-42aa471a44ce';
    expect(parseNvidiaSmiList(fixture('h100-80gb-hbm3-mig-r550.txt'))).toEqual([
      mig(gpu0, 'MIG-e05927f0-80eb-5a5e-8208-7892acb74781', '1c.3g.40gb'),
      mig(gpu0, 'MIG-1fd8520b-363d-5586-a2da-bae30a734de7', '2c.3g.40gb'),
      mig(gpu0, 'MIG-2a42c0df-02f2-5f77-9bc0-98d8a80501f8', '2g.20gb'),
      mig(gpu0, 'MIG-5a6fd29f-4468-5611-9a9d-931909f24f28', '1g.10gb+me'),
    ]);
  });

  it('takes the GPU and compute instance ids from R450/R460 MIG UUIDs', () => {
    const gpu0 = 'GPU-e60922ca-8aba-63ed-64d9-4a354580711b';
    const gpu1 = 'GPU-2165b42e-9f0b-6ba1-7393-6cbc250dc0de';
    expect(parseNvidiaSmiList(fixture('a100-pcie-40gb-mig-r460.txt'))).toEqual([
      ...[7, 8, 9, 11, 12, 13, 14].map((gi) => mig(gpu0, `MIG-${gpu0}/${gi}/0`, '1g.5gb', gi, 0)),
      mig(gpu1, `MIG-${gpu1}/1/0`, '3g.20gb', 1, 0),
      mig(gpu1, `MIG-${gpu1}/2/0`, '3g.20gb', 2, 0),
    ]);
  });

  it('finds no MIG device on a host without MIG', () => {
    expect(parseNvidiaSmiList(fixture('tesla-t4-x4-no-mig.txt'))).toEqual([]);
  });

  it('skips lines of neither shape and never puts a MIG device under the wrong GPU', () => {
    const text = [
      'Failed to initialize NVML: Driver/library version mismatch',
      '  MIG 1g.5gb      Device  0: (UUID: MIG-00000000-0000-5000-8000-000000000001)', // no GPU line above it
      'GPU 0: NVIDIA A100-SXM4-40GB (UUID: GPU-aaaaaaaa-0000-0000-0000-000000000000)',
      '  MIG Mode: Enabled',
      '  MIG 1g.5gb      Device  0: (UUID: MIG-00000000-0000-5000-8000-000000000002)\r',
      '  MIG 1g.5gb      Device  1: (UUID: MIG-00000000-0000-5000-8000-0000', // cut short
      'GPU 1: NVIDIA A100-SXM4-40GB (UUID: N/A)',
      '  MIG 1g.5gb      Device  0: (UUID: MIG-00000000-0000-5000-8000-000000000003)', // its GPU had no UUID
      'GPU 2: NVIDIA A100-SXM4-40GB (UUID: GPU-bbbbbbbb-0000-0000-0000-000000000000)',
      '  MIG Device  0: (UUID: MIG-00000000-0000-5000-8000-000000000004)',
      '',
      'No devices were found',
    ].join('\n');
    expect(parseNvidiaSmiList(text)).toEqual([
      mig('GPU-aaaaaaaa-0000-0000-0000-000000000000', 'MIG-00000000-0000-5000-8000-000000000002', '1g.5gb'),
      mig('GPU-bbbbbbbb-0000-0000-0000-000000000000', 'MIG-00000000-0000-5000-8000-000000000004', null),
    ]);
  });

  it('reads nothing from empty output', () => {
    expect(parseNvidiaSmiList('')).toEqual([]);
  });
});
