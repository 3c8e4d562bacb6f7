import { divDecimals, FrameError, isZeroDecimal, normalizeDecimal, shiftDecimal, toEpochMicros } from '@orderstream/kit';
import { orderKeyOf, type CanonicalOrder, type OrderStatus, type OrderType } from '@orderstream/schemas';
import { instrumentRef, type InstrumentRef } from '../reference.js';
import type { MapContext, MapResult, VenueMapper } from '../types.js';
import { parseLoopringFrame, type LoopringOrderPush, type LoopringOrderStatus, type LoopringReply } from './frames.js';
import { previewValue } from '../frame-kit.js';
import { parseLoopringRest } from './rest.js';

/**
 * The `api-version` this mapper reads: Loopring's v2 relayer API (`wss://ws.loopring.io/v2/ws`, `api/v2/exchange`,
 * one-time key from `/v2/ws/key`). The v3 relayer keeps the same `order` topic and frame shapes on other hosts
 * (`/v3/ws`); frames from it would read the same, but they would be a different source and get their own version.
 */
export const LOOPRING_API_VERSION = 'v2';

/**
 * Loopring `status` → unified status, for every documented value. `processing` is resolved by filled size
 * (see loopringStatus); `waiting` ("not yet effective": validSince in the future) is accepted and cancellable
 * (LRWEB lists it with the open orders) but cannot trade yet → PENDING_NEW. Not UNTRIGGERED: there is no trigger
 * price, only a start time, and PENDING_NEW ranks below NEW in the merge rules, as `waiting` precedes `processing`.
 */
export const LOOPRING_STATUS_MAP: Readonly<Record<Exclude<LoopringOrderStatus, 'processing'>, OrderStatus>> = Object.freeze({
  waiting: 'PENDING_NEW',
  processed: 'FILLED',
  cancelling: 'PENDING_CANCEL',
  cancelled: 'CANCELED',
  expired: 'EXPIRED',
  /** REST-only status (see frames.ts LOOPRING_EXTRA_STATUSES): the relayer gave up on the order */
  failed: 'REJECTED',
});

/** `processing` → NEW with nothing filled, PARTIALLY_FILLED otherwise; the rest from LOOPRING_STATUS_MAP. */
export function loopringStatus(status: string, filledSizeRaw: string): OrderStatus | undefined {
  const s = status.toLowerCase();
  if (s === 'processing') return isZeroDecimal(filledSizeRaw) ? 'NEW' : 'PARTIALLY_FILLED';
  return (LOOPRING_STATUS_MAP as Readonly<Record<string, OrderStatus>>)[s];
}

/**
 * The order id of a hash: `0x` + hex in any case → lower case (REST and the docs print lower case; a relayer or a
 * proxy that changed the case would otherwise split one order in two); any other form (the doc's decimal `"11212"`)
 * verbatim. The reconciler names REST ids the same way.
 */
export function loopringOrderId(hash: string): string {
  // hot path: a hash already in lower case (the usual form) is answered by one scan that finds nothing
  return UPPER_HEX_RE.test(hash) && HEX_HASH_RE.test(hash) ? hash.toLowerCase() : hash;
}
const UPPER_HEX_RE = /[A-FX]/;
const HEX_HASH_RE = /^0[xX][0-9a-fA-F]+$/;

/** `LRC-ETH` → `{ base: 'LRC', quote: 'ETH' }`; any other shape (e.g. `AMM-LRC-ETH`) → undefined. */
export function loopringMarketParts(market: string): { base: string; quote: string } | undefined {
  const m = /^([A-Za-z0-9]+)-([A-Za-z0-9]+)$/.exec(market);
  return m ? { base: (m[1] as string).toUpperCase(), quote: (m[2] as string).toUpperCase() } : undefined;
}

/** `LRC-ETH` → `LRC/ETH` (spot); other shapes → null. */
export function loopringUnifiedSymbol(market: string): string | null {
  const p = loopringMarketParts(market);
  return p ? `${p.base}/${p.quote}` : null;
}

/** REST `orderType` values (LRV2 submitOrder: LIMIT_ORDER, TAKER_ONLY, MAKER_ONLY); every Loopring order is a limit order. */
const ORDER_TYPES: Readonly<Record<string, { orderType: OrderType; postOnly: boolean }>> = {
  LIMIT_ORDER: { orderType: 'LIMIT', postOnly: false },
  MAKER_ONLY: { orderType: 'LIMIT', postOnly: true },
  TAKER_ONLY: { orderType: 'LIMIT', postOnly: false },
};

/** The instrument reference for a market: exact key first, then upper-cased (markets are upper case in Loopring's API). */
export function loopringInstrumentRef(ctxReference: MapContext['reference'], market: string): InstrumentRef | undefined {
  return instrumentRef(ctxReference, 'loopring', market) ?? instrumentRef(ctxReference, 'loopring', market.toUpperCase());
}

export const loopringMapper: VenueMapper = {
  venue: 'loopring',
  apiVersion: LOOPRING_API_VERSION,
  map(text: string, ctx: MapContext): MapResult {
    if (ctx.rest !== undefined) return mapRest(text, ctx, ctx.rest.path);
    const frame = parseLoopringFrame(text);
    switch (frame.kind) {
      case 'order':
        return { kind: 'orders', orders: [mapOrder(frame.push, ctx)] };
      case 'push':
        return { kind: 'skipped', what: `${frame.topic} push` };
      case 'ping':
        return { kind: 'skipped', what: 'ping' };
      case 'reply':
        return { kind: 'skipped', what: replyWhat(frame.reply) };
    }
  },
};

/** A REST answer of reconciliation (rest.ts): one canonical order per order it lists, mapped exactly as a push. */
function mapRest(text: string, ctx: MapContext, path: string): MapResult {
  const answer = parseLoopringRest(text, path);
  if (answer.kind === 'error') return { kind: 'skipped', what: `REST error code ${answer.code}${answer.message ? ` (${answer.message})` : ''}` };
  if (answer.orders.length === 0) return { kind: 'skipped', what: 'REST order list (empty)' };
  const topic = { topic: 'order', market: null, form: 'object' } as const;
  return { kind: 'orders', orders: answer.orders.map((order) => mapOrder({ topic, ts: null, order }, ctx)) };
}

function replyWhat(r: LoopringReply): string {
  const op = r.op === null || r.op === '' ? 'request' : r.op;
  if (r.ok) return `${op} ack`;
  const code = r.code === null ? '' : ` code ${r.code}`;
  return `${op} failed${code}${r.message ? ` (${r.message})` : ''}`;
}

function decimalField(field: string, text: string, hash: string): string {
  try {
    return normalizeDecimal(text);
  } catch (error) {
    throw new FrameError('FRAME_INVALID', `Loopring order push invalid: data.${field} is not a decimal, got ${previewValue(text)} [hash ${hash}]`, {
      cause: error,
      details: { field: `data.${field}`, value: text, hash },
    });
  }
}

function timeField(field: string, digits: string | null, hash: string): number | null {
  if (digits === null) return null;
  try {
    return toEpochMicros(digits);
  } catch (error) {
    throw new FrameError('FRAME_INVALID', `Loopring order push invalid: ${field} ${previewValue(digits)} is not a time [hash ${hash}]`, {
      cause: error,
      details: { field, value: digits, hash },
    });
  }
}

function mapOrder(push: LoopringOrderPush, ctx: MapContext): CanonicalOrder {
  const o = push.order;
  const status = loopringStatus(o.status, o.filledSize);
  if (status === undefined) {
    throw new FrameError(
      'FRAME_UNKNOWN_STATUS',
      `Loopring order push: data.status ${previewValue(o.status)} is not one of processing, ${Object.keys(LOOPRING_STATUS_MAP).join(', ')} [hash ${o.hash}]`,
      { details: { field: 'data.status', value: o.status, hash: o.hash } },
    );
  }

  // Raw token units, exact (normalized: "007" → "7").
  const size = decimalField('size', o.size, o.hash);
  const volume = decimalField('volume', o.volume, o.hash);
  const filledSize = decimalField('filledSize', o.filledSize, o.hash);
  const filledVolume = decimalField('filledVolume', o.filledVolume, o.hash);
  const filledFee = decimalField('filledFee', o.filledFee, o.hash);
  const px = decimalField('price', o.price, o.hash);
  const price = isZeroDecimal(px) ? null : px;

  // Token decimals from reference data; a missing figure leaves the converted field null, never guessed.
  const ref = loopringInstrumentRef(ctx.reference, o.market);
  const bd = ref?.baseDecimals;
  const qd = ref?.quoteDecimals;
  const base = (raw: string) => (bd === undefined ? null : shiftDecimal(raw, bd));
  const quote = (raw: string) => (qd === undefined ? null : shiftDecimal(raw, qd));
  const quantity = base(size);
  const filledQuantity = base(filledSize);
  const quoteQuantity = quote(volume);
  const filledQuoteQuantity = quote(filledVolume);
  // Average = filled quote ÷ filled base, in human units, rounded half-even to the quote token's decimals.
  const averagePrice =
    filledQuantity === null || filledQuoteQuantity === null || qd === undefined || isZeroDecimal(filledSize) || isZeroDecimal(filledVolume)
      ? null
      : divDecimals(filledQuoteQuantity, filledQuantity, qd);

  // The fee is paid in the token received (tokenB): base for a buy, quote for a sell.
  const parts = loopringMarketParts(o.market);
  const feeAsset = parts ? (o.side === 'BUY' ? parts.base : parts.quote) : null;
  const feeDecimals = o.side === 'BUY' ? bd : qd;
  const fee = feeDecimals === undefined ? null : shiftDecimal(filledFee, feeDecimals);

  // Push and REST must name an order alike: a hex hash in any case becomes lower case (the raw text is in extras).
  const orderId = loopringOrderId(o.hash);
  const createdAt = timeField('data.createdAt', o.createdAt, o.hash);
  // The order's own update time; the model lists `updateAt`, the doc example lacks it: then the push time `ts`
  // (pushes are sent on change, so it is the venue's time of the change as published).
  const updatedAt = timeField('data.updateAt', o.updateAt, o.hash) ?? timeField('ts', push.ts, o.hash);

  const typed = o.orderType === null ? undefined : ORDER_TYPES[o.orderType.toUpperCase()];
  const orderType: OrderType = o.orderType === null ? 'LIMIT' : (typed?.orderType ?? 'OTHER');
  const postOnly = typed === undefined ? null : typed.postOnly;

  const extras: Record<string, string> = {};
  const put = (k: string, v: string | null) => {
    if (v !== null) extras[k] = v;
  };
  put('volume', volume);
  put('filledVolume', filledVolume);
  put('filledFee', filledFee);
  put('ts', push.ts);
  put('createdAt', o.createdAt);
  put('updateAt', o.updateAt);
  put('validSince', o.validSince);
  put('validUntil', o.validUntil);
  if (push.topic.market !== null && push.topic.market !== o.market) put('topicMarket', push.topic.market);
  if (orderId !== o.hash) put('hash', o.hash);
  for (const [k, v] of Object.entries(o.other)) extras[k] = v;

  return {
    orderKey: orderKeyOf('loopring', ctx.account, orderId),
    venue: 'loopring',
    account: ctx.account,
    orderId,
    clientOrderId: o.clientOrderId,
    venueSymbol: o.market,
    symbol: parts ? `${parts.base}/${parts.quote}` : null,
    instrumentKind: 'SPOT',
    side: o.side,
    positionSide: null,
    orderType,
    venueOrderType: o.orderType,
    // Every Loopring order is signed with an expiry (validUntil, seconds): good till that date.
    timeInForce: o.validUntil === null ? null : 'GTD',
    status,
    venueStatus: o.status,
    price,
    triggerPrice: null,
    quantity,
    venueQuantity: size,
    quoteQuantity,
    filledQuantity,
    venueFilledQuantity: filledSize,
    filledQuoteQuantity,
    averagePrice,
    fee,
    feeAsset,
    // Cumulative figures only: no per-fill record in the push (see README "Fills").
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
