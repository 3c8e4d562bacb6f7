import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { CanonicalOrder, OrderState, OrderStatus } from '@orderstream/schemas';
import { reduce } from './reduce.js';

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

describe('merge rules converge (property)', () => {
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
      { seed: Number(process.env.FC_SEED ?? 20261121), numRuns: 2000 },
    );
  });
});
