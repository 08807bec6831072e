import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { apportion, dividedBy, exact, floor, roundHalfEven, times, type Ratio } from './exact.js';

describe('exact arithmetic', () => {
  it('reads a number as the decimal it prints as', () => {
    expect(exact(2.99)).toEqual({ num: 299n, den: 100n });
    expect(exact(15000)).toEqual({ num: 15000n, den: 1n });
    expect(exact(-0.5)).toEqual({ num: -5n, den: 10n });
    expect(exact(1e-7)).toEqual({ num: 1n, den: 10_000_000n });
    expect(exact(1.23456e-8)).toEqual({ num: 123456n, den: 10n ** 13n });
    expect(exact(1e21)).toEqual({ num: 10n ** 21n, den: 1n });
    expect(() => exact(Number.NaN)).toThrow(/finite/);
  });

  it('reads a whole number as the digits it prints as, over one', () => {
    fc.assert(fc.property(fc.maxSafeInteger(), (x) => {
      expect(exact(x)).toEqual({ num: BigInt(String(x)), den: 1n });
    }));
    expect(exact(-0)).toEqual({ num: 0n, den: 1n });
  });

  it('floors toward minus infinity and rounds ties to even', () => {
    expect([floor({ num: 7n, den: 2n }), floor({ num: -7n, den: 2n }), floor({ num: -6n, den: 2n })]).toEqual([3n, -4n, -3n]);
    const round = (num: bigint, den: bigint) => roundHalfEven({ num, den });
    expect([round(5n, 2n), round(7n, 2n), round(-5n, 2n), round(233n * 3n + 1n, 3n), round(233n * 3n + 2n, 3n)]).toEqual([2n, 4n, -2n, 233n, 234n]);
    expect(dividedBy({ num: 1n, den: 2n }, { num: -3n, den: 4n })).toEqual({ num: -4n, den: 6n });
  });

  it('rounds to within half a unit, and floors to within one below', () => {
    fc.assert(fc.property(fc.bigInt(), fc.bigInt({ min: 1n, max: 10n ** 12n }), (num, den) => {
      const r = { num, den };
      const rounded = roundHalfEven(r);
      const down = floor(r);
      const twiceOff = 2n * (rounded * den - num);
      return twiceOff <= den && twiceOff >= -den && down * den <= num && (down + 1n) * den > num;
    }), { numRuns: 2000 });
  });

  it('multiplies decimals without binary error', () => {
    // 0.1 × 3 is 0.30000000000000004 in doubles.
    expect(times(exact(0.1), 3n)).toEqual({ num: 3n, den: 10n });
    expect(roundHalfEven(times(exact(0.1), 3n, 10n))).toBe(3n);
  });

  it('apportions by largest remainder, the earlier part first on a tie, and within caps', () => {
    const thirds = [{ num: 1n, den: 3n }, { num: 1n, den: 3n }, { num: 1n, den: 3n }];
    expect(apportion(10n, thirds)).toEqual([4n, 3n, 3n]);
    expect(apportion(11n, thirds)).toEqual([4n, 4n, 3n]);
    expect(apportion(7n, [{ num: 3n, den: 10n }, { num: 7n, den: 10n }])).toEqual([2n, 5n]);
    expect(apportion(0n, thirds)).toEqual([0n, 0n, 0n]);
    const split = [{ num: 6n, den: 10n }, { num: 4n, den: 10n }];
    expect(apportion(1n, split)).toEqual([1n, 0n]);
    expect(apportion(1n, split, [0n, 1n])).toEqual([0n, 1n]);
    expect(() => apportion(2n, thirds, [1n, 0n, 0n])).toThrow('caps 1, 0, 0 leave no room for 2');
  });

  it('apportions exactly, each part within one of its quota, and used within allocated', () => {
    const weights = fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 8 }).filter((w) => w.some((x) => x > 0));
    fc.assert(fc.property(weights, fc.bigInt({ min: 0n, max: 10n ** 12n }), fc.double({ min: 0, max: 1, noNaN: true }), (w, allocated, busy) => {
      const total = BigInt(w.reduce((a, b) => a + b, 0));
      const shares: Ratio[] = w.map((x) => ({ num: BigInt(x), den: total }));
      const used = (allocated * BigInt(Math.round(busy * 1000))) / 1000n;
      const a = apportion(allocated, shares);
      const u = apportion(used, shares, a);
      const within = (parts: bigint[], whole: bigint) => parts.every((part, i) => {
        const off = part * total - whole * BigInt(w[i]!);
        return off < total && off > -total;
      });
      return a.reduce((x, y) => x + y, 0n) === allocated && u.reduce((x, y) => x + y, 0n) === used
        && u.every((part, i) => part >= 0n && part <= a[i]!) && within(a, allocated) && within(u, used);
    }), { numRuns: 5000 });
  });
});
