import { describe, expect, it } from 'vitest';
import { GpumonError } from '@gpumon/runtime/errors';
import { deliverIsolating } from './deliver.js';

/** A receiver that refuses any post holding a bad item, as Alertmanager refuses a whole request for one bad alert. */
function receiver(bad: Set<number>): { post: (items: number[]) => Promise<void>; delivered: number[]; posts: number } {
  const state = { delivered: [] as number[], posts: 0, post: async (items: number[]) => {
    state.posts++;
    if (items.some((i) => bad.has(i))) throw new GpumonError('schema_rejected', `refused ${items.join(',')}`);
    state.delivered.push(...items);
    return Promise.resolve();
  } };
  return state;
}

describe('delivering with the refused items isolated', () => {
  it('delivers the other nine of ten and returns the one refused with its error', async () => {
    const r = receiver(new Set([6]));
    const refused = await deliverIsolating([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], r.post);
    expect(refused).toEqual([{ item: 6, error: new GpumonError('schema_rejected', 'refused 6') }]);
    expect(r.delivered.sort()).toEqual([0, 1, 2, 3, 4, 5, 7, 8, 9]);
    // One post, then a split per level down to the bad item: 1 + 2·⌈log2 10⌉ at most.
    expect(r.posts).toBeLessThanOrEqual(9);
  });

  it('isolates several refused items, and posts once when none is', async () => {
    const r = receiver(new Set([0, 9]));
    expect((await deliverIsolating([...Array(10).keys()], r.post)).map((x) => x.item)).toEqual([0, 9]);
    expect(r.delivered.sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const clean = receiver(new Set());
    expect(await deliverIsolating([1, 2, 3], clean.post)).toEqual([]);
    expect(clean.posts).toBe(1);
  });

  it('hands a retriable error to the caller instead of splitting on it', async () => {
    const down = async (): Promise<void> => Promise.reject(new GpumonError('service_unreachable', 'Alertmanager at http://am:9093/api/v2/alerts answered 503'));
    await expect(deliverIsolating([1, 2], down)).rejects.toThrow(/answered 503/);
  });
});
