import { createHash } from 'node:crypto';
import { addDecimals, compareDecimals, divDecimals, isZeroDecimal, mulDecimals, normalizeDecimal, shiftDecimal, subDecimals } from '@orderstream/kit';
import { orderKeyOf, type CanonicalOrder, type OrderStatus, type OrderType, type TimeInForce } from '@orderstream/schemas';
import { seededRng, type Rng } from '../sim/random.js';
import type { BsxOrderStatus } from './frames.js';

/**
 * Scripted BSX order lifecycles: what a venue-side order goes through, the order objects BSX would push after each
 * event (wire form, as in the official doc), the venue-side truth, and the canonical state the project must reach
 * (`bsxExpectedCanonical`). Pure: no I/O, no clock (times are passed in).
 */

// ---------------------------------------------------------------------------------------------------------------
// Wire form.

/** One element of `last_trades` as BSX sends it (BSXSDK `Trade`). */
export interface BsxSimTrade {
  id: string;
  price: string;
  size: string;
  liquidity_indicator: 'MAKER' | 'TAKER';
  /** unix ns digits (sent as a JSON number unless `tradeTimeAsString`) */
  time: string;
  funding_payment: string;
  trading_fee: string;
  sequencer_fee: string;
}

/** A venue-side order in BSX's wire form (official doc example + BSXSDK fields), every value as BSX sends it. */
export interface BsxSimOrder {
  avg_price: string;
  cancel_reason: string;
  cancel_reject_reason: string;
  cancel_requested: boolean;
  cancel_requested_at: string;
  client_order_id: string;
  created_at_ts: string;
  expired_at: string;
  filled_fees: string;
  filled_size: string;
  id: string;
  initial_margin: string;
  is_liquidation: boolean;
  nonce: string;
  order_stop_type: 'STOP_NONE' | 'STOP_LOSS' | 'TAKE_PROFIT';
  post_only: boolean;
  price: string;
  product_id: string;
  reduce_only: boolean;
  reject_reason: string;
  sender: string;
  side: 'BUY' | 'SELL';
  size: string;
  status: BsxOrderStatus;
  stop_price: string;
  stop_price_option: 'MARK_PRICE' | 'LAST_TRADED_PRICE' | 'NONE';
  stp: 'CANCEL_TAKER' | 'CANCEL_MAKER';
  time_in_force: 'GTC' | 'IOC' | 'FOK' | 'GTT';
  type: 'LIMIT' | 'MARKET' | 'STOP';
  updated_at: string;
}

/** The venue-side state after one event: the order object, and the trades of this event (for `last_trades`). */
export interface BsxStep {
  order: BsxSimOrder;
  trades: BsxSimTrade[];
  /**
   * Whether the pushed object carries `last_trades` (official doc: present in snapshots and on events with or
   * without trades, absent on cancellations "since cancellation events don't involve trades").
   */
  includeLastTrades: boolean;
}

const LIVE: ReadonlySet<BsxOrderStatus> = new Set(['PENDING', 'OPEN', 'STOP_ACCEPTED']);
export const isLiveBsxStatus = (s: BsxOrderStatus): boolean => LIVE.has(s);

export interface BsxWireOptions {
  /** `last_trades[].time` as a string instead of a JSON number (the SDK types it number; default false) */
  tradeTimeAsString?: boolean;
}

/** The JSON object of one order as pushed: doc key order, `last_trades` per the step (or `[]` in a snapshot). */
function wireObject(step: BsxStep, inSnapshot: boolean): Record<string, unknown> {
  const o = step.order;
  const out: Record<string, unknown> = {
    avg_price: o.avg_price,
    cancel_reason: o.cancel_reason,
    cancel_reject_reason: o.cancel_reject_reason,
    cancel_requested: o.cancel_requested,
    cancel_requested_at: o.cancel_requested_at,
    client_order_id: o.client_order_id,
    created_at_ts: o.created_at_ts,
    filled_fees: o.filled_fees,
    filled_size: o.filled_size,
    id: o.id,
    initial_margin: o.initial_margin,
    is_liquidation: o.is_liquidation,
  };
  if (inSnapshot) out.last_trades = [];
  else if (step.includeLastTrades) out.last_trades = step.trades;
  Object.assign(out, {
    nonce: o.nonce,
    order_stop_type: o.order_stop_type,
    post_only: o.post_only,
    price: o.price,
    product_id: o.product_id,
    reduce_only: o.reduce_only,
    reject_reason: o.reject_reason,
    sender: o.sender,
    side: o.side,
    size: o.size,
    status: o.status,
    stop_price: o.stop_price,
    stp: o.stp,
    time_in_force: o.time_in_force,
    type: o.type,
    updated_at: o.updated_at,
    // BSXSDK fields the doc example does not show
    stop_price_option: o.stop_price_option,
    expired_at: o.expired_at,
  });
  return out;
}

/**
 * The exact text of an `orders` frame: `{"channel":"orders","type":<type>,"data":[…],"timestamp":"<ns>"}`.
 * Snapshot objects carry `"last_trades":[]`; update objects carry the event's trades (absent on cancellations).
 */
export function bsxOrdersFrameText(type: 'snapshot' | 'update', steps: readonly BsxStep[], timestampNs: string, options: BsxWireOptions = {}): string {
  const text = JSON.stringify({ channel: 'orders', type, data: steps.map((s) => wireObject(s, type === 'snapshot')), timestamp: timestampNs });
  // Trade times as bare JSON numbers (exact digits; beyond 2^53). Only trades have a "time" key.
  return options.tradeTimeAsString ? text : text.replace(/"time":"(\d+)"/g, '"time":$1');
}

/**
 * The exact text of a REST answer carrying orders: one order object (`GET /orders/{id}`) or a JSON array of them
 * (`GET /orders`, `GET /order-history`). Each object is the pushed one (official doc: "the order's format should
 * be the same with the REST api about order"), with `last_trades` = the trades of the order's latest matching event
 * (`[]` when it never traded; BSXSDK types REST orders with `last_trades: Trade[]`; which trades: UNCONFIRMED).
 */
export function bsxRestOrdersText(orders: readonly { order: BsxSimOrder; lastTrades: readonly BsxSimTrade[] }[] | { order: BsxSimOrder; lastTrades: readonly BsxSimTrade[] }, options: BsxWireOptions = {}): string {
  const one = (o: { order: BsxSimOrder; lastTrades: readonly BsxSimTrade[] }) => wireObject({ order: o.order, trades: [...o.lastTrades], includeLastTrades: true }, false);
  const text = JSON.stringify(Array.isArray(orders) ? orders.map(one) : one(orders as { order: BsxSimOrder; lastTrades: readonly BsxSimTrade[] }));
  return options.tradeTimeAsString ? text : text.replace(/"time":"(\d+)"/g, '"time":$1');
}

// ---------------------------------------------------------------------------------------------------------------
// Scripts.

export type BsxLifecycleKind = 'fill' | 'cancel' | 'ioc' | 'reject' | 'expire' | 'stop-fill' | 'stop-cancel' | 'rest' | 'stop-rest';
export const BSX_LIFECYCLE_KINDS: readonly BsxLifecycleKind[] = ['fill', 'cancel', 'ioc', 'reject', 'expire', 'stop-fill', 'stop-cancel', 'rest', 'stop-rest'];

export interface BsxFill {
  /** base units */
  size: string;
  price: string;
  /** default: MAKER for fills of a resting LIMIT order, TAKER otherwise */
  liquidity?: 'MAKER' | 'TAKER';
  /** part of the same matching event as the previous fill: both go out in one update's `last_trades` */
  withPrevious?: boolean;
}

export interface BsxLifecycle {
  /** BSX order ids are UUIDs */
  id: string;
  /** `BTC-PERP` */
  productId: string;
  /**
   * - `fill`: PENDING → OPEN → OPEN per fill event but the last → DONE (filled); a MARKET order: PENDING → DONE
   * - `cancel`: PENDING → OPEN → [OPEN per fill event] → OPEN with cancel_requested → DONE (`user`)
   * - `ioc`: PENDING → DONE (`time in force IOC`, with the trades of its one matching event, if any)
   * - `reject`: PENDING → DONE with `reject_reason` (nothing filled)
   * - `expire`: a GTT order: PENDING → OPEN → [OPEN per fill event] → DONE (`time in force GTT`)
   * - `stop-fill`: STOP_ACCEPTED → DONE (triggered, filled by one IOC event)
   * - `stop-cancel`: STOP_ACCEPTED → DONE (`TPSL order canceled due to position closed`)
   * - `rest`: PENDING → OPEN → [OPEN per fill event], and stays live (finish it with the simulator's finishOrders)
   * - `stop-rest`: STOP_ACCEPTED, and stays live
   */
  kind: BsxLifecycleKind;
  side: 'BUY' | 'SELL';
  /** default LIMIT (stop kinds are always STOP) */
  type?: 'LIMIT' | 'MARKET';
  /** default: GTC (LIMIT), IOC (MARKET, `ioc`, stop kinds), GTT (`expire`) */
  timeInForce?: 'GTC' | 'IOC' | 'FOK' | 'GTT';
  /** limit price; for stop orders the worst price of the triggered IOC (BSX: trigger ± slippage) */
  price: string;
  /** base units */
  size: string;
  /**
   * Executions. `fill`, `stop-fill`: must sum to size (default: one fill of everything at `price`, or at
   * `stopPrice` for stops); `cancel`, `ioc`, `expire`, `rest`: less than size (default none); others: none.
   */
  fills?: BsxFill[];
  /** stop kinds: default STOP_LOSS */
  stopType?: 'STOP_LOSS' | 'TAKE_PROFIT';
  /** stop kinds: trigger price; default `price` */
  stopPrice?: string;
  postOnly?: boolean;
  reduceOnly?: boolean;
  /** default '' (BSX sends an empty string when none was given) */
  clientOrderId?: string;
  /** `cancel`: push an OPEN update with cancel_requested before the DONE (default true) */
  cancelRequest?: boolean;
}

/** Fee model of the simulator (BSX publishes no per-trade formula; see README). */
export interface BsxFeeModel {
  /** maker rate; the doc's snapshot implies −0.00005 (filled_fees "-0.0385" on 0.011 × 70000) */
  makerRate: string;
  takerRate: string;
  /** per taker trade, USDC */
  sequencerFee: string;
  /** decimals of trading_fee (USDC has 6), half-even */
  feeScale: number;
  /** decimals of avg_price, half-even */
  avgPriceScale: number;
}

export const BSX_SIM_FEES: Readonly<BsxFeeModel> = Object.freeze({
  makerRate: '-0.00005',
  takerRate: '0.0004',
  sequencerFee: '0.05',
  feeScale: 6,
  avgPriceScale: 8,
});

/** Instruments the simulator knows. */
export interface BsxSimInstrument {
  productId: string;
  /** a typical price, for random lifecycles */
  price: string;
  priceDecimals: number;
  /** decimals of sizes (size step = 10^-sizeDecimals) */
  sizeDecimals: number;
}

export const BSX_SIM_INSTRUMENTS: readonly BsxSimInstrument[] = Object.freeze([
  { productId: 'BTC-PERP', price: '64000', priceDecimals: 1, sizeDecimals: 3 },
  { productId: 'ETH-PERP', price: '3200', priceDecimals: 2, sizeDecimals: 2 },
  { productId: 'SOL-PERP', price: '150', priceDecimals: 2, sizeDecimals: 1 },
  { productId: 'WIF-PERP', price: '2.5', priceDecimals: 4, sizeDecimals: 0 },
]);

export const BSX_SIM_SENDER = '0xa01f2319baf9e8a344486ebafa96fb3c9f5bda05';

export interface BsxLifecycleDefaults {
  type: 'LIMIT' | 'MARKET' | 'STOP';
  timeInForce: 'GTC' | 'IOC' | 'FOK' | 'GTT';
  stopType: 'STOP_NONE' | 'STOP_LOSS' | 'TAKE_PROFIT';
  stopPrice: string;
}

const STOP_KINDS: ReadonlySet<BsxLifecycleKind> = new Set(['stop-fill', 'stop-cancel', 'stop-rest']);

export function bsxLifecycleDefaults(lc: BsxLifecycle): BsxLifecycleDefaults {
  const stop = STOP_KINDS.has(lc.kind);
  const type = stop ? 'STOP' : (lc.type ?? 'LIMIT');
  const timeInForce = lc.timeInForce ?? (lc.kind === 'expire' ? 'GTT' : type === 'LIMIT' && lc.kind !== 'ioc' ? 'GTC' : 'IOC');
  return { type, timeInForce, stopType: stop ? (lc.stopType ?? 'STOP_LOSS') : 'STOP_NONE', stopPrice: stop ? (lc.stopPrice ?? lc.price) : '0' };
}

const positive = (v: string) => {
  try {
    return compareDecimals(v, '0') > 0;
  } catch {
    return false;
  }
};

/** Fills of a lifecycle after defaults; throws RangeError naming the problem for an impossible script. */
export function bsxEffectiveFills(lc: BsxLifecycle): BsxFill[] {
  const where = `lifecycle ${lc.id} (${lc.kind})`;
  if (!positive(lc.size)) throw new RangeError(`${where}: size must be a positive decimal, got ${JSON.stringify(lc.size)}`);
  if (!positive(lc.price)) throw new RangeError(`${where}: price must be a positive decimal, got ${JSON.stringify(lc.price)}`);
  const d = bsxLifecycleDefaults(lc);
  let fills = lc.fills;
  if (fills === undefined) {
    fills = lc.kind === 'fill' ? [{ size: lc.size, price: lc.price }] : lc.kind === 'stop-fill' ? [{ size: lc.size, price: d.stopPrice }] : [];
  }
  for (const f of fills) {
    if (!positive(f.size)) throw new RangeError(`${where}: fill size must be positive, got ${JSON.stringify(f.size)}`);
    if (!positive(f.price)) throw new RangeError(`${where}: fill price must be positive, got ${JSON.stringify(f.price)}`);
  }
  const total = fills.reduce((sum, f) => addDecimals(sum, f.size), '0');
  const cmp = compareDecimals(total, lc.size);
  if ((lc.kind === 'fill' || lc.kind === 'stop-fill') && cmp !== 0) throw new RangeError(`${where}: fills sum to ${total}, must equal size ${lc.size}`);
  if (['cancel', 'ioc', 'expire', 'rest'].includes(lc.kind) && cmp >= 0) throw new RangeError(`${where}: fills sum to ${total}, must be less than size ${lc.size}`);
  if (['reject', 'stop-cancel', 'stop-rest'].includes(lc.kind) && fills.length > 0) throw new RangeError(`${where}: a ${lc.kind} has no fills`);
  if (lc.kind === 'fill' && d.type === 'MARKET' && fills.some((f) => f.liquidity === 'MAKER')) throw new RangeError(`${where}: a MARKET order is never the maker`);
  return fills;
}

// ---------------------------------------------------------------------------------------------------------------
// The order as the venue evolves it.

/** Deterministic trade id in BSX's shape (`0x` + 64 hex, like the public trades channel). */
export function bsxTradeId(orderId: string, n: number): string {
  return `0x${createHash('sha256').update(`${orderId}:${n}`).digest('hex')}`;
}

const round = (v: string, scale: number) => divDecimals(v, '1', scale);

/**
 * A venue-side order: holds its wire state and every trade so far, and applies events to it. Each event method
 * returns the step (a copy) BSX would push. Times are unix ns.
 */
export class BsxVenueOrder {
  readonly #fees: BsxFeeModel;
  #order: BsxSimOrder;
  readonly #trades: BsxSimTrade[] = [];
  #notional = '0';

  constructor(lc: BsxLifecycle, createdAt: bigint, options: { sender?: string; fees?: BsxFeeModel } = {}) {
    const d = bsxLifecycleDefaults(lc);
    this.#fees = options.fees ?? BSX_SIM_FEES;
    this.#order = {
      avg_price: '0',
      cancel_reason: '',
      cancel_reject_reason: '',
      cancel_requested: false,
      cancel_requested_at: '0',
      client_order_id: lc.clientOrderId ?? '',
      created_at_ts: createdAt.toString(),
      expired_at: d.timeInForce === 'GTT' ? (createdAt + 3_600_000_000_000n).toString() : '0',
      filled_fees: '0',
      filled_size: '0',
      id: lc.id,
      initial_margin: '0',
      is_liquidation: false,
      // BSX nonces are ns a little before creation (doc example: ~260 ms)
      nonce: (createdAt - 261_000_000n - BigInt(createdAt % 997n)).toString(),
      order_stop_type: d.stopType,
      post_only: lc.postOnly ?? false,
      price: normalizeDecimal(lc.price),
      product_id: lc.productId,
      reduce_only: lc.reduceOnly ?? d.type === 'STOP',
      reject_reason: '',
      sender: options.sender ?? BSX_SIM_SENDER,
      side: lc.side,
      size: normalizeDecimal(lc.size),
      status: 'PENDING',
      stop_price: d.type === 'STOP' ? normalizeDecimal(d.stopPrice) : '0',
      stop_price_option: d.type === 'STOP' ? 'LAST_TRADED_PRICE' : 'NONE',
      stp: 'CANCEL_TAKER',
      time_in_force: d.timeInForce,
      type: d.type,
      updated_at: '0',
    };
  }

  get state(): BsxSimOrder {
    return { ...this.#order };
  }

  /** Every trade so far, oldest first. */
  get trades(): BsxSimTrade[] {
    return this.#trades.map((t) => ({ ...t }));
  }

  get isLive(): boolean {
    return LIVE.has(this.#order.status);
  }

  #step(trades: BsxSimTrade[], includeLastTrades = true): BsxStep {
    this.#order.initial_margin = this.isLive && this.#order.type !== 'STOP' ? this.#margin() : '0';
    return { order: { ...this.#order }, trades: trades.map((t) => ({ ...t })), includeLastTrades };
  }

  /** Open margin: remaining × price × 5 % (20×), 8 decimals; extras only. */
  #margin(): string {
    const remaining = subDecimals(this.#order.size, this.#order.filled_size);
    return round(mulDecimals(mulDecimals(remaining, this.#order.price), '0.05'), 8);
  }

  /** Received, not processed yet. `updated_at` equals `created_at_ts` (official doc's PENDING update). */
  pending(): BsxStep {
    this.#order.status = 'PENDING';
    this.#order.updated_at = this.#order.created_at_ts;
    return this.#step([]);
  }

  /** A stop order accepted and resting off the book; never updated yet (`updated_at` "0", as in the doc snapshot). */
  stopAccepted(): BsxStep {
    this.#order.status = 'STOP_ACCEPTED';
    this.#order.updated_at = '0';
    return this.#step([]);
  }

  /** Live on the book. */
  open(at: bigint): BsxStep {
    this.#order.status = 'OPEN';
    this.#order.updated_at = at.toString();
    return this.#step([]);
  }

  /**
   * One matching event: the trades (times at, at+1, …), cumulative filled_size / avg_price / filled_fees.
   * `done` ends the order in the same event (filled, or the rest canceled with `cancelReason`).
   */
  match(fills: readonly BsxFill[], at: bigint, liquidity: 'MAKER' | 'TAKER', end?: { cancelReason?: string }): BsxStep {
    const trades: BsxSimTrade[] = [];
    fills.forEach((f, i) => {
      const liq = f.liquidity ?? liquidity;
      const notional = mulDecimals(f.size, f.price);
      const trade: BsxSimTrade = {
        id: bsxTradeId(this.#order.id, this.#trades.length + 1),
        price: normalizeDecimal(f.price),
        size: normalizeDecimal(f.size),
        liquidity_indicator: liq,
        time: (at + BigInt(i)).toString(),
        funding_payment: '0',
        trading_fee: round(mulDecimals(notional, liq === 'MAKER' ? this.#fees.makerRate : this.#fees.takerRate), this.#fees.feeScale),
        sequencer_fee: liq === 'TAKER' ? normalizeDecimal(this.#fees.sequencerFee) : '0',
      };
      this.#trades.push(trade);
      trades.push(trade);
      this.#notional = addDecimals(this.#notional, notional);
      this.#order.filled_size = addDecimals(this.#order.filled_size, f.size);
      this.#order.filled_fees = addDecimals(this.#order.filled_fees, addDecimals(trade.trading_fee, trade.sequencer_fee));
    });
    this.#order.avg_price = isZeroDecimal(this.#order.filled_size) ? '0' : divDecimals(this.#notional, this.#order.filled_size, this.#fees.avgPriceScale);
    const last = at + BigInt(Math.max(0, fills.length - 1));
    this.#order.updated_at = last.toString();
    if (compareDecimals(this.#order.filled_size, this.#order.size) >= 0) this.#order.status = 'DONE';
    else if (end) {
      this.#order.status = 'DONE';
      this.#order.cancel_reason = end.cancelReason ?? '';
    } else if (this.#order.status === 'STOP_ACCEPTED' || this.#order.status === 'PENDING') this.#order.status = 'OPEN';
    return this.#step(trades);
  }

  /** The user asked for a cancel: still OPEN, `cancel_requested` true. */
  requestCancel(at: bigint): BsxStep {
    this.#order.cancel_requested = true;
    this.#order.cancel_requested_at = at.toString();
    this.#order.updated_at = at.toString();
    return this.#step([]);
  }

  /** DONE without trades: canceled with `reason` (no `last_trades` in the push, as the doc says for cancellations). */
  cancel(at: bigint, reason: string): BsxStep {
    this.#order.status = 'DONE';
    this.#order.cancel_reason = reason;
    this.#order.updated_at = at.toString();
    return this.#step([], false);
  }

  /** DONE with a reject reason, nothing filled. */
  reject(at: bigint, reason: string): BsxStep {
    this.#order.status = 'DONE';
    this.#order.reject_reason = reason;
    this.#order.updated_at = at.toString();
    return this.#step([], false);
  }
}

/** Reject reason the simulator uses (BSX documents no reject_reason values). */
export const BSX_SIM_REJECT_REASON = 'insufficient margin';
/** Cancel reasons (BSXDOC matching-engine). */
export const BSX_CANCEL_REASONS = Object.freeze({
  user: 'user',
  ioc: 'time in force IOC',
  fok: 'time in force FOK',
  gtt: 'time in force GTT',
  tpslClosed: 'TPSL order canceled due to position closed',
});

/** Fills grouped into matching events (`withPrevious` joins a fill to the event before it). */
export function bsxFillEvents(fills: readonly BsxFill[]): BsxFill[][] {
  const events: BsxFill[][] = [];
  for (const f of fills) {
    const last = events[events.length - 1];
    if (f.withPrevious && last) last.push(f);
    else events.push([f]);
  }
  return events;
}

/**
 * The steps a lifecycle produces, in venue order, with times from `clock` (called once per step; must increase).
 * Also returns the venue order, whose state after the last step is the planned end of the script (a `rest` order is
 * still live and can be finished later with `bsxFinishSteps`).
 */
export function bsxLifecycleSteps(
  lc: BsxLifecycle,
  clock: () => bigint,
  options: { sender?: string; fees?: BsxFeeModel } = {},
): { steps: BsxStep[]; order: BsxVenueOrder } {
  const fills = bsxEffectiveFills(lc);
  const d = bsxLifecycleDefaults(lc);
  const order = new BsxVenueOrder(lc, clock(), options);
  const steps: BsxStep[] = [];
  const events = bsxFillEvents(fills);
  const restingLiquidity = d.type === 'LIMIT' ? 'MAKER' : 'TAKER';
  switch (lc.kind) {
    case 'fill':
      steps.push(order.pending());
      if (d.type === 'MARKET') {
        steps.push(order.match(fills, clock(), 'TAKER'));
        break;
      }
      steps.push(order.open(clock()));
      for (const e of events) steps.push(order.match(e, clock(), restingLiquidity));
      break;
    case 'cancel':
    case 'expire':
    case 'rest':
      steps.push(order.pending());
      steps.push(order.open(clock()));
      for (const e of events) steps.push(order.match(e, clock(), restingLiquidity));
      if (lc.kind === 'cancel') {
        if (lc.cancelRequest !== false) steps.push(order.requestCancel(clock()));
        steps.push(order.cancel(clock(), BSX_CANCEL_REASONS.user));
      }
      if (lc.kind === 'expire') steps.push(order.cancel(clock(), BSX_CANCEL_REASONS.gtt));
      break;
    case 'ioc': {
      steps.push(order.pending());
      const reason = d.timeInForce === 'FOK' ? BSX_CANCEL_REASONS.fok : BSX_CANCEL_REASONS.ioc;
      steps.push(fills.length > 0 ? order.match(fills, clock(), 'TAKER', { cancelReason: reason }) : order.cancel(clock(), reason));
      break;
    }
    case 'reject':
      steps.push(order.pending());
      steps.push(order.reject(clock(), BSX_SIM_REJECT_REASON));
      break;
    case 'stop-fill':
      steps.push(order.stopAccepted());
      steps.push(order.match(fills, clock(), 'TAKER'));
      break;
    case 'stop-cancel':
      steps.push(order.stopAccepted());
      steps.push(order.cancel(clock(), BSX_CANCEL_REASONS.tpslClosed));
      break;
    case 'stop-rest':
      steps.push(order.stopAccepted());
      break;
  }
  return { steps, order };
}

/** How a live order is ended later (simulator `finishOrders`). */
export type BsxFinishOutcome = 'cancel' | 'fill';

/**
 * Ends a live venue order: `cancel` → DONE (`user`; a stop order: `TPSL order canceled due to position closed`);
 * `fill` → the remaining size filled in one event at the order's price (a stop order: triggered, at its stop price).
 */
export function bsxFinishSteps(order: BsxVenueOrder, outcome: BsxFinishOutcome, clock: () => bigint): BsxStep[] {
  const s = order.state;
  if (!order.isLive) throw new RangeError(`order ${s.id} is already ${s.status}`);
  const stop = s.status === 'STOP_ACCEPTED';
  if (outcome === 'cancel') return [order.cancel(clock(), stop ? BSX_CANCEL_REASONS.tpslClosed : BSX_CANCEL_REASONS.user)];
  const remaining = subDecimals(s.size, s.filled_size);
  return [order.match([{ size: remaining, price: stop ? s.stop_price : s.price }], clock(), stop || s.status === 'PENDING' ? 'TAKER' : 'MAKER')];
}

// ---------------------------------------------------------------------------------------------------------------
// Truth and the expected canonical state.

/**
 * What the venue knows about one order, and what reached a client.
 * - `order`: the venue's current state (after every event applied so far; for finished orders, the final one);
 * - `lastTrade`: the latest trade of the order, if any;
 * - `seen` / `seenLastTrade`: the last state (and latest trade) that reached at least one subscribed socket, through
 *   an update or a snapshot; null when no client ever saw the order;
 * - `finishedUnseen`: the order is finished at the venue (DONE) but no client received that: it ended while no client
 *   was subscribed (snapshots list live orders only, so a reconnect cannot tell either). The collector last saw it
 *   live; order-state closes such orders when a fresh snapshot lacks them, with the final status unknown.
 */
export interface BsxOrderTruth {
  order: BsxSimOrder;
  lastTrade: BsxSimTrade | null;
  seen: BsxSimOrder | null;
  seenLastTrade: BsxSimTrade | null;
  finishedUnseen: boolean;
}

export type BsxExpectedOrder = Pick<
  CanonicalOrder,
  | 'orderKey' | 'venue' | 'account' | 'orderId' | 'clientOrderId' | 'venueSymbol' | 'symbol' | 'instrumentKind' | 'side'
  | 'positionSide' | 'orderType' | 'venueOrderType' | 'timeInForce' | 'status' | 'venueStatus' | 'price' | 'triggerPrice'
  | 'quantity' | 'venueQuantity' | 'filledQuantity' | 'venueFilledQuantity' | 'filledQuoteQuantity' | 'averagePrice'
  | 'fee' | 'feeAsset' | 'lastFillQuantity' | 'lastFillPrice' | 'lastFillFee' | 'lastFillId' | 'reduceOnly' | 'postOnly'
  | 'createdAt' | 'updatedAt'
>;

/** Written out independently of the mapper, so the two check each other. */
function expectedStatus(o: BsxSimOrder): OrderStatus {
  const filled = compareDecimals(o.filled_size, '0') > 0;
  const cancelPending = o.cancel_requested && o.cancel_reject_reason === '';
  if (o.status === 'PENDING') return cancelPending ? 'PENDING_CANCEL' : 'PENDING_NEW';
  if (o.status === 'STOP_ACCEPTED') return cancelPending ? 'PENDING_CANCEL' : 'UNTRIGGERED';
  if (o.status === 'OPEN') return cancelPending ? 'PENDING_CANCEL' : filled ? 'PARTIALLY_FILLED' : 'NEW';
  if (compareDecimals(o.filled_size, o.size) >= 0) return 'FILLED';
  if (!filled && o.reject_reason !== '') return 'REJECTED';
  if (o.cancel_reason === 'time in force GTT') return 'EXPIRED';
  return 'CANCELED';
}

const EXPECTED_TYPE: Readonly<Record<string, OrderType>> = { LIMIT: 'LIMIT', MARKET: 'MARKET', STOP_LOSS: 'STOP_MARKET', TAKE_PROFIT: 'TAKE_PROFIT_MARKET' };
const EXPECTED_TIF: Readonly<Record<string, TimeInForce>> = { GTC: 'GTC', IOC: 'IOC', FOK: 'FOK', GTT: 'GTD' };
const micros = (ns: string): number | null => (ns === '0' || ns === '' ? null : Number(BigInt(ns) / 1000n));
const nonZero = (v: string): string | null => (isZeroDecimal(v) ? null : normalizeDecimal(v));

/** The canonical fields of one venue order state (+ the latest trade known with it). */
export function bsxExpectedFromState(o: BsxSimOrder, lastTrade: BsxSimTrade | null, account: string): BsxExpectedOrder {
  const filled = normalizeDecimal(o.filled_size);
  const nothing = isZeroDecimal(filled);
  const avg = nothing ? null : nonZero(o.avg_price);
  const base = /^([A-Z0-9]+)-PERP$/.exec(o.product_id)?.[1];
  return {
    orderKey: orderKeyOf('bsx', account, o.id),
    venue: 'bsx',
    account,
    orderId: o.id,
    clientOrderId: o.client_order_id === '' ? null : o.client_order_id,
    venueSymbol: o.product_id,
    symbol: base ? `${base}/USDC:USDC` : null,
    instrumentKind: base ? 'PERPETUAL' : 'OTHER',
    side: o.side,
    positionSide: null,
    orderType: (o.type === 'STOP' ? EXPECTED_TYPE[o.order_stop_type] : EXPECTED_TYPE[o.type]) ?? 'OTHER',
    venueOrderType: o.type,
    timeInForce: EXPECTED_TIF[o.time_in_force] ?? 'OTHER',
    status: expectedStatus(o),
    venueStatus: o.status,
    price: nonZero(o.price),
    triggerPrice: nonZero(o.stop_price),
    quantity: normalizeDecimal(o.size),
    venueQuantity: normalizeDecimal(o.size),
    filledQuantity: filled,
    venueFilledQuantity: filled,
    filledQuoteQuantity: nothing ? '0' : avg === null ? null : mulDecimals(filled, avg),
    averagePrice: avg,
    fee: normalizeDecimal(o.filled_fees),
    feeAsset: 'USDC',
    lastFillQuantity: lastTrade ? normalizeDecimal(lastTrade.size) : null,
    lastFillPrice: lastTrade ? normalizeDecimal(lastTrade.price) : null,
    lastFillFee: lastTrade ? addDecimals(lastTrade.trading_fee, lastTrade.sequencer_fee) : null,
    lastFillId: lastTrade ? lastTrade.id : null,
    reduceOnly: o.reduce_only,
    postOnly: o.post_only,
    createdAt: micros(o.created_at_ts),
    updatedAt: micros(o.updated_at),
  };
}

/**
 * The canonical fields the state topic must hold for an order once the simulator played it and every push reached
 * the collector: the venue's final state. For an order with `finishedUnseen` this is what the venue knows, not what
 * the stream can show: use `bsxExpectedSeen` (its last state seen, live) plus order-state's "closed after a snapshot
 * lacked it" treatment instead.
 */
export function bsxExpectedCanonical(t: BsxOrderTruth, account: string): BsxExpectedOrder {
  return bsxExpectedFromState(t.order, t.lastTrade, account);
}

/** The canonical fields of the last state a client saw (null: never seen, so never on the state topic). */
export function bsxExpectedSeen(t: BsxOrderTruth, account: string): BsxExpectedOrder | null {
  return t.seen === null ? null : bsxExpectedFromState(t.seen, t.seenLastTrade, account);
}

// ---------------------------------------------------------------------------------------------------------------
// Random lifecycles.

const hex = (n: number, width: number) => (n >>> 0).toString(16).padStart(width, '0').slice(-width);

/** A UUID-shaped id unique per (seed, index): `<seed:8>-<hi:4>-4<mid:3>-8<rnd:3>-<index:12>`. */
export function bsxSimOrderId(seed: number, index: number, rng?: Rng): string {
  const r = rng ? rng.int(0, 0xfff) : 0;
  return `${hex(seed, 8)}-${hex(Math.floor(index / 2 ** 32), 4)}-4${hex(index >>> 20, 3)}-8${hex(r, 3)}-${index.toString(16).padStart(12, '0')}`;
}

function ticksOf(price: string, decimals: number): bigint {
  return BigInt(shiftDecimal(price, -decimals).split('.')[0] as string);
}

function priceNear(rng: Rng, inst: BsxSimInstrument, maxTicks: number): string {
  const t = ticksOf(inst.price, inst.priceDecimals) + BigInt(rng.int(-maxTicks, maxTicks));
  return shiftDecimal((t > 0n ? t : 1n).toString(), inst.priceDecimals);
}

/** A fill price at the limit or better by up to 5 ticks (BUY lower, SELL higher). */
function fillPrice(rng: Rng, price: string, inst: BsxSimInstrument, side: 'BUY' | 'SELL'): string {
  const t = ticksOf(price, inst.priceDecimals) + BigInt(rng.int(0, 5) * (side === 'BUY' ? -1 : 1));
  return shiftDecimal((t > 0n ? t : 1n).toString(), inst.priceDecimals);
}

/** `units` size steps split into `parts` positive pieces (fewer if units is small). */
function split(rng: Rng, units: number, parts: number): number[] {
  const n = Math.max(1, Math.min(parts, units));
  const cuts = new Set<number>();
  while (cuts.size < n - 1) cuts.add(rng.int(1, units - 1));
  const sorted = [...cuts].sort((a, b) => a - b);
  const out: number[] = [];
  let prev = 0;
  for (const c of [...sorted, units]) {
    out.push(c - prev);
    prev = c;
  }
  return out;
}

/**
 * `count` lifecycles that are a pure function of `seed`: same seed, same orders (ids, kinds, fills); ids are unique
 * per seed (and across seeds below 2^32). Mix: ~30 % fill, 15 % cancel, 10 % ioc, 5 % reject, 10 % expire,
 * 10 % stop-fill, 5 % stop-cancel, 10 % rest, 5 % stop-rest; a fifth of the fill orders are MARKET; some fill
 * events carry two trades.
 */
export function bsxRandomLifecycles(count: number, seed: number, instruments: readonly BsxSimInstrument[] = BSX_SIM_INSTRUMENTS): BsxLifecycle[] {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`count must be a non-negative integer, got ${count}`);
  if (instruments.length === 0) throw new RangeError('no instruments');
  const rng = seededRng(seed);
  const out: BsxLifecycle[] = [];
  for (let i = 0; i < count; i++) {
    const inst = rng.pick(instruments);
    const side = rng.chance(0.5) ? 'BUY' : 'SELL';
    const roll = rng.next();
    const kind: BsxLifecycleKind =
      roll < 0.3 ? 'fill' : roll < 0.45 ? 'cancel' : roll < 0.55 ? 'ioc' : roll < 0.6 ? 'reject' : roll < 0.7 ? 'expire'
        : roll < 0.8 ? 'stop-fill' : roll < 0.85 ? 'stop-cancel' : roll < 0.95 ? 'rest' : 'stop-rest';
    const market = kind === 'fill' && rng.chance(0.2);
    const units = rng.int(2, 400);
    const size = shiftDecimal(String(units), inst.sizeDecimals);
    const price = priceNear(rng, inst, 30);
    const unit = (n: number) => shiftDecimal(String(n), inst.sizeDecimals);
    let fills: BsxFill[] | undefined;
    const makeFills = (filledUnits: number, parts: number, px: () => string) =>
      split(rng, filledUnits, parts).map((u, k) => ({ size: unit(u), price: px(), ...(k > 0 && rng.chance(0.3) ? { withPrevious: true } : {}) }));
    if (kind === 'fill') fills = makeFills(units, rng.int(1, 4), () => fillPrice(rng, price, inst, side));
    if ((kind === 'cancel' || kind === 'expire' || kind === 'rest' || kind === 'ioc') && rng.chance(0.5)) {
      fills = makeFills(rng.int(1, units - 1), rng.int(1, 3), () => fillPrice(rng, price, inst, side));
    }
    const lc: BsxLifecycle = {
      id: bsxSimOrderId(seed, i, rng),
      productId: inst.productId,
      kind,
      side,
      price,
      size,
      ...(fills ? { fills } : {}),
    };
    if (market) {
      lc.type = 'MARKET';
      lc.fills = (fills ?? []).map((f) => ({ size: f.size, price: f.price }));
    }
    if (kind === 'ioc' && rng.chance(0.3)) lc.timeInForce = 'FOK';
    if (kind === 'ioc' && lc.timeInForce === 'FOK') delete lc.fills; // FOK: all or nothing; here nothing
    if (kind === 'fill' || kind === 'cancel' || kind === 'rest') {
      if (rng.chance(0.2)) lc.postOnly = true;
      if (rng.chance(0.2)) lc.clientOrderId = `cli-${hex(seed, 8)}-${i}`;
    }
    if (kind.startsWith('stop-')) {
      lc.stopType = rng.chance(0.5) ? 'STOP_LOSS' : 'TAKE_PROFIT';
      lc.stopPrice = price;
      // the triggered IOC's worst price: 0.5 % beyond the trigger (BSX app default slippage)
      lc.price = roundTo(mulDecimals(price, side === 'BUY' ? '1.005' : '0.995'), inst.priceDecimals);
      if (kind === 'stop-fill') lc.fills = [{ size, price: fillPrice(rng, price, inst, side === 'BUY' ? 'SELL' : 'BUY') }];
    }
    out.push(lc);
  }
  return out;
}

function roundTo(v: string, decimals: number): string {
  return divDecimals(v, '1', decimals);
}
