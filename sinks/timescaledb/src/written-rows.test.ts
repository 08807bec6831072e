import { describe, expect, it } from 'vitest';
import { EXISTS, itemsOfChangedKeys, LAST_SEEN_LAG_MS, mergeDimension, WrittenRows } from './written-rows.js';

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

  it('has a row only known to exist, but covers no sighting with it', () => {
    const rows = new WrittenRows(['hostname', 'driver'], mergeDimension);
    rows.remember('GPU-lost', EXISTS);
    expect(rows.has('GPU-lost')).toBe(true);
    expect(rows.covers('GPU-lost', attributes(null), 1000, 1000)).toBe(false);
  });

  it('holds one sighting at a time the written span reaches, with the written attributes, without moving the key among the recent ones', () => {
    const rows = new WrittenRows(['hostname', 'driver'], mergeDimension, 2);
    rows.remember('a', { attributes: attributes('550'), from: 1000, to: 2000 });
    rows.remember('b', { attributes: attributes('550'), from: 1000, to: 2000 });
    const sighting = (driver: string): number => rows.fingerprint(attributes(driver));
    expect(rows.holds('a', 1000, sighting('550'))).toBe(true);
    expect(rows.holds('a', 2000 + LAST_SEEN_LAG_MS - 1, sighting('550'))).toBe(true);
    expect(rows.holds('a', 2000 + LAST_SEEN_LAG_MS, sighting('550'))).toBe(false);
    expect(rows.holds('a', 999, sighting('550'))).toBe(false);
    expect(rows.holds('a', 1500, sighting('560'))).toBe(false);
    expect(rows.has('a')).toBe(true);
    rows.remember('c', { attributes: attributes('550'), from: 1000, to: 2000 });
    expect(['a', 'b', 'c'].map((key) => rows.has(key))).toEqual([false, true, true]);
    rows.remember('lost', EXISTS);
    expect(rows.has('lost')).toBe(true);
    expect(rows.holds('lost', 1000, rows.fingerprint(attributes(null)))).toBe(false);
  });

  it('keeps every item of a key with one item not held, in order, and no item of the keys held throughout', () => {
    const items = [{ key: 'a', held: true }, { key: 'b', held: true }, { key: 'a', held: false }, { key: 'c', held: false }, { key: 'a', held: true }];
    expect(itemsOfChangedKeys(items, (i) => i.key, (i) => i.held)).toEqual([items[0], items[2], items[3], items[4]]);
    expect(itemsOfChangedKeys(items.slice(0, 2), (i) => i.key, (i) => i.held)).toEqual([]);
  });

  it('forgets the least recently sighted key beyond its capacity', () => {
    const rows = new WrittenRows(['hostname', 'driver'], mergeDimension, 2);
    const wrote = { attributes: attributes('550'), from: 1000, to: 1000 };
    rows.remember('a', wrote);
    rows.remember('b', wrote);
    expect(rows.covers('a', attributes('550'), 1000, 1000)).toBe(true);
    rows.remember('c', wrote);
    expect(['a', 'b', 'c'].map((key) => rows.has(key))).toEqual([true, false, true]);
  });
});
