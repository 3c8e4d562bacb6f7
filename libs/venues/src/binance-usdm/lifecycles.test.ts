import { describe, expect, it } from 'vitest';
import { testMapContext } from '../sim/test-context.js';
import {
  BINANCE_USDM_FIRST_UNSAFE_ID,
  BINANCE_USDM_LIFECYCLE_KINDS,
  binanceUsdmEffectiveFills,
  binanceUsdmExpectedCanonical,
  binanceUsdmLifecycleSteps,
  binanceUsdmPadDecimal,
  binanceUsdmRandomLifecycles,
  binanceUsdmResultText,
  binanceUsdmSuccessText,
  binanceUsdmTruthOf,
  type BinanceUsdmLifecycle,
} from './lifecycles.js';
import { binanceUsdmMapper } from './mapper.js';

const ctx = testMapContext('binance-usdm', { account: 'acc' });

const lc = (over: Partial<BinanceUsdmLifecycle>): BinanceUsdmLifecycle => ({
  orderId: '9007199254740993',
  symbol: 'BTCUSDT',
  kind: 'fill',
  side: 'BUY',
  price: '64000',
  quantity: '0.003',
  ...over,
});

describe('lifecycle steps', () => {
  it('fill: NEW → PARTIALLY_FILLED per fill but the last → FILLED, cumulative qty, exact cumQuote, rounded VWAP', () => {
    const steps = binanceUsdmLifecycleSteps(lc({ fills: [{ qty: '0.001', price: '64000' }, { qty: '0.002', price: '64000.1' }] }));
    expect(steps).toEqual([
      { status: 'NEW', executedQty: '0', cumQuote: '0', avgPrice: '0' },
      { status: 'PARTIALLY_FILLED', executedQty: '0.001', cumQuote: '64', avgPrice: '64000' },
      // (64 + 128.0002) / 0.003 = 64000.0666… → 5 decimals half-even
      { status: 'FILLED', executedQty: '0.003', cumQuote: '192.0002', avgPrice: '64000.06667' },
    ]);
  });

  it('cancel, partial-cancel, reject, expire, expire-in-match', () => {
    expect(binanceUsdmLifecycleSteps(lc({ kind: 'cancel' })).map((s) => s.status)).toEqual(['NEW', 'CANCELED']);
    expect(binanceUsdmLifecycleSteps(lc({ kind: 'reject' })).map((s) => s.status)).toEqual(['REJECTED']);
    expect(binanceUsdmLifecycleSteps(lc({ kind: 'partial-cancel', quantity: '0.010' })).map((s) => [s.status, s.executedQty])).toEqual([
      ['NEW', '0'],
      ['PARTIALLY_FILLED', '0.005'],
      ['CANCELED', '0.005'],
    ]);
    expect(binanceUsdmLifecycleSteps(lc({ kind: 'expire' })).map((s) => s.status)).toEqual(['NEW', 'EXPIRED']);
    expect(binanceUsdmLifecycleSteps(lc({ kind: 'expire-in-match', fills: [{ qty: '0.001', price: '1' }] })).map((s) => s.status)).toEqual([
      'NEW',
      'PARTIALLY_FILLED',
      'EXPIRED_IN_MATCH',
    ]);
  });

  it('refuses impossible scripts with a message naming the order', () => {
    expect(() => binanceUsdmEffectiveFills(lc({ fills: [{ qty: '0.001', price: '1' }] }))).toThrow(/lifecycle 9007199254740993 \(fill\): fills sum to 0.001, must equal quantity 0.003/);
    expect(() => binanceUsdmEffectiveFills(lc({ kind: 'partial-cancel', quantity: '0.001' }))).toThrow(/too small/);
    expect(() => binanceUsdmEffectiveFills(lc({ kind: 'cancel', fills: [{ qty: '0.001', price: '1' }] }))).toThrow(/has no fills/);
    expect(() => binanceUsdmEffectiveFills(lc({ orderId: '12a' }))).toThrow(/int64/);
  });
});

describe('frames and truth', () => {
  it('pads figures like Binance and writes orderId as a bare int64', () => {
    expect(binanceUsdmPadDecimal('1.5', 5)).toBe('1.50000');
    expect(binanceUsdmPadDecimal('12', 0)).toBe('12');
    expect(binanceUsdmPadDecimal('0.123456', 2)).toBe('0.123456'); // never rounds
    const steps = binanceUsdmLifecycleSteps(lc({}));
    const t = binanceUsdmTruthOf(lc({}), steps[0]!, { time: 1_767_225_600_000, updateTime: 1_767_225_600_000 });
    const text = binanceUsdmResultText(t);
    expect(text).toContain('"orderId":9007199254740993,');
    expect(text).toContain('"avgPrice":"0.00000"');
    expect(text).toContain('"origQty":"0.003"');
    expect(text).toContain('"price":"64000.0"');
    expect(binanceUsdmSuccessText('q1', text)).toBe(`{"id":"q1","status":200,"result":${text}}`);
  });

  it('every step of many random lifecycles maps (through the real mapper) to what the oracle expects', () => {
    let checked = 0;
    for (const seed of [1, 2, 3]) {
      for (const l of binanceUsdmRandomLifecycles(40, seed)) {
        binanceUsdmLifecycleSteps(l).forEach((step, i) => {
          const t = binanceUsdmTruthOf(l, step, { time: 1_767_225_600_000, updateTime: 1_767_225_600_000 + i });
          const r = binanceUsdmMapper.map(binanceUsdmSuccessText(`q${i}`, binanceUsdmResultText(t)), ctx);
          if (r.kind !== 'orders') throw new Error('expected an order');
          expect(r.orders[0]).toMatchObject(binanceUsdmExpectedCanonical(t, 'acc'));
          checked++;
        });
      }
    }
    expect(checked).toBeGreaterThan(300);
  });

  it('the oracle covers limit, market, post-only, GTD, hedge and reduce-only orders and every kind', () => {
    const all = [1, 2, 3].flatMap((s) => binanceUsdmRandomLifecycles(40, s));
    expect(new Set(all.map((l) => l.kind))).toEqual(new Set(BINANCE_USDM_LIFECYCLE_KINDS));
    expect(new Set(all.map((l) => l.type))).toEqual(new Set(['LIMIT', 'MARKET']));
    expect(new Set(all.map((l) => l.timeInForce))).toEqual(new Set(['GTC', 'GTX', 'GTD']));
    expect(new Set(all.map((l) => l.positionSide))).toEqual(new Set(['BOTH', 'LONG', 'SHORT']));
    expect(all.some((l) => l.reduceOnly)).toBe(true);
  });
});

describe('random lifecycles', () => {
  it('are a pure function of the seed, with int64 ids above 2^53, unique within and across seeds', () => {
    expect(binanceUsdmRandomLifecycles(30, 7)).toEqual(binanceUsdmRandomLifecycles(30, 7));
    const a = binanceUsdmRandomLifecycles(50, 7).map((l) => l.orderId);
    const b = binanceUsdmRandomLifecycles(50, 8).map((l) => l.orderId);
    for (const id of [...a, ...b]) {
      expect(BigInt(id) >= BINANCE_USDM_FIRST_UNSAFE_ID).toBe(true);
      expect(Number.isSafeInteger(Number(id))).toBe(false);
      expect(BigInt(id) < 2n ** 63n).toBe(true);
    }
    expect(new Set([...a, ...b]).size).toBe(100);
  });

  it('every generated script is possible', () => {
    for (const l of binanceUsdmRandomLifecycles(200, 99)) expect(() => binanceUsdmLifecycleSteps(l)).not.toThrow();
  });
});
