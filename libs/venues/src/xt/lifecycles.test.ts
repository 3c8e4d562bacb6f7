import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareDecimals } from '@orderstream/kit';
import { xtMapper } from './mapper.js';
import { testMapContext } from '../sim/test-context.js';
import {
  XT_LIFECYCLE_KINDS,
  XT_SIM_INSTRUMENTS,
  xtAveragePrice,
  xtEffectiveFills,
  xtExpectedCanonical,
  xtLifecycleSteps,
  xtOrderFrameText,
  xtRandomLifecycles,
  xtTruthOf,
  type XtLifecycle,
} from './lifecycles.js';

const reference = { xt: Object.fromEntries(XT_SIM_INSTRUMENTS.map((i) => [i.symbol, { contractSize: i.contractSize }])) };
const ctx = testMapContext('xt', { account: 'acc', reference });

const lc = (over: Partial<XtLifecycle>): XtLifecycle => ({
  orderId: '1',
  symbol: 'btc_usdt',
  kind: 'fill',
  side: 'BUY',
  price: '100',
  quantity: '3',
  ...over,
});

describe('lifecycle steps', () => {
  it('fill: NEW → PARTIALLY_FILLED per fill but the last → FILLED, with cumulative qty and VWAP', () => {
    const steps = xtLifecycleSteps(lc({ fills: [{ qty: '1', price: '100' }, { qty: '2', price: '101' }] }));
    expect(steps).toEqual([
      { state: 'NEW', executedQty: '0', avgPrice: '0' },
      { state: 'PARTIALLY_FILLED', executedQty: '1', avgPrice: '100' },
      // (1×100 + 2×101) / 3 = 100.6666… → 8 decimals, half-even
      { state: 'FILLED', executedQty: '3', avgPrice: '100.66666667' },
    ]);
  });

  it('cancel, partial-cancel, reject, expire', () => {
    expect(xtLifecycleSteps(lc({ kind: 'cancel' })).map((s) => s.state)).toEqual(['NEW', 'CANCELED']);
    expect(xtLifecycleSteps(lc({ kind: 'reject' }))).toEqual([{ state: 'REJECTED', executedQty: '0', avgPrice: '0' }]);
    expect(xtLifecycleSteps(lc({ kind: 'partial-cancel', quantity: '10' }))).toEqual([
      { state: 'NEW', executedQty: '0', avgPrice: '0' },
      { state: 'PARTIALLY_FILLED', executedQty: '5', avgPrice: '100' },
      { state: 'PARTIALLY_CANCELED', executedQty: '5', avgPrice: '100' },
    ]);
    expect(xtLifecycleSteps(lc({ kind: 'expire', fills: [{ qty: '1', price: '99.5' }] })).map((s) => [s.state, s.executedQty])).toEqual([
      ['NEW', '0'],
      ['PARTIALLY_FILLED', '1'],
      ['EXPIRED', '1'],
    ]);
  });

  it('refuses impossible scripts with a message naming the order', () => {
    expect(() => xtEffectiveFills(lc({ fills: [{ qty: '1', price: '100' }] }))).toThrow(/lifecycle 1 \(fill\): fills sum to 1, must equal quantity 3/);
    expect(() => xtEffectiveFills(lc({ kind: 'partial-cancel', quantity: '1' }))).toThrow(/at least 2/);
    expect(() => xtEffectiveFills(lc({ kind: 'cancel', fills: [{ qty: '1', price: '1' }] }))).toThrow(/has no fills/);
    expect(() => xtEffectiveFills(lc({ quantity: '1.5' }))).toThrow(/positive integer/);
  });

  it('average price rounds half-even at the scale', () => {
    expect(xtAveragePrice([{ qty: '1', price: '1' }, { qty: '1', price: '2' }], 0)).toBe('2'); // 1.5 → 2
    expect(xtAveragePrice([{ qty: '1', price: '2' }, { qty: '1', price: '3' }], 0)).toBe('2'); // 2.5 → 2
    expect(xtAveragePrice([])).toBe('0');
  });

  it('frames look like the doc example: lower-case symbol, contracts as integer strings, ms createdTime', () => {
    const text = xtOrderFrameText(lc({ orderType: 'MARKET' }), { state: 'NEW', executedQty: '0', avgPrice: '0' }, {
      event: 'order@KEY',
      createdTime: 1_731_231_231_456,
      contractSize: '0.0001',
    });
    expect(text).toBe(
      '{"topic":"order","event":"order@KEY","data":{"symbol":"btc_usdt","orderId":"1","origQty":"3","avgPrice":"0","price":"0","executedQty":"0","orderSide":"BUY","timeInForce":"IOC","positionSide":"LONG","marginFrozen":"0","sourceType":"DEFAULT","type":"ORDER","state":"NEW","createdTime":1731231231456,"leverage":20,"positionType":"CROSSED","orderType":"MARKET"}}',
    );
  });
});

describe('random lifecycles', () => {
  it('are a pure function of the seed', () => {
    expect(xtRandomLifecycles(50, 7)).toEqual(xtRandomLifecycles(50, 7));
    expect(xtRandomLifecycles(50, 7)).not.toEqual(xtRandomLifecycles(50, 8));
  });

  it('are valid scripts, cover every kind, and have unique ids', () => {
    const all = xtRandomLifecycles(300, 42);
    for (const l of all) expect(() => xtEffectiveFills(l)).not.toThrow();
    expect(new Set(all.map((l) => l.kind))).toEqual(new Set(XT_LIFECYCLE_KINDS));
    expect(new Set(all.map((l) => l.orderId)).size).toBe(300);
    expect(all.some((l) => l.orderType === 'MARKET')).toBe(true);
  });

  it('property: each frame maps; fills never decrease; the last frame maps to the expected canonical state', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
        for (const l of xtRandomLifecycles(20, seed)) {
          const steps = xtLifecycleSteps(l);
          const contractSize = reference.xt[l.symbol]?.contractSize;
          let previous = '0';
          for (const step of steps) {
            expect(compareDecimals(step.executedQty, previous)).toBeGreaterThanOrEqual(0);
            previous = step.executedQty;
          }
          const last = steps[steps.length - 1]!;
          const text = xtOrderFrameText(l, last, { event: 'order@KEY', createdTime: 1_731_231_231_456, ...(contractSize ? { contractSize } : {}) });
          const r = xtMapper.map(text, ctx);
          if (r.kind !== 'orders') throw new Error('expected an order');
          expect(r.orders[0]).toMatchObject(xtExpectedCanonical(xtTruthOf(l, last, 1_731_231_231_456), 'acc', contractSize));
        }
      }),
      { numRuns: 50 },
    );
  });
});
