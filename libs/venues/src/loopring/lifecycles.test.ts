import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareDecimals } from '@orderstream/kit';
import type { ReferenceData } from '../reference.js';
import { testMapContext } from '../sim/test-context.js';
import {
  LOOPRING_LIFECYCLE_KINDS,
  LOOPRING_SIM_MARKETS,
  loopringEffectiveFills,
  loopringExpectedCanonical,
  loopringLifecycleSteps,
  loopringOrderFrameText,
  loopringQuoteUnits,
  loopringRandomLifecycles,
  loopringSimHash,
  loopringTruthOf,
  type LoopringLifecycle,
} from './lifecycles.js';
import { loopringMapper } from './mapper.js';

const reference: ReferenceData = {
  loopring: Object.fromEntries(LOOPRING_SIM_MARKETS.map((m) => [m.market, { baseDecimals: m.baseDecimals, quoteDecimals: m.quoteDecimals }])),
};
const ctx = (ref: ReferenceData = reference) => testMapContext('loopring', { account: 'acc', reference: ref });
const LRC = (n: string) => `${n}000000000000000000`;

describe('raw-unit arithmetic', () => {
  it('quote units = size × price × 10^(qd − bd), half-even to an integer', () => {
    const lrcEth = { baseDecimals: 18, quoteDecimals: 18 };
    const lrcUsdt = { baseDecimals: 18, quoteDecimals: 6 };
    const wbtcEth = { baseDecimals: 8, quoteDecimals: 18 };
    expect(loopringQuoteUnits(LRC('1000'), '0.00012345', lrcEth)).toBe('123450000000000000');
    expect(loopringQuoteUnits('2500500000000000000000', '0.2731', lrcUsdt)).toBe('682886550');
    expect(loopringQuoteUnits('30000000', '17', wbtcEth)).toBe('5100000000000000000');
    // 1 wei of LRC at 0.5 USDT: 0.5e-12 raw USDT → 0; 1.5 raw → 2 (half-even), 2.5 raw → 2
    expect(loopringQuoteUnits('1', '0.5', lrcUsdt)).toBe('0');
    expect(loopringQuoteUnits('1500000000000', '1', lrcUsdt)).toBe('2');
    expect(loopringQuoteUnits('2500000000000', '1', lrcUsdt)).toBe('2');
  });

  it('fees are floor(received × bips / 10000) per fill, in the token received, cumulated', () => {
    // a fill worth less than one raw quote unit cannot settle: refused
    const dust: LoopringLifecycle = { hash: 'b', market: 'LRC-USDT', kind: 'fill', side: 'BUY', price: '0.3', size: '3', fills: [{ size: '1' }, { size: '2' }] };
    expect(() => loopringLifecycleSteps(dust)).toThrow(/fill 1 \(1 @ 0.3\) is worth less than one raw quote unit/);
    // buy: fee in base raw units, floor(1000000000001 × 0.5) = 500000000000, then + 1000000000000
    const ok: LoopringLifecycle = { ...dust, price: '1', size: '3000000000001', fills: [{ size: '1000000000001' }, { size: '2000000000000' }], feeBips: 5000 };
    expect(loopringLifecycleSteps(ok).map((s) => s.filledFee)).toEqual(['0', '500000000000', '1500000000000']);
    const sell: LoopringLifecycle = { hash: 's', market: 'LRC-USDT', kind: 'fill', side: 'SELL', price: '0.2731', size: LRC('3'), fills: [{ size: LRC('1') }, { size: LRC('2') }], feeBips: 25 };
    // quote raw: 273100 → fee floor(682.75) = 682; 546200 → floor(1365.5) = 1365
    expect(loopringLifecycleSteps(sell).map((s) => `${s.filledVolume}/${s.filledFee}`)).toEqual(['0/0', '273100/682', '819300/2047']);
  });
});

describe('lifecycle steps', () => {
  const base = { market: 'LRC-ETH', side: 'BUY' as const, price: '0.0001', size: LRC('10') };
  it.each([
    ['fill (default: one fill of everything)', { hash: '1', kind: 'fill' as const }, ['processing:0', `processed:${LRC('10')}`]],
    ['cancel', { hash: '2', kind: 'cancel' as const }, ['processing:0', 'cancelling:0', 'cancelled:0']],
    ['partial-cancel (default: half)', { hash: '3', kind: 'partial-cancel' as const }, ['processing:0', `processing:${LRC('5')}`, `cancelling:${LRC('5')}`, `cancelled:${LRC('5')}`]],
    ['expire (default: no fill)', { hash: '4', kind: 'expire' as const }, ['processing:0', 'expired:0']],
    ['waiting first', { hash: '5', kind: 'cancel' as const, waitingFirst: true }, ['waiting:0', 'processing:0', 'cancelling:0', 'cancelled:0']],
    ['fill in three', { hash: '6', kind: 'fill' as const, fills: [{ size: LRC('2') }, { size: LRC('3') }, { size: LRC('5') }] }, ['processing:0', `processing:${LRC('2')}`, `processing:${LRC('5')}`, `processed:${LRC('10')}`]],
  ])('%s', (_what, lc, expected) => {
    expect(loopringLifecycleSteps({ ...base, ...lc }).map((s) => `${s.status}:${s.filledSize}`)).toEqual(expected);
  });

  it.each([
    [{ hash: 'x', kind: 'fill' as const, fills: [{ size: LRC('3') }] }, /fills sum to 3000000000000000000, must equal size/],
    [{ hash: 'x', kind: 'partial-cancel' as const, fills: [{ size: LRC('10') }] }, /must be more than 0 and less than size/],
    [{ hash: 'x', kind: 'expire' as const, fills: [{ size: LRC('10') }] }, /must be less than size/],
    [{ hash: 'x', kind: 'cancel' as const, fills: [{ size: '1' }] }, /a cancel has no fills/],
    [{ hash: 'x', kind: 'fill' as const, size: '1.5' }, /size must be a positive integer string of raw base units/],
    [{ hash: 'x', kind: 'fill' as const, price: '0' }, /price must be positive/],
    [{ hash: 'x', kind: 'fill' as const, fills: [{ size: LRC('10'), price: '-1' }] }, /fill price must be positive/],
    [{ hash: 'x', kind: 'fill' as const, feeBips: 1.5 }, /feeBips must be an integer/],
  ])('refuses an impossible script: %j', (lc, message) => {
    expect(() => loopringEffectiveFills({ ...base, ...lc })).toThrow(message);
  });

  it('frames carry the truth of their step, laid out like the doc example', () => {
    const lc: LoopringLifecycle = { hash: '0xabc', clientOrderId: 'c1', market: 'LRC-ETH', kind: 'fill', side: 'BUY', price: '0.0001', size: LRC('10'), validForSeconds: 3600 };
    const steps = loopringLifecycleSteps(lc);
    const t = loopringTruthOf(lc, steps[1]!, { createdAt: 1_700_000_000_123, index: 1 });
    expect(loopringOrderFrameText(t)).toBe(
      '{"topic":{"topic":"order","market":"LRC-ETH"},"ts":1700000000124,"data":{"hash":"0xabc","clientOrderId":"c1","size":"10000000000000000000","volume":"1000000000000000","price":"0.0001","filledSize":"10000000000000000000","filledVolume":"1000000000000000","filledFee":"20000000000000000","status":"processed","createdAt":1700000000123,"updateAt":1700000000124,"validSince":1700000000,"validUntil":1700003600,"side":"buy","market":"LRC-ETH"}}',
    );
    expect(loopringOrderFrameText(t, { topicTypoKey: false, legacyStringTopic: true, stringTimes: true, secondsTimes: true, omitUpdateAt: true, upperCaseSide: true })).toBe(
      '{"topic":"order&LRC-ETH","ts":1700000000,"data":{"hash":"0xabc","clientOrderId":"c1","size":"10000000000000000000","volume":"1000000000000000","price":"0.0001","filledSize":"10000000000000000000","filledVolume":"1000000000000000","filledFee":"20000000000000000","status":"processed","createdAt":"1700000000","validSince":"1700000000","validUntil":"1700003600","side":"BUY","market":"LRC-ETH"}}',
    );
  });
});

describe('the oracle', () => {
  it('computes the average with integers, half-even at the quote decimals, independently of the mapper', () => {
    const lc: LoopringLifecycle = { hash: 'h', market: 'WBTC-ETH', kind: 'fill', side: 'BUY', price: '17', size: '90000000', fills: [{ size: '30000000', price: '16.6667' }, { size: '60000000', price: '16.6666' }] };
    const steps = loopringLifecycleSteps(lc);
    const t = loopringTruthOf(lc, steps.at(-1)!, { createdAt: 1_700_000_000_000, index: steps.length - 1 });
    // 0.3 × 16.6667 + 0.6 × 16.6666 = 5.00001 + 9.99996 = 14.99997 ETH for 0.9 WBTC → 16.666633333… at 18 places
    expect(t.filledVolume).toBe('14999970000000000000');
    const e = loopringExpectedCanonical(t, 'acc', reference);
    expect(e.averagePrice).toBe('16.666633333333333333');
    expect(e).toMatchObject({ feeAsset: 'WBTC', fee: '0.0018', filledQuantity: '0.9', quoteQuantity: '15.3', status: 'FILLED', timeInForce: 'GTD' });
    expect(loopringExpectedCanonical(t, 'acc')).toMatchObject({ quantity: null, averagePrice: null, fee: null, feeAsset: 'WBTC', venueQuantity: '90000000' });
  });
});

describe('random lifecycles', () => {
  it('are a pure function of the seed; hashes are unique per seed and look like order hashes', () => {
    expect(loopringRandomLifecycles(50, 7)).toEqual(loopringRandomLifecycles(50, 7));
    expect(loopringRandomLifecycles(50, 7)).not.toEqual(loopringRandomLifecycles(50, 8));
    const all = loopringRandomLifecycles(300, 42);
    expect(new Set(all.map((l) => l.hash)).size).toBe(300);
    for (const l of all) expect(l.hash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(loopringSimHash(42, 0)).toBe(all[0]?.hash);
    const other = new Set(loopringRandomLifecycles(300, 43).map((l) => l.hash));
    expect(all.some((l) => other.has(l.hash))).toBe(false);
  });

  it('are valid scripts and cover every kind, every market, both sides and waiting starts', () => {
    const all = loopringRandomLifecycles(300, 42);
    for (const l of all) expect(() => loopringLifecycleSteps(l)).not.toThrow();
    expect(new Set(all.map((l) => l.kind))).toEqual(new Set(LOOPRING_LIFECYCLE_KINDS));
    expect(new Set(all.map((l) => l.market))).toEqual(new Set(LOOPRING_SIM_MARKETS.map((m) => m.market)));
    expect(new Set(all.map((l) => l.side))).toEqual(new Set(['BUY', 'SELL']));
    expect(all.some((l) => l.waitingFirst)).toBe(true);
  });

  it('property: every frame maps; fills never decrease; every step maps to the oracle\'s canonical state', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.boolean(), (seed, withReference) => {
        const ref = withReference ? reference : {};
        for (const l of loopringRandomLifecycles(8, seed)) {
          const steps = loopringLifecycleSteps(l);
          let previous = '0';
          steps.forEach((step, index) => {
            expect(compareDecimals(step.filledSize, previous)).toBeGreaterThanOrEqual(0);
            previous = step.filledSize;
            const t = loopringTruthOf(l, step, { createdAt: 1_700_000_000_000, index });
            const r = loopringMapper.map(loopringOrderFrameText(t), ctx(ref));
            if (r.kind !== 'orders') throw new Error('expected an order');
            expect(r.orders[0]).toMatchObject(loopringExpectedCanonical(t, 'acc', ref));
          });
        }
      }),
      { numRuns: 40 },
    );
  });
});
