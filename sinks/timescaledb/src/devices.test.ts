import { describe, expect, it } from 'vitest';
import { sightings } from './devices.js';

const sample = (gpu: string, time: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  gpu_uuid: gpu, time, hostname: 'h1', serial: 'S1', product_name: 'NVIDIA A100', driver_version: '550.54', gpu_lost: false, ...extra,
});

describe('GPU inventory from samples', () => {
  it('takes the identity of the latest sample and the first and last time of all, one row per GPU in UUID order', () => {
    expect(sightings([
      sample('GPU-b', 20, { driver_version: '560.1' }), sample('GPU-b', 10), sample('GPU-a', 5), sample('GPU-b', 15),
    ])).toEqual([
      { gpu_uuid: 'GPU-a', serial: 'S1', product_name: 'NVIDIA A100', hostname: 'h1', driver_version: '550.54', first_seen: 5, last_seen: 5, seen: true },
      { gpu_uuid: 'GPU-b', serial: 'S1', product_name: 'NVIDIA A100', hostname: 'h1', driver_version: '560.1', first_seen: 10, last_seen: 20, seen: true },
    ]);
  });

  it('does not count a lost sample as a sighting, but keeps a GPU known only from lost samples', () => {
    const found = sightings([sample('GPU-a', 10), sample('GPU-a', 30, { gpu_lost: true }), sample('GPU-c', 40, { gpu_lost: true }), sample('GPU-c', 50, { gpu_lost: true })]);
    expect(found.map((s) => [s.gpu_uuid, s.first_seen, s.last_seen, s.seen])).toEqual([['GPU-a', 10, 10, true], ['GPU-c', 40, 50, false]]);
  });
});
