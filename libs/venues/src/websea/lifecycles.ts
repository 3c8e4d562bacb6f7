import { addDecimals, compareDecimals, divDecimals, isZeroDecimal, mulDecimals, normalizeDecimal, shiftDecimal, subDecimals } from '@orderstream/kit';
import { orderKeyOf, type CanonicalOrder, type Execution, type OrderStatus } from '@orderstream/schemas';
import { seededRng, type Rng } from '../sim/random.js';
import type { WebseaOrderStatus } from './frames.js';
import { webseaExecutionId } from './mapper.js';

/**
 * Scripted order lifecycles for the WebSea simulator: the pushes a spot order produces (one per event, each with the
 * latest execution only) and the venue-side truth, with the cumulative figures the state topic must converge to
 * once order-state has summed the distinct executions. Pure: no I/O.
 */

export type WebseaLifecycleKind = 'fill' | 'cancel' | 'partial-cancel';
export const WEBSEA_LIFECYCLE_KINDS: readonly WebseaLifecycleKind[] = ['fill', 'cancel', 'partial-cancel'];

export interface WebseaExecution {
  /** base units, positive decimal string */
  qty: string;
  /** execution price, positive decimal string */
  price: string;
  /** default: qty × price × feeRate, rounded half-even to 8 decimals */
  fee?: string;
  /** execution time, unix seconds; default entrust time + position (1, 2, …) */
  ts?: number;
}

export interface WebseaLifecycle {
  /** WebSea order ids look like `BL2217102085443303CZQ2P` */
  orderId: string;
  /** WebSea symbol: `BTC-USDT` */
  symbol: string;
  /**
   * - `fill`: NEW → TRADE (PARTIALLY_FILLED) per execution but the last → TRADE (FILLED)
   * - `cancel`: NEW → CANCELED (CANCELED)
   * - `partial-cancel`: NEW → TRADE (PARTIALLY_FILLED) per execution → CANCELED (PARTIALLY_CANCELED)
   */
  kind: WebseaLifecycleKind;
  side: 'BUY' | 'SELL';
  /** default LIMIT */
  orderType?: 'LIMIT' | 'MARKET';
  /** limit price; for MARKET orders the frames carry price "" and this is only the default execution price */
  price: string;
  /** base units; for a MARKET BUY the quote notional (WSDOC) */
  amount: string;
  triggerPrice?: string;
  /**
   * `fill`: base quantities sum to `amount` (MARKET BUY: Σ qty × price ≤ amount, the rest is dust); default one
   * execution of everything at `price`. `partial-cancel`: less than that, at least one (default: half).
   * `cancel`: none.
   */
  executions?: WebseaExecution[];
  /** unix seconds; default: when play() starts */
  entrustTime?: number;
}

/** An execution after defaults, with its id as the mapper derives it. */
export interface WebseaEffectiveExecution {
  id: string;
  qty: string;
  price: string;
  fee: string;
  ts: number;
}

/** One push of a lifecycle. */
export interface WebseaStep {
  event: 'NEW' | 'TRADE' | 'CANCELED';
  status: WebseaOrderStatus;
  /** the execution this push reports (TRADE), else null */
  execution: WebseaEffectiveExecution | null;
  /** the latest execution so far (this push's, or an earlier one), null before the first */
  latest: WebseaEffectiveExecution | null;
  /** top-level push time, unix seconds */
  pushTs: number;
  /** executions so far, including this push's */
  executed: number;
}

/** The venue-side state of one order after its last played step, with exact cumulative figures. */
export interface WebseaOrderTruth {
  orderId: string;
  symbol: string;
  side: 'BUY' | 'SELL';
  orderType: 'LIMIT' | 'MARKET';
  /** as sent: base units, or quote notional for a MARKET BUY */
  amount: string;
  /** as sent: "" for MARKET */
  price: string;
  triggerPrice: string | null;
  status: WebseaOrderStatus;
  event: 'NEW' | 'TRADE' | 'CANCELED';
  /** unix seconds; null when the frames left it out (quirk omitEntrustTime) */
  entrustTime: number | null;
  /** every execution so far, in venue order */
  executions: WebseaEffectiveExecution[];
  /** Σ qty (exact) */
  filledQuantity: string;
  /** Σ qty × price (exact) */
  filledQuoteQuantity: string;
  /** Σ fee (exact) */
  fee: string;
  /** Σ(qty × price) / Σ qty rounded half-even to WEBSEA_AVERAGE_PRICE_SCALE; null without executions */
  averagePrice: string | null;
  /** the same quotient exactly, when it terminates (e.g. "64000.38"); null when it repeats or nothing executed */
  averagePriceExact: string | null;
}

/** Optional deviations from the plain frame, to exercise what the mapper tolerates. */
export interface WebseaFrameQuirks {
  /** absent execution fields as `""` (the WSDOC example; default) instead of left out */
  emptyStringsForAbsent: boolean;
  /** leave out entrust_time, as the WSDOC example does (documented as required) */
  omitEntrustTime: boolean;
  /** the cancel push after executions repeats the latest execution's fields (hypothesis: not documented) */
  repeatLastFillOnCancel: boolean;
}

export const WEBSEA_NO_QUIRKS: Readonly<WebseaFrameQuirks> = Object.freeze({
  emptyStringsForAbsent: true,
  omitEntrustTime: false,
  repeatLastFillOnCancel: false,
});

/** Spot instruments the simulator knows. */
export interface WebseaSimInstrument {
  symbol: string;
  /** a typical price, for random lifecycles */
  price: string;
  /** price decimals (tick = 10^-priceDecimals) */
  priceDecimals: number;
  /** quantity decimals (lot = 10^-qtyDecimals) */
  qtyDecimals: number;
}

export const WEBSEA_SIM_INSTRUMENTS: readonly WebseaSimInstrument[] = Object.freeze([
  { symbol: 'BTC-USDT', price: '64000.5', priceDecimals: 1, qtyDecimals: 5 },
  { symbol: 'ETH-USDT', price: '3200.25', priceDecimals: 2, qtyDecimals: 4 },
  { symbol: 'SOL-USDT', price: '150.123', priceDecimals: 3, qtyDecimals: 2 },
  { symbol: 'PEPE-USDT', price: '0.00001234', priceDecimals: 8, qtyDecimals: 0 },
  // a non-ASCII base asset, as WebSea lists some (NEMA): exercises UTF-8 end to end
  { symbol: '币安人生-USDT', price: '0.1234', priceDecimals: 4, qtyDecimals: 1 },
]);

/**
 * Decimals of the derived average price: Σ(qty × price) / Σqty rounded half-even (kit divDecimals) to 12 places,
 * printed without trailing zeros. WebSea sends no average; 12 places keep at least 4 digits below the finest spot
 * tick (1e-8). order-state should derive the average the same way (same formula, same scale, half-even) so the
 * end-to-end comparison is exact; when the quotient terminates, `averagePriceExact` is the unrounded value.
 */
export const WEBSEA_AVERAGE_PRICE_SCALE = 12;

/** Default fee rate of simulated executions (WebSea spot: 0.2 % maker and taker, NEMA fees.md). */
export const WEBSEA_SIM_FEE_RATE = '0.002';

const DECIMAL_RE = /^\d+(?:\.\d+)?$/;

function positive(where: string, what: string, v: string): void {
  if (!DECIMAL_RE.test(v) || isZeroDecimal(v)) throw new RangeError(`${where}: ${what} must be a positive decimal string, got ${JSON.stringify(v)}`);
}

/** True for a MARKET BUY, whose `amount` is the quote notional. */
export function webseaIsNotionalOrder(lc: Pick<WebseaLifecycle, 'orderType' | 'side'>): boolean {
  return (lc.orderType ?? 'LIMIT') === 'MARKET' && lc.side === 'BUY';
}

/** The largest multiple of 10^-decimals not above a / b (a, b positive). */
function floorQuotient(a: string, b: string, decimals: number): string {
  let q = divDecimals(a, b, decimals);
  if (compareDecimals(mulDecimals(q, b), a) > 0) q = subDecimals(q, shiftDecimal('1', decimals));
  return q;
}

/**
 * The executions of a lifecycle after defaults (fee, ts, id); throws a RangeError naming the order for an
 * impossible script, including two executions that would get the same id (same second, qty, price and fee).
 */
export function webseaEffectiveExecutions(lc: WebseaLifecycle, entrustTime: number, feeRate: string = WEBSEA_SIM_FEE_RATE): WebseaEffectiveExecution[] {
  const where = `lifecycle ${lc.orderId} (${lc.kind})`;
  positive(where, 'amount', lc.amount);
  positive(where, 'price', lc.price);
  if (lc.triggerPrice !== undefined) positive(where, 'triggerPrice', lc.triggerPrice);
  const notional = webseaIsNotionalOrder(lc);
  let scripted = lc.executions;
  if (scripted === undefined) {
    if (lc.kind === 'cancel') scripted = [];
    else {
      const share = lc.kind === 'fill' ? lc.amount : divDecimals(lc.amount, '2', 8);
      const qty = notional ? floorQuotient(share, lc.price, 8) : share;
      scripted = [{ qty, price: lc.price }];
    }
  }
  const out: WebseaEffectiveExecution[] = [];
  scripted.forEach((e, i) => {
    positive(where, `execution #${i + 1} qty`, e.qty);
    positive(where, `execution #${i + 1} price`, e.price);
    const fee = e.fee ?? divDecimals(mulDecimals(mulDecimals(e.qty, e.price), feeRate), '1', 8);
    normalizeDecimal(fee);
    const ts = e.ts ?? entrustTime + i + 1;
    if (!Number.isSafeInteger(ts) || ts <= 0) throw new RangeError(`${where}: execution #${i + 1} ts must be unix seconds, got ${ts}`);
    const id = webseaExecutionId({ orderId: lc.orderId, ts: String(ts), quantity: e.qty, price: e.price, fee });
    const twin = out.findIndex((x) => x.id === id);
    if (twin >= 0) {
      throw new RangeError(`${where}: executions #${twin + 1} and #${i + 1} would get the same execution id ${id} (same second, qty, price and fee)`);
    }
    out.push({ id, qty: normalizeDecimal(e.qty), price: normalizeDecimal(e.price), fee: normalizeDecimal(fee), ts });
  });
  const qty = out.reduce((s, e) => addDecimals(s, e.qty), '0');
  const quote = out.reduce((s, e) => addDecimals(s, mulDecimals(e.qty, e.price)), '0');
  const filled = notional ? quote : qty;
  const cmp = compareDecimals(filled, lc.amount);
  const unit = notional ? 'quote notional Σ qty × price' : 'quantities';
  if (lc.kind === 'fill' && (notional ? cmp > 0 || out.length === 0 : cmp !== 0)) {
    throw new RangeError(`${where}: execution ${unit} sum to ${filled}, must ${notional ? 'be positive and at most' : 'equal'} amount ${lc.amount}`);
  }
  if (lc.kind === 'partial-cancel' && (cmp >= 0 || out.length === 0)) {
    throw new RangeError(`${where}: execution ${unit} sum to ${filled}, must be more than 0 and less than amount ${lc.amount}`);
  }
  if (lc.kind === 'cancel' && out.length > 0) throw new RangeError(`${where}: a cancel has no executions`);
  return out;
}

/** The pushes a lifecycle produces, in venue order. */
export function webseaLifecycleSteps(lc: WebseaLifecycle, entrustTime: number, feeRate: string = WEBSEA_SIM_FEE_RATE): WebseaStep[] {
  const executions = webseaEffectiveExecutions(lc, entrustTime, feeRate);
  const steps: WebseaStep[] = [{ event: 'NEW', status: 'NEW', execution: null, latest: null, pushTs: entrustTime, executed: 0 }];
  executions.forEach((e, i) => {
    const last = i === executions.length - 1;
    const status = last && lc.kind === 'fill' ? 'FILLED' : 'PARTIALLY_FILLED';
    steps.push({ event: 'TRADE', status, execution: e, latest: e, pushTs: e.ts, executed: i + 1 });
  });
  const latest = executions.at(-1) ?? null;
  const lastTs = executions.length > 0 ? Math.max(entrustTime, ...executions.map((e) => e.ts)) : entrustTime;
  if (lc.kind === 'cancel') steps.push({ event: 'CANCELED', status: 'CANCELED', execution: null, latest, pushTs: lastTs + 1, executed: 0 });
  if (lc.kind === 'partial-cancel') {
    steps.push({ event: 'CANCELED', status: 'PARTIALLY_CANCELED', execution: null, latest, pushTs: lastTs + 1, executed: executions.length });
  }
  return steps;
}

/**
 * The exact text of one push, laid out like the WSDOC example (same key order; strings for decimals; `""` for
 * absent execution fields unless quirks say otherwise), plus `entrust_time` (documented, missing from the example)
 * and `trigger_price` when set.
 */
export function webseaOrderFrameText(
  lc: WebseaLifecycle,
  step: WebseaStep,
  options: { entrustTime: number; quirks?: WebseaFrameQuirks },
): string {
  const quirks = options.quirks ?? WEBSEA_NO_QUIRKS;
  const market = (lc.orderType ?? 'LIMIT') === 'MARKET';
  const exec = step.execution ?? (quirks.repeatLastFillOnCancel && step.event === 'CANCELED' ? step.latest : null);
  const order: Record<string, unknown> = { symbol: lc.symbol, side: lc.side, amount: lc.amount };
  const optional = (key: string, value: string | number | null) => {
    if (value !== null) order[key] = value;
    else if (quirks.emptyStringsForAbsent) order[key] = '';
  };
  optional('last_price', exec ? exec.price : null);
  optional('last_fee', exec ? exec.fee : null);
  optional('last_amount', exec ? exec.qty : null);
  order.price = market ? '' : lc.price;
  order.event = step.event;
  order.order_id = lc.orderId;
  order.order_type = lc.orderType ?? 'LIMIT';
  order.status = step.status;
  optional('ts', exec ? exec.ts : null);
  if (!quirks.omitEntrustTime) order.entrust_time = options.entrustTime;
  if (lc.triggerPrice !== undefined) order.trigger_price = lc.triggerPrice;
  return JSON.stringify({ channel: 'order', ts: step.pushTs, order });
}

/** The exact quotient a / b in normal form when its decimal expansion terminates, else null. */
export function webseaExactQuotient(a: string, b: string): string | null {
  const parse = (s: string): [bigint, number] => {
    const n = normalizeDecimal(s);
    const neg = n.startsWith('-');
    const [i = '0', f = ''] = (neg ? n.slice(1) : n).split('.');
    const u = BigInt(i + f);
    return [neg ? -u : u, f.length];
  };
  const [au, as] = parse(a);
  const [bu, bs] = parse(b);
  if (bu === 0n) throw new RangeError('division by zero');
  // a / b = (au · 10^bs) / (bu · 10^as)
  let num = au * 10n ** BigInt(bs);
  let den = bu * 10n ** BigInt(as);
  if (den < 0n) {
    num = -num;
    den = -den;
  }
  const g = gcd(num < 0n ? -num : num, den);
  den /= g;
  let twos = 0;
  let fives = 0;
  while (den % 2n === 0n) {
    den /= 2n;
    twos++;
  }
  while (den % 5n === 0n) {
    den /= 5n;
    fives++;
  }
  if (den !== 1n) return null;
  return divDecimals(a, b, Math.max(twos, fives));
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a === 0n ? 1n : a;
}

/** Exact cumulative figures of a list of executions (what order-state derives by summing distinct executions). */
export function webseaCumulative(
  executions: readonly Pick<WebseaEffectiveExecution, 'qty' | 'price' | 'fee'>[],
  scale: number = WEBSEA_AVERAGE_PRICE_SCALE,
): { filledQuantity: string; filledQuoteQuantity: string; fee: string; averagePrice: string | null; averagePriceExact: string | null } {
  let qty = '0';
  let quote = '0';
  let fee = '0';
  for (const e of executions) {
    qty = addDecimals(qty, e.qty);
    quote = addDecimals(quote, mulDecimals(e.qty, e.price));
    fee = addDecimals(fee, e.fee);
  }
  const none = isZeroDecimal(qty);
  return {
    filledQuantity: qty,
    filledQuoteQuantity: quote,
    fee,
    averagePrice: none ? null : divDecimals(quote, qty, scale),
    averagePriceExact: none ? null : webseaExactQuotient(quote, qty),
  };
}

/** The truth after `steps[index]` (executions counted up to that step). */
export function webseaTruthOf(
  lc: WebseaLifecycle,
  steps: readonly WebseaStep[],
  index: number,
  options: { entrustTime: number; quirks?: WebseaFrameQuirks; averagePriceScale?: number },
): WebseaOrderTruth {
  const step = steps[index];
  if (!step) throw new RangeError(`lifecycle ${lc.orderId}: no step #${index}`);
  const executions = steps.slice(0, index + 1).flatMap((s) => (s.execution ? [s.execution] : []));
  const orderType = lc.orderType ?? 'LIMIT';
  return {
    orderId: lc.orderId,
    symbol: lc.symbol,
    side: lc.side,
    orderType,
    amount: lc.amount,
    price: orderType === 'MARKET' ? '' : lc.price,
    triggerPrice: lc.triggerPrice ?? null,
    status: step.status,
    event: step.event,
    entrustTime: options.quirks?.omitEntrustTime ? null : options.entrustTime,
    executions: executions.map((e) => ({ ...e })),
    ...webseaCumulative(executions, options.averagePriceScale ?? WEBSEA_AVERAGE_PRICE_SCALE),
  };
}

/** WebSea status → unified status, written out independently of the mapper so the two check each other. */
const EXPECTED_STATUS: Readonly<Record<WebseaOrderStatus, OrderStatus>> = {
  NEW: 'NEW',
  PARTIALLY_FILLED: 'PARTIALLY_FILLED',
  FILLED: 'FILLED',
  PARTIALLY_CANCELED: 'CANCELED',
  CANCELED: 'CANCELED',
};

export type WebseaExpectedOrder = Pick<
  CanonicalOrder,
  | 'orderKey' | 'venue' | 'account' | 'orderId' | 'clientOrderId' | 'venueSymbol' | 'symbol' | 'instrumentKind' | 'side'
  | 'orderType' | 'venueOrderType' | 'status' | 'venueStatus' | 'price' | 'triggerPrice' | 'quantity' | 'venueQuantity'
  | 'quoteQuantity' | 'filledQuantity' | 'filledQuoteQuantity' | 'averagePrice' | 'fee' | 'feeAsset' | 'createdAt'
>;

export interface WebseaExpectedState {
  /** fields of `OrderState.order` after order-state has folded every push and summed the distinct executions */
  order: WebseaExpectedOrder;
  /** the distinct executions (`OrderState.executions`), in venue order; compare as a set (arrival order may differ) */
  executions: Execution[];
  /** the unrounded average when the quotient terminates, else null */
  averagePriceExact: string | null;
}

/**
 * The oracle: what `orders.state.v1` must hold for an order once the simulator has played it to the end and
 * order-state has summed its distinct executions. Cumulative rules (for the lead's order-state):
 * - filledQuantity = Σ last_amount, filledQuoteQuantity = Σ last_amount × last_price, fee = Σ last_fee, each over
 *   distinct lastFillId, exact; "0" when nothing executed;
 * - averagePrice = filledQuoteQuantity / filledQuantity, kit divDecimals (half-even) at `averagePriceScale`
 *   (default WEBSEA_AVERAGE_PRICE_SCALE = 12), null when nothing executed;
 * - feeAsset null (undocumented); venueFilledQuantity is not part of the oracle (null in every canonical record).
 */
export function webseaExpectedState(truth: WebseaOrderTruth, account: string, options: { averagePriceScale?: number } = {}): WebseaExpectedState {
  const [base = '', quote = ''] = truth.symbol.split('-');
  const notional = truth.orderType === 'MARKET' && truth.side === 'BUY';
  const amount = normalizeDecimal(truth.amount);
  const cumulative = webseaCumulative(truth.executions, options.averagePriceScale ?? WEBSEA_AVERAGE_PRICE_SCALE);
  return {
    order: {
      orderKey: orderKeyOf('websea', account, truth.orderId),
      venue: 'websea',
      account,
      orderId: truth.orderId,
      clientOrderId: null,
      venueSymbol: truth.symbol,
      symbol: `${base.toUpperCase()}/${quote.toUpperCase()}`,
      instrumentKind: 'SPOT',
      side: truth.side,
      orderType: truth.orderType,
      venueOrderType: truth.orderType,
      status: EXPECTED_STATUS[truth.status],
      venueStatus: truth.status,
      price: truth.price === '' ? null : normalizeDecimal(truth.price),
      triggerPrice: truth.triggerPrice === null ? null : normalizeDecimal(truth.triggerPrice),
      quantity: notional ? null : amount,
      venueQuantity: notional ? null : amount,
      quoteQuantity: notional ? amount : null,
      filledQuantity: cumulative.filledQuantity,
      filledQuoteQuantity: cumulative.filledQuoteQuantity,
      averagePrice: cumulative.averagePrice,
      fee: cumulative.fee,
      feeAsset: null,
      createdAt: truth.entrustTime === null ? null : truth.entrustTime * 1_000_000,
    },
    executions: truth.executions.map((e) => ({ id: e.id, quantity: e.qty, price: e.price, fee: e.fee })),
    averagePriceExact: cumulative.averagePriceExact,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Random lifecycles.

function ticksOf(value: string, decimals: number): bigint {
  return BigInt(shiftDecimal(value, -decimals).split('.')[0] as string);
}

function priceNear(rng: Rng, inst: WebseaSimInstrument, maxTicks: number): string {
  const ticks = ticksOf(inst.price, inst.priceDecimals);
  const offset = BigInt(rng.int(-maxTicks, maxTicks));
  const t = ticks + offset > 0n ? ticks + offset : 1n;
  return shiftDecimal(t.toString(), inst.priceDecimals);
}

/** `total` lots split into up to `parts` positive pieces. */
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

const ID_LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/**
 * `count` lifecycles that are a pure function of `seed` (same seed → same ids, kinds, executions). Ids are
 * `BL<seed, 6 digits><index, 6 digits><5 letters>`: unique within a seed. Mix: about 35 % limit fills, 20 % cancels,
 * 20 % partial cancels, 15 % market BUYs by notional (one in five ends PARTIALLY_CANCELED), 10 % market SELLs.
 */
export function webseaRandomLifecycles(count: number, seed: number, instruments: readonly WebseaSimInstrument[] = WEBSEA_SIM_INSTRUMENTS): WebseaLifecycle[] {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`count must be a non-negative integer, got ${count}`);
  const rng = seededRng(seed);
  const seedDigits = String((seed >>> 0) % 1_000_000).padStart(6, '0');
  const out: WebseaLifecycle[] = [];
  for (let i = 0; i < count; i++) {
    const inst = rng.pick(instruments);
    const roll = rng.next();
    let suffix = '';
    for (let k = 0; k < 5; k++) suffix += rng.pick([...ID_LETTERS]);
    const orderId = `BL${seedDigits}${String(i).padStart(6, '0')}${suffix}`;
    const lot = shiftDecimal('1', inst.qtyDecimals);
    const lots = BigInt(rng.int(2, 5_000));
    const price = priceNear(rng, inst, 20);
    const fillPrice = () => priceNear(rng, inst, 5);

    if (roll < 0.75) {
      const kind: WebseaLifecycleKind = roll < 0.35 ? 'fill' : roll < 0.55 ? 'cancel' : 'partial-cancel';
      const side = rng.chance(0.5) ? 'BUY' : 'SELL';
      const amount = mulDecimals(lots.toString(), lot);
      let executions: WebseaExecution[] | undefined;
      if (kind === 'fill') executions = splitLots(rng, lots, rng.int(1, 4)).map((l) => ({ qty: mulDecimals(l.toString(), lot), price: fillPrice() }));
      if (kind === 'partial-cancel') {
        const filled = BigInt(rng.int(1, Number(lots) - 1));
        executions = splitLots(rng, filled, rng.int(1, 3)).map((l) => ({ qty: mulDecimals(l.toString(), lot), price: fillPrice() }));
      }
      out.push({ orderId, symbol: inst.symbol, kind, side, orderType: 'LIMIT', price, amount, ...(executions ? { executions } : {}) });
    } else if (roll < 0.9) {
      // Market BUY by notional: each execution spends a share of the notional at its price, in whole lots.
      const notional = String(rng.int(50, 5_000));
      const partial = rng.chance(0.2);
      const parts = rng.int(1, 3);
      const budget = partial ? divDecimals(notional, '2', 2) : notional;
      const executions: WebseaExecution[] = [];
      for (let p = 0; p < parts; p++) {
        const px = fillPrice();
        const share = divDecimals(budget, String(parts), 8);
        const qty = floorQuotient(share, px, inst.qtyDecimals);
        if (!isZeroDecimal(qty)) executions.push({ qty, price: px });
      }
      if (executions.length === 0) executions.push({ qty: lot, price: fillPrice() });
      out.push({ orderId, symbol: inst.symbol, kind: partial ? 'partial-cancel' : 'fill', side: 'BUY', orderType: 'MARKET', price, amount: notional, executions });
    } else {
      const amount = mulDecimals(lots.toString(), lot);
      const executions = splitLots(rng, lots, rng.int(1, 3)).map((l) => ({ qty: mulDecimals(l.toString(), lot), price: fillPrice() }));
      out.push({ orderId, symbol: inst.symbol, kind: 'fill', side: 'SELL', orderType: 'MARKET', price, amount, executions });
    }
  }
  return out;
}
