import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { add, apportion, dividedBy, exact, floor, floorTimes, mul, reduced, roundHalfEven, sub, times, type Int, type Ratio } from './exact.js';

/** The decimal number-to-string prints, as a BigInt ratio: the reference `exact` must agree with. */
function printed(x: number): { num: bigint; den: bigint } {
  const [mantissa = '0', exponent = '0'] = x.toString().split('e');
  const [whole = '0', fraction = ''] = mantissa.split('.');
  const power = Number(exponent) - fraction.length;
  const digits = BigInt(whole + fraction);
  return power >= 0 ? { num: digits * 10n ** BigInt(power), den: 1n } : { num: digits, den: 10n ** BigInt(-power) };
}

/** Integers on both sides of 2^52, where the arithmetic moves between numbers and BigInts. */
const ints = fc.oneof(
  fc.integer({ min: -1_000_000, max: 1_000_000 }),
  fc.bigInt({ min: -(2n ** 53n), max: 2n ** 53n }),
  fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }),
).map((x): Int => (typeof x === 'bigint' && x >= -(2n ** 52n) && x <= 2n ** 52n ? Number(x) : x));

/** In the number range an integer is a number, past it a BigInt. */
const canonical = (x: Int) => (typeof x === 'number' ? Number.isSafeInteger(x) && Math.abs(x) <= 2 ** 52 && !Object.is(x, -0) : x < -(2n ** 52n) || x > 2n ** 52n);

describe('exact arithmetic', () => {
  it('reads a number as the decimal it prints as', () => {
    expect(exact(2.99)).toEqual({ num: 299, den: 100 });
    expect(exact(15000)).toEqual({ num: 15000, den: 1 });
    expect(exact(-0.5)).toEqual({ num: -5, den: 10 });
    expect(exact(1e-7)).toEqual({ num: 1, den: 10_000_000 });
    expect(exact(1.23456e-8)).toEqual({ num: 123456, den: 10 ** 13 });
    expect(exact(1e21)).toEqual({ num: 10n ** 21n, den: 1 });
    expect(exact(1.005)).toEqual({ num: 1005, den: 1000 });
    expect(exact(1e-20)).toEqual({ num: 1, den: 10n ** 20n });
    expect(() => exact(Number.NaN)).toThrow(/finite/);
  });

  it('reads any double as the decimal it prints as', () => {
    const doubles = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.double({ min: -1e6, max: 1e6, noNaN: true }),
      fc.integer({ min: -10_000_000, max: 10_000_000 }).chain((n) => fc.integer({ min: 0, max: 9 }).map((k) => n / 10 ** k)),
    );
    fc.assert(fc.property(doubles, (x) => {
      const r = exact(x);
      const p = printed(x);
      return canonical(r.num) && canonical(r.den) && BigInt(r.num) * p.den === p.num * BigInt(r.den);
    }), { numRuns: 20_000 });
  });

  it('reads a whole number as the digits it prints as, over one', () => {
    fc.assert(fc.property(fc.maxSafeInteger(), (x) => {
      const { num, den } = exact(x);
      expect([BigInt(num), den, canonical(num)]).toEqual([BigInt(String(x)), 1, true]);
    }));
    expect(exact(-0)).toEqual({ num: 0, den: 1 });
  });

  it('adds and multiplies as BigInts do, keeping numbers where they fit', () => {
    fc.assert(fc.property(ints, ints, (a, b) => {
      const [x, y] = [BigInt(a), BigInt(b)];
      return [mul(a, b), add(a, b), sub(a, b)].every(canonical)
        && BigInt(mul(a, b)) === x * y && BigInt(add(a, b)) === x + y && BigInt(sub(a, b)) === x - y;
    }), { numRuns: 20_000 });
  });

  it('floors a whole multiple and reduces to lowest terms as BigInts do', () => {
    const positive = ints.filter((x) => x > 0);
    fc.assert(fc.property(ints, positive, ints, (num, den, a) => {
      const [x, y, z] = [BigInt(num), BigInt(den), BigInt(a)];
      const down = BigInt(floorTimes({ num, den }, a));
      const low = reduced({ num, den });
      const [p, q] = [BigInt(low.num), BigInt(low.den)];
      const coprime = (m: bigint, n: bigint): boolean => (n === 0n ? m === 1n || m === -1n : coprime(n, m % n));
      return canonical(low.num) && canonical(low.den) && down * y <= x * z && (down + 1n) * y > x * z
        && p * y === x * q && q > 0n && (x === 0n ? q === 1n : coprime(p, q));
    }), { numRuns: 20_000 });
  });

  it('floors and rounds as BigInts do, in both ranges', () => {
    const positive = ints.filter((x) => x > 0);
    fc.assert(fc.property(ints, positive, (num, den) => {
      const [x, y] = [BigInt(num), BigInt(den)];
      const down = floor({ num, den });
      const rounded = roundHalfEven({ num, den });
      const twiceOff = 2n * (BigInt(rounded) * y - x);
      const tie = twiceOff === y || twiceOff === -y;
      return canonical(down) && canonical(rounded)
        && BigInt(down) * y <= x && (BigInt(down) + 1n) * y > x
        && twiceOff <= y && twiceOff >= -y && (!tie || BigInt(rounded) % 2n === 0n);
    }), { numRuns: 20_000 });
  });

  it('floors toward minus infinity and rounds ties to even', () => {
    expect([floor({ num: 7, den: 2 }), floor({ num: -7, den: 2 }), floor({ num: -6, den: 2 })]).toEqual([3, -4, -3]);
    const round = (num: number, den: number) => roundHalfEven({ num, den });
    expect([round(5, 2), round(7, 2), round(-5, 2), round(233 * 3 + 1, 3), round(233 * 3 + 2, 3)]).toEqual([2, 4, -2, 233, 234]);
    expect(dividedBy({ num: 1, den: 2 }, { num: -3, den: 4 })).toEqual({ num: -4, den: 6 });
    // Past 2^53 a double cannot hold the quotient's neighbours apart; BigInts take over.
    expect(floor({ num: 2n ** 60n + 1n, den: 3 })).toBe((2n ** 60n + 1n) / 3n);
    // A number past 2^52 from outside (not one these functions make) is floored as a BigInt would be.
    expect(floorTimes({ num: 1, den: 3 }, Number.MAX_SAFE_INTEGER)).toBe(Number((BigInt(Number.MAX_SAFE_INTEGER) / 3n)));
    expect(() => dividedBy({ num: 1, den: 1 }, { num: 0, den: 5 })).toThrow('division by zero');
  });

  it('multiplies decimals without binary error', () => {
    // 0.1 × 3 is 0.30000000000000004 in doubles.
    expect(times(exact(0.1), 3)).toEqual({ num: 3, den: 10 });
    expect(roundHalfEven(times(exact(0.1), 3, 10))).toBe(3);
  });

  it('apportions by largest remainder, the earlier part first on a tie, and within caps', () => {
    const thirds = [{ num: 1, den: 3 }, { num: 1, den: 3 }, { num: 1, den: 3 }];
    expect(apportion(10, thirds)).toEqual([4, 3, 3]);
    expect(apportion(11, thirds)).toEqual([4, 4, 3]);
    expect(apportion(7, [{ num: 3, den: 10 }, { num: 7, den: 10 }])).toEqual([2, 5]);
    expect(apportion(0, thirds)).toEqual([0, 0, 0]);
    const split = [{ num: 6, den: 10 }, { num: 4, den: 10 }];
    expect(apportion(1, split)).toEqual([1, 0]);
    expect(apportion(1, split, [0, 1])).toEqual([0, 1]);
    expect(() => apportion(2, thirds, [1, 0, 0])).toThrow('caps 1, 0, 0 leave no room for 2');
    expect(apportion(10n ** 20n + 1n, [{ num: 1, den: 2 }, { num: 1, den: 2 }])).toEqual([5n * 10n ** 19n + 1n, 5n * 10n ** 19n]);
  });

  it('apportions exactly, each part within one of its quota, and used within allocated', () => {
    const weights = fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 8 }).filter((w) => w.some((x) => x > 0));
    // Up to 10^20 micro-units: the quotas pass 2^52 and the arithmetic moves to BigInts on the way.
    fc.assert(fc.property(weights, fc.bigInt({ min: 0n, max: 10n ** 20n }), fc.double({ min: 0, max: 1, noNaN: true }), (w, big, busy) => {
      const total = BigInt(w.reduce((a, b) => a + b, 0));
      const shares: Ratio[] = w.map((x) => ({ num: x, den: Number(total) }));
      const allocated = big <= 2n ** 52n ? Number(big) : big;
      const used = (big * BigInt(Math.round(busy * 1000))) / 1000n;
      const a = apportion(allocated, shares).map(BigInt);
      const u = apportion(used <= 2n ** 52n ? Number(used) : used, shares, a.map((x) => (x <= 2n ** 52n ? Number(x) : x))).map(BigInt);
      const within = (parts: bigint[], whole: bigint) => parts.every((part, i) => {
        const off = part * total - whole * BigInt(w[i]!);
        return off < total && off > -total;
      });
      return a.reduce((x, y) => x + y, 0n) === big && u.reduce((x, y) => x + y, 0n) === used
        && u.every((part, i) => part >= 0n && part <= a[i]!) && within(a, big) && within(u, used);
    }), { numRuns: 5000 });
  });
});
