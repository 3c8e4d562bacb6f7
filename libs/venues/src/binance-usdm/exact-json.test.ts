import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exactIntegerAt, isInt64Digits, rawJsonValueAt } from './exact-json.js';

describe('rawJsonValueAt', () => {
  it('returns the exact text of the value at a path', () => {
    const text = '{"id":"a","status":200,"result":{"orderId":9007199254740993,"price":"1.50","n":[1,{"x":2.50e3}]}}';
    expect(rawJsonValueAt(text, ['result', 'orderId'])).toBe('9007199254740993');
    expect(rawJsonValueAt(text, ['result', 'price'])).toBe('"1.50"');
    expect(rawJsonValueAt(text, ['result', 'n', 1, 'x'])).toBe('2.50e3');
    expect(rawJsonValueAt(text, ['result'])).toBe('{"orderId":9007199254740993,"price":"1.50","n":[1,{"x":2.50e3}]}');
    expect(rawJsonValueAt(text, ['result', 'missing'])).toBeUndefined();
    expect(rawJsonValueAt(text, ['status', 'x'])).toBeUndefined();
  });

  it('is not fooled by the same key in a string, in an escaped string or in another object', () => {
    const text = '{"note":"\\"orderId\\":1","other":{"orderId":2},"result":{"s":"a\\\\","orderId":3}, "orderId":4}';
    expect(rawJsonValueAt(text, ['result', 'orderId'])).toBe('3');
    expect(rawJsonValueAt(text, ['orderId'])).toBe('4');
    expect(rawJsonValueAt(text, ['other', 'orderId'])).toBe('2');
  });

  it('takes the last of duplicate keys, like JSON.parse', () => {
    expect(rawJsonValueAt('{"a":1,"a":2}', ['a'])).toBe('2');
  });

  it('handles whitespace, tabs and newlines as in the doc examples', () => {
    expect(rawJsonValueAt('{\n \t"result" :\t{ "orderId" : 1917641 ,\n"x":null } }', ['result', 'orderId'])).toBe('1917641');
  });

  it('refuses malformed JSON instead of guessing', () => {
    expect(() => rawJsonValueAt('{"a":', ['a'])).toThrow(SyntaxError);
    expect(() => rawJsonValueAt('{"a" 1}', ['a'])).toThrow(SyntaxError);
  });

  it('property: agrees with JSON.parse on every safe value and keeps the digits of big integers', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }), fc.string(), fc.jsonValue(), (id, s, other) => {
        const text = `{"x":${JSON.stringify(other)},"result":{"s":${JSON.stringify(s)},"orderId":${id},"t":${JSON.stringify(other)}}}`;
        expect(rawJsonValueAt(text, ['result', 'orderId'])).toBe(id.toString());
        expect(exactIntegerAt(text, ['result', 'orderId'])).toBe(id.toString());
        expect(JSON.parse(rawJsonValueAt(text, ['result', 's']) as string)).toBe(s);
        expect(JSON.parse(rawJsonValueAt(text, ['x']) as string)).toEqual(JSON.parse(JSON.stringify(other)));
      }),
      { numRuns: 200 },
    );
  });
});

describe('exactIntegerAt / isInt64Digits', () => {
  it('reads integer tokens and digit strings, nothing else', () => {
    expect(exactIntegerAt('{"a":12345678901234567890}', ['a'])).toBe('12345678901234567890');
    expect(exactIntegerAt('{"a":"9007199254740993"}', ['a'])).toBe('9007199254740993');
    expect(exactIntegerAt('{"a":1.5}', ['a'])).toBeUndefined();
    expect(exactIntegerAt('{"a":1e3}', ['a'])).toBeUndefined();
    expect(exactIntegerAt('{"a":null}', ['a'])).toBeUndefined();
    expect(exactIntegerAt('{"a":true}', ['a'])).toBeUndefined();
  });

  it('int64 range, canonical digits only', () => {
    expect(isInt64Digits('0')).toBe(true);
    expect(isInt64Digits('9223372036854775807')).toBe(true);
    expect(isInt64Digits('9223372036854775808')).toBe(false);
    expect(isInt64Digits('-1')).toBe(false);
    expect(isInt64Digits('01')).toBe(false);
    expect(isInt64Digits('')).toBe(false);
  });
});
