import { FrameError, isZeroDecimal, normalizeDecimal, toEpochMicros } from '@orderstream/kit';
import {
  orderKeyOf,
  type CanonicalOrder,
  type InstrumentKind,
  type OrderStatus,
  type OrderType,
  type PositionSide,
  type TimeInForce,
} from '@orderstream/schemas';
import type { MapContext, MapResult, RestContext, VenueMapper } from '../types.js';
import { parseBinanceUsdmInbound, parseBinanceUsdmRestBody, type BinanceUsdmOrder, type BinanceUsdmOrderStatus } from './frames.js';
import { previewValue } from '../frame-kit.js';
import { mapUserEvent } from './mapper-uds.js';

/** The `api-version` this mapper reads: the WebSocket API path `/ws-fapi/v1`. */
export const BINANCE_USDM_API_VERSION = 'v1';

/** Binance `status` → unified status. EXPIRED_IN_MATCH (expired by self-trade prevention) is EXPIRED. */
export const BINANCE_USDM_STATUS_MAP: Readonly<Record<BinanceUsdmOrderStatus, OrderStatus>> = Object.freeze({
  NEW: 'NEW',
  PARTIALLY_FILLED: 'PARTIALLY_FILLED',
  FILLED: 'FILLED',
  CANCELED: 'CANCELED',
  REJECTED: 'REJECTED',
  EXPIRED: 'EXPIRED',
  EXPIRED_IN_MATCH: 'EXPIRED',
});

/** Binance `type` → unified type. STOP / TAKE_PROFIT are the limit variants of the conditional orders. */
export const BINANCE_USDM_TYPE_MAP: Readonly<Record<string, OrderType>> = Object.freeze({
  LIMIT: 'LIMIT',
  MARKET: 'MARKET',
  STOP: 'STOP_LIMIT',
  STOP_MARKET: 'STOP_MARKET',
  TAKE_PROFIT: 'TAKE_PROFIT_LIMIT',
  TAKE_PROFIT_MARKET: 'TAKE_PROFIT_MARKET',
  TRAILING_STOP_MARKET: 'TRAILING_STOP_MARKET',
});

const TIMES_IN_FORCE: Readonly<Record<string, TimeInForce>> = { GTC: 'GTC', IOC: 'IOC', FOK: 'FOK', GTX: 'GTX', GTD: 'GTD' };
const POSITION_SIDES: Readonly<Record<string, PositionSide>> = { LONG: 'LONG', SHORT: 'SHORT', BOTH: 'BOTH' };

/**
 * Quote (= settlement) assets of USDⓈ-M symbols, all four letters long, so the split is unambiguous. Binance
 * symbols are base+quote run together (`BTCUSDT`, `1000PEPEUSDC`); USDⓈ-M contracts are quoted and settled in a
 * stablecoin, so the quote is the settlement asset. BUSD contracts are delisted but old orders may still be read.
 * A symbol with none of these suffixes (or nothing before it) gets no unified symbol.
 */
export const BINANCE_USDM_QUOTE_ASSETS: readonly string[] = Object.freeze(['USDT', 'USDC', 'BUSD']);

export interface BinanceUsdmInstrument {
  base: string;
  quote: string;
  /** `YYMMDD` of a delivery contract (`BTCUSDT_250627`), null for a perpetual */
  delivery: string | null;
  /** CCXT-style unified symbol: `BTC/USDT:USDT`, `BTC/USDT:USDT-250627` */
  symbol: string;
  kind: InstrumentKind;
}

/** Splits a USDⓈ-M symbol into base/quote by the known quote suffixes; null when it cannot (see BINANCE_USDM_QUOTE_ASSETS). */
export function binanceUsdmInstrument(venueSymbol: string): BinanceUsdmInstrument | null {
  const m = /^([A-Z0-9]+?)(?:_(\d{6}))?$/.exec(venueSymbol);
  if (!m) return null;
  const pair = m[1] as string;
  const delivery = m[2] ?? null;
  for (const quote of BINANCE_USDM_QUOTE_ASSETS) {
    if (pair.length > quote.length && pair.endsWith(quote)) {
      const base = pair.slice(0, -quote.length);
      const unified = `${base}/${quote}:${quote}${delivery ? `-${delivery}` : ''}`;
      return { base, quote, delivery, symbol: unified, kind: delivery ? 'FUTURE' : 'PERPETUAL' };
    }
  }
  return null;
}

export const binanceUsdmMapper: VenueMapper = {
  venue: 'binance-usdm',
  apiVersion: BINANCE_USDM_API_VERSION,
  map(text: string, ctx: MapContext): MapResult {
    if (ctx.rest) return mapRest(text, ctx.rest, ctx);
    // Both sockets of an account share the api-version: a user data stream event has "e", an answer has "status".
    const frame = parseBinanceUsdmInbound(text);
    if (frame.kind === 'event') return mapUserEvent(frame.event, ctx);
    if (frame.kind === 'error') {
      const e = frame.error;
      return { kind: 'skipped', what: `error reply ${e.code}${e.msg ? ` (${e.msg})` : ''}` };
    }
    return { kind: 'orders', orders: [mapOrder(frame.order, ctx)] };
  },
};

/**
 * A REST answer of a reconciliation (MapContext.rest names the call): the same orders as order.status answers, mapped
 * the same way (same fields, units, times, orderKey). A list gives one canonical order per entry; an empty list and
 * Binance's error payload (also inside a 2xx answer) are skipped. Non-2xx answers never reach the mapper.
 */
function mapRest(text: string, rest: RestContext, ctx: MapContext): MapResult {
  const body = parseBinanceUsdmRestBody(text, rest.path);
  if (body.kind === 'error') return { kind: 'skipped', what: `rest error ${body.code}${body.msg ? ` (${body.msg})` : ''}` };
  if (body.orders.length === 0) return { kind: 'skipped', what: `empty order list (${rest.method} ${rest.path})` };
  return { kind: 'orders', orders: body.orders.map((o) => mapOrder(o, ctx)) };
}

function decimalField(field: string, text: string, orderId: string): string {
  try {
    return normalizeDecimal(text);
  } catch (error) {
    throw new FrameError('FRAME_INVALID', `Binance order.status result invalid: result.${field} is not a decimal, got ${previewValue(text)} [orderId ${orderId}]`, {
      cause: error,
      details: { field: `result.${field}`, value: text, orderId },
    });
  }
}

function timeField(field: string, digits: string | null, orderId: string): number | null {
  if (digits === null) return null;
  try {
    // Binance times are documented in ms; the unit is fixed, not guessed.
    return toEpochMicros(digits, 'ms');
  } catch (error) {
    throw new FrameError('FRAME_INVALID', `Binance order.status result invalid: result.${field} ${previewValue(digits)} is not a time [orderId ${orderId}]`, {
      cause: error,
      details: { field: `result.${field}`, value: digits, orderId },
    });
  }
}

function mapOrder(o: BinanceUsdmOrder, ctx: MapContext): CanonicalOrder {
  const status = BINANCE_USDM_STATUS_MAP[o.status as BinanceUsdmOrderStatus];
  if (status === undefined) {
    throw new FrameError(
      'FRAME_UNKNOWN_STATUS',
      `Binance order.status result: result.status ${previewValue(o.status)} is not one of ${Object.keys(BINANCE_USDM_STATUS_MAP).join(', ')} [orderId ${o.orderId}]`,
      { details: { field: 'result.status', value: o.status, orderId: o.orderId } },
    );
  }
  const id = o.orderId;
  const quantity = decimalField('origQty', o.origQty, id);
  const filledQuantity = decimalField('executedQty', o.executedQty, id);
  const nothingFilled = isZeroDecimal(filledQuantity);

  // avgPrice "0.00000" = nothing filled yet; a zero average is never a price.
  const avg = o.avgPrice === null ? null : decimalField('avgPrice', o.avgPrice, id);
  const averagePrice = avg === null || isZeroDecimal(avg) || nothingFilled ? null : avg;
  // Market orders (and STOP_MARKET, TRAILING_STOP_MARKET) carry price "0": no limit price.
  const px = o.price === null ? null : decimalField('price', o.price, id);
  const price = px === null || isZeroDecimal(px) ? null : px;
  const cumQuote = o.cumQuote === null ? null : decimalField('cumQuote', o.cumQuote, id);
  const filledQuoteQuantity = cumQuote !== null ? cumQuote : nothingFilled ? '0' : null;

  const venueOrderType = o.type;
  const orderType: OrderType = (venueOrderType !== null ? BINANCE_USDM_TYPE_MAP[venueOrderType] : undefined) ?? 'OTHER';
  // The official doc: "stopPrice: please ignore when order type is TRAILING_STOP_MARKET".
  const trailing = venueOrderType === 'TRAILING_STOP_MARKET';
  const stop = o.stopPrice === null ? null : decimalField('stopPrice', o.stopPrice, id);
  const triggerPrice = trailing || stop === null || isZeroDecimal(stop) ? null : stop;

  const tif = o.timeInForce === null ? null : (TIMES_IN_FORCE[o.timeInForce] ?? 'OTHER');
  // On Binance futures post-only exists only as GTX: any other time in force (GTE_GTC included) is not post-only.
  const postOnly = o.timeInForce === null ? null : o.timeInForce === 'GTX';
  const positionSide = o.positionSide === null ? null : (POSITION_SIDES[o.positionSide] ?? null);
  const instrument = binanceUsdmInstrument(o.symbol);

  const extras: Record<string, string> = {};
  const put = (k: string, v: string | boolean | null) => {
    if (v !== null) extras[k] = String(v);
  };
  put('origType', o.origType);
  put('workingType', o.workingType);
  put('priceProtect', o.priceProtect);
  put('closePosition', o.closePosition);
  put('priceMatch', o.priceMatch);
  put('selfTradePreventionMode', o.selfTradePreventionMode);
  if (o.goodTillDate !== null && o.goodTillDate !== '0') put('goodTillDate', o.goodTillDate);
  if (trailing && stop !== null) put('stopPrice', stop); // kept verbatim-normalized, but not a trigger price
  put('activatePrice', o.activatePrice === null ? null : decimalField('activatePrice', o.activatePrice, id));
  put('priceRate', o.priceRate === null ? null : decimalField('priceRate', o.priceRate, id));
  if (o.positionSide !== null && positionSide === null) put('positionSide', o.positionSide);
  if (tif === 'OTHER') put('timeInForce', o.timeInForce);
  for (const [k, v] of Object.entries(o.other)) extras[k] = v;

  return {
    orderKey: orderKeyOf('binance-usdm', ctx.account, id),
    venue: 'binance-usdm',
    account: ctx.account,
    orderId: id,
    clientOrderId: o.clientOrderId === null || o.clientOrderId === '' ? null : o.clientOrderId,
    venueSymbol: o.symbol,
    symbol: instrument?.symbol ?? null,
    instrumentKind: instrument?.kind ?? 'OTHER',
    side: o.side,
    positionSide,
    orderType,
    venueOrderType,
    timeInForce: tif,
    status,
    venueStatus: o.status,
    price,
    triggerPrice,
    // USDⓈ-M quantities are already in base-asset units: the venue figure and the base figure are the same.
    quantity,
    venueQuantity: quantity,
    quoteQuantity: null,
    filledQuantity,
    venueFilledQuantity: filledQuantity,
    filledQuoteQuantity,
    averagePrice,
    fee: null,
    feeAsset: null,
    lastFillQuantity: null,
    lastFillPrice: null,
    lastFillFee: null,
    lastFillId: null,
    reduceOnly: o.reduceOnly,
    postOnly,
    createdAt: timeField('time', o.time, id),
    updatedAt: timeField('updateTime', o.updateTime, id),
    receivedAt: ctx.receivedAt,
    source: ctx.source,
    extras,
  };
}
