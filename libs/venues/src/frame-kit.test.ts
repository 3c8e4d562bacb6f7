import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FrameError } from '@orderstream/kit';
import { decimalBoundProblem, exactNumberText, previewValue, safeText, zodFrameError } from './frame-kit.js';

describe('previewValue: a short, safe preview of a bad value', () => {
  it('shows objects as JSON, never [object Object]', () => {
    expect(previewValue({ x: 1 })).toBe('{"x":1}');
    expect(previewValue([1, 'a'])).toBe('[1,"a"]');
  });

  it('names a JSON number beyond a double instead of showing null', () => {
    expect(previewValue(JSON.parse('1e400'))).toBe('a number beyond the range of a double');
    expect(previewValue(JSON.parse('-1e400'))).toBe('a negative number beyond the range of a double');
  });

  it('cuts long strings and says how long they were', () => {
    const p = previewValue('a'.repeat(2 ** 20));
    expect(p.length).toBeLessThan(110);
    expect(p).toMatch(/^"a+\.\.\." \(1048576 characters\)$/);
  });

  it('escapes control characters, line separators and lone surrogates; keeps pairs whole', () => {
    expect(previewValue('a\nb\u0085c\u2028')).toBe('"a\\nb\\u0085c\\u2028"');
    expect(previewValue('x\ud800y')).toBe('"x\\ud800y"');
    const emoji = '😀'.repeat(60);
    expect(previewValue(emoji)).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
  });

  it('survives values JSON cannot show', () => {
    expect(previewValue(10n)).toBe('10');
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(previewValue(circular)).toBe('{…}');
    expect(previewValue(undefined)).toBe('undefined');
  });
});

describe('safeText', () => {
  it('keeps short clean text as it is, cuts long text with its length', () => {
    expect(safeText('fine', 10)).toBe('fine');
    expect(safeText('abcdefghijkl', 5)).toBe('abcde... (12 characters)');
    expect(safeText('a\u0000b', 10)).toBe('a\\u0000b');
  });
});

describe('zodFrameError', () => {
  const schema = z.object({ qty: z.number().refine(Number.isFinite, { error: 'must be a finite number' }) });
  it('is FRAME_VALUE_OUT_OF_RANGE for a number beyond a double, FRAME_INVALID otherwise', () => {
    for (const [text, code] of [['{"qty":1e400}', 'FRAME_VALUE_OUT_OF_RANGE'], ['{"qty":"x"}', 'FRAME_INVALID']] as const) {
      const root = JSON.parse(text) as unknown;
      const r = schema.safeParse(root);
      expect(r.success).toBe(false);
      if (!r.success) expect(zodFrameError('test frame', r.error.issues, root).code).toBe(code);
    }
  });

  it('cuts and escapes tails built from raw ids', () => {
    const root = { qty: 'x' };
    const r = schema.safeParse(root);
    if (r.success) throw new Error('unreachable');
    const e = zodFrameError('test frame', r.error.issues, root, { tail: ` [orderId ${String({})}${'z'.repeat(500)}\n]` });
    expect(e.message).not.toContain('[object Object]');
    expect(e.message).not.toContain('\n');
    expect(e.message.length).toBeLessThan(250);
  });
});

describe('exactNumberText', () => {
  it('refuses a number beyond a double as out of range', () => {
    const text = '{"size":1e400}';
    expect(() => exactNumberText(text, 'size', Infinity, 'X', 'data.size')).toThrow(FrameError);
    try {
      exactNumberText(text, 'size', Infinity, 'X', 'data.size');
    } catch (e) {
      expect((e as FrameError).code).toBe('FRAME_VALUE_OUT_OF_RANGE');
      expect((e as FrameError).message).toContain('data.size');
    }
  });
});

describe('decimalBoundProblem: 40 digits before and after the point', () => {
  it.each([
    ['0', undefined],
    ['-123.456', undefined],
    ['9'.repeat(40), undefined],
    [`0.${'1'.repeat(40)}`, undefined],
    ['9'.repeat(41), 'has 41 digits before the point, at most 40 allowed'],
    [`-${'9'.repeat(41)}`, 'has 41 digits before the point, at most 40 allowed'],
    [`1.${'1'.repeat(41)}`, 'has 41 digits after the point, at most 40 allowed'],
  ])('%s', (v, problem) => {
    expect(decimalBoundProblem(v)).toBe(problem);
  });
});
