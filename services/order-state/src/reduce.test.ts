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
