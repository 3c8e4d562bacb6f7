import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { CanonicalOrder, OrderState, OrderStatus } from '@orderstream/schemas';
import { reduce } from './reduce.js';

/** Fixed in CI (reproducible), random locally (more coverage over time); FC_SEED=<n> replays a failure. */
const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : process.env.CI ? 20261121 : Date.now() % 2 ** 31;

let offset = 0;
function update(status: OrderStatus, filled: string, extra: Partial<CanonicalOrder> = {}): CanonicalOrder {
  offset++;
  return {
    orderKey: 'xt|main|1', venue: 'xt', account: 'main', orderId: '1', clientOrderId: null,
    venueSymbol: 'btc_usdt', symbol: 'BTC/USDT:USDT', instrumentKind: 'PERPETUAL', side: 'BUY', positionSide: 'LONG',
    orderType: 'LIMIT', venueOrderType: 'LIMIT', timeInForce: 'GTC', status, venueStatus: status,
    price: '100', triggerPrice: null, quantity: '10', venueQuantity: '10', quoteQuantity: null,
    filledQuantity: filled, venueFilledQuantity: filled, filledQuoteQuantity: null,
    averagePrice: filled === '0' ? null : '100', fee: null, feeAsset: null,
    lastFillQuantity: null, lastFillPrice: null, lastFillFee: null, lastFillId: null, reduceOnly: null, postOnly: false,
    createdAt: 1_700_000_000_000_000, updatedAt: null, receivedAt: 1_700_000_000_000_000 + offset,
    source: { topic: 'orders.raw.v1', partition: 0, offset }, extras: {},
    ...extra,
  };
}

function fold(updates: CanonicalOrder[]): OrderState | undefined {
  let state: OrderState | undefined;
  for (const u of updates) state = reduce(state, u) ?? state;
  return state;
}

/** What a user compares: the order itself, without where each update came from. */
function essence(s: OrderState | undefined) {
  if (!s) return undefined;
  const { source: _s, receivedAt: _r, ...order } = s.order;
  return { order, executions: s.executions, note: s.note };
}

describe('reduce', () => {
  it('starts a state from the first update', () => {
    const s = reduce(undefined, update('NEW', '0'));
    expect(s?.order.status).toBe('NEW');
    expect(s?.updateCount).toBe(1);
  });

  it('never leaves a terminal state', () => {
    const filled = fold([update('NEW', '0'), update('FILLED', '10')]);
    expect(reduce(filled, update('PARTIALLY_FILLED', '5'))).toBeUndefined();
    expect(reduce(filled, update('NEW', '0'))).toBeUndefined();
  });

  it('never lets filled quantity go down, even when a terminal update reports less', () => {
    const s = fold([update('PARTIALLY_FILLED', '7'), update('CANCELED', '5')]);
    expect(s?.order.status).toBe('CANCELED');
    expect(s?.order.filledQuantity).toBe('7');
  });

  it('prefers the later lifecycle rank among equal fills', () => {
    const s = fold([update('PENDING_CANCEL', '3'), update('PARTIALLY_FILLED', '3')]);
    expect(s?.order.status).toBe('PENDING_CANCEL');
  });

  it('breaks ties on venue update time', () => {
    const later = update('NEW', '0', { updatedAt: 2, price: '101' });
    const earlier = update('NEW', '0', { updatedAt: 1, price: '100' });
    expect(fold([later, earlier])?.order.price).toBe('101');
  });

  it('emits nothing for a duplicate', () => {
    const u = update('NEW', '0');
    const s = reduce(undefined, u);
    expect(reduce(s, { ...u, source: { ...u.source, offset: 999 }, receivedAt: u.receivedAt + 5 })).toBeUndefined();
  });

  it('keeps fields a later update leaves out', () => {
    const s = fold([update('NEW', '0', { clientOrderId: 'c-1' }), update('FILLED', '10', { clientOrderId: null })]);
    expect(s?.order.clientOrderId).toBe('c-1');
  });
});

/** A realistic lifecycle: fills only grow; it ends in one terminal status. */
const lifecycleArb = fc
  .record({
    fills: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 0, maxLength: 6 }),
    end: fc.constantFrom<OrderStatus>('FILLED', 'CANCELED', 'EXPIRED', 'REJECTED'),
    withTimes: fc.boolean(),
    pendingCancel: fc.boolean(),
  })
  .map(({ fills, end, withTimes, pendingCancel }) => {
    const seq: CanonicalOrder[] = [];
    let t = 1;
    const at = () => (withTimes ? { updatedAt: t++ } : {});
    seq.push(update('NEW', '0', at()));
    let filled = 0;
    for (const f of fills) {
      filled += f;
      seq.push(update('PARTIALLY_FILLED', String(filled), { lastFillQuantity: String(f), ...at() }));
    }
    if (pendingCancel && end === 'CANCELED') seq.push(update('PENDING_CANCEL', String(filled), at()));
    const final = end === 'FILLED' ? filled + 1 : filled;
    if (end !== 'REJECTED' || filled === 0) seq.push(update(end, String(final), at()));
    return seq;
  });

/** WebSea style: each push reports one execution only; no cumulative figures; some pushes repeated by the venue. */
const perExecutionArb = fc
  .record({
    fills: fc.array(fc.record({ qty: fc.integer({ min: 1, max: 9 }), px: fc.integer({ min: 100, max: 105 }) }), { minLength: 1, maxLength: 6 }),
    end: fc.constantFrom<OrderStatus>('FILLED', 'CANCELED'),
  })
  .map(({ fills, end }) => {
    const seq: CanonicalOrder[] = [update('NEW', '0', { filledQuantity: null, venueFilledQuantity: null, averagePrice: null, updatedAt: 1_000_000 })];
    fills.forEach((f, i) => {
      const last = i === fills.length - 1;
      seq.push(
        update(last && end === 'FILLED' ? 'FILLED' : 'PARTIALLY_FILLED', '0', {
          filledQuantity: null, venueFilledQuantity: null, averagePrice: null,
          lastFillQuantity: String(f.qty), lastFillPrice: `${f.px}.5`, lastFillFee: '0.01', lastFillId: `exec-${i}`,
          updatedAt: 1_000_000 * (i + 2),
        }),
      );
    });
    if (end === 'CANCELED') seq.push(update('CANCELED', '0', { filledQuantity: null, venueFilledQuantity: null, averagePrice: null, updatedAt: 1_000_000 * (fills.length + 2) }));
    return seq;
  });

describe('per-execution venues (WebSea style)', () => {
  it('sums distinct executions: cumulative fill, notional, average price and fee', () => {
    const base = { filledQuantity: null, venueFilledQuantity: null, averagePrice: null };
    const s = fold([
      update('PARTIALLY_FILLED', '0', { ...base, lastFillQuantity: '1', lastFillPrice: '100', lastFillFee: '0.1', lastFillId: 'a', updatedAt: 1 }),
      update('PARTIALLY_FILLED', '0', { ...base, lastFillQuantity: '1', lastFillPrice: '100', lastFillFee: '0.1', lastFillId: 'a', updatedAt: 1 }), // repeated push
      update('FILLED', '0', { ...base, lastFillQuantity: '2', lastFillPrice: '101', lastFillFee: '0.2', lastFillId: 'b', updatedAt: 2 }),
    ]);
    expect(s?.order.status).toBe('FILLED');
    expect(s?.order.filledQuantity).toBe('3');
    expect(s?.order.filledQuoteQuantity).toBe('302');
    expect(s?.order.averagePrice).toBe('100.666666666667');
    expect(s?.order.fee).toBe('0.3');
    expect(s?.executions.map((e) => e.id)).toEqual(['a', 'b']);
  });
});

describe('merge rules converge (property)', () => {
  it('per-execution lifecycles: any permutation with duplicates folds to the in-order state', () => {
    fc.assert(
      fc.property(
        perExecutionArb.chain((seq) =>
          fc.tuple(fc.constant(seq), fc.shuffledSubarray(seq, { minLength: seq.length, maxLength: seq.length }), fc.array(fc.nat({ max: seq.length - 1 }), { maxLength: 4 })),
        ),
        ([inOrder, shuffled, dupIdx]) => {
          const withDups = [...shuffled];
          for (const i of dupIdx) {
            const u = inOrder[i] as CanonicalOrder;
            withDups.splice(i % (withDups.length + 1), 0, { ...u, source: { ...u.source, offset: u.source.offset + 10_000 } });
          }
          expect(essence(fold(withDups))).toEqual(essence(fold(inOrder)));
        },
      ),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it('any permutation of an order\'s updates, with duplicates, folds to the in-order state', () => {
    fc.assert(
      fc.property(
        lifecycleArb.chain((seq) =>
          fc.tuple(
            fc.constant(seq),
            fc.shuffledSubarray(seq, { minLength: seq.length, maxLength: seq.length }),
            fc.array(fc.nat({ max: seq.length - 1 }), { maxLength: 4 }),
          ),
        ),
        ([inOrder, shuffled, dupIdx]) => {
          const withDups = [...shuffled];
          for (const i of dupIdx) {
            const u = inOrder[i] as CanonicalOrder;
            withDups.splice(i % (withDups.length + 1), 0, { ...u, source: { ...u.source, offset: u.source.offset + 10_000 } });
          }
          expect(essence(fold(withDups))).toEqual(essence(fold(inOrder)));
        },
      ),
      { seed: SEED, numRuns: 2000 },
    );
  });
});

/**
 * WebSea with reconciliation: pushes (some lost in a gap, some repeated), REST order answers (cumulative claims, no
 * update time of their own: as of their receipt) and the REST trade list (trade ids), in any order (rule 6).
 */
const WS = { venue: 'websea', orderKey: 'websea|main|BL1', orderId: 'BL1', venueSymbol: 'BTC-USDT', symbol: 'BTC/USDT', instrumentKind: 'SPOT' as const, positionSide: null, timeInForce: null, postOnly: null };
const websea = (status: OrderStatus, extra: Partial<CanonicalOrder>) =>
  update(status, '0', { ...WS, filledQuantity: null, venueFilledQuantity: null, averagePrice: null, ...extra });
const fp = (e: { ts: number; qty: number; px: number }) => `BL1/${e.ts}/${e.qty}/${e.px}/0.01`;

const restLifecycleArb = fc
  .record({
    // few seconds and figures, so twins (same second and figures: one push id, two trade ids) happen often
    fills: fc.array(fc.record({ ts: fc.integer({ min: 1, max: 3 }), qty: fc.integer({ min: 1, max: 2 }), px: fc.constantFrom(100, 101) }), { minLength: 1, maxLength: 5 }),
    end: fc.constantFrom<'FILLED' | 'CANCELED'>('FILLED', 'CANCELED'),
    lost: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
    claimAt: fc.nat({ max: 5 }),
  })
  .map(({ fills, end, lost, claimAt }) => {
    const sum = (n: number) => fills.slice(0, n).reduce((q, f) => q + f.qty, 0);
    const notional = (n: number) => fills.slice(0, n).reduce((q, f) => q + f.qty * f.px, 0);
    const claim = (n: number, status: OrderStatus, venueStatus: string, at: number) =>
      websea(status, {
        venueStatus, filledQuantity: String(sum(n)), venueFilledQuantity: String(sum(n)), updatedAt: at,
        averagePrice: n === 0 ? null : String(notional(n) / sum(n)).slice(0, 12), extras: { ctime: '2024-11-10 17:33:51', restOrderId: '7' },
      });
    const pushes: CanonicalOrder[] = [websea('NEW', { venueStatus: 'NEW', updatedAt: 1_000_000, extras: {} })];
    fills.forEach((f, i) => {
      pushes.push(websea(i === fills.length - 1 && end === 'FILLED' ? 'FILLED' : 'PARTIALLY_FILLED', {
        venueStatus: i === fills.length - 1 && end === 'FILLED' ? 'FILLED' : 'PARTIALLY_FILLED',
        lastFillQuantity: String(f.qty), lastFillPrice: String(f.px), lastFillFee: '0.01', lastFillId: fp(f), updatedAt: f.ts * 1_000_000, extras: {},
      }));
    });
    if (end === 'CANCELED') pushes.push(websea('CANCELED', { venueStatus: 'PARTIALLY_CANCELED', updatedAt: 9_000_000, extras: {} }));
    const delivered = pushes.filter((_, i) => !lost[i % lost.length]);
    const n = Math.min(claimAt, fills.length);
    const rest = [
      claim(n, n === 0 ? 'NEW' : 'PARTIALLY_FILLED', n === 0 ? 'NEW' : 'PARTIALLY_FILLED', 5_000_000),
      claim(fills.length, end, end === 'FILLED' ? 'FILLED' : 'PARTIALLY_CANCELED', 20_000_000),
      ...fills.map((f, i) =>
        websea('PARTIALLY_FILLED', {
          venueStatus: 'TRADE', side: 'BUY', orderType: 'OTHER', venueOrderType: null, venueSymbol: '', symbol: null,
          lastFillQuantity: String(f.qty), lastFillPrice: String(f.px), lastFillFee: '0.01', lastFillId: `${fp(f)}#${100 + i}`,
          updatedAt: f.ts * 1_000_000, extras: { executionOnly: 'true' },
        }),
      ),
    ];
    return { seq: [...delivered, ...rest], fills, end };
  });

describe('per-execution venues with REST reconciliation (WebSea, rule 6)', () => {
  it('a pushed execution and the same trade from the list count once; a twin counts twice; a lost one is restored', () => {
    const p = (ts: number, id: string) => websea('PARTIALLY_FILLED', { venueStatus: 'PARTIALLY_FILLED', lastFillQuantity: '1', lastFillPrice: '100', lastFillFee: '0.01', lastFillId: id, updatedAt: ts, extras: {} });
    const t = (id: string, qty = '1') => websea('PARTIALLY_FILLED', { venueStatus: 'TRADE', lastFillQuantity: qty, lastFillPrice: '100', lastFillFee: '0.01', lastFillId: id, updatedAt: 1, extras: { executionOnly: 'true' } });
    const s = fold([
      websea('NEW', { venueStatus: 'NEW', updatedAt: 0, extras: {} }),
      p(1, 'BL1/1/1/100/0.01'), // one push for two twin executions
      t('BL1/1/1/100/0.01#18'),
      t('BL1/1/1/100/0.01#19'),
      t('BL1/2/2/100/0.01#20', '2'), // lost in a gap
    ]);
    expect(s?.executions.map((e) => e.id)).toEqual(['BL1/1/1/100/0.01#18', 'BL1/1/1/100/0.01#19', 'BL1/2/2/100/0.01#20']);
    expect(s?.order).toMatchObject({ filledQuantity: '4', filledQuoteQuantity: '400', averagePrice: '100', fee: '0.03', status: 'PARTIALLY_FILLED', venueStatus: 'PARTIALLY_FILLED', side: 'BUY', orderType: 'LIMIT' });
    // the same push again changes nothing
    expect(reduce(s, p(1, 'BL1/1/1/100/0.01'))).toBeUndefined();
  });

  it('a REST claim above the known executions is reported until the trade list arrives, and never double counted', () => {
    const claim = websea('FILLED', { venueStatus: 'FILLED', filledQuantity: '3', venueFilledQuantity: '3', averagePrice: '100', updatedAt: 10, extras: {} });
    const s1 = fold([websea('PARTIALLY_FILLED', { venueStatus: 'PARTIALLY_FILLED', lastFillQuantity: '1', lastFillPrice: '100', lastFillFee: '0.01', lastFillId: 'BL1/1/1/100/0.01', updatedAt: 1, extras: {} }), claim]);
    expect(s1?.order).toMatchObject({ status: 'FILLED', filledQuantity: '3', averagePrice: '100', filledQuoteQuantity: '300', fee: '0.01', venueFilledQuantity: '3' });
    expect(s1?.note).toMatch(/venue reports more filled/);
    const trade = (id: string, qty: string) => websea('PARTIALLY_FILLED', { venueStatus: 'TRADE', lastFillQuantity: qty, lastFillPrice: '100', lastFillFee: '0.01', lastFillId: id, updatedAt: 1, extras: { executionOnly: 'true' } });
    let s: OrderState | undefined = s1;
    for (const u of [trade('BL1/1/1/100/0.01#1', '1'), trade('BL1/2/2/100/0.01#2', '2')]) s = reduce(s, u) ?? s;
    expect(s?.order).toMatchObject({ status: 'FILLED', venueStatus: 'FILLED', filledQuantity: '3', filledQuoteQuantity: '300', fee: '0.02', venueFilledQuantity: '3' });
    expect(s?.note).toBeNull();
  });

  it('a trade list seen before anything else stands in until the first order update replaces it', () => {
    const t = websea('PARTIALLY_FILLED', { venueStatus: 'TRADE', side: 'BUY', orderType: 'OTHER', venueSymbol: '', symbol: null, lastFillQuantity: '1', lastFillPrice: '100', lastFillFee: '0.01', lastFillId: 'BL1/1/1/100/0.01#1', updatedAt: 1, extras: { executionOnly: 'true' } });
    const r = websea('CANCELED', { venueStatus: 'PARTIALLY_CANCELED', side: 'SELL', filledQuantity: '1', venueFilledQuantity: '1', averagePrice: '100', updatedAt: 5, extras: { ctime: 'x' } });
    const s = fold([t, r]);
    expect(s?.order).toMatchObject({ status: 'CANCELED', side: 'SELL', orderType: 'LIMIT', venueSymbol: 'BTC-USDT', filledQuantity: '1', fee: '0.01', extras: { ctime: 'x' } });
    expect(s?.order.extras.executionOnly).toBeUndefined();
  });

  it('pushes, lost pushes, REST answers and trade lists in any order, with duplicates, fold to the in-order state, which is the truth', () => {
    fc.assert(
      fc.property(
        restLifecycleArb.chain(({ seq, fills, end }) =>
          fc.tuple(fc.constant({ seq, fills, end }), fc.shuffledSubarray(seq, { minLength: seq.length, maxLength: seq.length }), fc.array(fc.nat({ max: seq.length - 1 }), { maxLength: 4 })),
        ),
        ([{ seq: inOrder, fills, end }, shuffled, dupIdx]) => {
          const withDups = [...shuffled];
          for (const i of dupIdx) {
            const u = inOrder[i] as CanonicalOrder;
            withDups.splice(i % (withDups.length + 1), 0, { ...u, source: { ...u.source, offset: u.source.offset + 10_000 } });
          }
          const want = fold(inOrder);
          expect(essence(fold(withDups))).toEqual(essence(want));
          const qty = fills.reduce((q, f) => q + f.qty, 0);
          const quote = fills.reduce((q, f) => q + f.qty * f.px, 0);
          expect(want?.order).toMatchObject({ status: end, filledQuantity: String(qty), filledQuoteQuantity: String(quote), fee: String(fills.length / 100) });
          expect(want?.executions).toHaveLength(fills.length);
          expect(want?.note).toBeNull();
        },
      ),
      { seed: SEED, numRuns: 2000 },
    );
  });
});

describe('closeAbsent (complete snapshots)', () => {
  const marker = (keys: string[], receivedAt: number) => ({
    venue: 'xt', account: 'main', orderKeys: keys, receivedAt, source: { topic: 'raw', partition: 0, offset: 99 },
  });

  it('closes live orders of the account missing from a later snapshot, and only those', async () => {
    const { OrderStore } = await import('./store.js');
    const { closeAbsent } = await import('./reduce.js');
    const store = new OrderStore();
    const live = reduce(undefined, update('NEW', '0', { orderKey: 'xt|main|1', receivedAt: 10 }))!;
    const listed = reduce(undefined, update('NEW', '0', { orderKey: 'xt|main|2', receivedAt: 10 }))!;
    const done = reduce(undefined, update('FILLED', '10', { orderKey: 'xt|main|3', receivedAt: 10 }))!;
    const newer = reduce(undefined, update('NEW', '0', { orderKey: 'xt|main|4', receivedAt: 500 }))!;
    const other = reduce(undefined, update('NEW', '0', { orderKey: 'xt|other|5', receivedAt: 10 }))!;
    const elsewhere = reduce(undefined, update('NEW', '0', { orderKey: 'xt|main|6', receivedAt: 10 }))!;
    store.set('xt|main|1', live, 0);
    store.set('xt|main|2', listed, 0);
    store.set('xt|main|3', done, 0);
    store.set('xt|main|4', newer, 0);
    store.set('xt|other|5', other, 0);
    store.set('xt|main|6', elsewhere, 1);
    const closed = closeAbsent(store, marker(['xt|main|2'], 100), 0);
    expect(closed.map(([k]) => k)).toEqual(['xt|main|1']);
    const [, s] = closed[0]!;
    expect(s.order.status).toBe('CLOSED_UNKNOWN');
    expect(s.note).toMatch(/closed while the stream was down; final status unknown \(was NEW\)/);
  });

  it('a real terminal update replaces CLOSED_UNKNOWN; a late live one only adds its fill', () => {
    const closed: OrderState = { ...fold([update('PARTIALLY_FILLED', '4')])!, order: { ...fold([update('PARTIALLY_FILLED', '4')])!.order, status: 'CLOSED_UNKNOWN' } };
    expect(reduce(closed, update('PARTIALLY_FILLED', '4'))).toBeUndefined();
    const late = reduce(closed, update('PARTIALLY_FILLED', '6'));
    expect(late?.order.status).toBe('CLOSED_UNKNOWN');
    expect(late?.order.filledQuantity).toBe('6');
    expect(reduce(closed, update('CANCELED', '4'))?.order.status).toBe('CANCELED');
  });
});
