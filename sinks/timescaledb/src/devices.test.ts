import { describe, expect, it } from 'vitest';
import { configChanges, sightings } from './devices.js';

const sample = (gpu: string, time: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  gpu_uuid: gpu, time, hostname: 'h1', serial: 'S1', product_name: 'NVIDIA A100', driver_version: '550.54', gpu_lost: false, ...extra,
});

describe('GPU inventory from samples', () => {
  it('takes the identity of the latest sample and the first and last time of all, one row per GPU in UUID order', () => {
    const { seen, lost } = sightings([
      sample('GPU-b', 20, { driver_version: '560.1' }), sample('GPU-b', 10), sample('GPU-a', 5), sample('GPU-b', 15),
    ]);
    expect(seen).toEqual([
      { key: 'GPU-a', attributes: expect.objectContaining({ serial: 'S1', product_name: 'NVIDIA A100', hostname: 'h1', driver_version: '550.54' }), first_seen: 5, last_seen: 5 },
      { key: 'GPU-b', attributes: expect.objectContaining({ serial: 'S1', product_name: 'NVIDIA A100', hostname: 'h1', driver_version: '560.1' }), first_seen: 10, last_seen: 20 },
    ]);
    expect(lost).toEqual([]);
    expect(seen[0]!.attributes.power_limit_w).toBeNull();
  });

  it('does not count a lost sample as a sighting, but keeps a GPU known only from lost samples', () => {
    const { seen, lost } = sightings([
      sample('GPU-a', 10), sample('GPU-a', 30, { gpu_lost: true }), sample('GPU-c', 40, { gpu_lost: true }), sample('GPU-c', 50, { gpu_lost: true }),
    ]);
    expect(seen.map((s) => [s.key, s.first_seen, s.last_seen])).toEqual([['GPU-a', 10, 10]]);
    expect(lost.map((s) => [s.key, s.first_seen, s.last_seen])).toEqual([['GPU-c', 40, 50]]);
  });

  it('takes from a batch each GPU\'s first configuration and each change after it, in GPU and time order, lost samples aside', () => {
    const changes = configChanges([
      sample('GPU-b', 30, { hostname: 'h2' }), sample('GPU-a', 10), sample('GPU-b', 10), sample('GPU-b', 20),
      sample('GPU-b', 25, { gpu_lost: true, hostname: 'h9' }), sample('GPU-b', 40, { hostname: 'h1' }), sample('GPU-a', 20),
    ]);
    expect(changes.map((c) => [c.key, c.time, c.attributes.hostname])).toEqual([['GPU-a', 10, 'h1'], ['GPU-b', 10, 'h1'], ['GPU-b', 30, 'h2'], ['GPU-b', 40, 'h1']]);
  });
});
