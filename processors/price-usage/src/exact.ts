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
