import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { Batcher } from './batcher.js';

/** Hands items in and waits until they are written, as a handler that commits right after would. */
async function writeAll(batcher: Batcher<number>, key: string, prepare: () => Promise<number[]>): Promise<void> {
  await (await batcher.add(key, prepare)).written;
}

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
      writeAll(batcher, 'a', async () => [1, 2]),
      writeAll(batcher, 'b', async () => [3]),
      writeAll(batcher, 'a', async () => [4]),
    ]);
    expect(writes).toEqual([['a', [1, 2, 4]], ['b', [3]]]);
  });

  it('waits for a batch still arriving (being decoded), and writes once it is handed in', async () => {
    const { batcher, writes } = recording(100);
    const decoding = batcher.arriving();
    const first = writeAll(batcher, 'a', async () => [1]);
    await sleep(50);
    expect(writes, 'nothing written while another batch is on its way').toEqual([]);
    const second = writeAll(batcher, 'a', async () => [2]);
    decoding();
    await Promise.all([first, second]);
    expect(writes).toEqual([['a', [1, 2]]]);
  });

  it('writes at most maxRows at a time, and settles a handler only when all of its rows are written', async () => {
    const { batcher, writes } = recording(2);
    await writeAll(batcher, 'a', async () => [1, 2, 3, 4, 5]);
    expect(writes).toEqual([['a', [1, 2]], ['a', [3, 4]], ['a', [5]]]);
  });

  it('does not hold a partial group longer than maxWaitMs while another handler is still preparing', async () => {
    const { batcher, writes } = recording(100, 20);
    const slow = writeAll(batcher, 'a', async () => {
      await sleep(300);
      return [2];
    });
    const started = performance.now();
    await writeAll(batcher, 'a', async () => [1]);
    expect(performance.now() - started).toBeLessThan(250);
    await slow;
    expect(writes).toEqual([['a', [1]], ['a', [2]]]);
  });

  it('hands back before the write, so the next batch can be prepared while the rows go in', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const writes: number[][] = [];
    const batcher = new Batcher<number>({ maxRows: 1, maxWaitMs: 10, write: async (_, items) => { await gate; writes.push(items); } });
    const first = await batcher.add('a', async () => [1]);
    const second = await batcher.add('a', async () => [2]);
    expect(writes).toEqual([]);
    release();
    await Promise.all([first.written, second.written]);
    expect(writes).toEqual([[1], [2]]);
  });

  it('fails every handler of a group whose write fails, and settles at once for nothing to write', async () => {
    const { batcher } = recording(100, 10, new Error('gone'));
    await expect(Promise.all([writeAll(batcher, 'a', async () => [1]), writeAll(batcher, 'a', async () => [2])])).rejects.toThrow('gone');
    await expect(writeAll(batcher, 'a', async () => [])).resolves.toBeUndefined();
  });
});
