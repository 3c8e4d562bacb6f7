import {
  addDecimals,
  compareDecimals,
  divDecimals,
  isZeroDecimal,
  mulDecimals,
  normalizeDecimal,
  shiftDecimal,
  subDecimals,
} from '@orderstream/kit';
import { orderKeyOf, type CanonicalOrder, type OrderStatus } from '@orderstream/schemas';
import { seededRng, type Rng } from '../sim/random.js';
import type { XtOrderState } from './frames.js';

/**
 * Scripted order lifecycles for the XT simulator: what a venue-side order goes through, the frames it produces,
 * and the final venue-side truth that the end-to-end tests compare the state topic with. Pure: no I/O.
 */

export type XtLifecycleKind = 'fill' | 'cancel' | 'partial-cancel' | 'reject' | 'expire';
export const XT_LIFECYCLE_KINDS: readonly XtLifecycleKind[] = ['fill', 'cancel', 'partial-cancel', 'reject', 'expire'];

export interface XtFill {
  /** contracts, positive integer string */
  qty: string;
  /** execution price, decimal string */
  price: string;
}

export interface XtLifecycle {
  /** XT order ids are 18–19 digit numbers sent as strings */
  orderId: string;
  /** XT symbol, lower case: `btc_usdt` */
  symbol: string;
  /**
   * - `fill`: NEW → PARTIALLY_FILLED (one per fill but the last) → FILLED
   * - `cancel`: NEW → CANCELED
   * - `partial-cancel`: NEW → PARTIALLY_FILLED (one per fill) → PARTIALLY_CANCELED
   * - `reject`: REJECTED (no NEW: the engine never accepted it)
   * - `expire`: NEW → PARTIALLY_FILLED (one per fill, if any) → EXPIRED
   */
  kind: XtLifecycleKind;
  side: 'BUY' | 'SELL';
  /** default LONG for BUY, SHORT for SELL */
  positionSide?: 'LONG' | 'SHORT';
  /** default LIMIT */
  orderType?: 'LIMIT' | 'MARKET';
  /** default GTC (LIMIT) / IOC (MARKET) */
  timeInForce?: 'GTC' | 'IOC' | 'FOK' | 'GTX';
  /** limit price (decimal string); for MARKET orders the frames carry price "0" and this is only the default fill price */
  price: string;
  /** contracts, positive integer string */
  quantity: string;
  /**
   * Executions in contracts. `fill`: must sum to quantity (default: one fill of everything at `price`);
   * `partial-cancel`: must sum to less than quantity, more than 0 (default: half, rounded down, at `price`);
   * `expire`: less than quantity (default none); `cancel`, `reject`: none.
   */
  fills?: XtFill[];
  /** default 20 */
  leverage?: number;
  /** default CROSSED */
  positionType?: 'CROSSED' | 'ISOLATED';
  /** epoch ms; default: when play() starts */
  createdTime?: number;
}

/** One push of a lifecycle: the venue-side state after an event. */
export interface XtStep {
  state: XtOrderState;
  /** cumulative contracts */
  executedQty: string;
  /** volume-weighted average of the fills so far, rounded (see xtAveragePrice); "0" before any fill */
  avgPrice: string;
}

/** The final venue-side state of one order: what the state topic must converge to. */
export interface XtOrderTruth {
  orderId: string;
  symbol: string;
  state: XtOrderState;
  side: 'BUY' | 'SELL';
  positionSide: 'LONG' | 'SHORT';
  orderType: 'LIMIT' | 'MARKET';
  timeInForce: 'GTC' | 'IOC' | 'FOK' | 'GTX';
  /** as sent: "0" for MARKET */
  price: string;
  /** contracts */
  origQty: string;
  /** contracts */
  executedQty: string;
  /** as sent: "0" when nothing filled */
  avgPrice: string;
  /** epoch ms */
  createdTime: number;
}

/** Optional deviations from the documented frame, to exercise the quirks the mapper tolerates. */
export interface XtFrameQuirks {
  /** send the doc example's typo key `"orderType:"` instead of `"orderType"` */
  orderTypeTypoKey: boolean;
  /** send createdTime in seconds (10 digits, like the doc example) instead of ms */
  secondsCreatedTime: boolean;
  /** send createdTime and leverage as strings */
  stringIntegers: boolean;
}

export const NO_QUIRKS: Readonly<XtFrameQuirks> = Object.freeze({
  orderTypeTypoKey: false,
  secondsCreatedTime: false,
  stringIntegers: false,
});

/** Instruments the simulator knows (contract size = base units per contract, as in XT's symbol detail). */
export interface XtSimInstrument {
  symbol: string;
  contractSize: string;
  /** a typical price, for random lifecycles */
  price: string;
  /** price decimals (tick = 10^-priceDecimals) */
  priceDecimals: number;
}

export const XT_SIM_INSTRUMENTS: readonly XtSimInstrument[] = Object.freeze([
  { symbol: 'btc_usdt', contractSize: '0.0001', price: '64000', priceDecimals: 1 },
  { symbol: 'eth_usdt', contractSize: '0.01', price: '3200', priceDecimals: 2 },
  { symbol: 'sol_usdt', contractSize: '1', price: '150', priceDecimals: 3 },
  { symbol: 'xrp_usdt', contractSize: '10', price: '0.5', priceDecimals: 4 },
  { symbol: '1000pepe_usdt', contractSize: '1000', price: '0.0123', priceDecimals: 7 },
]);

/**
 * Decimals of `avgPrice` in simulated frames. The exact volume-weighted average is rounded half-even to this many
 * places (the kit's divDecimals) and printed without trailing zeros. XT's own rounding of avgPrice is not documented.
 */
export const XT_SIM_AVG_PRICE_SCALE = 8;

const INT_RE = /^[1-9]\d*$/;

/** Fills of a lifecycle after defaults; throws RangeError naming the problem for an impossible script. */
export function xtEffectiveFills(lc: XtLifecycle): XtFill[] {
  const where = `lifecycle ${lc.orderId} (${lc.kind})`;
  if (!INT_RE.test(lc.quantity)) throw new RangeError(`${where}: quantity must be a positive integer string of contracts, got ${JSON.stringify(lc.quantity)}`);
  let fills = lc.fills;
  if (fills === undefined) {
    if (lc.kind === 'fill') fills = [{ qty: lc.quantity, price: lc.price }];
    else if (lc.kind === 'partial-cancel') {
      const half = BigInt(lc.quantity) / 2n;
      if (half === 0n) throw new RangeError(`${where}: a partial cancel needs a quantity of at least 2 contracts`);
      fills = [{ qty: half.toString(), price: lc.price }];
    } else fills = [];
  }
  for (const f of fills) {
    if (!INT_RE.test(f.qty)) throw new RangeError(`${where}: fill qty must be a positive integer string, got ${JSON.stringify(f.qty)}`);
    normalizeDecimal(f.price);
    if (isZeroDecimal(f.price) || f.price.trim().startsWith('-')) throw new RangeError(`${where}: fill price must be positive, got ${f.price}`);
  }
  const total = fills.reduce((sum, f) => addDecimals(sum, f.qty), '0');
  const cmp = compareDecimals(total, lc.quantity);
  if (lc.kind === 'fill' && cmp !== 0) throw new RangeError(`${where}: fills sum to ${total}, must equal quantity ${lc.quantity}`);
  if (lc.kind === 'partial-cancel' && (cmp >= 0 || fills.length === 0)) {
    throw new RangeError(`${where}: fills sum to ${total}, must be more than 0 and less than quantity ${lc.quantity}`);
  }
  if (lc.kind === 'expire' && cmp >= 0) throw new RangeError(`${where}: fills sum to ${total}, must be less than quantity ${lc.quantity}`);
  if ((lc.kind === 'cancel' || lc.kind === 'reject') && fills.length > 0) throw new RangeError(`${where}: a ${lc.kind} has no fills`);
  return fills;
}

/** Exact VWAP Σ(qty·price)/Σqty, rounded half-even to `scale` decimals; "0" without fills. */
export function xtAveragePrice(fills: readonly XtFill[], scale = XT_SIM_AVG_PRICE_SCALE): string {
  if (fills.length === 0) return '0';
  let qty = '0';
  let notional = '0';
  for (const f of fills) {
    qty = addDecimals(qty, f.qty);
    notional = addDecimals(notional, mulDecimals(f.qty, f.price));
  }
  return divDecimals(notional, qty, scale);
}

/** The pushes a lifecycle produces, in venue order. */
export function xtLifecycleSteps(lc: XtLifecycle, avgPriceScale = XT_SIM_AVG_PRICE_SCALE): XtStep[] {
  const fills = xtEffectiveFills(lc);
  if (lc.kind === 'reject') return [{ state: 'REJECTED', executedQty: '0', avgPrice: '0' }];
  const steps: XtStep[] = [{ state: 'NEW', executedQty: '0', avgPrice: '0' }];
  let executed = '0';
  fills.forEach((f, i) => {
    executed = addDecimals(executed, f.qty);
    const avgPrice = xtAveragePrice(fills.slice(0, i + 1), avgPriceScale);
    const last = i === fills.length - 1;
    steps.push({ state: last && lc.kind === 'fill' ? 'FILLED' : 'PARTIALLY_FILLED', executedQty: executed, avgPrice });
  });
  const finalAvg = xtAveragePrice(fills, avgPriceScale);
  if (lc.kind === 'cancel') steps.push({ state: 'CANCELED', executedQty: '0', avgPrice: '0' });
  if (lc.kind === 'partial-cancel') steps.push({ state: 'PARTIALLY_CANCELED', executedQty: executed, avgPrice: finalAvg });
  if (lc.kind === 'expire') steps.push({ state: 'EXPIRED', executedQty: executed, avgPrice: finalAvg });
  return steps;
}

export interface XtLifecycleDefaults {
  positionSide: 'LONG' | 'SHORT';
  orderType: 'LIMIT' | 'MARKET';
  timeInForce: 'GTC' | 'IOC' | 'FOK' | 'GTX';
  leverage: number;
  positionType: 'CROSSED' | 'ISOLATED';
}

export function xtLifecycleDefaults(lc: XtLifecycle): XtLifecycleDefaults {
  const orderType = lc.orderType ?? 'LIMIT';
  return {
    positionSide: lc.positionSide ?? (lc.side === 'BUY' ? 'LONG' : 'SHORT'),
    orderType,
    timeInForce: lc.timeInForce ?? (orderType === 'MARKET' ? 'IOC' : 'GTC'),
    leverage: lc.leverage ?? 20,
    positionType: lc.positionType ?? 'CROSSED',
  };
}

const LIVE_STATES: ReadonlySet<XtOrderState> = new Set(['NEW', 'PARTIALLY_FILLED']);

/** Margin held by a live limit order: remaining contracts × contract size × price ÷ leverage (8 decimals); "0" otherwise. */
export function xtMarginFrozen(lc: XtLifecycle, step: XtStep, contractSize: string | undefined): string {
  const d = xtLifecycleDefaults(lc);
  if (!LIVE_STATES.has(step.state) || contractSize === undefined || d.orderType !== 'LIMIT') return '0';
  const remaining = subDecimals(lc.quantity, step.executedQty);
  return divDecimals(mulDecimals(mulDecimals(remaining, contractSize), lc.price), String(d.leverage), 8);
}

/**
 * The exact text of one order push, laid out like the doc example (same key order, strings for decimals and
 * contracts, integers for createdTime and leverage). `event` is `order@<listenKey>` of the receiving socket.
 */
export function xtOrderFrameText(
  lc: XtLifecycle,
  step: XtStep,
  options: { event: string; createdTime: number; contractSize?: string; quirks?: XtFrameQuirks },
): string {
  const d = xtLifecycleDefaults(lc);
  const quirks = options.quirks ?? NO_QUIRKS;
  const price = d.orderType === 'MARKET' ? '0' : lc.price;
  const marginFrozen = xtMarginFrozen(lc, step, options.contractSize);
  const created = quirks.secondsCreatedTime ? Math.floor(options.createdTime / 1000) : options.createdTime;
  const data: Record<string, unknown> = {
    symbol: lc.symbol,
    orderId: lc.orderId,
    origQty: lc.quantity,
    avgPrice: step.avgPrice,
    price,
    executedQty: step.executedQty,
    orderSide: lc.side,
    timeInForce: d.timeInForce,
    positionSide: d.positionSide,
    marginFrozen,
    sourceType: 'DEFAULT',
    type: 'ORDER',
    state: step.state,
    createdTime: quirks.stringIntegers ? String(created) : created,
    leverage: quirks.stringIntegers ? String(d.leverage) : d.leverage,
    positionType: d.positionType,
    [quirks.orderTypeTypoKey ? 'orderType:' : 'orderType']: d.orderType,
  };
  return JSON.stringify({ topic: 'order', event: options.event, data });
}

/**
 * One order as XT's REST answers carry it (order/list, list-history, detail): CCXT's key order (xt.ts parseOrder,
 * swap), plus `leverage` and `positionType` as in getOpenOrders.md; decimals and contracts as strings, ids as
 * strings, `createdTime` / `updatedTime` in ms.
 */
export function xtRestOrderObject(
  lc: XtLifecycle,
  step: XtStep,
  options: { createdTime: number; updatedTime: number; contractSize?: string },
): Record<string, unknown> {
  const d = xtLifecycleDefaults(lc);
  return {
    orderId: lc.orderId,
    clientOrderId: null,
    symbol: lc.symbol,
    orderType: d.orderType,
    orderSide: lc.side,
    positionSide: d.positionSide,
    timeInForce: d.timeInForce,
    closePosition: false,
    price: d.orderType === 'MARKET' ? '0' : lc.price,
    origQty: lc.quantity,
    avgPrice: step.avgPrice,
    executedQty: step.executedQty,
    marginFrozen: xtMarginFrozen(lc, step, options.contractSize),
    remark: null,
    triggerProfitPrice: null,
    triggerStopPrice: null,
    sourceId: null,
    sourceType: 'DEFAULT',
    forceClose: false,
    closeProfit: null,
    state: step.state,
    createdTime: options.createdTime,
    updatedTime: options.updatedTime,
    leverage: d.leverage,
    positionType: d.positionType,
  };
}

/** The truth after a step. */
export function xtTruthOf(lc: XtLifecycle, step: XtStep, createdTime: number): XtOrderTruth {
  const d = xtLifecycleDefaults(lc);
  return {
    orderId: lc.orderId,
    symbol: lc.symbol,
    state: step.state,
    side: lc.side,
    positionSide: d.positionSide,
    orderType: d.orderType,
    timeInForce: d.timeInForce,
    price: d.orderType === 'MARKET' ? '0' : lc.price,
    origQty: lc.quantity,
    executedQty: step.executedQty,
    avgPrice: step.avgPrice,
    createdTime,
  };
}

/** XT state → unified status, written out independently of the mapper so the two can be checked against each other. */
const EXPECTED_STATUS: Readonly<Record<XtOrderState, OrderStatus>> = {
  NEW: 'NEW',
  PARTIALLY_FILLED: 'PARTIALLY_FILLED',
  PARTIALLY_CANCELED: 'CANCELED',
  FILLED: 'FILLED',
  CANCELED: 'CANCELED',
  REJECTED: 'REJECTED',
  EXPIRED: 'EXPIRED',
};

export type XtExpectedOrder = Pick<
  CanonicalOrder,
  | 'orderKey' | 'venue' | 'account' | 'orderId' | 'venueSymbol' | 'symbol' | 'side' | 'positionSide' | 'orderType'
  | 'venueOrderType' | 'timeInForce' | 'postOnly' | 'status' | 'venueStatus' | 'price' | 'venueQuantity'
  | 'venueFilledQuantity' | 'quantity' | 'filledQuantity' | 'averagePrice' | 'filledQuoteQuantity' | 'createdAt'
>;

/**
 * The canonical fields the state topic must hold for an order once the simulator has played it to the end.
 * `contractSize` is the reference data the normalizer was given for the symbol (undefined → base-unit fields null).
 */
export function xtExpectedCanonical(t: XtOrderTruth, account: string, contractSize?: string): XtExpectedOrder {
  const [base = '', quote = ''] = t.symbol.split('_');
  const avg = isZeroDecimal(t.avgPrice) ? null : normalizeDecimal(t.avgPrice);
  const quantity = contractSize === undefined ? null : mulDecimals(t.origQty, contractSize);
  const filled = contractSize === undefined ? null : mulDecimals(t.executedQty, contractSize);
  return {
    orderKey: orderKeyOf('xt', account, t.orderId),
    venue: 'xt',
    account,
    orderId: t.orderId,
    venueSymbol: t.symbol,
    symbol: `${base.toUpperCase()}/${quote.toUpperCase()}:${quote.toUpperCase()}`,
    side: t.side,
    positionSide: t.positionSide,
    orderType: t.orderType,
    venueOrderType: t.orderType,
    timeInForce: t.timeInForce,
    postOnly: t.timeInForce === 'GTX',
    status: EXPECTED_STATUS[t.state],
    venueStatus: t.state,
    price: isZeroDecimal(t.price) ? null : normalizeDecimal(t.price),
    venueQuantity: normalizeDecimal(t.origQty),
    venueFilledQuantity: normalizeDecimal(t.executedQty),
    quantity,
    filledQuantity: filled,
    averagePrice: avg,
    filledQuoteQuantity: filled === null ? null : isZeroDecimal(t.executedQty) ? '0' : avg === null ? null : mulDecimals(filled, avg),
    createdAt: t.createdTime * 1000,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Random lifecycles.

function priceNear(rng: Rng, inst: XtSimInstrument, maxTicks: number, direction: -1 | 1 | 0): string {
  const ticks = BigInt(shiftDecimal(inst.price, -inst.priceDecimals).split('.')[0] as string);
  const offset = BigInt(rng.int(0, maxTicks)) * BigInt(direction === 0 ? (rng.chance(0.5) ? 1 : -1) : direction);
  const t = ticks + offset > 0n ? ticks + offset : 1n;
  return shiftDecimal(t.toString(), inst.priceDecimals);
}

function splitQty(rng: Rng, total: bigint, parts: number): bigint[] {
  const n = Math.max(1, Math.min(parts, Number(total)));
  const cuts = new Set<bigint>();
  while (cuts.size < n - 1) cuts.add(BigInt(rng.int(1, Number(total) - 1)));
  const sorted = [...cuts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const out: bigint[] = [];
  let prev = 0n;
  for (const c of [...sorted, total]) {
    out.push(c - prev);
    prev = c;
  }
  return out;
}

/**
 * `count` lifecycles that are a pure function of `seed`: same seed, same orders (ids, kinds, fills).
 * Mix: about 40 % fill, 20 % cancel, 20 % partial-cancel, 10 % reject, 10 % expire; 25 % market orders.
 */
export function xtRandomLifecycles(count: number, seed: number, instruments: readonly XtSimInstrument[] = XT_SIM_INSTRUMENTS): XtLifecycle[] {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`count must be a non-negative integer, got ${count}`);
  const rng = seededRng(seed);
  const idBase = 4_000_000_000_000_000_000n + BigInt((seed >>> 0) % 1_000_000) * 1_000_000_000_000n;
  const out: XtLifecycle[] = [];
  for (let i = 0; i < count; i++) {
    const inst = rng.pick(instruments);
    const side = rng.chance(0.5) ? 'BUY' : 'SELL';
    const market = rng.chance(0.25);
    const roll = rng.next();
    let kind: XtLifecycleKind = roll < 0.4 ? 'fill' : roll < 0.6 ? 'cancel' : roll < 0.8 ? 'partial-cancel' : roll < 0.9 ? 'reject' : 'expire';
    if (market && (kind === 'cancel' || kind === 'expire')) kind = 'fill';
    let quantity = BigInt(rng.int(1, 500));
    if (kind === 'partial-cancel' && quantity < 2n) quantity = 2n;
    const price = priceNear(rng, inst, 20, 0);
    const fillDirection: -1 | 1 | 0 = market ? 0 : side === 'BUY' ? -1 : 1;
    const fillPrice = () => (market ? priceNear(rng, inst, 10, 0) : offsetFrom(rng, price, inst, fillDirection));
    let fills: XtFill[] | undefined;
    if (kind === 'fill') fills = splitQty(rng, quantity, rng.int(1, 4)).map((q) => ({ qty: q.toString(), price: fillPrice() }));
    if (kind === 'partial-cancel') {
      const filled = BigInt(rng.int(1, Number(quantity) - 1));
      fills = splitQty(rng, filled, rng.int(1, 3)).map((q) => ({ qty: q.toString(), price: fillPrice() }));
    }
    if (kind === 'expire' && quantity > 1n && rng.chance(0.5)) {
      const filled = BigInt(rng.int(1, Number(quantity) - 1));
      fills = splitQty(rng, filled, rng.int(1, 2)).map((q) => ({ qty: q.toString(), price: fillPrice() }));
    }
    const timeInForce = market ? 'IOC' : rng.pick(['GTC', 'GTC', 'GTX'] as const);
    out.push({
      orderId: (idBase + BigInt(i)).toString(),
      symbol: inst.symbol,
      kind,
      side,
      orderType: market ? 'MARKET' : 'LIMIT',
      timeInForce,
      price,
      quantity: quantity.toString(),
      ...(fills ? { fills } : {}),
      leverage: rng.pick([5, 10, 20, 50]),
      positionType: rng.pick(['CROSSED', 'ISOLATED'] as const),
    });
  }
  return out;
}

/** A fill price at the limit or better by up to 5 ticks (BUY lower, SELL higher). */
function offsetFrom(rng: Rng, price: string, inst: XtSimInstrument, direction: -1 | 1 | 0): string {
  const ticks = BigInt(shiftDecimal(price, -inst.priceDecimals).split('.')[0] as string);
  const k = BigInt(rng.int(0, 5)) * BigInt(direction);
  const t = ticks + k > 0n ? ticks + k : ticks;
  return shiftDecimal(t.toString(), inst.priceDecimals);
}
