import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareDecimals } from '@orderstream/kit';
import type { CanonicalOrder } from '@orderstream/schemas';
import { bsxMapper } from './mapper.js';
import { testMapContext } from '../sim/test-context.js';
import {
  BSX_LIFECYCLE_KINDS,
  bsxEffectiveFills,
  bsxExpectedFromState,
  bsxFillEvents,
  bsxFinishSteps,
  bsxLifecycleSteps,
  bsxOrdersFrameText,
  bsxRandomLifecycles,
  type BsxLifecycle,
  type BsxSimTrade,
  type BsxStep,
} from './lifecycles.js';

const ctx = testMapContext('bsx', { account: 'acc' });

const lc = (over: Partial<BsxLifecycle>): BsxLifecycle => ({
  id: '00000001-0000-4000-8000-000000000001',
  productId: 'BTC-PERP',
  kind: 'fill',
  side: 'BUY',
  price: '64000',
  size: '0.03',
  ...over,
});

/** A clock starting at a 19-digit ns time with non-zero low digits, +1 ms per reading. */
function clock(start = 1_719_400_000_000_000_123n): () => bigint {
  let t = start - 1_000_000n;
  return () => (t += 1_000_000n);
}

const statuses = (steps: BsxStep[]) => steps.map((s) => `${s.order.status}:${s.order.filled_size}`);

function mapStep(step: BsxStep): CanonicalOrder {
  const r = bsxMapper.map(bsxOrdersFrameText('update', [step], step.order.updated_at), ctx);
  if (r.kind !== 'orders' || r.orders.length !== 1) throw new Error('expected one order');
  return r.orders[0] as CanonicalOrder;
}

const latest = (trades: BsxSimTrade[]) => trades.reduce<BsxSimTrade | null>((a, t) => (a === null || BigInt(t.time) >= BigInt(a.time) ? t : a), null);

describe('lifecycle steps', () => {
  it('fill (LIMIT): PENDING → OPEN → OPEN per fill event but the last → DONE; cumulative figures, maker fees', () => {
    const { steps } = bsxLifecycleSteps(lc({ fills: [{ size: '0.01', price: '64000' }, { size: '0.02', price: '63999.5' }] }), clock());
    expect(statuses(steps)).toEqual(['PENDING:0', 'OPEN:0', 'OPEN:0.01', 'DONE:0.03']);
    const done = steps[3] as BsxStep;
    // (0.01 × 64000 + 0.02 × 63999.5) / 0.03 = 63999.666… → 8 decimals half-even
    expect(done.order.avg_price).toBe('63999.66666667');
    // maker rate −0.00005: −0.032 and −0.063999(5) → 6 decimals half-even −0.064
    expect(done.trades.map((t) => [t.liquidity_indicator, t.trading_fee, t.sequencer_fee])).toEqual([['MAKER', '-0.064', '0']]);
    expect(done.order.filled_fees).toBe('-0.096');
    expect(steps[2]?.trades[0]?.trading_fee).toBe('-0.032');
    // PENDING's updated_at equals created_at_ts (official doc); ns digits are not round
    expect(steps[0]?.order.updated_at).toBe(steps[0]?.order.created_at_ts);
    expect(steps[0]?.order.created_at_ts).toBe('1719400000000000123');
  });

  it('fill (MARKET): PENDING → DONE with every trade in one event, taker fees + sequencer fee', () => {
    const { steps } = bsxLifecycleSteps(lc({ type: 'MARKET', fills: [{ size: '0.01', price: '64000' }, { size: '0.02', price: '64001' }] }), clock());
    expect(statuses(steps)).toEqual(['PENDING:0', 'DONE:0.03']);
    const done = steps[1] as BsxStep;
    expect(done.order.time_in_force).toBe('IOC');
    expect(done.trades.map((t) => [t.liquidity_indicator, t.trading_fee, t.sequencer_fee])).toEqual([
      ['TAKER', '0.256', '0.05'],
      ['TAKER', '0.512008', '0.05'],
    ]);
    expect(BigInt(done.trades[1]!.time) - BigInt(done.trades[0]!.time)).toBe(1n);
    expect(done.order.filled_fees).toBe('0.868008');
  });

  it('cancel: PENDING → OPEN → [fills] → OPEN cancel_requested → DONE (user), no last_trades on the cancel', () => {
    const { steps } = bsxLifecycleSteps(lc({ kind: 'cancel', fills: [{ size: '0.01', price: '64000' }] }), clock());
    expect(statuses(steps)).toEqual(['PENDING:0', 'OPEN:0', 'OPEN:0.01', 'OPEN:0.01', 'DONE:0.01']);
    expect(steps[3]?.order.cancel_requested).toBe(true);
    expect(steps[4]).toMatchObject({ includeLastTrades: false, order: { cancel_reason: 'user', cancel_requested: true } });
    expect(bsxOrdersFrameText('update', [steps[4] as BsxStep], '1')).not.toContain('last_trades');
    expect(statuses(bsxLifecycleSteps(lc({ kind: 'cancel', cancelRequest: false }), clock()).steps)).toEqual(['PENDING:0', 'OPEN:0', 'DONE:0']);
  });

  it('ioc, reject, expire, stops, rest', () => {
    const s = (l: Partial<BsxLifecycle>) => bsxLifecycleSteps(lc(l), clock()).steps;
    expect(statuses(s({ kind: 'ioc', fills: [{ size: '0.01', price: '64000' }] }))).toEqual(['PENDING:0', 'DONE:0.01']);
    expect(s({ kind: 'ioc' })[1]?.order.cancel_reason).toBe('time in force IOC');
    expect(s({ kind: 'ioc', timeInForce: 'FOK' })[1]?.order.cancel_reason).toBe('time in force FOK');
    expect(s({ kind: 'reject' })[1]?.order).toMatchObject({ status: 'DONE', reject_reason: 'insufficient margin', filled_size: '0' });
    const expire = s({ kind: 'expire', fills: [{ size: '0.01', price: '64000' }] });
    expect(statuses(expire)).toEqual(['PENDING:0', 'OPEN:0', 'OPEN:0.01', 'DONE:0.01']);
    expect(expire[3]?.order).toMatchObject({ cancel_reason: 'time in force GTT', time_in_force: 'GTT' });
    expect(BigInt(expire[0]!.order.expired_at)).toBeGreaterThan(0n);
    const stop = s({ kind: 'stop-fill', stopType: 'TAKE_PROFIT', stopPrice: '66000', price: '65670' });
    expect(statuses(stop)).toEqual(['STOP_ACCEPTED:0', 'DONE:0.03']);
    expect(stop[0]?.order).toMatchObject({ type: 'STOP', order_stop_type: 'TAKE_PROFIT', stop_price: '66000', updated_at: '0', reduce_only: true, time_in_force: 'IOC' });
    expect(stop[1]?.trades[0]?.price).toBe('66000'); // default fill at the trigger
    expect(s({ kind: 'stop-cancel' })[1]?.order.cancel_reason).toBe('TPSL order canceled due to position closed');
    expect(statuses(s({ kind: 'rest', fills: [{ size: '0.01', price: '64000' }] }))).toEqual(['PENDING:0', 'OPEN:0', 'OPEN:0.01']);
    expect(statuses(s({ kind: 'stop-rest' }))).toEqual(['STOP_ACCEPTED:0']);
  });

  it('withPrevious puts several trades in one event (one update)', () => {
    expect(bsxFillEvents([{ size: '1', price: '1' }, { size: '1', price: '2', withPrevious: true }, { size: '1', price: '3' }]).map((e) => e.length)).toEqual([2, 1]);
    const { steps } = bsxLifecycleSteps(lc({ fills: [{ size: '0.01', price: '64000' }, { size: '0.02', price: '64000', withPrevious: true }] }), clock());
    expect(statuses(steps)).toEqual(['PENDING:0', 'OPEN:0', 'DONE:0.03']);
    expect(steps[2]?.trades).toHaveLength(2);
  });

  it('finishing a live order later: cancel or fill the rest', () => {
    const a = bsxLifecycleSteps(lc({ kind: 'rest', fills: [{ size: '0.01', price: '64000' }] }), clock());
    const [cancel] = bsxFinishSteps(a.order, 'cancel', clock(1_719_500_000_000_000_000n));
    expect(cancel?.order).toMatchObject({ status: 'DONE', cancel_reason: 'user', filled_size: '0.01' });
    expect(() => bsxFinishSteps(a.order, 'fill', clock())).toThrow(/already DONE/);
    const b = bsxLifecycleSteps(lc({ kind: 'stop-rest', stopPrice: '63000', side: 'SELL' }), clock());
    const [fill] = bsxFinishSteps(b.order, 'fill', clock(1_719_500_000_000_000_000n));
    expect(fill?.order).toMatchObject({ status: 'DONE', filled_size: '0.03', avg_price: '63000' });
    expect(fill?.trades[0]).toMatchObject({ liquidity_indicator: 'TAKER', price: '63000' });
  });

  it('refuses impossible scripts with a message naming the order', () => {
    expect(() => bsxEffectiveFills(lc({ fills: [{ size: '0.01', price: '1' }] }))).toThrow(/lifecycle 00000001-0000-4000-8000-000000000001 \(fill\): fills sum to 0.01, must equal size 0.03/);
    expect(() => bsxEffectiveFills(lc({ kind: 'cancel', fills: [{ size: '0.03', price: '1' }] }))).toThrow(/less than size/);
    expect(() => bsxEffectiveFills(lc({ kind: 'reject', fills: [{ size: '0.01', price: '1' }] }))).toThrow(/has no fills/);
    expect(() => bsxEffectiveFills(lc({ size: '0' }))).toThrow(/size must be a positive decimal/);
    expect(() => bsxEffectiveFills(lc({ type: 'MARKET', fills: [{ size: '0.03', price: '1', liquidity: 'MAKER' }] }))).toThrow(/never the maker/);
  });

  it('frames look like the doc: key order, strings for figures, trade time a bare 19-digit JSON number', () => {
    const { steps } = bsxLifecycleSteps(lc({}), clock());
    const text = bsxOrdersFrameText('update', [steps[2] as BsxStep], '1719400000002000123');
    expect(text.startsWith('{"channel":"orders","type":"update","data":[{"avg_price":"64000","cancel_reason":"","cancel_reject_reason":""')).toBe(true);
    expect(text).toMatch(/"time":1719400000002000\d{3},/);
    expect(text.endsWith('"timestamp":"1719400000002000123"}')).toBe(true);
    expect(bsxOrdersFrameText('update', [steps[2] as BsxStep], '1', { tradeTimeAsString: true })).toMatch(/"time":"\d{19}"/);
    expect(bsxOrdersFrameText('snapshot', [steps[1] as BsxStep], '1')).toContain('"last_trades":[]');
  });
});

describe('random lifecycles', () => {
  it('are a pure function of the seed', () => {
    expect(bsxRandomLifecycles(40, 7)).toEqual(bsxRandomLifecycles(40, 7));
    expect(bsxRandomLifecycles(40, 7)).not.toEqual(bsxRandomLifecycles(40, 8));
  });

  it('are valid scripts, cover every kind, have unique UUID-shaped ids per seed and across seeds', () => {
    const all = bsxRandomLifecycles(300, 42);
    for (const l of all) expect(() => bsxEffectiveFills(l)).not.toThrow();
    expect(new Set(all.map((l) => l.kind))).toEqual(new Set(BSX_LIFECYCLE_KINDS));
    expect(new Set(all.map((l) => l.id)).size).toBe(300);
    for (const l of all) expect(l.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/);
    const other = new Set(bsxRandomLifecycles(300, 43).map((l) => l.id));
    expect(all.some((l) => other.has(l.id))).toBe(false);
    expect(all.some((l) => l.type === 'MARKET')).toBe(true);
    expect(all.some((l) => l.fills?.some((f) => f.withPrevious))).toBe(true);
  });

  it('property: every step maps; filled never decreases; each step maps to its expected canonical state', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
        for (const l of bsxRandomLifecycles(12, seed)) {
          const { steps } = bsxLifecycleSteps(l, clock());
          const trades: BsxSimTrade[] = [];
          let previous = '0';
          for (const step of steps) {
            expect(compareDecimals(step.order.filled_size, previous)).toBeGreaterThanOrEqual(0);
            previous = step.order.filled_size;
            trades.push(...step.trades);
            const mapped = mapStep(step);
            // lastFill fields come from this step's own trades (what the mapper sees)
            expect(mapped).toMatchObject(bsxExpectedFromState(step.order, latest(step.trades), 'acc'));
          }
          const last = steps[steps.length - 1]!;
          if (l.kind === 'rest' || l.kind === 'stop-rest') expect(['PENDING', 'OPEN', 'STOP_ACCEPTED']).toContain(last.order.status);
          else expect(last.order.status).toBe('DONE');
          expect(bsxExpectedFromState(last.order, latest(trades), 'acc').lastFillId).toBe(trades.length ? latest(trades)!.id : null);
        }
      }),
      { numRuns: 40 },
    );
  });
});
