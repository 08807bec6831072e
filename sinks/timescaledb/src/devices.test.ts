import { describe, expect, it } from 'vitest';
import { sightings } from './devices.js';

const sample = (gpu: string, time: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  gpu_uuid: gpu, time, hostname: 'h1', serial: 'S1', product_name: 'NVIDIA A100', driver_version: '550.54', gpu_lost: false, ...extra,
});

describe('GPU inventory from samples', () => {
  it('takes the identity of the latest sample and the first and last time of all, one row per GPU in UUID order', () => {
    expect(sightings([
      sample('GPU-b', 20, { driver_version: '560.1' }), sample('GPU-b', 10), sample('GPU-a', 5), sample('GPU-b', 15),
    ])).toEqual({
      seen: [
        { key: 'GPU-a', attributes: { serial: 'S1', product_name: 'NVIDIA A100', hostname: 'h1', driver_version: '550.54' }, first_seen: 5, last_seen: 5 },
        { key: 'GPU-b', attributes: { serial: 'S1', product_name: 'NVIDIA A100', hostname: 'h1', driver_version: '560.1' }, first_seen: 10, last_seen: 20 },
      ],
      lost: [],
    });
  });

  it('does not count a lost sample as a sighting, but keeps a GPU known only from lost samples', () => {
    const { seen, lost } = sightings([
      sample('GPU-a', 10), sample('GPU-a', 30, { gpu_lost: true }), sample('GPU-c', 40, { gpu_lost: true }), sample('GPU-c', 50, { gpu_lost: true }),
    ]);
    expect(seen.map((s) => [s.key, s.first_seen, s.last_seen])).toEqual([['GPU-a', 10, 10]]);
    expect(lost.map((s) => [s.key, s.first_seen, s.last_seen])).toEqual([['GPU-c', 40, 50]]);
  });
});
