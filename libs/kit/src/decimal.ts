/**
 * Exact decimals as strings. Venue figures never pass through a JS number: they are parsed into
 * (unscaled BigInt, scale) pairs, combined exactly, and printed in the project's normal form:
 * no exponent, no leading '+', no trailing fractional zeros, no '-0' ("1.50" → "1.5", "1e-3" → "0.001").
 */

interface Parts {
  /** value = unscaled / 10^scale */
  unscaled: bigint;
  scale: number;
}

const DECIMAL_RE = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

function parse(text: string): Parts | undefined {
  const m = DECIMAL_RE.exec(text.trim());
  if (!m) return undefined;
  const [, sign, intPart = '', fracPart = '', expPart] = m;
  if (intPart.length === 0 && fracPart.length === 0) return undefined;
  const exp = expPart === undefined ? 0 : Number(expPart);
  if (!Number.isSafeInteger(exp) || Math.abs(exp) > 1000) return undefined;
  let unscaled = BigInt((intPart + fracPart) || '0');
  if (sign === '-') unscaled = -unscaled;
  let scale = fracPart.length - exp;
  if (scale < 0) {
    unscaled *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return { unscaled, scale };
}

function format({ unscaled, scale }: Parts): string {
  if (unscaled === 0n) return '0';
  const negative = unscaled < 0n;
  let digits = (negative ? -unscaled : unscaled).toString();
  let s = scale;
  while (s > 0 && digits.endsWith('0')) {
    digits = digits.slice(0, -1);
    s--;
  }
  let out: string;
  if (s === 0) out = digits;
  else if (digits.length > s) out = `${digits.slice(0, digits.length - s)}.${digits.slice(digits.length - s)}`;
  else out = `0.${'0'.repeat(s - digits.length)}${digits}`;
  return negative ? `-${out}` : out;
}

function must(text: string): Parts {
  const p = parse(text);
  if (!p) throw new RangeError(`not a decimal number: ${JSON.stringify(text)}`);
  return p;
}

function align(a: Parts, b: Parts): [bigint, bigint, number] {
  const scale = Math.max(a.scale, b.scale);
  return [a.unscaled * 10n ** BigInt(scale - a.scale), b.unscaled * 10n ** BigInt(scale - b.scale), scale];
}

/** True if `text` is a plain or exponent decimal number. */
export function isDecimal(text: string): boolean {
  return parse(text) !== undefined;
}

/** Already in normal form: no sign but '-', no leading zeros, no exponent, no trailing fractional zeros. */
const NORMAL_RE = /^-?(?:0|[1-9]\d*)(?:\.\d*[1-9])?$/;

/** The normal form of a decimal string; throws RangeError for anything that is not a number. */
export function normalizeDecimal(text: string): string {
  // Fast path (the per-frame hot path): most venue figures are already normal; only "-0" is not.
  if (NORMAL_RE.test(text) && text !== '-0') return text;
  return format(must(text));
}

/** Like normalizeDecimal, but null/undefined/'' stay null. */
export function decimalOrNull(text: string | null | undefined): string | null {
  return text === null || text === undefined || text === '' ? null : normalizeDecimal(text);
}

export function addDecimals(a: string, b: string): string {
  const [x, y, scale] = align(must(a), must(b));
  return format({ unscaled: x + y, scale });
}

export function subDecimals(a: string, b: string): string {
  const [x, y, scale] = align(must(a), must(b));
  return format({ unscaled: x - y, scale });
}

export function mulDecimals(a: string, b: string): string {
  const x = must(a);
  const y = must(b);
  return format({ unscaled: x.unscaled * y.unscaled, scale: x.scale + y.scale });
}

/** a / 10^places, exactly (used for raw token units → token amounts). */
export function shiftDecimal(a: string, places: number): string {
  const x = must(a);
  if (places >= 0) return format({ unscaled: x.unscaled, scale: x.scale + places });
  return format({ unscaled: x.unscaled * 10n ** BigInt(-places), scale: x.scale });
}

/**
 * a / b rounded half-even to `scale` fractional digits. Division is the one operation that can need
 * rounding; callers say how many digits they want (an average price to the venue's precision, say).
 */
export function divDecimals(a: string, b: string, scale: number): string {
  const x = must(a);
  const y = must(b);
  if (y.unscaled === 0n) throw new RangeError('division by zero');
  // a/b = (xu / 10^xs) / (yu / 10^ys); scale the numerator so the quotient has `scale` digits.
  const shift = scale + y.scale - x.scale;
  let num = x.unscaled;
  let den = y.unscaled;
  if (shift >= 0) num *= 10n ** BigInt(shift);
  else den *= 10n ** BigInt(-shift);
  if (den < 0n) {
    num = -num;
    den = -den;
  }
  let q = num / den;
  const r = num % den;
  const twice = (r < 0n ? -r : r) * 2n;
  if (twice > den || (twice === den && q % 2n !== 0n)) q += num < 0n ? -1n : 1n;
  return format({ unscaled: q, scale });
}

export function compareDecimals(a: string, b: string): -1 | 0 | 1 {
  const [x, y] = align(must(a), must(b));
  return x < y ? -1 : x > y ? 1 : 0;
}

export function isZeroDecimal(a: string): boolean {
  return must(a).unscaled === 0n;
}
