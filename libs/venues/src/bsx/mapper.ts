import { addDecimals, compareDecimals, FrameError, isZeroDecimal, mulDecimals, normalizeDecimal, toEpochMicros } from '@orderstream/kit';
import {
  orderKeyOf,
  type CanonicalOrder,
  type InstrumentKind,
  type OrderStatus,
  type OrderType,
  type TimeInForce,
} from '@orderstream/schemas';
import type { MapContext, MapResult, RestContext, VenueMapper } from '../types.js';
import { parseBsxFrame, type BsxOrder, type BsxTrade } from './frames.js';
import { previewValue } from '../frame-kit.js';
import { parseBsxRestBody } from './rest.js';

/**
 * The `api-version` this mapper reads. BSX does not version its socket; 'v1' names the protocol as documented in
 * 2024 (official doc `shared/venues/bsx-orders-channel.md`, BSXDOC ws-* pages, BSXSDK c1ade73).
 */
export const BSX_API_VERSION = 'v1';

/** Every BSX perpetual is margined and settled in USDC (docs.bsx.exchange technical architecture; FAQ). */
export const BSX_SETTLEMENT_ASSET = 'USDC';

/** Fee asset of `filled_fees` and of `last_trades[].trading_fee` / `sequencer_fee`. */
export const BSX_FEE_ASSET = 'USDC';

/** `BTC-PERP` → `BTC/USDC:USDC` (linear perpetual, quoted and settled in USDC). Other shapes → null. */
export function bsxUnifiedSymbol(productId: string): string | null {
  const m = /^([A-Za-z0-9]+)-PERP$/.exec(productId);
  if (!m) return null;
  return `${(m[1] as string).toUpperCase()}/${BSX_SETTLEMENT_ASSET}:${BSX_SETTLEMENT_ASSET}`;
}

/** The cancel reason BSX gives when a Good-Til-Time order runs out (BSXDOC matching-engine). */
export const BSX_GTT_EXPIRY_REASON = 'time in force GTT';

/**
 * BSX `status` (+ fill and reasons) → unified status. BSX has four statuses; two of them need the order's figures:
 * - `PENDING` → PENDING_NEW (received, not processed yet);
 * - `STOP_ACCEPTED` → UNTRIGGERED (stop order resting off the book);
 * - `OPEN` → NEW, or PARTIALLY_FILLED when `filled_size` > 0;
 * - any live status with `cancel_requested: true` and no `cancel_reject_reason` → PENDING_CANCEL;
 * - `DONE` ("either filled or canceled") → FILLED when `filled_size` ≥ `size`; else REJECTED when `reject_reason`
 *   is set and nothing filled (an order refused before any execution); else EXPIRED when `cancel_reason` is
 *   "time in force GTT" (BSX: "canceled because it expired"); else CANCELED (user, admin, stp, IOC/FOK remainder,
 *   post only, reduce only, liquidation, insufficient margin/liquidity, TP/SL position closed, or no reason given).
 * Anything else → undefined (the caller dead-letters it as FRAME_UNKNOWN_STATUS).
 */
export function bsxUnifiedStatus(o: Pick<BsxOrder, 'status' | 'size' | 'filledSize' | 'cancelRequested' | 'cancelRejectReason' | 'cancelReason' | 'rejectReason'>): OrderStatus | undefined {
  const filled = !isZeroDecimal(o.filledSize);
  const cancelPending = o.cancelRequested === true && !o.cancelRejectReason;
  switch (o.status) {
    case 'PENDING':
      return cancelPending ? 'PENDING_CANCEL' : 'PENDING_NEW';
    case 'STOP_ACCEPTED':
      return cancelPending ? 'PENDING_CANCEL' : 'UNTRIGGERED';
    case 'OPEN':
      return cancelPending ? 'PENDING_CANCEL' : filled ? 'PARTIALLY_FILLED' : 'NEW';
    case 'DONE':
      if (!isZeroDecimal(o.size) && compareDecimals(o.filledSize, o.size) >= 0) return 'FILLED';
      if (!filled && o.rejectReason) return 'REJECTED';
      if (o.cancelReason?.trim() === BSX_GTT_EXPIRY_REASON) return 'EXPIRED';
      return 'CANCELED';
    default:
      return undefined;
  }
}

const TIMES_IN_FORCE: Readonly<Record<string, TimeInForce>> = { GTC: 'GTC', IOC: 'IOC', FOK: 'FOK', GTT: 'GTD' };

/**
 * `type` + `order_stop_type` → unified order type. BSX TP/SL orders are closed "with a Market (Immediate or Cancel)
 * order" when the trigger hits, with a slippage-protected `price` (docs.bsx.exchange TP/SL page), hence *_MARKET.
 */
export function bsxOrderType(type: string, orderStopType: string | null): OrderType {
  const t = type.toUpperCase();
  if (t === 'LIMIT') return 'LIMIT';
  if (t === 'MARKET') return 'MARKET';
  if (t === 'STOP') {
    const s = (orderStopType ?? '').toUpperCase();
    if (s === 'STOP_LOSS') return 'STOP_MARKET';
    if (s === 'TAKE_PROFIT') return 'TAKE_PROFIT_MARKET';
  }
  return 'OTHER';
}

/**
 * The latest trade of `last_trades` by `time` (ns, compared exactly); equal times → the later element of the array.
 * Undefined for an absent or empty list.
 */
export function bsxLatestTrade(trades: readonly BsxTrade[] | null): BsxTrade | undefined {
  let best: BsxTrade | undefined;
  let bestTime = -1n;
  for (const t of trades ?? []) {
    const time = BigInt(t.time);
    if (time >= bestTime) {
      best = t;
      bestTime = time;
    }
  }
  return best;
}

/**
 * The fee of one execution: `trading_fee` + `sequencer_fee` (both USDC; a negative trading fee is a maker rebate).
 * Null when the trade carries neither.
 */
export function bsxTradeFee(t: Pick<BsxTrade, 'tradingFee' | 'sequencerFee'>): string | null {
  if (t.tradingFee === null && t.sequencerFee === null) return null;
  return addDecimals(t.tradingFee ?? '0', t.sequencerFee ?? '0');
}

export const bsxMapper: VenueMapper = {
  venue: 'bsx',
  apiVersion: BSX_API_VERSION,
  map(text: string, ctx: MapContext): MapResult {
    // REST answers of a reconciliation (raw header frame-kind=rest): only then, so the push path pays nothing.
    if (ctx.rest) return mapRest(text, ctx, ctx.rest);
    const frame = parseBsxFrame(text);
    switch (frame.kind) {
      case 'orders': {
        const orders = frame.orders.map((o) => mapOrder(o, ctx));
        return frame.type === 'snapshot' ? { kind: 'orders', orders, snapshot: { complete: true } } : { kind: 'orders', orders };
      }
      case 'push':
        return { kind: 'skipped', what: `${frame.channel} ${frame.type}` };
      case 'connection':
        return { kind: 'skipped', what: 'connection id' };
      case 'notice':
        return { kind: 'skipped', what: `notice (${frame.message})` };
      case 'authenticated':
        return { kind: 'skipped', what: 'authenticated' };
      case 'ack':
        return { kind: 'skipped', what: `${frame.channel ?? '(no channel)'} ${frame.type}${frame.product ? ` (${frame.product})` : ''}` };
      case 'error':
        return {
          kind: 'skipped',
          what: `${frame.channel ?? '(no channel)'} error${frame.code !== null ? ` code ${frame.code}` : ''}${frame.message ? ` (${frame.message})` : ''}`,
        };
      case 'pong':
        return { kind: 'skipped', what: 'pong' };
    }
  },
};

/**
 * A REST answer (GET /orders, /orders/{id}, /order-history): one canonical order per order, mapped exactly as a
 * pushed order (same object, official doc). An error envelope inside a 2xx answer is skipped. Never a snapshot:
 * the collector's `reconciled` event says which open orders the reconciliation saw complete.
 */
function mapRest(text: string, ctx: MapContext, rest: RestContext): MapResult {
  const body = parseBsxRestBody(text, rest.path);
  if (body.kind === 'error') {
    const { code, message } = body.error;
    return { kind: 'skipped', what: `REST ${rest.method} ${rest.path} error code ${code}${message ? ` (${message})` : ''}` };
  }
  return { kind: 'orders', orders: body.orders.map((o) => mapOrder(o, ctx)) };
}

function decimal(field: string, text: string, orderId: string): string {
  try {
    return normalizeDecimal(text);
  } catch (error) {
    throw new FrameError('FRAME_INVALID', `BSX order invalid: ${field} is not a decimal, got ${previewValue(text)} [order ${orderId}]`, {
      cause: error,
      details: { field, value: text, orderId },
    });
  }
}

function nanosToMicros(field: string, ns: string | null, orderId: string): number | null {
  if (ns === null) return null;
  try {
    return toEpochMicros(ns, 'ns');
  } catch (error) {
    throw new FrameError('FRAME_UNMAPPABLE', `BSX order: ${field} ${previewValue(ns)} is not a time [order ${orderId}]`, {
      cause: error,
      details: { field, value: ns, orderId },
    });
  }
}

function mapOrder(o: BsxOrder, ctx: MapContext): CanonicalOrder {
  const status = bsxUnifiedStatus(o);
  if (status === undefined) {
    throw new FrameError('FRAME_UNKNOWN_STATUS', `BSX order: status ${previewValue(o.status)} is not one of PENDING, OPEN, DONE, STOP_ACCEPTED [order ${o.id}]`, {
      details: { field: 'status', value: o.status, orderId: o.id },
    });
  }

  const quantity = decimal('size', o.size, o.id);
  const filledQuantity = decimal('filled_size', o.filledSize, o.id);
  const nothingFilled = isZeroDecimal(filledQuantity);
  // avg_price "0" means "no fill yet": a zero average is never a price.
  const avg = o.avgPrice === null ? null : decimal('avg_price', o.avgPrice, o.id);
  const averagePrice = nothingFilled || avg === null || isZeroDecimal(avg) ? null : avg;
  const filledQuoteQuantity = nothingFilled ? '0' : averagePrice === null ? null : mulDecimals(filledQuantity, averagePrice);
  // Market orders may carry price "0": no limit price.
  const px = o.price === null ? null : decimal('price', o.price, o.id);
  const price = px === null || isZeroDecimal(px) ? null : px;
  const stop = o.stopPrice === null ? null : decimal('stop_price', o.stopPrice, o.id);
  const triggerPrice = stop === null || isZeroDecimal(stop) ? null : stop;
  const fee = o.filledFees === null ? null : decimal('filled_fees', o.filledFees, o.id);

  const last = bsxLatestTrade(o.lastTrades);
  const lastFillQuantity = last ? decimal('last_trades.size', last.size, o.id) : null;
  const lastFillPrice = last ? decimal('last_trades.price', last.price, o.id) : null;
  const lastFillFee = last ? bsxTradeFee(last) : null;

  const symbol = bsxUnifiedSymbol(o.productId);
  const instrumentKind: InstrumentKind = symbol === null ? 'OTHER' : 'PERPETUAL';
  const tif = o.timeInForce === null || o.timeInForce === '' ? null : (TIMES_IN_FORCE[o.timeInForce.toUpperCase()] ?? 'OTHER');

  const extras: Record<string, string> = {};
  const put = (k: string, v: string | boolean | null) => {
    if (v !== null) extras[k] = String(v);
  };
  // Nanosecond times verbatim: canonical times are µs, these keep every digit.
  put('created_at_ts', o.createdAtTs);
  put('updated_at', o.updatedAt);
  put('nonce', o.nonce);
  put('sender', o.sender);
  put('stp', o.stp);
  put('order_stop_type', o.orderStopType);
  put('stop_price_option', o.stopPriceOption);
  put('initial_margin', o.initialMargin === null ? null : decimal('initial_margin', o.initialMargin, o.id));
  put('cancel_requested', o.cancelRequested);
  put('cancel_requested_at', o.cancelRequestedAt);
  put('cancel_reason', o.cancelReason);
  put('reject_reason', o.rejectReason);
  put('cancel_reject_reason', o.cancelRejectReason);
  put('is_liquidation', o.isLiquidation);
  put('expired_at', o.expiredAt);
  put('liquidation_fee_rate', o.liquidationFeeRate);
  put('maker_fee_rate', o.makerFeeRate);
  put('taker_fee_rate', o.takerFeeRate);
  if (tif === 'OTHER') put('time_in_force', o.timeInForce);
  if (last) {
    const trades = o.lastTrades as BsxTrade[];
    put('last_trade_time', last.time);
    put('last_trade_liquidity_indicator', last.liquidityIndicator);
    put('last_trade_trading_fee', last.tradingFee);
    put('last_trade_sequencer_fee', last.sequencerFee);
    put('last_trade_funding_payment', last.fundingPayment);
    for (const [k, v] of Object.entries(last.other)) extras[`last_trade_${k}`] = v;
    if (trades.length > 1) {
      put('last_trades_count', String(trades.length));
      const byTime = [...trades].sort((a, b) => {
        const d = BigInt(a.time) - BigInt(b.time);
        return d < 0n ? -1 : d > 0n ? 1 : 0;
      });
      put('last_trades_ids', byTime.map((t) => t.id).join(','));
    }
  }
  for (const [k, v] of Object.entries(o.other)) extras[k] = v;

  return {
    orderKey: orderKeyOf('bsx', ctx.account, o.id),
    venue: 'bsx',
    account: ctx.account,
    orderId: o.id,
    clientOrderId: o.clientOrderId === null || o.clientOrderId === '' ? null : o.clientOrderId,
    venueSymbol: o.productId,
    symbol,
    instrumentKind,
    side: o.side,
    positionSide: null,
    orderType: bsxOrderType(o.type, o.orderStopType),
    venueOrderType: o.type,
    timeInForce: tif,
    status,
    venueStatus: o.status,
    price,
    triggerPrice,
    quantity,
    venueQuantity: quantity,
    quoteQuantity: null,
    filledQuantity,
    venueFilledQuantity: filledQuantity,
    filledQuoteQuantity,
    averagePrice,
    fee,
    feeAsset: BSX_FEE_ASSET,
    lastFillQuantity,
    lastFillPrice,
    lastFillFee,
    lastFillId: last ? last.id : null,
    reduceOnly: o.reduceOnly,
    postOnly: o.postOnly,
    createdAt: nanosToMicros('created_at_ts', o.createdAtTs, o.id),
    updatedAt: nanosToMicros('updated_at', o.updatedAt, o.id),
    receivedAt: ctx.receivedAt,
    source: ctx.source,
    extras,
  };
}
