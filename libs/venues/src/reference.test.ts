import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@orderstream/kit';
import { loadReferenceData } from './reference.js';

const dir = mkdtempSync(join(tmpdir(), 'orderstream-reference-'));
function file(content: unknown): string {
  const path = join(dir, `ref-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

function problemsOf(content: unknown): string[] {
  try {
    loadReferenceData(file(content));
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  return [];
}

describe('loadReferenceData: checked in full at load', () => {
  it('accepts positive contract sizes (any decimal form) and token decimals 0-36', () => {
    const data = { xt: { btc_usdt: { contractSize: '0.0001' }, sol_usdt: { contractSize: '1e-3' } }, loopring: { 'LRC-ETH': { baseDecimals: 18, quoteDecimals: 0 }, X: { baseDecimals: 36 } } };
    expect(loadReferenceData(file(data))).toEqual(data);
    expect(loadReferenceData(undefined)).toEqual({});
  });

  it('lists every problem at once, each named venue.symbol.field with what is allowed and the value got', () => {
    const problems = problemsOf({
      xt: { a: { contractSize: '-1' }, b: { contractSize: '0' }, c: { contractSize: '-0.0' }, d: { contractSize: '1e400' }, e: { contractSize: 'lots' }, f: { contractSize: 5 }, '': { contractSize: '1' } },
      loopring: { g: { baseDecimals: -1 }, h: { quoteDecimals: 1.5 }, i: { baseDecimals: 37 }, j: { baseDecimals: '18' }, k: { decimals: 18 } },
    });
    const path = (s: string) => expect.stringMatching(new RegExp(`^reference data file .*\\.json: ${s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    expect(problems).toEqual(expect.arrayContaining([
      path('xt.a.contractSize: must be a positive decimal (base units per contract), got "-1"'),
      path('xt.b.contractSize: must be a positive decimal (base units per contract), got "0"'),
      path('xt.c.contractSize: must be a positive decimal'),
      path('xt.d.contractSize: must be a positive decimal within the digit bound: it has 401 digits before the point, at most 40 allowed, got "1e400"'),
      path('xt.e.contractSize: must be a decimal string, got "lots"'),
      path('xt.f.contractSize: must be a decimal string, got 5'),
      path('xt.: a symbol must be non-empty without control characters'),
      path('loopring.g.baseDecimals: must be an integer from 0 to 36, got -1'),
      path('loopring.h.quoteDecimals: must be an integer from 0 to 36, got 1.5'),
      path('loopring.i.baseDecimals: must be an integer from 0 to 36, got 37'),
      path('loopring.j.baseDecimals: must be an integer from 0 to 36, got "18"'),
      path('loopring.k: unknown field(s) "decimals"'),
    ]));
    expect(problems).toHaveLength(12);
  });

  it('a file that is not JSON is one problem naming the file', () => {
    expect(problemsOf('{')).toEqual([expect.stringMatching(/^reference data file .*\.json: /)]);
  });
});
