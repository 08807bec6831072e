/**
 * Exact rational arithmetic for money: a value is num/den with BigInt parts, so sums of costs carry
 * no binary rounding error. Only the final step to a whole micro-unit rounds, and it says how.
 */
export interface Ratio {
  num: bigint;
  /** Always positive. */
  den: bigint;
}

/**
 * The exact value of a number as its shortest decimal form writes it (2.99 → 299/100), not its
 * binary approximation (2.9900000000000002131…): what a person wrote in a pricing file or what
 * nvidia-smi printed, which JavaScript's number-to-string gives back for up to 15 significant digits.
 */
export function exact(x: number): Ratio {
  // A whole number (a percentage, MiB, most readings) needs no decimal form: the same ratio, 1 µs less.
  if (Number.isSafeInteger(x)) return { num: BigInt(x), den: 1n };
  if (!Number.isFinite(x)) throw new RangeError(`not a finite number: ${x}`);
  const [mantissa = '0', exponent = '0'] = x.toString().split('e');
  const [whole = '0', fraction = ''] = mantissa.split('.');
  const digits = BigInt(whole + fraction);
  const power = Number(exponent) - fraction.length;
  return power >= 0 ? { num: digits * 10n ** BigInt(power), den: 1n } : { num: digits, den: 10n ** BigInt(-power) };
}

function ratio(num: bigint, den = 1n): Ratio {
  if (den === 0n) throw new RangeError('division by zero');
  return den < 0n ? { num: -num, den: -den } : { num, den };
}

export function times(...factors: Array<Ratio | bigint>): Ratio {
  let num = 1n;
  let den = 1n;
  for (const factor of factors) {
    if (typeof factor === 'bigint') {
      num *= factor;
    } else {
      num *= factor.num;
      den *= factor.den;
    }
  }
  return { num, den };
}

export function dividedBy(a: Ratio, b: Ratio): Ratio {
  return ratio(a.num * b.den, a.den * b.num);
}

/** The largest integer ≤ r (BigInt division truncates toward zero; this floors). */
export function floor(r: Ratio): bigint {
  const q = r.num / r.den;
  return r.num % r.den !== 0n && r.num < 0n ? q - 1n : q;
}

/** The nearest integer to r, ties to the even one (banker's rounding: no bias up or down over many records). */
export function roundHalfEven(r: Ratio): bigint {
  const below = floor(r);
  const twiceRemainder = 2n * (r.num - below * r.den);
  if (twiceRemainder < r.den) return below;
  if (twiceRemainder > r.den) return below + 1n;
  return below % 2n === 0n ? below : below + 1n;
}

export function plus(a: Ratio, b: Ratio): Ratio {
  return a.den === b.den ? { num: a.num + b.num, den: a.den } : { num: a.num * b.den + b.num * a.den, den: a.den * b.den };
}

/** The nearest double, for measurements and display (a share, a fraction of energy), never for money. */
export function toNumber(r: Ratio): number {
  const whole = floor(r);
  return Number(whole) + Number(r.num - whole * r.den) / Number(r.den);
}

/**
 * Splits a whole number of micro-units by exact shares that add up to 1, so that the parts add up
 * to the total exactly (the largest remainder method): each part gets the floor of its quota, and
 * the units left over go one each to the parts with the largest fractions cut off, the earlier part
 * first on a tie. With `caps`, no part gets more than its cap (caps at least the floors and adding
 * up to at least the total): used cost split so that no part's used exceeds its allocated.
 */
export function apportion(total: bigint, shares: readonly Ratio[], caps?: readonly bigint[]): bigint[] {
  const quotas = shares.map((share) => times(share, total));
  const parts = quotas.map(floor);
  const cutOff = quotas.map((q, i) => ({ num: q.num - parts[i]! * q.den, den: q.den }));
  const order = parts.map((_, i) => i).sort((i, j) => compare(cutOff[j]!, cutOff[i]!) || i - j);
  let left = total - parts.reduce((sum, part) => sum + part, 0n);
  while (left > 0n) {
    const before = left;
    for (const i of order) {
      if (left === 0n) break;
      if (caps === undefined || parts[i]! < caps[i]!) {
        parts[i] = parts[i]! + 1n;
        left -= 1n;
      }
    }
    if (left === before) throw new RangeError(`caps ${caps?.join(', ')} leave no room for ${total}`);
  }
  return parts;
}

function compare(a: Ratio, b: Ratio): number {
  const difference = a.num * b.den - b.num * a.den;
  return difference > 0n ? 1 : difference < 0n ? -1 : 0;
}
