/**
 * Exact rational arithmetic for money: a value is num/den with integer parts, so sums of costs carry
 * no binary rounding error. Only the final step to a whole micro-unit rounds, and it says how.
 *
 * An integer is a number while it stays within ±2^52, and a BigInt past that (never a BigInt that
 * would fit, so equal values have the same type and `===` compares them): a sample's
 * arithmetic (a second of a GPU at a few dollars an hour, split by MiB) fits in numbers, where a
 * BigInt for every intermediate cost the processors about 6 KB of garbage a sample. Every operation
 * here checks that its exact result fits before it keeps a number, so the values are the same as
 * with BigInts throughout; only their type says which range they are in.
 */
export type Int = number | bigint;

export interface Ratio {
  num: Int;
  /** Always positive. */
  den: Int;
}

/**
 * The bound of the number range, one bit below the largest safe integer: a quotient's one-off
 * correction adds a divisor to a product, and that stays exact up to 2^53.
 */
const LIMIT = 2 ** 52;
const BIG_LIMIT = BigInt(LIMIT);

/** A BigInt that fits the number range as a number; one that does not as it is. */
function int(x: bigint): Int {
  return x >= -BIG_LIMIT && x <= BIG_LIMIT ? Number(x) : x;
}

function fits(x: number): boolean {
  return x >= -LIMIT && x <= LIMIT;
}

export function mul(a: Int, b: Int): Int {
  if (typeof a === 'number' && typeof b === 'number') {
    const product = a * b;
    // A product past the range may have been rounded; within it, it is exact. `+ 0` turns -0 into 0.
    if (fits(product)) return product + 0;
  }
  return int(BigInt(a) * BigInt(b));
}

export function add(a: Int, b: Int): Int {
  if (typeof a === 'number' && typeof b === 'number') {
    const sum = a + b;
    if (fits(sum)) return sum;
  }
  return int(BigInt(a) + BigInt(b));
}

export function sub(a: Int, b: Int): Int {
  return add(a, typeof b === 'number' ? -b + 0 : -b);
}

/** -1, 0 or 1. */
export function sign(a: Int): number {
  return a > 0 ? 1 : a < 0 ? -1 : 0;
}

/** The largest integer ≤ a/b, b > 0, and what is left: a = q·b + r, 0 ≤ r < b. */
function divMod(a: Int, b: Int): [q: Int, r: Int] {
  // A number from outside (a timestamp) may lie past the range: BigInts then, as for any result that would.
  if (typeof a === 'number' && typeof b === 'number' && fits(a) && fits(b)) {
    // The double quotient may round across a whole number; one step either way mends it, exactly,
    // since |q·b| ≤ |a| + b ≤ 2^53.
    let q = Math.floor(a / b);
    let r = a - q * b;
    if (r < 0) {
      q -= 1;
      r += b;
    } else if (r >= b) {
      q += 1;
      r -= b;
    }
    return [q + 0, r + 0];
  }
  const [x, y] = [BigInt(a), BigInt(b)];
  let q = x / y; // truncates toward zero
  let r = x - q * y;
  if (r < 0n) {
    q -= 1n;
    r += y;
  }
  return [int(q), int(r)];
}

/** 10^k as a number, for the fractions a double's decimal form has without an exponent. */
const POWERS_OF_TEN = Array.from({ length: 16 }, (_, k) => 10 ** k);
/** Past 2^50 two decimals of the same length may round to one double, and a double may misplace a digit. */
const SCALED_LIMIT = 2 ** 50;

/**
 * The exact value of a number as its shortest decimal form writes it (2.99 → 299/100), not its
 * binary approximation (2.9900000000000002131…): what a person wrote in a pricing file or what
 * nvidia-smi printed, which JavaScript's number-to-string gives back for up to 15 significant digits.
 */
export function exact(x: number): Ratio {
  // A whole number (a percentage, MiB, most readings) needs no decimal form.
  if (Number.isSafeInteger(x)) return { num: fits(x) ? x + 0 : BigInt(x), den: 1 };
  if (!Number.isFinite(x)) throw new RangeError(`not a finite number: ${x}`);
  // The fewest decimals k whose scaled value, divided back, is x again: with |x·10^k| ≤ 2^50 only one
  // whole number lies within half a unit of x·10^k, so that decimal is the one number-to-string
  // prints, found without making the string (312.45 W: 31245/100).
  for (let k = 1; k < POWERS_OF_TEN.length; k++) {
    const power = POWERS_OF_TEN[k]!;
    const scaled = Math.round(x * power);
    if (scaled > SCALED_LIMIT || scaled < -SCALED_LIMIT) break;
    if (scaled / power === x) return { num: scaled + 0, den: power };
  }
  const [mantissa = '0', exponent = '0'] = x.toString().split('e');
  const [whole = '0', fraction = ''] = mantissa.split('.');
  const digits = BigInt(whole + fraction);
  const power = Number(exponent) - fraction.length;
  return power >= 0 ? { num: int(digits * 10n ** BigInt(power)), den: 1 } : { num: int(digits), den: int(10n ** BigInt(-power)) };
}

export function times(...factors: Array<Ratio | Int>): Ratio {
  let num: Int = 1;
  let den: Int = 1;
  for (const factor of factors) {
    if (typeof factor === 'object') {
      num = mul(num, factor.num);
      den = mul(den, factor.den);
    } else {
      num = mul(num, factor);
    }
  }
  return { num, den };
}

export function dividedBy(a: Ratio, b: Ratio): Ratio {
  const num = mul(a.num, b.den);
  const den = mul(a.den, b.num);
  if (sign(den) === 0) throw new RangeError('division by zero');
  return sign(den) < 0 ? { num: sub(0, num), den: sub(0, den) } : { num, den };
}

/** The largest integer ≤ r. */
export function floor(r: Ratio): Int {
  return divMod(r.num, r.den)[0];
}

function gcd(a: Int, b: Int): Int {
  if (typeof a === 'number' && typeof b === 'number') {
    let [x, y] = [Math.abs(a), Math.abs(b)];
    while (y !== 0) [x, y] = [y, x % y];
    return x;
  }
  let [x, y] = [BigInt(a), BigInt(b)];
  if (x < 0n) x = -x;
  if (y < 0n) y = -y;
  while (y !== 0n) [x, y] = [y, x % y];
  return int(x);
}

/** The same value in lowest terms: for a constant read once (a price), so what it multiplies stays small. */
export function reduced(r: Ratio): Ratio {
  const divisor = gcd(r.num, r.den);
  return divisor === 1 || divisor === 0 ? r : { num: divMod(r.num, divisor)[0], den: divMod(r.den, divisor)[0] };
}

/**
 * The largest integer ≤ a·r, for a whole a: with a = k·den + m, a·r = k·num + m·num/den, which keeps
 * to numbers where a·num would not (a millisecond timestamp times a price in micro-units an hour).
 */
export function floorTimes(r: Ratio, a: Int): Int {
  const [k, m] = divMod(a, r.den);
  return add(mul(k, r.num), floor({ num: mul(m, r.num), den: r.den }));
}

/** The nearest integer to r, ties to the even one (banker's rounding: no bias up or down over many records). */
export function roundHalfEven(r: Ratio): Int {
  const [below, remainder] = divMod(r.num, r.den);
  const twiceRemainder = mul(2, remainder);
  if (twiceRemainder < r.den) return below;
  if (twiceRemainder > r.den) return add(below, 1);
  return divMod(below, 2)[1] === 0 ? below : add(below, 1);
}

export function plus(a: Ratio, b: Ratio): Ratio {
  return a.den === b.den
    ? { num: add(a.num, b.num), den: a.den }
    : { num: add(mul(a.num, b.den), mul(b.num, a.den)), den: mul(a.den, b.den) };
}

/** The nearest double, for measurements and display (a share, a fraction of energy), never for money. */
export function toNumber(r: Ratio): number {
  const [whole, remainder] = divMod(r.num, r.den);
  return Number(whole) + Number(remainder) / Number(r.den);
}

/**
 * Splits a whole number of micro-units by exact shares that add up to 1, so that the parts add up
 * to the total exactly (the largest remainder method): each part gets the floor of its quota, and
 * the units left over go one each to the parts with the largest fractions cut off, the earlier part
 * first on a tie. With `caps`, no part gets more than its cap (caps at least the floors and adding
 * up to at least the total): used cost split so that no part's used exceeds its allocated.
 */
export function apportion(total: Int, shares: readonly Ratio[], caps?: readonly Int[]): Int[] {
  const parts: Int[] = [];
  const cutOff: Ratio[] = [];
  let left = total;
  for (const share of shares) {
    const den = share.den;
    const [part, remainder] = divMod(mul(share.num, total), den);
    parts.push(part);
    cutOff.push({ num: remainder, den });
    left = sub(left, part);
  }
  if (sign(left) <= 0) return parts;
  const order = parts.map((_, i) => i).sort((i, j) => compare(cutOff[j]!, cutOff[i]!) || i - j);
  while (sign(left) > 0) {
    const before = left;
    for (const i of order) {
      if (sign(left) === 0) break;
      if (caps === undefined || parts[i]! < caps[i]!) {
        parts[i] = add(parts[i]!, 1);
        left = sub(left, 1);
      }
    }
    if (left === before) throw new RangeError(`caps ${caps?.join(', ')} leave no room for ${total}`);
  }
  return parts;
}

function compare(a: Ratio, b: Ratio): number {
  return sign(sub(mul(a.num, b.den), mul(b.num, a.den)));
}
