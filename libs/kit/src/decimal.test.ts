import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  addDecimals, compareDecimals, divDecimals, isDecimal, mulDecimals, normalizeDecimal, shiftDecimal, subDecimals,
} from './decimal.js';

describe('normalizeDecimal', () => {
  it.each([
    ['1.50', '1.5'], ['0.0', '0'], ['-0', '0'], ['-0.000', '0'], ['+3', '3'], ['007.10', '7.1'], ['.5', '0.5'],
    ['5.', '5'], ['1e-3', '0.001'], ['1.23E+5', '123000'], ['-4.5e1', '-45'], ['123456789012345678901234567890.000000000000000000001', '123456789012345678901234567890.000000000000000000001'],
  ])('%s → %s', (input, expected) => {
    expect(normalizeDecimal(input)).toBe(expected);
  });

  it.each(['', '.', 'abc', '1.2.3', '1e', 'NaN', 'Infinity', '0x10', '1,5'])('rejects %j', (input) => {
    expect(isDecimal(input)).toBe(false);
    expect(() => normalizeDecimal(input)).toThrow(RangeError);
  });
});

describe('exact arithmetic', () => {
  it('adds, subtracts and multiplies without binary floating point', () => {
    expect(addDecimals('0.1', '0.2')).toBe('0.3');
    expect(subDecimals('1', '0.9')).toBe('0.1');
    expect(mulDecimals('34244', '0.0001')).toBe('3.4244');
    expect(mulDecimals('-1.5', '2')).toBe('-3');
  });

  it('shifts by powers of ten (raw token units)', () => {
    expect(shiftDecimal('1000000000000000000', 18)).toBe('1');
    expect(shiftDecimal('123', 6)).toBe('0.000123');
    expect(shiftDecimal('1.5', -2)).toBe('150');
  });

  it('divides with half-even rounding at the requested scale', () => {
    expect(divDecimals('10', '4', 2)).toBe('2.5');
    expect(divDecimals('1', '3', 8)).toBe('0.33333333');
    expect(divDecimals('2', '3', 8)).toBe('0.66666667');
    expect(divDecimals('0.125', '1', 2)).toBe('0.12'); // tie → even
    expect(divDecimals('0.135', '1', 2)).toBe('0.14'); // tie → even
    expect(divDecimals('-1', '3', 2)).toBe('-0.33');
    expect(() => divDecimals('1', '0', 2)).toThrow('division by zero');
  });

  it('agrees with BigInt arithmetic on random integers scaled by random exponents', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.integer({ min: 0, max: 20 }), (a, b, s) => {
        const da = shiftDecimal(a.toString(), s);
        const db = shiftDecimal(b.toString(), s);
        expect(addDecimals(da, db)).toBe(shiftDecimal((a + b).toString(), s));
        expect(mulDecimals(da, db)).toBe(shiftDecimal((a * b).toString(), 2 * s));
        expect(compareDecimals(da, db)).toBe(a < b ? -1 : a > b ? 1 : 0);
      }),
      { seed: 42, numRuns: 500 },
    );
  });
});
