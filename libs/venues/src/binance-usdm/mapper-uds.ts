import { compareDecimals, FrameError, isZeroDecimal, normalizeDecimal, toEpochMicros } from '@orderstream/kit';
import { orderKeyOf, type CanonicalOrder, type OrderStatus, type OrderType, type PositionSide, type TimeInForce } from '@orderstream/schemas';
import type { MapContext, MapResult } from '../types.js';
import { previewValue } from '../frame-kit.js';
import type { BinanceUsdmAlgoOrder, BinanceUsdmAlgoStatus, BinanceUsdmUdsOrder, BinanceUsdmUserEvent } from './frames-uds.js';
import { BINANCE_USDM_STATUS_MAP, BINANCE_USDM_TYPE_MAP, binanceUsdmInstrument } from './mapper.js';

/**
 * User data stream events → canonical orders (./README.md, "User data stream": field tables and the algo/regular
 * order relation). Pure; called by binanceUsdmMapper for frames with an `e`.
 */

const TIF: Readonly<Record<string, TimeInForce>> = { GTC: 'GTC', IOC: 'IOC', FOK: 'FOK', GTX: 'GTX', GTD: 'GTD' };
const POS: Readonly<Record<string, PositionSide>> = { LONG: 'LONG', SHORT: 'SHORT', BOTH: 'BOTH' };

/** Prefix of the orderId of an Algo Service order: algo ids and order ids are separate number spaces. */
export const BINANCE_USDM_ALGO_ID_PREFIX = 'algo-';

/** Short event keys of `o` → the extras names order.status uses for the same facts (so merged extras agree). */
const ORDER_EXTRA_NAMES: Readonly<Record<string, string>> = {
  ot: 'origType', wt: 'workingType', cp: 'closePosition', AP: 'activatePrice', cr: 'priceRate', pP: 'priceProtect',
  V: 'selfTradePreventionMode', pm: 'priceMatch', rp: 'realizedProfit', b: 'bidsNotional', a: 'askNotional', m: 'maker',
  er: 'expireReason', ma: 'marginAsset', si: 'si', ss: 'ss',
};
const ALGO_EXTRA_NAMES: Readonly<Record<string, string>> = {
  at: 'algoType', act: 'actualOrderType', wt: 'workingType', pm: 'priceMatch', cp: 'closePosition', pP: 'priceProtect',
  V: 'selfTradePreventionMode', rm: 'rejectReason', tt: 'triggerTime',
};

export function mapUserEvent(event: BinanceUsdmUserEvent, ctx: MapContext): MapResult {
  switch (event.kind) {
    case 'order':
      return { kind: 'orders', orders: [mapOrderUpdate(event.order, ctx)] };
    case 'algo':
      return { kind: 'orders', orders: [mapAlgoUpdate(event.algo, ctx)] };
    case 'listenKeyExpired':
      return { kind: 'skipped', what: 'listenKeyExpired (the collector gets a new listen key and reconnects)' };
    default:
      return { kind: 'skipped', what: `user data event ${event.event}` };
  }
}

function dec(what: string, field: string, v: string | null | undefined, id: string): string | null {
  if (v === null || v === undefined) return null;
  try {
    return normalizeDecimal(v);
  } catch (error) {
    throw new FrameError('FRAME_INVALID', `${what} invalid: o.${field} is not a decimal, got ${previewValue(v)} [${id}]`, { cause: error, details: { field: `o.${field}`, value: v } });
  }
}

function micros(what: string, field: string, ms: string | number | null | undefined, id: string): number | null {
  if (ms === null || ms === undefined) return null;
  try {
    return toEpochMicros(String(ms), 'ms');
  } catch (error) {
    throw new FrameError('FRAME_INVALID', `${what} invalid: ${field} ${previewValue(ms)} is not a time [${id}]`, { cause: error, details: { field, value: ms } });
  }
}

const nonZero = (v: string | null): string | null => (v === null || isZeroDecimal(v) ? null : v);

function putExtras(extras: Record<string, string>, other: Record<string, string>, names: Readonly<Record<string, string>>): void {
  for (const k in other) {
    const v = other[k] as string;
    if (k === 'gtd') {
      if (v !== '0') extras.goodTillDate = v;
      continue;
    }
    const name = names[k] ?? k;
    // decimals in the same normal form as order.status's extras
    extras[name] = (name === 'activatePrice' || name === 'priceRate') && /^-?\d+(\.\d+)?$/.test(v) ? normalizeDecimal(v) : v;
  }
}

/** ORDER_TRADE_UPDATE → the order as of this event. */
export function mapOrderUpdate(u: BinanceUsdmUdsOrder, ctx: MapContext): CanonicalOrder {
  const o = u.raw;
  const id = `orderId ${u.orderId}`;
  const what = 'Binance ORDER_TRADE_UPDATE';
  const status = BINANCE_USDM_STATUS_MAP[o.X as keyof typeof BINANCE_USDM_STATUS_MAP];
  if (status === undefined) {
    throw new FrameError('FRAME_UNKNOWN_STATUS', `${what}: o.X ${previewValue(o.X)} is not one of ${Object.keys(BINANCE_USDM_STATUS_MAP).join(', ')} [${id}]`, {
      details: { field: 'o.X', value: o.X, orderId: u.orderId },
    });
  }
  const quantity = dec(what, 'q', o.q, id) as string;
  const filled = dec(what, 'z', o.z, id) as string;
  const nothingFilled = isZeroDecimal(filled);
  const trailing = o.o === 'TRAILING_STOP_MARKET';
  const stop = dec(what, 'sp', o.sp, id);
  // A fill is reported by TRADE (and CALCULATED, a liquidation execution) with its own quantity, price and fee.
  const fillEvent = o.x === 'TRADE' || o.x === 'CALCULATED';
  const lastQty = fillEvent ? nonZero(dec(what, 'l', o.l, id)) : null;
  const tif = o.f === null || o.f === undefined ? null : (TIF[o.f] ?? 'OTHER');
  const positionSide = o.ps === null || o.ps === undefined ? null : (POS[o.ps] ?? null);
  const instrument = binanceUsdmInstrument(o.s);

  const extras: Record<string, string> = { executionType: o.x };
  if (u.eventTime !== null) extras.eventTime = u.eventTime;
  if (u.transactionTime !== null) extras.transactionTime = u.transactionTime;
  if (o.N !== null && o.N !== undefined && lastQty !== null) extras.lastFillFeeAsset = o.N;
  if (trailing && stop !== null) extras.stopPrice = stop;
  if (o.ps && positionSide === null) extras.positionSide = o.ps;
  if (tif === 'OTHER') extras.timeInForce = o.f as string;
  putExtras(extras, u.other, ORDER_EXTRA_NAMES);
  if (o.ot) extras.origType = o.ot;

  const updatedAt = micros(what, 'o.T', o.T ?? u.transactionTime, id);
  return {
    orderKey: orderKeyOf('binance-usdm', ctx.account, u.orderId),
    venue: 'binance-usdm',
    account: ctx.account,
    orderId: u.orderId,
    clientOrderId: o.c ? o.c : null,
    venueSymbol: o.s,
    symbol: instrument?.symbol ?? null,
    instrumentKind: instrument?.kind ?? 'OTHER',
    side: o.S as 'BUY' | 'SELL',
    positionSide,
    orderType: (BINANCE_USDM_TYPE_MAP[o.o] as OrderType | undefined) ?? 'OTHER',
    venueOrderType: o.o,
    timeInForce: tif,
    status,
    venueStatus: o.X,
    price: nonZero(dec(what, 'p', o.p, id)),
    triggerPrice: trailing ? null : nonZero(stop),
    quantity,
    venueQuantity: quantity,
    quoteQuantity: null,
    filledQuantity: filled,
    venueFilledQuantity: filled,
    // The event carries no cumulative quote: only "0" is known (nothing filled); order.status/REST fill it in.
    filledQuoteQuantity: nothingFilled ? '0' : null,
    averagePrice: nothingFilled ? null : nonZero(dec(what, 'ap', o.ap, id)),
    // `n` is the commission of this trade only, not a running total.
    fee: null,
    feeAsset: null,
    lastFillQuantity: lastQty,
    lastFillPrice: lastQty === null ? null : nonZero(dec(what, 'L', o.L, id)),
    lastFillFee: lastQty === null ? null : dec(what, 'n', o.n, id),
    lastFillId: lastQty === null ? null : u.tradeId,
    reduceOnly: o.R ?? null,
    postOnly: o.f === null || o.f === undefined ? null : o.f === 'GTX',
    // x NEW is the order's creation: its transaction time is the creation time (order.status `time`).
    createdAt: o.x === 'NEW' ? updatedAt : null,
    updatedAt,
    receivedAt: ctx.receivedAt,
    source: ctx.source,
    extras,
  };
}

/** Algo status → unified status, given the executed quantity of its actual order (FINISHED: filled or not). */
export function binanceUsdmAlgoStatus(x: string, quantity: string, executed: string | null): OrderStatus | undefined {
  const filled = executed !== null && !isZeroDecimal(executed);
  switch (x as BinanceUsdmAlgoStatus) {
    case 'NEW':
    case 'TRIGGERING':
      return 'UNTRIGGERED';
    case 'TRIGGERED':
      return filled ? 'PARTIALLY_FILLED' : 'NEW';
    case 'FINISHED':
      // "filled or canceled in the matching engine": FILLED when everything executed (or a close-all order, q 0, did)
      return filled && (isZeroDecimal(quantity) || compareDecimals(executed as string, quantity) >= 0) ? 'FILLED' : 'CANCELED';
    case 'CANCELED':
      return 'CANCELED';
    case 'REJECTED':
      return 'REJECTED';
    case 'EXPIRED':
      return 'EXPIRED';
    default:
      return undefined;
  }
}

/** ALGO_UPDATE → the conditional order itself, keyed `algo-<algoId>`; its actual order (`ai`) has its own key. */
export function mapAlgoUpdate(a: BinanceUsdmAlgoOrder, ctx: MapContext): CanonicalOrder {
  const o = a.raw;
  const id = `algoId ${a.algoId}`;
  const what = 'Binance ALGO_UPDATE';
  const quantity = dec(what, 'q', o.q, id) as string;
  const executed = dec(what, 'aq', o.aq, id);
  const status = binanceUsdmAlgoStatus(o.X, quantity, executed);
  if (status === undefined) {
    throw new FrameError('FRAME_UNKNOWN_STATUS', `${what}: o.X ${previewValue(o.X)} is not one of NEW, TRIGGERING, TRIGGERED, FINISHED, CANCELED, REJECTED, EXPIRED [${id}]`, {
      details: { field: 'o.X', value: o.X, algoId: a.algoId },
    });
  }
  const filled = executed ?? '0';
  const nothingFilled = isZeroDecimal(filled);
  const trailing = o.o === 'TRAILING_STOP_MARKET';
  const tif = o.f === null || o.f === undefined ? null : (TIF[o.f] ?? 'OTHER');
  const positionSide = o.ps === null || o.ps === undefined ? null : (POS[o.ps] ?? null);
  const instrument = binanceUsdmInstrument(o.s);
  const orderId = `${BINANCE_USDM_ALGO_ID_PREFIX}${a.algoId}`;

  const extras: Record<string, string> = { algo: 'true', algoId: a.algoId };
  if (a.actualOrderId !== null) extras.actualOrderId = a.actualOrderId;
  if (a.eventTime !== null) extras.eventTime = a.eventTime;
  if (a.transactionTime !== null) extras.transactionTime = a.transactionTime;
  if (o.ps && positionSide === null) extras.positionSide = o.ps;
  if (tif === 'OTHER') extras.timeInForce = o.f as string;
  if (o.tt !== null && o.tt !== undefined && String(o.tt) !== '0') extras.triggerTime = String(o.tt);
  const tp = nonZero(dec(what, 'tp', o.tp, id));
  if (trailing && tp !== null) extras.triggerPriceIgnored = tp;
  putExtras(extras, a.other, ALGO_EXTRA_NAMES);
  if (o.at) extras.algoType = o.at;
  if (o.act) extras.actualOrderType = o.act;

  const updatedAt = micros(what, 'T', a.transactionTime ?? a.eventTime, id);
  return {
    orderKey: orderKeyOf('binance-usdm', ctx.account, orderId),
    venue: 'binance-usdm',
    account: ctx.account,
    orderId,
    clientOrderId: o.caid ? o.caid : null,
    venueSymbol: o.s,
    symbol: instrument?.symbol ?? null,
    instrumentKind: instrument?.kind ?? 'OTHER',
    side: o.S as 'BUY' | 'SELL',
    positionSide,
    orderType: (BINANCE_USDM_TYPE_MAP[o.o] as OrderType | undefined) ?? 'OTHER',
    venueOrderType: o.o,
    timeInForce: tif,
    status,
    venueStatus: o.X,
    price: nonZero(dec(what, 'p', o.p, id)),
    triggerPrice: trailing ? null : tp,
    quantity,
    venueQuantity: quantity,
    quoteQuantity: null,
    filledQuantity: filled,
    venueFilledQuantity: filled,
    filledQuoteQuantity: nothingFilled ? '0' : null,
    averagePrice: nothingFilled ? null : nonZero(dec(what, 'ap', o.ap, id)),
    fee: null,
    feeAsset: null,
    lastFillQuantity: null,
    lastFillPrice: null,
    lastFillFee: null,
    lastFillId: null,
    reduceOnly: o.R ?? null,
    postOnly: o.f === null || o.f === undefined ? null : o.f === 'GTX',
    createdAt: o.X === 'NEW' ? updatedAt : null,
    updatedAt,
    receivedAt: ctx.receivedAt,
    source: ctx.source,
    extras,
  };
}
