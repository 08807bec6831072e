import { describe, expect, it } from 'vitest';
import { createRandom } from '../random.js';
import { blockAt, cutIntoBlocks } from './blocks.js';
import { EPOCH_MS, LaneCursor, periodsWithin, type Period } from './timeline.js';

const MINUTE = 60_000;

describe('cutIntoBlocks', () => {
  it('hands out every GPU of the group exactly once, in runs, whole hosts for a spanning job', () => {
    const sizes = new Set<number>();
    for (let seed = 0; seed < 200; seed++) {
      const blocks = cutIntoBlocks(createRandom(seed), 3, 8, 0.6);
      expect(blocks.reduce((n, b) => (expect(b.first).toBe(n), n + b.size), 0)).toBe(24);
      for (const b of blocks) {
        sizes.add(b.size);
        if (b.size > 8) expect([b.first % 8, b.size % 8]).toEqual([0, 0]);
        else expect(Math.floor(b.first / 8)).toBe(Math.floor((b.first + b.size - 1) / 8));
        expect(blockAt(blocks, b.first + b.size - 1)).toBe(b);
      }
    }
    expect([...sizes].sort((a, b) => a - b)).toEqual([1, 2, 4, 8, 16, 24]);
  });
});

describe('periodsWithin and LaneCursor', () => {
  const draw = (random: () => number) => ({ tenant: random(), durationMs: 90 * MINUTE * random() });

  it('cover the epoch with whole-minute periods, free and held in turn, opening free', () => {
    const periods = [...periodsWithin(createRandom(1), 0, EPOCH_MS, 15 * MINUTE, draw)];
    expect(periods[0]!.tenant).toBeNull();
    periods.forEach((p, i) => {
      expect(p.startMs).toBe(i === 0 ? 0 : periods[i - 1]!.endMs);
      expect(p.endMs > p.startMs && p.startMs % MINUTE === 0).toBe(true);
      expect(p.tenant === null).toBe(i % 2 === 0);
    });
    expect(periods.at(-1)!.endMs).toBe(EPOCH_MS);
  });

  it('finds the same period for a time whichever way the readings go', () => {
    const lane = () => new LaneCursor(7 * MINUTE, (epoch, start, end) => periodsWithin(createRandom(epoch), start, end, 15 * MINUTE, draw));
    const forward = lane();
    const times = Array.from({ length: 2000 }, (_, k) => k * 97 * MINUTE / 60);
    const seen = times.map((t) => forward.at(t));
    const backward = lane();
    const again: Period<number>[] = times.map((t) => t).reverse().map((t) => backward.at(t)).reverse();
    expect(again.map((p) => [p.startMs, p.tenant])).toEqual(seen.map((p) => [p.startMs, p.tenant]));
    times.forEach((t, i) => expect(t >= seen[i]!.startMs && t < seen[i]!.endMs).toBe(true));
    expect(forward.at(times[5]!)).toBe(forward.at(times[5]!));
  });
});
