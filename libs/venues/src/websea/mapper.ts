import { FrameError, isZeroDecimal, normalizeDecimal, toEpochMicros } from '@orderstream/kit';
import { orderKeyOf, type CanonicalOrder, type OrderStatus, type OrderType } from '@orderstream/schemas';
import type { MapContext, MapResult, VenueMapper } from '../types.js';
import { previewValue as preview } from '../frame-kit.js';
import { parseWebseaFrame, type WebseaOrder, type WebseaOrderStatus } from './frames.js';
import { mapWebseaRest } from './rest.js';

/** The `api-version` this mapper reads: the socket path says `/ws/v1/…`. */
export const WEBSEA_API_VERSION = 'v1';

/**
 * WebSea `status` → unified status, every documented value written out. PARTIALLY_CANCELED is terminal: canceled
 * after a partial fill (filled > 0, which order-state knows from the executions it summed).
 */
export const WEBSEA_STATUS_MAP: Readonly<Record<WebseaOrderStatus, OrderStatus>> = Object.freeze({
  NEW: 'NEW',
  PARTIALLY_FILLED: 'PARTIALLY_FILLED',
  FILLED: 'FILLED',
  PARTIALLY_CANCELED: 'CANCELED',
  CANCELED: 'CANCELED',
});

const ORDER_TYPES: Readonly<Record<string, OrderType>> = { LIMIT: 'LIMIT', MARKET: 'MARKET' };

/** `BTC-USDT` → `BTC/USDT` (spot). Anything that is not `<base>-<quote>` → null. */
export function webseaUnifiedSymbol(venueSymbol: string): string | null {
  const m = /^([^\s/:-]+)-([^\s/:-]+)$/.exec(venueSymbol);
  if (!m) return null;
  return `${(m[1] as string).toUpperCase()}/${(m[2] as string).toUpperCase()}`;
}

/** What identifies one execution of a WebSea order (the push carries no trade id). */
export interface WebseaExecutionKey {
  orderId: string;
  /** execution time digits (`order.ts`), or the push time when the push has none */
  ts: string;
  /** true when `ts` is the push time (`order.ts` absent) */
  tsFromPush?: boolean;
  quantity: string;
  price: string;
  /** null when the push has no fee */
  fee: string | null;
}

/**
 * The deterministic execution id of a WebSea push: `<order_id>/<t>/<qty>/<price>/<fee>` with `t` the execution
 * time digits (prefixed `p` when only the push time was available), the decimals in normal form and `-` for
 * no fee. Example: `BG5000181583375122413SZXEIX/1502448920/12/68000/0.23`.
 *
 * - A duplicated or re-sent push of the same execution gives the same id (the push time is not part of it unless
 *   the execution time is missing), so order-state, which sums distinct ids, counts it once.
 * - `event` and `status` are deliberately not part of it: if a later push (the cancel after a partial fill) repeats
 *   the latest execution's fields, it must not count twice.
 * - Known limit: two genuinely distinct executions of one order in the same second with the same quantity, price
 *   and fee get the same id and are counted once. WebSea gives nothing that tells them apart.
 */
export function webseaExecutionId(key: WebseaExecutionKey): string {
  const fee = key.fee === null ? '-' : normalizeDecimal(key.fee);
  return `${key.orderId}/${key.tsFromPush ? 'p' : ''}${key.ts}/${normalizeDecimal(key.quantity)}/${normalizeDecimal(key.price)}/${fee}`;
}

export const webseaMapper: VenueMapper = {
  venue: 'websea',
  apiVersion: WEBSEA_API_VERSION,
  map(text: string, ctx: MapContext): MapResult {
    // REST answers of a reconciliation (./rest.ts); socket frames never carry ctx.rest.
    if (ctx.rest) return mapWebseaRest(text, ctx as MapContext & { rest: NonNullable<MapContext['rest']> });
    const frame = parseWebseaFrame(text);
    if (frame.kind === 'order') return { kind: 'orders', orders: [mapWebseaOrder(frame.order, ctx)] };
    const r = frame.reply;
    const what = `${r.op ?? 'reply'}${r.channel ? ` ${r.channel}` : ''}`;
    if (r.errno === 0) return { kind: 'skipped', what: `${what} ack` };
    return { kind: 'skipped', what: `error reply errno ${r.errno}${r.errmsg ? ` (${r.errmsg})` : ''} to ${what}` };
  },
};

function fail(field: string, problem: string, value: unknown, orderId: string, cause?: unknown): FrameError {
  return new FrameError('FRAME_INVALID', `WebSea order push invalid: order.${field} ${problem}, got ${preview(value)} [order_id ${orderId}]`, {
    ...(cause === undefined ? {} : { cause }),
    details: { field: `order.${field}`, value, orderId },
  });
}

function decimal(field: string, text: string, orderId: string): string {
  try {
    return normalizeDecimal(text);
  } catch (error) {
    throw fail(field, 'is not a decimal', text, orderId, error);
  }
}

function micros(field: string, digits: string | null, orderId: string): number | null {
  if (digits === null) return null;
  try {
    // Seconds per the doc; magnitude detection also reads ms/µs/ns correctly should WebSea send them.
    return toEpochMicros(digits);
  } catch (error) {
    throw fail(field, 'is not a time', digits, orderId, error);
  }
}

/** Maps one validated push to its canonical record (exported for tests and tools; the mapper is the entry point). */
export function mapWebseaOrder(o: WebseaOrder, ctx: MapContext): CanonicalOrder {
  const status = WEBSEA_STATUS_MAP[o.status as WebseaOrderStatus];
  if (status === undefined) {
    throw new FrameError(
      'FRAME_UNKNOWN_STATUS',
      `WebSea order push: order.status ${preview(o.status)} is not one of ${Object.keys(WEBSEA_STATUS_MAP).join(', ')} [order_id ${o.orderId}]`,
      { details: { field: 'order.status', value: o.status, orderId: o.orderId } },
    );
  }

  const venueOrderType = o.orderType;
  const orderType: OrderType = ORDER_TYPES[venueOrderType.toUpperCase()] ?? 'OTHER';
  // "For market buy orders, this represents the notional amount" (WSDOC): quote units, not a base quantity.
  const amountIsQuote = orderType === 'MARKET' && o.side === 'BUY';
  const amount = o.amount === null ? null : decimal('amount', o.amount, o.orderId);
  const px = o.price === null ? null : decimal('price', o.price, o.orderId);
  const trigger = o.triggerPrice === null ? null : decimal('trigger_price', o.triggerPrice, o.orderId);

  // The latest execution. A positive last_amount is an execution whatever the event says; TRADE without one is an
  // execution we could not count, so the frame is refused rather than silently losing fill.
  const lastAmount = o.lastAmount === null ? null : decimal('last_amount', o.lastAmount, o.orderId);
  if (lastAmount !== null && lastAmount.startsWith('-')) throw fail('last_amount', 'must not be negative', o.lastAmount, o.orderId);
  const executed = lastAmount !== null && !isZeroDecimal(lastAmount);
  if (o.event === 'TRADE' && !executed) {
    throw fail('last_amount', 'must be a positive quantity on a TRADE event', o.lastAmount ?? '', o.orderId);
  }
  let lastFillQuantity: string | null = null;
  let lastFillPrice: string | null = null;
  let lastFillFee: string | null = null;
  let lastFillId: string | null = null;
  if (executed) {
    if (o.lastPrice === null) throw fail('last_price', 'is required with a positive last_amount', '', o.orderId);
    lastFillQuantity = lastAmount;
    lastFillPrice = decimal('last_price', o.lastPrice, o.orderId);
    if (isZeroDecimal(lastFillPrice)) throw fail('last_price', 'must be positive with a positive last_amount', o.lastPrice, o.orderId);
    lastFillFee = o.lastFee === null ? null : decimal('last_fee', o.lastFee, o.orderId);
    lastFillId = webseaExecutionId({
      orderId: o.orderId,
      ts: o.executionTs ?? o.pushTs,
      tsFromPush: o.executionTs === null,
      quantity: lastFillQuantity,
      price: lastFillPrice,
      fee: lastFillFee,
    });
  }

  const createdAt = micros('entrust_time', o.entrustTime, o.orderId);
  const updatedAt = micros('ts', o.pushTs, o.orderId);
  micros('ts', o.executionTs, o.orderId); // validated; kept verbatim in extras

  const extras: Record<string, string> = { event: o.event, ts: o.pushTs };
  if (o.executionTs !== null) extras.executionTs = o.executionTs;
  if (o.entrustTime !== null) extras.entrustTime = o.entrustTime;
  if (amount !== null) extras.amountUnit = amountIsQuote ? 'quote' : 'base';
  if (executed && o.executionTs === null) extras.lastFillTsSource = 'push';
  for (const [k, v] of Object.entries(o.other)) extras[k] = v;

  return {
    orderKey: orderKeyOf('websea', ctx.account, o.orderId),
    venue: 'websea',
    account: ctx.account,
    orderId: o.orderId,
    clientOrderId: null,
    venueSymbol: o.symbol,
    symbol: webseaUnifiedSymbol(o.symbol),
    instrumentKind: 'SPOT',
    side: o.side,
    positionSide: null,
    orderType,
    venueOrderType,
    timeInForce: null,
    status,
    venueStatus: o.status,
    // "Empty for market orders"; a zero price is never a limit price.
    price: px === null || isZeroDecimal(px) ? null : px,
    triggerPrice: trigger === null || isZeroDecimal(trigger) ? null : trigger,
    quantity: amountIsQuote ? null : amount,
    venueQuantity: amountIsQuote ? null : amount,
    quoteQuantity: amountIsQuote ? amount : null,
    // Cumulative figures: WebSea pushes only the latest execution. order-state sums distinct executions.
    filledQuantity: null,
    venueFilledQuantity: null,
    filledQuoteQuantity: null,
    averagePrice: null,
    fee: null,
    // The push names no fee currency (WSDOC); never guessed.
    feeAsset: null,
    lastFillQuantity,
    lastFillPrice,
    lastFillFee,
    lastFillId,
    reduceOnly: null,
    postOnly: null,
    createdAt,
    updatedAt,
    receivedAt: ctx.receivedAt,
    source: ctx.source,
    extras,
  };
}
