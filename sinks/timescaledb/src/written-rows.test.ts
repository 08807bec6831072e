import { describe, expect, it } from 'vitest';
import { EXISTS, LAST_SEEN_LAG_MS, mergeDimension, WrittenRows } from './written-rows.js';

const attributes = (driver: string | null): Record<string, string | null> => ({ hostname: 'h1', driver });

describe('WrittenRows', () => {
  it('covers a sighting with the written attributes, first_seen not before, last_seen under LAST_SEEN_LAG_MS past what was written', () => {
    const rows = new WrittenRows(['hostname', 'driver'], mergeDimension);
    rows.remember('GPU-a', { attributes: attributes('550'), from: 1000, to: 2000 });
    expect(rows.covers('GPU-a', attributes('550'), 1500, 2000 + LAST_SEEN_LAG_MS - 1)).toBe(true);
    expect(rows.covers('GPU-a', attributes('550'), 1500, 2000 + LAST_SEEN_LAG_MS)).toBe(false);
    expect(rows.covers('GPU-a', attributes('550'), 999, 2000)).toBe(false);
    expect(rows.covers('GPU-a', attributes('560'), 1500, 2000)).toBe(false);
    expect(rows.covers('GPU-b', attributes('550'), 1500, 2000)).toBe(false);
  });

  it('keeps the attributes of the latest write, the earliest first_seen and the latest last_seen, as the upsert does', () => {
    const rows = new WrittenRows(['hostname', 'driver'], mergeDimension);
    rows.remember('GPU-a', { attributes: attributes('560'), from: 5000, to: 6000 });
    rows.remember('GPU-a', { attributes: attributes('550'), from: 1000, to: 2000 });
    expect(rows.covers('GPU-a', attributes('560'), 1000, 6000)).toBe(true);
    expect(rows.covers('GPU-a', attributes('550'), 1000, 6000)).toBe(false);
  });

  it('knows a row only known to exist, but covers no sighting with it', () => {
    const rows = new WrittenRows(['hostname', 'driver'], mergeDimension);
    rows.remember('GPU-lost', EXISTS);
    expect(rows.knows('GPU-lost')).toBe(true);
    expect(rows.covers('GPU-lost', attributes(null), 1000, 1000)).toBe(false);
  });

  it('forgets the least recently sighted key beyond its capacity', () => {
    const rows = new WrittenRows(['hostname', 'driver'], mergeDimension, 2);
    const wrote = { attributes: attributes('550'), from: 1000, to: 1000 };
    rows.remember('a', wrote);
    rows.remember('b', wrote);
    expect(rows.covers('a', attributes('550'), 1000, 1000)).toBe(true);
    rows.remember('c', wrote);
    expect(['a', 'b', 'c'].map((key) => rows.knows(key))).toEqual([true, false, true]);
  });
});
