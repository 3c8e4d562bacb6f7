import { addDecimals, compareDecimals, divDecimals, isZeroDecimal, mulDecimals, normalizeDecimal, shiftDecimal } from '@orderstream/kit';
import { orderKeyOf, type CanonicalOrder, type InstrumentKind, type OrderStatus, type OrderType } from '@orderstream/schemas';
import { seededRng, type Rng } from '../sim/random.js';
import type { BinanceUsdmOrderStatus, BinanceUsdmRateLimit } from './frames.js';

/**
 * Scripted order lifecycles for the Binance USDⓈ-M simulator: the states a venue-side order goes through, the exact
 * `order.status` answer for each state, and the final venue-side truth the end-to-end tests compare the state topic
 * with. Pure: no I/O. The simulator moves orders through these states on its own clock; the client only sees the
 * states it happens to poll.
 */

export type BinanceUsdmLifecycleKind = 'fill' | 'cancel' | 'partial-cancel' | 'reject' | 'expire' | 'expire-in-match';
export const BINANCE_USDM_LIFECYCLE_KINDS: readonly BinanceUsdmLifecycleKind[] = [
  'fill', 'cancel', 'partial-cancel', 'reject', 'expire', 'expire-in-match',
];

export type BinanceUsdmSimOrderType = 'LIMIT' | 'MARKET' | 'STOP' | 'STOP_MARKET' | 'TAKE_PROFIT' | 'TAKE_PROFIT_MARKET';
export type BinanceUsdmSimTimeInForce = 'GTC' | 'IOC' | 'FOK' | 'GTX' | 'GTD';

export interface BinanceUsdmFill {
  /** base units, decimal string */
  qty: string;
  price: string;
}

export interface BinanceUsdmLifecycle {
  /** int64 digits (the simulator's random ids are above 2^53) */
  orderId: string;
  /** default `sim<last 12 digits of orderId>` */
  clientOrderId?: string;
  /** Binance symbol: `BTCUSDT`, `1000PEPEUSDT`, `ETHUSDT_260327` */
  symbol: string;
  /**
   * - `fill`: NEW → PARTIALLY_FILLED (one per fill but the last) → FILLED
   * - `cancel`: NEW → CANCELED (no fills)
   * - `partial-cancel`: NEW → PARTIALLY_FILLED (one per fill) → CANCELED (Binance has no PARTIALLY_CANCELED)
   * - `reject`: REJECTED
   * - `expire`: NEW → PARTIALLY_FILLED (per fill, if any) → EXPIRED (IOC/FOK/GTD leftovers)
   * - `expire-in-match`: NEW → PARTIALLY_FILLED (per fill, if any) → EXPIRED_IN_MATCH (self-trade prevention)
   */
  kind: BinanceUsdmLifecycleKind;
  side: 'BUY' | 'SELL';
  /** default BOTH (one-way mode) */
  positionSide?: 'BOTH' | 'LONG' | 'SHORT';
  /** default LIMIT */
  type?: BinanceUsdmSimOrderType;
  /** default GTC */
  timeInForce?: BinanceUsdmSimTimeInForce;
  /** epoch ms, GTD only */
  goodTillDate?: number;
  /** limit price; MARKET / STOP_MARKET / TAKE_PROFIT_MARKET frames carry "0" and this is only the default fill price */
  price: string;
  /** STOP / TAKE_PROFIT / *_MARKET trigger price */
  stopPrice?: string;
  /** base units, decimal string */
  quantity: string;
  /** default: fill → one fill of everything at price; partial-cancel → half (qty decimals kept); others → none */
  fills?: BinanceUsdmFill[];
  /** default false */
  reduceOnly?: boolean;
}

/** One venue-side state of a lifecycle. */
export interface BinanceUsdmStep {
  status: BinanceUsdmOrderStatus;
  /** cumulative base units, normalized */
  executedQty: string;
  /** exact Σ qty × price, normalized */
  cumQuote: string;
  /** volume-weighted average, rounded half-even to the instrument's avgPriceDecimals; "0" before any fill */
  avgPrice: string;
}

/** Instruments the simulator knows. Decimals shape how figures are printed (Binance pads with zeros). */
export interface BinanceUsdmSimInstrument {
  symbol: string;
  /** a typical price, for random lifecycles */
  price: string;
  priceDecimals: number;
  qtyDecimals: number;
  /** decimals of avgPrice (the doc example prints "0.00000") */
  avgPriceDecimals: number;
}

export const BINANCE_USDM_SIM_INSTRUMENTS: readonly BinanceUsdmSimInstrument[] = Object.freeze([
  { symbol: 'BTCUSDT', price: '64000', priceDecimals: 1, qtyDecimals: 3, avgPriceDecimals: 5 },
  { symbol: 'ETHUSDT', price: '3200', priceDecimals: 2, qtyDecimals: 3, avgPriceDecimals: 5 },
  { symbol: 'SOLUSDT', price: '150', priceDecimals: 2, qtyDecimals: 0, avgPriceDecimals: 5 },
  { symbol: '1000PEPEUSDT', price: '0.0123', priceDecimals: 7, qtyDecimals: 0, avgPriceDecimals: 8 },
  { symbol: 'BTCUSDC', price: '64000', priceDecimals: 1, qtyDecimals: 3, avgPriceDecimals: 5 },
  { symbol: 'ETHUSDT_260327', price: '3250', priceDecimals: 2, qtyDecimals: 3, avgPriceDecimals: 5 },
]);

const DEFAULT_INSTRUMENT: BinanceUsdmSimInstrument = { symbol: '', price: '1', priceDecimals: 8, qtyDecimals: 8, avgPriceDecimals: 8 };

export function binanceUsdmSimInstrument(symbol: string, instruments: readonly BinanceUsdmSimInstrument[] = BINANCE_USDM_SIM_INSTRUMENTS): BinanceUsdmSimInstrument {
  return instruments.find((i) => i.symbol === symbol) ?? { ...DEFAULT_INSTRUMENT, symbol };
}

/** `"1.5"` printed with at least `places` decimals, Binance style (`"1.50000"`); never rounds. */
export function binanceUsdmPadDecimal(value: string, places: number): string {
  const n = normalizeDecimal(value);
  const [int, frac = ''] = n.split('.');
  const width = Math.max(places, frac.length);
  return width === 0 ? (int as string) : `${int}.${frac.padEnd(width, '0')}`;
}

function positive(v: string): boolean {
  return compareDecimals(v, '0') > 0;
}

/** Fills of a lifecycle after defaults; throws RangeError naming the order for an impossible script. */
export function binanceUsdmEffectiveFills(lc: BinanceUsdmLifecycle, instruments?: readonly BinanceUsdmSimInstrument[]): BinanceUsdmFill[] {
  const where = `lifecycle ${lc.orderId} (${lc.kind})`;
  if (!/^\d{1,19}$/.test(lc.orderId)) throw new RangeError(`${where}: orderId must be int64 digits`);
  if (!positive(lc.quantity)) throw new RangeError(`${where}: quantity must be positive, got ${JSON.stringify(lc.quantity)}`);
  let fills = lc.fills;
  if (fills === undefined) {
    if (lc.kind === 'fill') fills = [{ qty: lc.quantity, price: lc.price }];
    else if (lc.kind === 'partial-cancel') {
      const qd = binanceUsdmSimInstrument(lc.symbol, instruments).qtyDecimals;
      const half = shiftDecimal(divDecimals(shiftDecimal(lc.quantity, -qd), '2', 0), qd);
      if (!positive(half)) throw new RangeError(`${where}: quantity too small to fill half of it`);
      fills = [{ qty: half, price: lc.price }];
    } else fills = [];
  }
  for (const f of fills) {
    if (!positive(f.qty)) throw new RangeError(`${where}: fill qty must be positive, got ${JSON.stringify(f.qty)}`);
    if (!positive(f.price)) throw new RangeError(`${where}: fill price must be positive, got ${JSON.stringify(f.price)}`);
  }
  const total = fills.reduce((sum, f) => addDecimals(sum, f.qty), '0');
  const cmp = compareDecimals(total, lc.quantity);
  if (lc.kind === 'fill' && cmp !== 0) throw new RangeError(`${where}: fills sum to ${total}, must equal quantity ${lc.quantity}`);
  if (lc.kind === 'partial-cancel' && (cmp >= 0 || fills.length === 0)) {
    throw new RangeError(`${where}: fills sum to ${total}, must be more than 0 and less than quantity ${lc.quantity}`);
  }
  if ((lc.kind === 'expire' || lc.kind === 'expire-in-match') && cmp >= 0) {
    throw new RangeError(`${where}: fills sum to ${total}, must be less than quantity ${lc.quantity}`);
  }
  if ((lc.kind === 'cancel' || lc.kind === 'reject') && fills.length > 0) throw new RangeError(`${where}: a ${lc.kind} has no fills`);
  return fills;
}

/** Exact VWAP Σ(qty·price)/Σqty rounded half-even to `scale` decimals; "0" without fills. */
export function binanceUsdmAveragePrice(fills: readonly BinanceUsdmFill[], scale: number): string {
  if (fills.length === 0) return '0';
  let qty = '0';
  let notional = '0';
  for (const f of fills) {
    qty = addDecimals(qty, f.qty);
    notional = addDecimals(notional, mulDecimals(f.qty, f.price));
  }
  return divDecimals(notional, qty, scale);
}

/** The states a lifecycle goes through, in venue order. */
export function binanceUsdmLifecycleSteps(lc: BinanceUsdmLifecycle, instruments?: readonly BinanceUsdmSimInstrument[]): BinanceUsdmStep[] {
  const fills = binanceUsdmEffectiveFills(lc, instruments);
  const scale = binanceUsdmSimInstrument(lc.symbol, instruments).avgPriceDecimals;
  const at = (n: number, status: BinanceUsdmOrderStatus): BinanceUsdmStep => {
    const done = fills.slice(0, n);
    return {
      status,
      executedQty: done.reduce((s, f) => addDecimals(s, f.qty), '0'),
      cumQuote: done.reduce((s, f) => addDecimals(s, mulDecimals(f.qty, f.price)), '0'),
      avgPrice: binanceUsdmAveragePrice(done, scale),
    };
  };
  if (lc.kind === 'reject') return [at(0, 'REJECTED')];
  const steps = [at(0, 'NEW')];
  fills.forEach((_, i) => steps.push(at(i + 1, i === fills.length - 1 && lc.kind === 'fill' ? 'FILLED' : 'PARTIALLY_FILLED')));
  if (lc.kind === 'cancel' || lc.kind === 'partial-cancel') steps.push(at(fills.length, 'CANCELED'));
  if (lc.kind === 'expire') steps.push(at(fills.length, 'EXPIRED'));
  if (lc.kind === 'expire-in-match') steps.push(at(fills.length, 'EXPIRED_IN_MATCH'));
  return steps;
}

export interface BinanceUsdmLifecycleDefaults {
  clientOrderId: string;
  positionSide: 'BOTH' | 'LONG' | 'SHORT';
  type: BinanceUsdmSimOrderType;
  timeInForce: BinanceUsdmSimTimeInForce;
  reduceOnly: boolean;
}

export function binanceUsdmLifecycleDefaults(lc: BinanceUsdmLifecycle): BinanceUsdmLifecycleDefaults {
  return {
    clientOrderId: lc.clientOrderId ?? `sim${lc.orderId.slice(-12)}`,
    positionSide: lc.positionSide ?? 'BOTH',
    type: lc.type ?? 'LIMIT',
    timeInForce: lc.timeInForce ?? 'GTC',
    reduceOnly: lc.reduceOnly ?? false,
  };
}

const PRICELESS_TYPES: ReadonlySet<BinanceUsdmSimOrderType> = new Set(['MARKET', 'STOP_MARKET', 'TAKE_PROFIT_MARKET']);

/** The final (or current) venue-side state of one order: what `order.status` answers. Figures as sent. */
export interface BinanceUsdmOrderTruth {
  orderId: string;
  clientOrderId: string;
  symbol: string;
  status: BinanceUsdmOrderStatus;
  side: 'BUY' | 'SELL';
  positionSide: 'BOTH' | 'LONG' | 'SHORT';
  type: BinanceUsdmSimOrderType;
  timeInForce: BinanceUsdmSimTimeInForce;
  reduceOnly: boolean;
  /** as sent: "0" for market types */
  price: string;
  /** as sent: "0" when none */
  stopPrice: string;
  origQty: string;
  executedQty: string;
  /** as sent: "0.00000" before any fill */
  avgPrice: string;
  cumQuote: string;
  /** epoch ms */
  time: number;
  /** epoch ms of the last state change */
  updateTime: number;
  /** epoch ms, 0 = none */
  goodTillDate: number;
}

/** The truth after a step, figures printed as the simulator sends them. */
export function binanceUsdmTruthOf(
  lc: BinanceUsdmLifecycle,
  step: BinanceUsdmStep,
  times: { time: number; updateTime: number },
  instruments?: readonly BinanceUsdmSimInstrument[],
): BinanceUsdmOrderTruth {
  const d = binanceUsdmLifecycleDefaults(lc);
  const inst = binanceUsdmSimInstrument(lc.symbol, instruments);
  return {
    orderId: lc.orderId,
    clientOrderId: d.clientOrderId,
    symbol: lc.symbol,
    status: step.status,
    side: lc.side,
    positionSide: d.positionSide,
    type: d.type,
    timeInForce: d.timeInForce,
    reduceOnly: d.reduceOnly,
    price: PRICELESS_TYPES.has(d.type) ? '0' : binanceUsdmPadDecimal(lc.price, inst.priceDecimals),
    stopPrice: lc.stopPrice === undefined ? '0' : binanceUsdmPadDecimal(lc.stopPrice, inst.priceDecimals),
    origQty: binanceUsdmPadDecimal(lc.quantity, inst.qtyDecimals),
    executedQty: binanceUsdmPadDecimal(step.executedQty, inst.qtyDecimals),
    avgPrice: binanceUsdmPadDecimal(step.avgPrice, inst.avgPriceDecimals),
    cumQuote: binanceUsdmPadDecimal(step.cumQuote, 5),
    time: times.time,
    updateTime: times.updateTime,
    goodTillDate: d.timeInForce === 'GTD' ? (lc.goodTillDate ?? times.time + 24 * 60 * 60 * 1000) : 0,
  };
}

/**
 * The exact text of `result` for a truth, keys in the order of the official doc example, `orderId` as a bare
 * JSON integer with every int64 digit (JSON.stringify cannot write one above 2^53).
 */
export function binanceUsdmResultText(t: BinanceUsdmOrderTruth): string {
  const s = JSON.stringify;
  const members: Array<[string, string]> = [
    ['avgPrice', s(t.avgPrice)],
    ['clientOrderId', s(t.clientOrderId)],
    ['cumQuote', s(t.cumQuote)],
    ['executedQty', s(t.executedQty)],
    ['orderId', t.orderId],
    ['origQty', s(t.origQty)],
    ['origType', s(t.type)],
    ['price', s(t.price)],
    ['reduceOnly', s(t.reduceOnly)],
    ['side', s(t.side)],
    ['positionSide', s(t.positionSide)],
    ['status', s(t.status)],
    ['stopPrice', s(t.stopPrice)],
    ['closePosition', 'false'],
    ['symbol', s(t.symbol)],
    ['time', String(t.time)],
    ['timeInForce', s(t.timeInForce)],
    ['type', s(t.type)],
    ['updateTime', String(t.updateTime)],
    ['workingType', s('CONTRACT_PRICE')],
    ['priceProtect', 'false'],
    ['priceMatch', s('NONE')],
    ['selfTradePreventionMode', s('EXPIRE_MAKER')],
    ['goodTillDate', String(t.goodTillDate)],
  ];
  return `{${members.map(([k, v]) => `${s(k)}:${v}`).join(',')}}`;
}

/** `{"id":…,"status":200,"result":…,"rateLimits":[…]}` (rateLimits left out when undefined). */
export function binanceUsdmSuccessText(id: string | number | null, resultText: string, rateLimits?: readonly BinanceUsdmRateLimit[]): string {
  const rl = rateLimits === undefined ? '' : `,"rateLimits":${JSON.stringify(rateLimits)}`;
  return `{"id":${JSON.stringify(id)},"status":200,"result":${resultText}${rl}}`;
}

/** `{"id":…,"status":N,"error":{"code","msg"[,"data"]},"rateLimits":[…]}`. */
export function binanceUsdmErrorText(
  id: string | number | null,
  status: number,
  code: number,
  msg: string,
  options: { data?: Record<string, unknown>; rateLimits?: readonly BinanceUsdmRateLimit[] } = {},
): string {
  const error = options.data === undefined ? { code, msg } : { code, msg, data: options.data };
  const rl = options.rateLimits === undefined ? '' : `,"rateLimits":${JSON.stringify(options.rateLimits)}`;
  return `{"id":${JSON.stringify(id)},"status":${status},"error":${JSON.stringify(error)}${rl}}`;
}

// ---------------------------------------------------------------------------------------------------------------
// The oracle: what the canonical order must say, written independently of the mapper.

const EXPECTED_STATUS: Readonly<Record<BinanceUsdmOrderStatus, OrderStatus>> = {
  NEW: 'NEW',
  PARTIALLY_FILLED: 'PARTIALLY_FILLED',
  FILLED: 'FILLED',
  CANCELED: 'CANCELED',
  REJECTED: 'REJECTED',
  EXPIRED: 'EXPIRED',
  EXPIRED_IN_MATCH: 'EXPIRED',
};

const EXPECTED_TYPE: Readonly<Record<BinanceUsdmSimOrderType, OrderType>> = {
  LIMIT: 'LIMIT',
  MARKET: 'MARKET',
  STOP: 'STOP_LIMIT',
  STOP_MARKET: 'STOP_MARKET',
  TAKE_PROFIT: 'TAKE_PROFIT_LIMIT',
  TAKE_PROFIT_MARKET: 'TAKE_PROFIT_MARKET',
};

export type BinanceUsdmExpectedOrder = Pick<
  CanonicalOrder,
  | 'orderKey' | 'venue' | 'account' | 'orderId' | 'clientOrderId' | 'venueSymbol' | 'symbol' | 'instrumentKind' | 'side'
  | 'positionSide' | 'orderType' | 'venueOrderType' | 'timeInForce' | 'postOnly' | 'reduceOnly' | 'status' | 'venueStatus'
  | 'price' | 'triggerPrice' | 'quantity' | 'venueQuantity' | 'filledQuantity' | 'venueFilledQuantity' | 'averagePrice'
  | 'filledQuoteQuantity' | 'quoteQuantity' | 'fee' | 'feeAsset' | 'createdAt' | 'updatedAt'
>;

function expectedSymbol(symbol: string): { symbol: string | null; kind: InstrumentKind } {
  const m = /^(.+?)(USDT|USDC|BUSD)(?:_(\d{6}))?$/.exec(symbol);
  if (!m) return { symbol: null, kind: 'OTHER' };
  const [, base, quote, delivery] = m;
  return delivery ? { symbol: `${base}/${quote}:${quote}-${delivery}`, kind: 'FUTURE' } : { symbol: `${base}/${quote}:${quote}`, kind: 'PERPETUAL' };
}

/** The canonical fields the state topic must hold for an order whose last venue-side state is `t`. */
export function binanceUsdmExpectedCanonical(t: BinanceUsdmOrderTruth, account: string): BinanceUsdmExpectedOrder {
  const filled = normalizeDecimal(t.executedQty);
  const nothingFilled = isZeroDecimal(filled);
  const sym = expectedSymbol(t.symbol);
  return {
    orderKey: orderKeyOf('binance-usdm', account, t.orderId),
    venue: 'binance-usdm',
    account,
    orderId: t.orderId,
    clientOrderId: t.clientOrderId,
    venueSymbol: t.symbol,
    symbol: sym.symbol,
    instrumentKind: sym.kind,
    side: t.side,
    positionSide: t.positionSide,
    orderType: EXPECTED_TYPE[t.type],
    venueOrderType: t.type,
    timeInForce: t.timeInForce,
    postOnly: t.timeInForce === 'GTX',
    reduceOnly: t.reduceOnly,
    status: EXPECTED_STATUS[t.status],
    venueStatus: t.status,
    price: isZeroDecimal(t.price) ? null : normalizeDecimal(t.price),
    triggerPrice: isZeroDecimal(t.stopPrice) ? null : normalizeDecimal(t.stopPrice),
    quantity: normalizeDecimal(t.origQty),
    venueQuantity: normalizeDecimal(t.origQty),
    filledQuantity: filled,
    venueFilledQuantity: filled,
    averagePrice: nothingFilled || isZeroDecimal(t.avgPrice) ? null : normalizeDecimal(t.avgPrice),
    filledQuoteQuantity: normalizeDecimal(t.cumQuote),
    // order.status carries no fees and USDⓈ-M has no quote-quantity orders: these stay null
    quoteQuantity: null,
    fee: null,
    feeAsset: null,
    createdAt: t.time * 1000,
    updatedAt: t.updateTime * 1000,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Random lifecycles.

/** 2^53 + 1: the first integer a double cannot hold. Random ids start above it. */
export const BINANCE_USDM_FIRST_UNSAFE_ID = 9_007_199_254_740_993n;

function priceNear(rng: Rng, inst: BinanceUsdmSimInstrument, maxTicks: number, direction: -1 | 0 | 1): string {
  const ticks = BigInt(shiftDecimal(inst.price, -inst.priceDecimals).split('.')[0] as string);
  const offset = BigInt(rng.int(0, maxTicks)) * BigInt(direction === 0 ? (rng.chance(0.5) ? 1 : -1) : direction);
  const t = ticks + offset > 0n ? ticks + offset : 1n;
  return shiftDecimal(t.toString(), inst.priceDecimals);
}

/** Splits `total` lots into `parts` positive parts (fewer when there are not enough lots). */
function splitLots(rng: Rng, total: bigint, parts: number): bigint[] {
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
 * `count` lifecycles that are a pure function of `seed`: same seed, same orders. Order ids are int64 above 2^53
 * (`2^53 + 1 + (seed mod 10^6) × 10^9 + i`), so every id exercises the exact-digit path; unique within a seed and
 * across seeds that differ mod 10^6. Mix: about 40 % fill, 20 % cancel, 15 % partial-cancel, 5 % reject,
 * 10 % expire, 10 % expire-in-match; 25 % market orders; LIMIT time in force GTC, GTX (post-only) or GTD.
 */
export function binanceUsdmRandomLifecycles(
  count: number,
  seed: number,
  instruments: readonly BinanceUsdmSimInstrument[] = BINANCE_USDM_SIM_INSTRUMENTS,
): BinanceUsdmLifecycle[] {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`count must be a non-negative integer, got ${count}`);
  const rng = seededRng(seed);
  const idBase = BINANCE_USDM_FIRST_UNSAFE_ID + BigInt((seed >>> 0) % 1_000_000) * 1_000_000_000n;
  const out: BinanceUsdmLifecycle[] = [];
  for (let i = 0; i < count; i++) {
    const inst = rng.pick(instruments);
    const side = rng.chance(0.5) ? 'BUY' : 'SELL';
    const market = rng.chance(0.25);
    const roll = rng.next();
    let kind: BinanceUsdmLifecycleKind =
      roll < 0.4 ? 'fill' : roll < 0.6 ? 'cancel' : roll < 0.75 ? 'partial-cancel' : roll < 0.8 ? 'reject' : roll < 0.9 ? 'expire' : 'expire-in-match';
    if (market && kind !== 'fill' && kind !== 'reject') kind = 'fill';
    const lotsMax = inst.qtyDecimals === 0 ? 500 : 2000;
    let lots = BigInt(rng.int(1, lotsMax));
    if (kind !== 'fill' && kind !== 'cancel' && kind !== 'reject' && lots < 2n) lots = 2n;
    const quantity = shiftDecimal(lots.toString(), inst.qtyDecimals);
    const price = priceNear(rng, inst, 20, 0);
    const fillDirection: -1 | 0 | 1 = market ? 0 : side === 'BUY' ? -1 : 1;
    const fillPrice = () => (market ? priceNear(rng, inst, 10, 0) : offsetFrom(rng, price, inst, fillDirection));
    const toFills = (ls: bigint[]) => ls.map((l) => ({ qty: shiftDecimal(l.toString(), inst.qtyDecimals), price: fillPrice() }));
    let fills: BinanceUsdmFill[] | undefined;
    if (kind === 'fill') fills = toFills(splitLots(rng, lots, rng.int(1, 4)));
    if (kind === 'partial-cancel') fills = toFills(splitLots(rng, BigInt(rng.int(1, Number(lots) - 1)), rng.int(1, 3)));
    if ((kind === 'expire' || kind === 'expire-in-match') && rng.chance(0.5)) {
      fills = toFills(splitLots(rng, BigInt(rng.int(1, Number(lots) - 1)), rng.int(1, 2)));
    }
    if (kind === 'expire' || kind === 'expire-in-match') fills ??= [];
    const timeInForce: BinanceUsdmSimTimeInForce = market ? 'GTC' : rng.pick(['GTC', 'GTC', 'GTX', 'GTD'] as const);
    const hedge = rng.chance(0.3);
    const positionSide = hedge ? (side === 'BUY' ? 'LONG' : 'SHORT') : 'BOTH';
    out.push({
      orderId: (idBase + BigInt(i)).toString(),
      clientOrderId: `os-${seed >>> 0}-${i}`,
      symbol: inst.symbol,
      kind,
      side,
      positionSide,
      type: market ? 'MARKET' : 'LIMIT',
      timeInForce,
      price,
      quantity,
      ...(fills ? { fills } : {}),
      reduceOnly: !hedge && rng.chance(0.2),
    });
  }
  return out;
}

/** A fill price at the limit or better by up to 5 ticks (BUY lower, SELL higher). */
function offsetFrom(rng: Rng, price: string, inst: BinanceUsdmSimInstrument, direction: -1 | 0 | 1): string {
  const ticks = BigInt(shiftDecimal(price, -inst.priceDecimals).split('.')[0] as string);
  const k = BigInt(rng.int(0, 5)) * BigInt(direction);
  const t = ticks + k > 0n ? ticks + k : ticks;
  return shiftDecimal(t.toString(), inst.priceDecimals);
}
