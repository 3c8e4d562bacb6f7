import { describe, expect, it } from 'vitest';
import { detectTimeUnit, nowEpochMicros, nowEpochNanos, toEpochMicros } from './time.js';

describe('toEpochMicros', () => {
  it('detects the unit by magnitude', () => {
    expect(toEpochMicros(1731231231)).toBe(1731231231_000_000); // XT doc example: seconds
    expect(toEpochMicros(1679178515689)).toBe(1679178515689_000); // XT REST: ms
    expect(toEpochMicros('1701918382000000000')).toBe(1701918382000000); // BSX: ns string beyond 2^53
    expect(toEpochMicros('1701918382123456')).toBe(1701918382123456); // µs
    expect(detectTimeUnit(1731231231n)).toBe('s');
  });

  it('keeps nanosecond strings exact down to the microsecond', () => {
    expect(toEpochMicros('1701918382123456789')).toBe(1701918382123456);
  });

  it('treats 0, "0" and empty as "no time"', () => {
    expect(toEpochMicros(0)).toBeNull();
    expect(toEpochMicros('0')).toBeNull();
    expect(toEpochMicros('')).toBeNull();
    expect(toEpochMicros(null)).toBeNull();
  });

  it('honours an explicit unit', () => {
    expect(toEpochMicros(5, 's')).toBe(5_000_000);
    expect(toEpochMicros('1701918382000000000', 'ns')).toBe(1701918382000000);
  });

  it('rejects non-integers', () => {
    expect(() => toEpochMicros(1.5)).toThrow(RangeError);
    expect(() => toEpochMicros('12a')).toThrow(RangeError);
  });

  it('now is close to Date.now and never runs backwards', () => {
    const a = BigInt(nowEpochNanos());
    const b = BigInt(nowEpochNanos());
    expect(b >= a).toBe(true);
    expect(Math.abs(nowEpochMicros() / 1000 - Date.now())).toBeLessThan(1000);
  });
});
