import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dividedBy, exact, floor, roundHalfEven, times } from './exact.js';

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
});
