import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDecimals, divDecimals, mulDecimals } from '@orderstream/kit';
import type { CanonicalOrder } from '@orderstream/schemas';
import { testMapContext } from '../sim/test-context.js';
import { webseaMapper } from './mapper.js';
import {
  WEBSEA_AVERAGE_PRICE_SCALE,
  WEBSEA_NO_QUIRKS,
  webseaCumulative,
  webseaEffectiveExecutions,
  webseaExactQuotient,
  webseaExpectedState,
  webseaLifecycleSteps,
  webseaOrderFrameText,
  webseaRandomLifecycles,
  webseaTruthOf,
  type WebseaFrameQuirks,
  type WebseaLifecycle,
} from './lifecycles.js';

const ctx = testMapContext('websea', { account: 'acc' });
const T0 = 1_731_231_231;

const lc = (over: Partial<WebseaLifecycle>): WebseaLifecycle => ({
  orderId: 'BL1',
  symbol: 'BTC-USDT',
  kind: 'fill',
  side: 'BUY',
  price: '64000.5',
  amount: '0.5',
  ...over,
});

function framesOf(l: WebseaLifecycle, quirks: WebseaFrameQuirks = WEBSEA_NO_QUIRKS): string[] {
  return webseaLifecycleSteps(l, T0).map((step) => webseaOrderFrameText(l, step, { entrustTime: T0, quirks }));
}

function finalTruth(l: WebseaLifecycle, quirks: WebseaFrameQuirks = WEBSEA_NO_QUIRKS) {
  const steps = webseaLifecycleSteps(l, T0);
  return webseaTruthOf(l, steps, steps.length - 1, { entrustTime: T0, quirks });
}

/**
 * A reference fold of canonical WebSea records, as the lead's order-state is meant to do it: sum distinct
 * executions (by lastFillId), keep the last status by lifecycle rank (terminal never left).
 */
function fold(records: CanonicalOrder[]) {
  const executions = new Map<string, { quantity: string; price: string; fee: string | null }>();
  const rank: Record<string, number> = { NEW: 0, PARTIALLY_FILLED: 1, FILLED: 2, CANCELED: 2 };
  let status = 'NEW';
  let venueStatus = 'NEW';
  for (const r of records) {
    if (r.lastFillId !== null) executions.set(r.lastFillId, { quantity: r.lastFillQuantity as string, price: r.lastFillPrice as string, fee: r.lastFillFee });
    if ((rank[r.status] ?? 0) > (rank[status] ?? 0) || (rank[r.status] === rank[status] && rank[status] !== 2)) {
      status = r.status;
      venueStatus = r.venueStatus;
    }
  }
  let qty = '0';
  let quote = '0';
  let fee = '0';
  for (const e of executions.values()) {
    qty = addDecimals(qty, e.quantity);
    quote = addDecimals(quote, mulDecimals(e.quantity, e.price));
    fee = addDecimals(fee, e.fee ?? '0');
  }
  return {
    status,
    venueStatus,
    filledQuantity: qty,
    filledQuoteQuantity: quote,
    fee,
    averagePrice: qty === '0' ? null : divDecimals(quote, qty, WEBSEA_AVERAGE_PRICE_SCALE),
    ids: [...executions.keys()].sort(),
  };
}

const mapAll = (frames: string[]) =>
  frames.flatMap((t) => {
    const r = webseaMapper.map(t, ctx);
    return r.kind === 'orders' ? r.orders : [];
  });

describe('lifecycle steps', () => {
  it('fill: NEW → TRADE (PARTIALLY_FILLED) → TRADE (FILLED), execution times entrust + 1, + 2, default fee 0.2 %', () => {
    const steps = webseaLifecycleSteps(lc({ executions: [{ qty: '0.2', price: '64000.5' }, { qty: '0.3', price: '64000.3' }] }), T0);
    expect(steps.map((s) => [s.event, s.status, s.pushTs, s.executed])).toEqual([
      ['NEW', 'NEW', T0, 0],
      ['TRADE', 'PARTIALLY_FILLED', T0 + 1, 1],
      ['TRADE', 'FILLED', T0 + 2, 2],
    ]);
    // 0.2 × 64000.5 = 12800.1 USDT × 0.002
    expect(steps[1]?.execution).toEqual({ id: `BL1/${T0 + 1}/0.2/64000.5/25.6002`, qty: '0.2', price: '64000.5', fee: '25.6002', ts: T0 + 1 });
    expect(steps[2]?.execution?.fee).toBe('38.40018'); // 0.3 × 64000.3 = 19200.09 × 0.002
  });

  it('cancel, partial-cancel', () => {
    expect(webseaLifecycleSteps(lc({ kind: 'cancel' }), T0).map((s) => [s.event, s.status, s.pushTs])).toEqual([
      ['NEW', 'NEW', T0],
      ['CANCELED', 'CANCELED', T0 + 1],
    ]);
    expect(webseaLifecycleSteps(lc({ kind: 'partial-cancel' }), T0).map((s) => [s.event, s.status, s.execution?.qty ?? null])).toEqual([
      ['NEW', 'NEW', null],
      ['TRADE', 'PARTIALLY_FILLED', '0.25'],
      ['CANCELED', 'PARTIALLY_CANCELED', null],
    ]);
  });

  it('market BUY by notional: default execution spends the notional in 1e-8 lots at the price, never more', () => {
    const [e] = webseaEffectiveExecutions(lc({ orderType: 'MARKET', amount: '1000', price: '64000.5' }), T0);
    expect(e?.qty).toBe('0.01562487');
    expect(Number(mulDecimals(e?.qty as string, '64000.5'))).toBeLessThanOrEqual(1000);
  });

  it('refuses impossible scripts with a message naming the order', () => {
    expect(() => webseaEffectiveExecutions(lc({ executions: [{ qty: '0.1', price: '1' }] }), T0)).toThrow(/lifecycle BL1 \(fill\): execution quantities sum to 0.1, must equal amount 0.5/);
    expect(() => webseaEffectiveExecutions(lc({ kind: 'partial-cancel', executions: [{ qty: '0.5', price: '1' }] }), T0)).toThrow(/less than amount/);
    expect(() => webseaEffectiveExecutions(lc({ kind: 'cancel', executions: [{ qty: '0.1', price: '1' }] }), T0)).toThrow(/has no executions/);
    expect(() => webseaEffectiveExecutions(lc({ orderType: 'MARKET', amount: '100', executions: [{ qty: '1', price: '101' }] }), T0)).toThrow(
      /quote notional Σ qty × price sum to 101, must be positive and at most amount 100/,
    );
    expect(() => webseaEffectiveExecutions(lc({ amount: '0' }), T0)).toThrow(/amount must be a positive decimal/);
  });

  it('refuses two executions that would share an execution id (same second, qty, price, fee)', () => {
    const twins = lc({ amount: '2', executions: [{ qty: '1', price: '5', ts: T0 + 9 }, { qty: '1', price: '5', ts: T0 + 9 }] });
    expect(() => webseaEffectiveExecutions(twins, T0)).toThrow(/executions #1 and #2 would get the same execution id BL1\/1731231240\/1\/5\/0.01/);
    // one second apart they are distinct
    expect(webseaEffectiveExecutions(lc({ amount: '2', executions: [{ qty: '1', price: '5' }, { qty: '1', price: '5' }] }), T0)).toHaveLength(2);
  });
});

describe('frames', () => {
  it('are laid out like the WSDOC example, plus entrust_time', () => {
    const [created, trade] = framesOf(lc({ executions: [{ qty: '0.5', price: '64000.5', fee: '0.1' }] }));
    expect(created).toBe(
      `{"channel":"order","ts":${T0},"order":{"symbol":"BTC-USDT","side":"BUY","amount":"0.5","last_price":"","last_fee":"","last_amount":"","price":"64000.5","event":"NEW","order_id":"BL1","order_type":"LIMIT","status":"NEW","ts":"","entrust_time":${T0}}}`,
    );
    expect(trade).toBe(
      `{"channel":"order","ts":${T0 + 1},"order":{"symbol":"BTC-USDT","side":"BUY","amount":"0.5","last_price":"64000.5","last_fee":"0.1","last_amount":"0.5","price":"64000.5","event":"TRADE","order_id":"BL1","order_type":"LIMIT","status":"FILLED","ts":${T0 + 1},"entrust_time":${T0}}}`,
    );
  });

  it('quirks: omitted instead of "", no entrust_time; market price ""', () => {
    const quirks = { emptyStringsForAbsent: false, omitEntrustTime: true, repeatLastFillOnCancel: false };
    const [created] = framesOf(lc({ orderType: 'MARKET', side: 'SELL' }), quirks);
    expect(JSON.parse(created as string)).toEqual({
      channel: 'order',
      ts: T0,
      order: { symbol: 'BTC-USDT', side: 'SELL', amount: '0.5', price: '', event: 'NEW', order_id: 'BL1', order_type: 'MARKET', status: 'NEW' },
    });
  });
});

describe('exact cumulative figures and the average price', () => {
  it('terminating quotients are exact; repeating ones give null', () => {
    expect(webseaExactQuotient('32000.19', '0.5')).toBe('64000.38');
    expect(webseaExactQuotient('5', '3')).toBeNull();
    expect(webseaExactQuotient('1', '8')).toBe('0.125');
    expect(webseaExactQuotient('0.3', '0.0003')).toBe('1000');
  });

  it('Σ qty, Σ qty × price, Σ fee exactly; average half-even at 12 decimals', () => {
    const c = webseaCumulative([
      { qty: '1', price: '100', fee: '0.2' },
      { qty: '2', price: '101', fee: '0.404' },
    ]);
    expect(c).toEqual({
      filledQuantity: '3',
      filledQuoteQuantity: '302',
      fee: '0.604',
      averagePrice: '100.666666666667', // 302 / 3 = 100.666…, 12 places, half-even
      averagePriceExact: null,
    });
    expect(webseaCumulative([])).toEqual({ filledQuantity: '0', filledQuoteQuantity: '0', fee: '0', averagePrice: null, averagePriceExact: null });
  });
});

describe('webseaExpectedState (the oracle)', () => {
  it('limit fill in two executions', () => {
    const t = finalTruth(lc({ executions: [{ qty: '0.2', price: '64000.5' }, { qty: '0.3', price: '64000.3' }] }));
    const e = webseaExpectedState(t, 'acc');
    expect(e.order).toEqual({
      orderKey: 'websea|acc|BL1',
      venue: 'websea',
      account: 'acc',
      orderId: 'BL1',
      clientOrderId: null,
      venueSymbol: 'BTC-USDT',
      symbol: 'BTC/USDT',
      instrumentKind: 'SPOT',
      side: 'BUY',
      orderType: 'LIMIT',
      venueOrderType: 'LIMIT',
      status: 'FILLED',
      venueStatus: 'FILLED',
      price: '64000.5',
      triggerPrice: null,
      quantity: '0.5',
      venueQuantity: '0.5',
      quoteQuantity: null,
      filledQuantity: '0.5',
      filledQuoteQuantity: '32000.19',
      averagePrice: '64000.38',
      fee: '64.00038', // 25.6002 + 38.40018
      feeAsset: null,
      createdAt: T0 * 1_000_000,
    });
    expect(e.averagePriceExact).toBe('64000.38');
    expect(e.executions).toEqual([
      { id: `BL1/${T0 + 1}/0.2/64000.5/25.6002`, quantity: '0.2', price: '64000.5', fee: '25.6002' },
      { id: `BL1/${T0 + 2}/0.3/64000.3/38.40018`, quantity: '0.3', price: '64000.3', fee: '38.40018' },
    ]);
  });

  it('cancel (nothing executed): filled "0", average null, fee "0"', () => {
    const e = webseaExpectedState(finalTruth(lc({ kind: 'cancel' })), 'acc');
    expect(e.order).toMatchObject({ status: 'CANCELED', venueStatus: 'CANCELED', filledQuantity: '0', averagePrice: null, fee: '0' });
    expect(e.executions).toEqual([]);
  });

  it('partial fill then PARTIALLY_CANCELED → CANCELED with the partial fill', () => {
    const e = webseaExpectedState(finalTruth(lc({ kind: 'partial-cancel', amount: '3', executions: [{ qty: '1', price: '100' }, { qty: '1', price: '101', fee: '0' }] })), 'acc');
    expect(e.order).toMatchObject({ status: 'CANCELED', venueStatus: 'PARTIALLY_CANCELED', filledQuantity: '2', averagePrice: '100.5', fee: '0.2' });
  });

  it('market BUY by notional: quoteQuantity, quantity null, price null', () => {
    const e = webseaExpectedState(finalTruth(lc({ orderType: 'MARKET', amount: '100', executions: [{ qty: '0.5', price: '100' }, { qty: '0.4', price: '101' }] })), 'acc');
    expect(e.order).toMatchObject({
      orderType: 'MARKET',
      price: null,
      quantity: null,
      venueQuantity: null,
      quoteQuantity: '100',
      filledQuantity: '0.9',
      filledQuoteQuantity: '90.4',
      averagePrice: '100.444444444444',
      status: 'FILLED',
    });
  });

  it('omitEntrustTime quirk → createdAt null', () => {
    const quirks = { ...WEBSEA_NO_QUIRKS, omitEntrustTime: true };
    expect(webseaExpectedState(finalTruth(lc({}), quirks), 'acc').order.createdAt).toBeNull();
  });

  it('agrees with the mapper on every field a single push can tell', () => {
    const l = lc({ kind: 'partial-cancel', side: 'SELL', symbol: 'ETH-USDT', price: '3150.25', amount: '2.5', triggerPrice: '3100' });
    const last = mapAll(framesOf(l)).at(-1) as CanonicalOrder;
    const { filledQuantity: _f, filledQuoteQuantity: _q, averagePrice: _a, fee: _fee, ...fromOnePush } = webseaExpectedState(finalTruth(l), 'acc').order;
    expect(last).toMatchObject(fromOnePush);
  });
});

describe('random lifecycles', () => {
  it('are a pure function of the seed, with unique ids, and every script is valid', () => {
    const a = webseaRandomLifecycles(60, 7);
    expect(webseaRandomLifecycles(60, 7)).toEqual(a);
    expect(new Set(a.map((l) => l.orderId)).size).toBe(60);
    expect(a[0]?.orderId).toMatch(/^BL000007000000[A-Z0-9]{5}$/);
    for (const l of a) expect(() => webseaLifecycleSteps(l, T0)).not.toThrow();
    const kinds = new Set(a.map((l) => `${l.orderType}-${l.side === 'BUY' && l.orderType === 'MARKET' ? 'notional' : 'base'}-${l.kind}`));
    expect(kinds.size).toBeGreaterThanOrEqual(5);
    expect(webseaRandomLifecycles(5, 8).map((l) => l.orderId)).not.toEqual(webseaRandomLifecycles(5, 7).map((l) => l.orderId));
  });

  it('mapping the frames and summing distinct executions reproduces the oracle, whatever the duplicates and order', () => {
    const lifecycles = webseaRandomLifecycles(12, 2024);
    const perOrder = lifecycles.map((l) => ({ l, frames: framesOf(l), expected: webseaExpectedState(finalTruth(l), 'acc') }));
    fc.assert(
      fc.property(
        fc.array(fc.nat(), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 0, max: 11 }),
        (noise, pick) => {
          const { frames, expected } = perOrder[pick] as (typeof perOrder)[number];
          // duplicate some frames and shuffle deterministically from the noise
          const sent = [...frames, ...noise.slice(0, 5).map((n) => frames[n % frames.length] as string)];
          for (let i = sent.length - 1; i > 0; i--) {
            const j = (noise[i % noise.length] as number) % (i + 1);
            [sent[i], sent[j]] = [sent[j] as string, sent[i] as string];
          }
          const folded = fold(mapAll(sent));
          expect(folded.filledQuantity).toBe(expected.order.filledQuantity);
          expect(folded.filledQuoteQuantity).toBe(expected.order.filledQuoteQuantity);
          expect(folded.fee).toBe(expected.order.fee);
          expect(folded.averagePrice).toBe(expected.order.averagePrice);
          expect(folded.ids).toEqual(expected.executions.map((e) => e.id).sort());
          expect(folded.status).toBe(expected.order.status);
        },
      ),
      { numRuns: 60, seed: 42 },
    );
  });

  it('a cancel push that repeats the last execution (quirk) does not count it twice', () => {
    const quirks = { ...WEBSEA_NO_QUIRKS, repeatLastFillOnCancel: true };
    const l = lc({ kind: 'partial-cancel', amount: '3', executions: [{ qty: '1', price: '100' }, { qty: '1', price: '101' }] });
    const frames = framesOf(l, quirks);
    expect(JSON.parse(frames.at(-1) as string).order).toMatchObject({ event: 'CANCELED', status: 'PARTIALLY_CANCELED', last_amount: '1', last_price: '101' });
    const folded = fold(mapAll(frames));
    expect(folded.filledQuantity).toBe('2');
    expect(folded.filledQuantity).toBe(webseaExpectedState(finalTruth(l, quirks), 'acc').order.filledQuantity);
  });
});
