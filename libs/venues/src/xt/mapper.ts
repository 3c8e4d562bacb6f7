import {
  FrameError,
  isZeroDecimal,
  mulDecimals,
  normalizeDecimal,
  toEpochMicros,
} from '@orderstream/kit';
import {
  orderKeyOf,
  type CanonicalOrder,
  type InstrumentKind,
  type OrderStatus,
  type OrderType,
  type PositionSide,
  type TimeInForce,
} from '@orderstream/schemas';
import { instrumentRef } from '../reference.js';
import type { MapContext, MapResult, VenueMapper } from '../types.js';
import { parseXtFrame, type XtOrder, type XtOrderState } from './frames.js';
import { previewValue } from '../frame-kit.js';
import type { RestContext } from '../types.js';
import {
  parseXtEnvelope,
  parseXtPage,
  parseXtRestOrder,
  xtEnvelopeError,
  XT_OPEN_ORDERS_PATH,
  XT_ORDER_DETAIL_PATH,
  XT_ORDER_HISTORY_PATH,
  XT_ORDER_LIST_PATH,
} from './rest.js';

/**
 * The `api-version` this mapper reads. XT's own docs file this socket as the futures user websocket "v2"
 * (`_futures_user_websocket_v2`, `wss://fstream.xt.com/ws/user`, frames routed on `topic`), distinct from the
 * legacy v1 user stream (`{"req":"sub_user"}`, pushes on `channel: user.order`), which this mapper does not read.
 */
export const XT_API_VERSION = 'v2';

/** XT `state` → unified status. PARTIALLY_CANCELED is terminal: canceled after a partial fill (filled > 0). */
export const XT_STATUS_MAP: Readonly<Record<XtOrderState, OrderStatus>> = Object.freeze({
  NEW: 'NEW',
  PARTIALLY_FILLED: 'PARTIALLY_FILLED',
  PARTIALLY_CANCELED: 'CANCELED',
  FILLED: 'FILLED',
  CANCELED: 'CANCELED',
  REJECTED: 'REJECTED',
  EXPIRED: 'EXPIRED',
});

const ORDER_TYPES: Readonly<Record<string, OrderType>> = { LIMIT: 'LIMIT', MARKET: 'MARKET' };
const TIMES_IN_FORCE: Readonly<Record<string, TimeInForce>> = { GTC: 'GTC', IOC: 'IOC', FOK: 'FOK', GTX: 'GTX' };
const POSITION_SIDES: Readonly<Record<string, PositionSide>> = { LONG: 'LONG', SHORT: 'SHORT', BOTH: 'BOTH' };

/** `btc_usdt` → `BTC/USDT:USDT` (USDT-M linear perpetual: settled in the quote). Other shapes → null. */
export function xtUnifiedSymbol(venueSymbol: string): string | null {
  const m = /^([^_\s/:]+)_([^_\s/:]+)$/.exec(venueSymbol);
  if (!m) return null;
  const base = (m[1] as string).toUpperCase();
  const quote = (m[2] as string).toUpperCase();
  return `${base}/${quote}:${quote}`;
}

/** Listen keys must not reach the canonical topic: `order@3BC1D71D…` keeps the first 4 characters. */
export function maskListenKey(key: string): string {
  return key.length <= 4 ? '…' : `${key.slice(0, 4)}…`;
}

function maskEvent(event: string): string {
  const at = event.indexOf('@');
  return at < 0 ? event : `${event.slice(0, at + 1)}${maskListenKey(event.slice(at + 1))}`;
}

export const xtMapper: VenueMapper = {
  venue: 'xt',
  apiVersion: XT_API_VERSION,
  map(text: string, ctx: MapContext): MapResult {
    // REST answers of a reconciliation are told apart by the map context, so the push path pays nothing for them.
    if (ctx.rest !== undefined) return mapXtRest(text, ctx, ctx.rest);
    const frame = parseXtFrame(text);
    switch (frame.kind) {
      case 'order':
        return { kind: 'orders', orders: [mapOrder(frame.order, ctx)] };
      case 'push':
        return { kind: 'skipped', what: `${frame.topic} push` };
      case 'pong':
        return { kind: 'skipped', what: 'pong' };
      case 'invalid-listen-key':
        return { kind: 'skipped', what: `listen key invalid (${frame.text})` };
      case 'reply': {
        const code = Number(frame.reply.code);
        if (code === 0) return { kind: 'skipped', what: frame.reply.method ? `${frame.reply.method} ack` : 'subscribe ack' };
        return { kind: 'skipped', what: `error reply code ${code}${frame.reply.msg ? ` (${frame.reply.msg})` : ''}` };
      }
    }
  },
};

/** Where an order sits in the frame, for error messages: `XT order push` / `data`, or a REST answer / `result…`. */
interface OrderPlace {
  what: string;
  at: string;
  /** REST times are documented in ms; push times are detected by magnitude (the doc example shows seconds) */
  timeUnit?: 'ms';
}

const PUSH_PLACE: OrderPlace = { what: 'XT order push', at: 'data' };

function decimalField(field: string, text: string, orderId: string, place: OrderPlace): string {
  try {
    return normalizeDecimal(text);
  } catch (error) {
    throw new FrameError('FRAME_INVALID', `${place.what} invalid: ${place.at}.${field} is not a decimal, got ${previewValue(text)} [orderId ${orderId}]`, {
      cause: error,
      details: { field: `${place.at}.${field}`, value: text, orderId },
    });
  }
}

function timeField(field: string, digits: string | null, orderId: string, place: OrderPlace): number | null {
  try {
    return toEpochMicros(digits, place.timeUnit);
  } catch (error) {
    throw new FrameError('FRAME_INVALID', `${place.what} invalid: ${place.at}.${field} ${previewValue(digits)} is not a time [orderId ${orderId}]`, {
      cause: error,
      details: { field: `${place.at}.${field}`, value: digits, orderId },
    });
  }
}

function mapOrder(o: XtOrder, ctx: MapContext, place: OrderPlace = PUSH_PLACE): CanonicalOrder {
  const status = XT_STATUS_MAP[o.state as XtOrderState];
  if (status === undefined) {
    throw new FrameError(
      'FRAME_UNKNOWN_STATUS',
      `${place.what}: ${place.at}.state ${previewValue(o.state)} is not one of ${Object.keys(XT_STATUS_MAP).join(', ')} [orderId ${o.orderId}]`,
      { details: { field: `${place.at}.state`, value: o.state, orderId: o.orderId } },
    );
  }

  const venueQuantity = decimalField('origQty', o.origQty, o.orderId, place);
  const venueFilledQuantity = decimalField('executedQty', o.executedQty, o.orderId, place);
  const nothingFilled = isZeroDecimal(venueFilledQuantity);

  // avgPrice "0" means "no fills yet"; a zero average is never a real price, so it is null (unknown) either way.
  const avg = o.avgPrice === null ? null : decimalField('avgPrice', o.avgPrice, o.orderId, place);
  const averagePrice = avg === null || isZeroDecimal(avg) ? null : avg;
  // Market orders carry price "0": no limit price.
  const px = o.price === null ? null : decimalField('price', o.price, o.orderId, place);
  const price = px === null || isZeroDecimal(px) ? null : px;

  const ref = instrumentRef(ctx.reference, 'xt', o.symbol) ?? instrumentRef(ctx.reference, 'xt', o.symbol.toLowerCase());
  const contractSize = ref?.contractSize;
  const quantity = contractSize === undefined ? null : mulDecimals(venueQuantity, contractSize);
  const filledQuantity = contractSize === undefined ? null : mulDecimals(venueFilledQuantity, contractSize);
  const filledQuoteQuantity =
    filledQuantity === null ? null : nothingFilled ? '0' : averagePrice === null ? null : mulDecimals(filledQuantity, averagePrice);

  // 0 (XT's doc templates) is no time: null.
  const createdAt = timeField('createdTime', o.createdTime, o.orderId, place);
  const updatedTime = o.updatedTime ?? null;
  const updatedAt = timeField('updatedTime', updatedTime, o.orderId, place);

  const venueOrderType = o.orderType;
  const orderType: OrderType = (venueOrderType !== null ? ORDER_TYPES[venueOrderType.toUpperCase()] : undefined) ?? 'OTHER';
  const tif = o.timeInForce === null ? null : (TIMES_IN_FORCE[o.timeInForce.toUpperCase()] ?? 'OTHER');
  const postOnly = tif === null || tif === 'OTHER' ? null : tif === 'GTX';
  const positionSide = o.positionSide === null ? null : (POSITION_SIDES[o.positionSide.toUpperCase()] ?? null);
  const symbol = xtUnifiedSymbol(o.symbol);
  const instrumentKind: InstrumentKind = symbol === null ? 'OTHER' : 'PERPETUAL';

  const extras: Record<string, string> = {};
  const put = (k: string, v: string | null) => {
    if (v !== null) extras[k] = v;
  };
  put('marginFrozen', o.marginFrozen === null ? null : decimalField('marginFrozen', o.marginFrozen, o.orderId, place));
  put('sourceType', o.sourceType);
  put('type', o.type);
  put('leverage', o.leverage);
  put('positionType', o.positionType);
  put('event', o.event === null ? null : maskEvent(o.event));
  put('createdTime', o.createdTime);
  put('updatedTime', updatedTime);
  if (o.positionSide !== null && positionSide === null) put('positionSide', o.positionSide);
  if (tif === 'OTHER') put('timeInForce', o.timeInForce);
  for (const [k, v] of Object.entries(o.other)) extras[k] = v;

  return {
    orderKey: orderKeyOf('xt', ctx.account, o.orderId),
    venue: 'xt',
    account: ctx.account,
    orderId: o.orderId,
    clientOrderId: o.clientOrderId,
    venueSymbol: o.symbol,
    symbol,
    instrumentKind,
    side: o.orderSide,
    positionSide,
    orderType,
    venueOrderType,
    timeInForce: tif,
    status,
    venueStatus: o.state,
    price,
    triggerPrice: null,
    quantity,
    venueQuantity,
    quoteQuantity: null,
    filledQuantity,
    venueFilledQuantity,
    filledQuoteQuantity,
    averagePrice,
    fee: null,
    feeAsset: null,
    lastFillQuantity: null,
    lastFillPrice: null,
    lastFillFee: null,
    lastFillId: null,
    reduceOnly: null,
    postOnly,
    createdAt,
    updatedAt,
    receivedAt: ctx.receivedAt,
    source: ctx.source,
    extras,
  };
}

/**
 * A REST answer of a reconciliation (`ctx.rest` says which call): one canonical order per order it carries, mapped
 * exactly as a push (same orderKey, units, status table), plus `updatedAt` from `updatedTime` (ms). An XT error
 * envelope inside a 2xx body, an empty list and a detail lookup XT answers with `result: null` are skipped.
 */
function mapXtRest(text: string, ctx: MapContext, rest: RestContext): MapResult {
  const what = `XT REST answer (${rest.method} ${rest.path})`;
  const env = parseXtEnvelope(text, what);
  const failed = xtEnvelopeError(env);
  if (failed) return { kind: 'skipped', what: `error envelope code ${failed.code}${failed.msg ? ` (${failed.msg})` : ''}` };
  const result = env.result;
  switch (rest.path) {
    case XT_ORDER_DETAIL_PATH: {
      if (result === null || result === undefined) return { kind: 'skipped', what: `order detail: no such order${rest.params.orderId ? ` ${rest.params.orderId}` : ''}` };
      return { kind: 'orders', orders: [mapOrder(parseXtRestOrder(result, text, what, 'result'), ctx, { what, at: 'result', timeUnit: 'ms' })] };
    }
    case XT_ORDER_LIST_PATH:
    case XT_ORDER_HISTORY_PATH: {
      const page = parseXtPage(result, what);
      return mapItems(page.items, 'result.items', text, what, ctx);
    }
    case XT_OPEN_ORDERS_PATH: {
      if (!Array.isArray(result)) {
        throw new FrameError('FRAME_INVALID', `${what} invalid: result must be an array of orders, got ${previewValue(result)}`, { details: { field: 'result' } });
      }
      return mapItems(result, 'result', text, what, ctx);
    }
    default:
      throw new FrameError('FRAME_UNKNOWN_VARIANT', `${what}: no XT order answer is known for path ${rest.path}`, { details: { path: rest.path } });
  }
}

function mapItems(items: readonly unknown[], at: string, text: string, what: string, ctx: MapContext): MapResult {
  if (items.length === 0) return { kind: 'skipped', what: 'empty order list' };
  const orders = items.map((item, i) => {
    const place: OrderPlace = { what, at: `${at}.${i}`, timeUnit: 'ms' };
    return mapOrder(parseXtRestOrder(item, text, what, place.at), ctx, place);
  });
  return { kind: 'orders', orders };
}
