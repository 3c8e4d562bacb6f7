import { createHash } from 'node:crypto';
import { addDecimals, compareDecimals, divDecimals, isZeroDecimal, mulDecimals, normalizeDecimal, shiftDecimal } from '@orderstream/kit';
import { orderKeyOf, type CanonicalOrder, type OrderStatus } from '@orderstream/schemas';
import { EMPTY_REFERENCE, type ReferenceData } from '../reference.js';
import { seededRng, type Rng } from '../sim/random.js';
import type { LoopringOrderStatus } from './frames.js';

/**
 * Scripted order lifecycles for the Loopring simulator: what a relayer-side order goes through, the frames it
 * produces, and the final venue-side truth that the end-to-end tests compare the state topic with. Pure: no I/O.
 * Every amount is an integer of raw token units, computed exactly (BigInt / the kit's decimal strings).
 */

export type LoopringLifecycleKind = 'fill' | 'cancel' | 'partial-cancel' | 'expire';
export const LOOPRING_LIFECYCLE_KINDS: readonly LoopringLifecycleKind[] = ['fill', 'cancel', 'partial-cancel', 'expire'];

export interface LoopringFill {
  /** raw base-token units, positive integer string */
  size: string;
  /** execution price, human decimal (quote per base); default the order's price */
  price?: string;
}

export interface LoopringLifecycle {
  /** order hash, unique across play() calls: `0x` + 64 hex in REST, any non-empty string accepted */
  hash: string;
  /** default `sim-<hash prefix>` */
  clientOrderId?: string;
  /** a market of the simulator, e.g. `LRC-ETH` */
  market: string;
  /**
   * - `fill`: processing (nothing filled) → processing (one per fill but the last) → processed
   * - `cancel`: processing → cancelling → cancelled
   * - `partial-cancel`: processing → processing (one per fill) → cancelling → cancelled
   * - `expire`: processing → [processing per fill] → expired
   */
  kind: LoopringLifecycleKind;
  side: 'BUY' | 'SELL';
  /** limit price, human decimal (quote per base) */
  price: string;
  /** raw base-token units, positive integer string */
  size: string;
  /**
   * Executions. `fill`: sizes must sum to size (default: one fill of everything at price); `partial-cancel`: more than
   * 0, less than size (default: half, rounded down); `expire`: less than size (default none); `cancel`: none.
   */
  fills?: LoopringFill[];
  /** fee rate in basis points of the token received; default 20 (0.2 %) */
  feeBips?: number;
  /** start as `waiting` (validSince 10 minutes ahead) before `processing`; default false */
  waitingFirst?: boolean;
  /** epoch ms; default: when play() starts */
  createdAt?: number;
  /** validUntil − validSince in seconds; default 30 days */
  validForSeconds?: number;
}

/** One push of a lifecycle: the relayer-side state after an event. Cumulative raw units. */
export interface LoopringStep {
  status: LoopringOrderStatus;
  filledSize: string;
  filledVolume: string;
  filledFee: string;
}

/** A market the simulator trades: token decimals (reference data) and what random lifecycles look like. */
export interface LoopringSimMarket {
  market: string;
  baseDecimals: number;
  quoteDecimals: number;
  /** a typical price, for random lifecycles */
  price: string;
  /** price decimals (tick = 10^-priceDecimals) */
  priceDecimals: number;
  /** decimals of random human sizes (lot = 10^-sizeDecimals base tokens) */
  sizeDecimals: number;
}

export const LOOPRING_SIM_MARKETS: readonly LoopringSimMarket[] = Object.freeze([
  { market: 'LRC-ETH', baseDecimals: 18, quoteDecimals: 18, price: '0.00012345', priceDecimals: 8, sizeDecimals: 2 },
  { market: 'LRC-USDT', baseDecimals: 18, quoteDecimals: 6, price: '0.2731', priceDecimals: 4, sizeDecimals: 1 },
  { market: 'ETH-USDT', baseDecimals: 18, quoteDecimals: 6, price: '3150.5', priceDecimals: 2, sizeDecimals: 4 },
  { market: 'WBTC-ETH', baseDecimals: 8, quoteDecimals: 18, price: '17.0123', priceDecimals: 4, sizeDecimals: 5 },
]);

/** The final (or any) relayer-side state of one order: what the state topic must converge to. */
export interface LoopringOrderTruth {
  hash: string;
  clientOrderId: string;
  market: string;
  side: 'BUY' | 'SELL';
  status: LoopringOrderStatus;
  /** human decimal as sent */
  price: string;
  /** raw base units */
  size: string;
  /** raw quote units: size × price, rounded half-even to an integer */
  volume: string;
  filledSize: string;
  filledVolume: string;
  /** raw units of the token received */
  filledFee: string;
  /** epoch ms as sent (whole seconds with the secondsTimes quirk) */
  createdAt: number;
  /** epoch ms as sent; also the push time `ts` */
  updateAt: number;
  /** epoch seconds */
  validSince: number;
  validUntil: number;
}

/** Optional deviations from the documented frame, to exercise the quirks the mapper tolerates. */
export interface LoopringFrameQuirks {
  /** push topic as `{"topic:":"order",…}` (the doc typo key) */
  topicTypoKey: boolean;
  /** push topic as the legacy string `"order&LRC-ETH"` */
  legacyStringTopic: boolean;
  /** createdAt / updateAt / validSince / validUntil as digit strings (the doc example) */
  stringTimes: boolean;
  /** ts / createdAt / updateAt as 10-digit seconds (the doc example's magnitude) */
  secondsTimes: boolean;
  /** leave updateAt out (the doc example); the mapper then uses ts */
  omitUpdateAt: boolean;
  /** side `BUY` / `SELL` (REST spelling) instead of `buy` / `sell` */
  upperCaseSide: boolean;
}

export const LOOPRING_NO_QUIRKS: Readonly<LoopringFrameQuirks> = Object.freeze({
  topicTypoKey: false,
  legacyStringTopic: false,
  stringTimes: false,
  secondsTimes: false,
  omitUpdateAt: false,
  upperCaseSide: false,
});

const DEFAULT_FEE_BIPS = 20;
const DEFAULT_VALID_FOR_S = 30 * 24 * 3600;
const WAITING_DELAY_S = 600;
const INT_RE = /^[1-9]\d*$/;

/** The market entry of a lifecycle; throws RangeError when the simulator does not know it. */
export function loopringSimMarket(market: string, markets: readonly LoopringSimMarket[] = LOOPRING_SIM_MARKETS): LoopringSimMarket {
  const m = markets.find((x) => x.market === market);
  if (!m) throw new RangeError(`unknown market ${JSON.stringify(market)} (simulator markets: ${markets.map((x) => x.market).join(', ')})`);
  return m;
}

/** Raw quote units for `size` raw base units at a human `price`: size × price × 10^(qd − bd), half-even to an integer. */
export function loopringQuoteUnits(size: string, price: string, m: Pick<LoopringSimMarket, 'baseDecimals' | 'quoteDecimals'>): string {
  return divDecimals(shiftDecimal(mulDecimals(size, price), m.baseDecimals - m.quoteDecimals), '1', 0);
}

/** Fee of one execution in raw units of the token received: floor(received × bips ÷ 10000). */
function feeUnits(received: string, bips: number): string {
  return ((BigInt(received) * BigInt(bips)) / 10_000n).toString();
}

/** Fills of a lifecycle after defaults; throws RangeError naming the problem for an impossible script. */
export function loopringEffectiveFills(lc: LoopringLifecycle): Required<LoopringFill>[] {
  const where = `lifecycle ${lc.hash} (${lc.kind})`;
  if (!INT_RE.test(lc.size)) throw new RangeError(`${where}: size must be a positive integer string of raw base units, got ${JSON.stringify(lc.size)}`);
  normalizeDecimal(lc.price);
  if (isZeroDecimal(lc.price) || lc.price.trim().startsWith('-')) throw new RangeError(`${where}: price must be positive, got ${lc.price}`);
  const bips = lc.feeBips ?? DEFAULT_FEE_BIPS;
  if (!Number.isInteger(bips) || bips < 0 || bips > 10_000) throw new RangeError(`${where}: feeBips must be an integer 0..10000, got ${bips}`);
  let fills = lc.fills;
  if (fills === undefined) {
    if (lc.kind === 'fill') fills = [{ size: lc.size }];
    else if (lc.kind === 'partial-cancel') {
      const half = BigInt(lc.size) / 2n;
      if (half === 0n) throw new RangeError(`${where}: a partial cancel needs a size of at least 2 raw units`);
      fills = [{ size: half.toString() }];
    } else fills = [];
  }
  const out = fills.map((f) => ({ size: f.size, price: f.price ?? lc.price }));
  for (const f of out) {
    if (!INT_RE.test(f.size)) throw new RangeError(`${where}: fill size must be a positive integer string of raw units, got ${JSON.stringify(f.size)}`);
    normalizeDecimal(f.price);
    if (isZeroDecimal(f.price) || f.price.trim().startsWith('-')) throw new RangeError(`${where}: fill price must be positive, got ${f.price}`);
  }
  const total = out.reduce((sum, f) => addDecimals(sum, f.size), '0');
  const cmp = compareDecimals(total, lc.size);
  if (lc.kind === 'fill' && cmp !== 0) throw new RangeError(`${where}: fills sum to ${total}, must equal size ${lc.size}`);
  if (lc.kind === 'partial-cancel' && (cmp >= 0 || out.length === 0)) {
    throw new RangeError(`${where}: fills sum to ${total}, must be more than 0 and less than size ${lc.size}`);
  }
  if (lc.kind === 'expire' && cmp >= 0) throw new RangeError(`${where}: fills sum to ${total}, must be less than size ${lc.size}`);
  if (lc.kind === 'cancel' && out.length > 0) throw new RangeError(`${where}: a cancel has no fills`);
  return out;
}

/** The pushes a lifecycle produces, in relayer order. Throws RangeError for an impossible script. */
export function loopringLifecycleSteps(lc: LoopringLifecycle, markets: readonly LoopringSimMarket[] = LOOPRING_SIM_MARKETS): LoopringStep[] {
  const m = loopringSimMarket(lc.market, markets);
  const fills = loopringEffectiveFills(lc);
  const bips = lc.feeBips ?? DEFAULT_FEE_BIPS;
  const steps: LoopringStep[] = [];
  const zero = { filledSize: '0', filledVolume: '0', filledFee: '0' };
  if (lc.waitingFirst) steps.push({ status: 'waiting', ...zero });
  steps.push({ status: 'processing', ...zero });
  let size = 0n;
  let volume = 0n;
  let fee = 0n;
  fills.forEach((f, i) => {
    const v = loopringQuoteUnits(f.size, f.price, m);
    if (v === '0') throw new RangeError(`lifecycle ${lc.hash}: fill ${i + 1} (${f.size} @ ${f.price}) is worth less than one raw quote unit`);
    size += BigInt(f.size);
    volume += BigInt(v);
    fee += BigInt(feeUnits(lc.side === 'BUY' ? f.size : v, bips));
    const last = i === fills.length - 1;
    steps.push({
      status: last && lc.kind === 'fill' ? 'processed' : 'processing',
      filledSize: size.toString(),
      filledVolume: volume.toString(),
      filledFee: fee.toString(),
    });
  });
  const now = { filledSize: size.toString(), filledVolume: volume.toString(), filledFee: fee.toString() };
  if (lc.kind === 'cancel' || lc.kind === 'partial-cancel') steps.push({ status: 'cancelling', ...now }, { status: 'cancelled', ...now });
  if (lc.kind === 'expire') steps.push({ status: 'expired', ...now });
  return steps;
}

export interface LoopringTruthTimes {
  /** epoch ms of creation */
  createdAt: number;
  /** position of the step in the lifecycle (updateAt = createdAt + index ms) */
  index: number;
  /** times in whole seconds (the secondsTimes quirk) */
  wholeSeconds?: boolean;
}

/** The truth after a step: every field a push carries, times included (deterministic: no wall clock). */
export function loopringTruthOf(lc: LoopringLifecycle, step: LoopringStep, times: LoopringTruthTimes, markets: readonly LoopringSimMarket[] = LOOPRING_SIM_MARKETS): LoopringOrderTruth {
  const m = loopringSimMarket(lc.market, markets);
  const round = (ms: number) => (times.wholeSeconds ? Math.floor(ms / 1000) * 1000 : ms);
  const createdS = Math.floor(times.createdAt / 1000);
  const validSince = lc.waitingFirst ? createdS + WAITING_DELAY_S : createdS;
  return {
    hash: lc.hash,
    clientOrderId: lc.clientOrderId ?? `sim-${lc.hash.replace(/^0x/, '').slice(0, 12)}`,
    market: lc.market,
    side: lc.side,
    status: step.status,
    price: lc.price,
    size: lc.size,
    volume: loopringQuoteUnits(lc.size, lc.price, m),
    filledSize: step.filledSize,
    filledVolume: step.filledVolume,
    filledFee: step.filledFee,
    createdAt: round(times.createdAt),
    updateAt: round(times.createdAt + times.index),
    validSince,
    validUntil: validSince + (lc.validForSeconds ?? DEFAULT_VALID_FOR_S),
  };
}

/**
 * The exact text of one order push, laid out like the official doc example (same key order, amounts as strings,
 * `updateAt` after `createdAt` as in the model table); `ts` is the step's update time.
 */
export function loopringOrderFrameText(t: LoopringOrderTruth, quirks: LoopringFrameQuirks = LOOPRING_NO_QUIRKS): string {
  const time = (ms: number) => (quirks.secondsTimes ? Math.floor(ms / 1000) : ms);
  const int = (n: number) => (quirks.stringTimes ? String(n) : n);
  const data: Record<string, unknown> = {
    hash: t.hash,
    clientOrderId: t.clientOrderId,
    size: t.size,
    volume: t.volume,
    price: t.price,
    filledSize: t.filledSize,
    filledVolume: t.filledVolume,
    filledFee: t.filledFee,
    status: t.status,
    createdAt: int(time(t.createdAt)),
    ...(quirks.omitUpdateAt ? {} : { updateAt: int(time(t.updateAt)) }),
    validSince: int(t.validSince),
    validUntil: int(t.validUntil),
    side: quirks.upperCaseSide ? t.side : t.side.toLowerCase(),
    market: t.market,
  };
  const topic = quirks.legacyStringTopic
    ? `order&${t.market}`
    : quirks.topicTypoKey
      ? { 'topic:': 'order', market: t.market }
      : { topic: 'order', market: t.market };
  return JSON.stringify({ topic, ts: time(t.updateAt), data });
}

// ---------------------------------------------------------------------------------------------------------------
// The oracle: expected canonical fields, written independently of the mapper so that the two check each other.

const EXPECTED_STATUS: Readonly<Record<Exclude<LoopringOrderStatus, 'processing'>, OrderStatus>> = {
  waiting: 'PENDING_NEW',
  processed: 'FILLED',
  cancelling: 'PENDING_CANCEL',
  cancelled: 'CANCELED',
  expired: 'EXPIRED',
  failed: 'REJECTED',
};

export type LoopringExpectedOrder = Pick<
  CanonicalOrder,
  | 'orderKey' | 'venue' | 'account' | 'orderId' | 'clientOrderId' | 'venueSymbol' | 'symbol' | 'instrumentKind' | 'side'
  | 'orderType' | 'timeInForce' | 'status' | 'venueStatus' | 'price' | 'quantity' | 'venueQuantity' | 'quoteQuantity'
  | 'filledQuantity' | 'venueFilledQuantity' | 'filledQuoteQuantity' | 'averagePrice' | 'fee' | 'feeAsset'
  | 'lastFillQuantity' | 'lastFillPrice' | 'lastFillFee' | 'lastFillId' | 'createdAt' | 'updatedAt'
>;

/** Human amount from raw units: digits / 10^decimals, printed without trailing zeros. */
function human(raw: string, decimals: number | undefined): string | null {
  if (decimals === undefined) return null;
  const v = BigInt(raw);
  const unit = 10n ** BigInt(decimals);
  const int = v / unit;
  const frac = (v % unit).toString().padStart(decimals, '0').replace(/0+$/, '');
  return frac.length > 0 ? `${int}.${frac}` : int.toString();
}

/**
 * The canonical fields the state topic must hold for an order once the simulator has played it to the end.
 * `reference` is the reference data the normalizer was given (use `sim.referenceData()`); without an entry for the
 * market the converted fields are null. The average is computed here with integers: round-half-even of
 * filledVolume × 10^baseDecimals ÷ filledSize, read with quoteDecimals places.
 */
export function loopringExpectedCanonical(t: LoopringOrderTruth, account: string, reference: ReferenceData = EMPTY_REFERENCE): LoopringExpectedOrder {
  const [base = '', quote = ''] = t.market.split('-');
  const ref = reference.loopring?.[t.market];
  const bd = ref?.baseDecimals;
  const qd = ref?.quoteDecimals;
  const filled = BigInt(t.filledSize);
  let averagePrice: string | null = null;
  if (bd !== undefined && qd !== undefined && filled > 0n && BigInt(t.filledVolume) > 0n) {
    const num = BigInt(t.filledVolume) * 10n ** BigInt(bd);
    let q = num / filled;
    const twice = (num % filled) * 2n;
    if (twice > filled || (twice === filled && q % 2n === 1n)) q += 1n;
    averagePrice = human(q.toString(), qd);
  }
  const status = t.status === 'processing' ? (filled === 0n ? 'NEW' : 'PARTIALLY_FILLED') : EXPECTED_STATUS[t.status];
  return {
    orderKey: orderKeyOf('loopring', account, t.hash),
    venue: 'loopring',
    account,
    orderId: t.hash,
    clientOrderId: t.clientOrderId,
    venueSymbol: t.market,
    symbol: `${base}/${quote}`,
    instrumentKind: 'SPOT',
    side: t.side,
    orderType: 'LIMIT',
    timeInForce: 'GTD',
    status,
    venueStatus: t.status,
    price: normalizeDecimal(t.price),
    quantity: human(t.size, bd),
    venueQuantity: t.size,
    quoteQuantity: human(t.volume, qd),
    filledQuantity: human(t.filledSize, bd),
    venueFilledQuantity: t.filledSize,
    filledQuoteQuantity: human(t.filledVolume, qd),
    averagePrice,
    fee: human(t.filledFee, t.side === 'BUY' ? bd : qd),
    feeAsset: t.side === 'BUY' ? base : quote,
    lastFillQuantity: null,
    lastFillPrice: null,
    lastFillFee: null,
    lastFillId: null,
    createdAt: t.createdAt * 1000,
    updatedAt: t.updateAt * 1000,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Random lifecycles.

/** `0x` + 64 hex: SHA-256 of the seed and the index, so hashes are a pure function of (seed, index) and unique. */
export function loopringSimHash(seed: number, index: number): string {
  return `0x${createHash('sha256').update(`loopring-sim:${seed >>> 0}:${index}`).digest('hex')}`;
}

function ticksOf(price: string, decimals: number): bigint {
  return BigInt(shiftDecimal(price, -decimals).split('.')[0] as string);
}

function priceNear(rng: Rng, m: LoopringSimMarket, maxTicks: number): string {
  const t = ticksOf(m.price, m.priceDecimals) + BigInt(rng.int(-maxTicks, maxTicks));
  return shiftDecimal((t > 0n ? t : 1n).toString(), m.priceDecimals);
}

/** A fill price at the limit or better by up to 5 ticks (BUY lower, SELL higher). */
function fillPrice(rng: Rng, price: string, m: LoopringSimMarket, side: 'BUY' | 'SELL'): string {
  const t = ticksOf(price, m.priceDecimals) + BigInt(rng.int(0, 5)) * (side === 'BUY' ? -1n : 1n);
  return shiftDecimal((t > 0n ? t : ticksOf(price, m.priceDecimals)).toString(), m.priceDecimals);
}

function splitLots(rng: Rng, total: number, parts: number): number[] {
  const n = Math.max(1, Math.min(parts, total));
  const cuts = new Set<number>();
  while (cuts.size < n - 1) cuts.add(rng.int(1, total - 1));
  const sorted = [...cuts].sort((a, b) => a - b);
  const out: number[] = [];
  let prev = 0;
  for (const c of [...sorted, total]) {
    out.push(c - prev);
    prev = c;
  }
  return out;
}

/**
 * `count` lifecycles that are a pure function of `seed`: same seed, same orders (hashes, kinds, fills).
 * Mix: about 40 % fill, 20 % cancel, 20 % partial-cancel, 20 % expire; 15 % start `waiting`.
 * Sizes are whole lots of each market (`sizeDecimals`), so every fill is worth at least one raw quote unit.
 */
export function loopringRandomLifecycles(count: number, seed: number, markets: readonly LoopringSimMarket[] = LOOPRING_SIM_MARKETS): LoopringLifecycle[] {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`count must be a non-negative integer, got ${count}`);
  const rng = seededRng(seed);
  const out: LoopringLifecycle[] = [];
  for (let i = 0; i < count; i++) {
    const m = rng.pick(markets);
    const side = rng.chance(0.5) ? 'BUY' : 'SELL';
    const roll = rng.next();
    const kind: LoopringLifecycleKind = roll < 0.4 ? 'fill' : roll < 0.6 ? 'cancel' : roll < 0.8 ? 'partial-cancel' : 'expire';
    const lot = 10n ** BigInt(m.baseDecimals - m.sizeDecimals);
    let lots = rng.int(1, 50_000);
    if (kind === 'partial-cancel' && lots < 2) lots = 2;
    const price = priceNear(rng, m, 20);
    const toFills = (n: number, parts: number): LoopringFill[] =>
      splitLots(rng, n, parts).map((l) => ({ size: (BigInt(l) * lot).toString(), price: fillPrice(rng, price, m, side) }));
    let fills: LoopringFill[] | undefined;
    if (kind === 'fill') fills = toFills(lots, rng.int(1, 4));
    if (kind === 'partial-cancel') fills = toFills(rng.int(1, lots - 1), rng.int(1, 3));
    if (kind === 'expire' && lots > 1 && rng.chance(0.5)) fills = toFills(rng.int(1, lots - 1), rng.int(1, 2));
    const hash = loopringSimHash(seed, i);
    out.push({
      hash,
      clientOrderId: `sim-${seed >>> 0}-${i}`,
      market: m.market,
      kind,
      side,
      price,
      size: (BigInt(lots) * lot).toString(),
      ...(fills ? { fills } : {}),
      feeBips: rng.pick([10, 20, 25, 50]),
      waitingFirst: rng.chance(0.15),
    });
  }
  return out;
}
