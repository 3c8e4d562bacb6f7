/**
 * Venue times come in seconds, milliseconds, microseconds or nanoseconds, sometimes with no documented unit
 * (XT's createdTime). Canonical times are epoch microseconds. The unit is told by magnitude, which is
 * unambiguous for any date between 1973 and 2286:
 *   < 1e11 seconds, < 1e14 milliseconds, < 1e17 microseconds, otherwise nanoseconds.
 */
export type TimeUnit = 's' | 'ms' | 'us' | 'ns';

export function detectTimeUnit(value: bigint): TimeUnit {
  const v = value < 0n ? -value : value;
  if (v < 100_000_000_000n) return 's';
  if (v < 100_000_000_000_000n) return 'ms';
  if (v < 100_000_000_000_000_000n) return 'us';
  return 'ns';
}

const PER_MICRO: Record<TimeUnit, [mul: bigint, div: bigint]> = {
  s: [1_000_000n, 1n],
  ms: [1_000n, 1n],
  us: [1n, 1n],
  ns: [1n, 1_000n],
};

/**
 * Epoch microseconds from an integer time in any unit (number, or a digit string for values beyond 2^53 such
 * as nanoseconds). Returns null for null/undefined/'' and for 0 or "0" (venues use 0 for "never").
 * Throws RangeError for anything else that is not an integer.
 */
export function toEpochMicros(value: number | string | bigint | null | undefined, unit?: TimeUnit): number | null {
  if (value === null || value === undefined || value === '') return null;
  let big: bigint;
  if (typeof value === 'bigint') big = value;
  else if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new RangeError(`time is not an integer: ${value}`);
    big = BigInt(value);
  } else {
    if (!/^-?\d+$/.test(value)) throw new RangeError(`time is not an integer: ${JSON.stringify(value)}`);
    big = BigInt(value);
  }
  if (big === 0n) return null;
  const [mul, div] = PER_MICRO[unit ?? detectTimeUnit(big)];
  return Number((big * mul) / div);
}

// Wall clock anchored once, then advanced by the monotonic clock: nanosecond resolution that never runs backwards.
const ORIGIN_NS = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

/** Current time in epoch nanoseconds, as a decimal string (for the `received-at` header). */
export function nowEpochNanos(): string {
  return (ORIGIN_NS + process.hrtime.bigint()).toString();
}

/** Current time in epoch microseconds. */
export function nowEpochMicros(): number {
  return Number((ORIGIN_NS + process.hrtime.bigint()) / 1_000n);
}
