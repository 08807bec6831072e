import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { Batcher } from './batcher.js';

function recording(maxRows: number, maxWaitMs = 10_000, fail?: Error): { batcher: Batcher<number>; writes: Array<[string, number[]]> } {
  const writes: Array<[string, number[]]> = [];
  const batcher = new Batcher<number>({
    maxRows, maxWaitMs,
    write: async (key, items) => {
      if (fail !== undefined) throw fail;
      writes.push([key, items]);
    },
  });
  return { batcher, writes };
}

describe('Batcher', () => {
  it('groups the batches handed in together per key, once no handler is still preparing', async () => {
    const { batcher, writes } = recording(100);
    await Promise.all([
      batcher.write('a', async () => [1, 2]),
      batcher.write('b', async () => [3]),
      batcher.write('a', async () => [4]),
    ]);
    expect(writes).toEqual([['a', [1, 2, 4]], ['b', [3]]]);
  });

  it('writes at most maxRows at a time, and settles a handler only when all of its rows are written', async () => {
    const { batcher, writes } = recording(2);
    await batcher.write('a', async () => [1, 2, 3, 4, 5]);
    expect(writes).toEqual([['a', [1, 2]], ['a', [3, 4]], ['a', [5]]]);
  });

  it('does not hold a partial group longer than maxWaitMs while another handler is still preparing', async () => {
    const { batcher, writes } = recording(100, 20);
    const slow = batcher.write('a', async () => {
      await sleep(300);
      return [2];
    });
    const started = performance.now();
    await batcher.write('a', async () => [1]);
    expect(performance.now() - started).toBeLessThan(250);
    await slow;
    expect(writes).toEqual([['a', [1]], ['a', [2]]]);
  });

  it('fails every handler of a group whose write fails, and settles at once for nothing to write', async () => {
    const { batcher } = recording(100, 10, new Error('gone'));
    await expect(Promise.all([batcher.write('a', async () => [1]), batcher.write('a', async () => [2])])).rejects.toThrow('gone');
    await expect(batcher.write('a', async () => [])).resolves.toBeUndefined();
  });
});
