import { z } from 'zod';
import { FrameError, isZeroDecimal, normalizeDecimal, toEpochMicros } from '@orderstream/kit';
import { orderKeyOf, type CanonicalOrder, type OrderStatus } from '@orderstream/schemas';
import type { MapContext, MapResult, RestContext } from '../types.js';
import { exactNumberText, previewValue, zodFrameError } from '../frame-kit.js';
import { webseaExecutionId, webseaUnifiedSymbol } from './mapper.js';

/**
 * WebSea spot REST answers that reconciliation asks for (WSREPO `en/spot-trade/*`, ./README.md "Reconciliation"):
 * - `GET /openApi/entrust/currentList`  open orders, `{errno, errmsg, result: [order…]}`, paged by `from`/`limit`;
 * - `GET /openApi/entrust/historyList`  finished orders, same shape, newest first;
 * - `GET /openApi/entrust/status`       one order, `result: order`;
 * - `GET /openApi/entrust/deal`         an order's trades: `result: {order_sn, trades: [{id, ctime, price, number,
 *   total_price, fee}]}` (en/spot-trade/order-trade), or, in the older YApi page, `result: [{deal_id, deal_time,
 *   fee, identity, number, order_sn, price, side, symbol, total_price}]`. Both are read.
 * Every answer is an envelope `{errno, errmsg, result}`; errno ≠ 0 is an error (en/about/errno).
 *
 * REST differs from the push: status is an integer (1 pending, 2 partially filled, 3 filled, 4 cancelling,
 * 5 partially cancelled, 6 cancelled), type an integer (1 market, 2 limit), side lower case, times are text
 * `YYYY-MM-DD HH:mm:ss` in WebSea's zone (UTC+8, UNCONFIRMED), the order id is `order_sn` (the push's `order_id`)
 * and the order carries cumulative figures (`deal_number`, `deal_price` = average) instead of the last execution.
 */

export const WEBSEA_REST_PATHS = {
  openOrders: '/openApi/entrust/currentList',
  history: '/openApi/entrust/historyList',
  detail: '/openApi/entrust/status',
  trades: '/openApi/entrust/deal',
} as const;

/** Minutes east of UTC of the REST `ctime` text. UNCONFIRMED: a third-party implementation reads it as UTC+8. */
export const WEBSEA_REST_UTC_OFFSET_MINUTES = 480;

/** REST status integer → the push's status word (WebSea's own word for the same state) and the unified status. */
export const WEBSEA_REST_STATUS: Readonly<Record<number, { word: string; status: OrderStatus }>> = Object.freeze({
  1: { word: 'NEW', status: 'NEW' },
  2: { word: 'PARTIALLY_FILLED', status: 'PARTIALLY_FILLED' },
  3: { word: 'FILLED', status: 'FILLED' },
  // "Cancelling": no push word exists for it; the REST doc's English name.
  4: { word: 'CANCELLING', status: 'PENDING_CANCEL' },
  5: { word: 'PARTIALLY_CANCELED', status: 'CANCELED' },
  6: { word: 'CANCELED', status: 'CANCELED' },
});

/** REST type integer → the push's `order_type` word. */
export const WEBSEA_REST_TYPE: Readonly<Record<number, 'MARKET' | 'LIMIT'>> = Object.freeze({ 1: 'MARKET', 2: 'LIMIT' });

/** Errnos that mean "slow down / try again later": mapped to VENUE_RATE_LIMITED (retriable). */
export const WEBSEA_REST_BUSY_ERRNOS: ReadonlySet<number> = new Set([20507]);
/** "order queryorder invalid: Unable to query this order": the venue does not know the order. */
export const WEBSEA_REST_UNKNOWN_ORDER_ERRNO = 20515;

/** `YYYY-MM-DD HH:mm:ss` (UTC+8) → unix seconds; undefined when the text is not that shape. */
export function webseaCtimeToSeconds(text: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$/.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const utc = Date.UTC(y, mo - 1, d, h, mi, s);
  if (Number.isNaN(utc) || new Date(utc).getUTCDate() !== d) return undefined;
  return utc / 1000 - WEBSEA_REST_UTC_OFFSET_MINUTES * 60;
}

/** unix seconds → `YYYY-MM-DD HH:mm:ss` in WebSea's zone (the simulator writes REST times with it). */
export function webseaSecondsToCtime(seconds: number): string {
  return new Date((seconds + WEBSEA_REST_UTC_OFFSET_MINUTES * 60) * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

// ---------------------------------------------------------------------------------------------------------------
// Schemas (loose: fields WebSea adds are tolerated).

const decimalText = z.union([z.string().refine((s) => s.trim() === '' || /^-?\d+(\.\d+)?$/.test(s.trim()), { error: 'must be a decimal' }), z.number()]);
const intText = z.union([z.number().refine((n) => Number.isInteger(n) && n >= 0, { error: 'must be a non-negative integer' }), z.string().regex(/^\d+$/, { error: 'must be an integer' })]);

export const webseaRestOrderSchema = z.looseObject({
  order_id: intText.nullish(),
  order_sn: z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' }),
  symbol: z.string().nullish(),
  ctime: z.string({ error: 'must be a string' }),
  type: intText,
  side: z.string().refine((s) => /^(buy|sell)$/i.test(s), { error: 'must be buy or sell' }),
  price: decimalText.nullish(),
  number: decimalText.nullish(),
  total_price: decimalText.nullish(),
  deal_number: decimalText,
  deal_price: decimalText.nullish(),
  status: intText,
});

export const webseaRestTradeSchema = z.looseObject({
  id: intText,
  ctime: z.string(),
  price: decimalText,
  number: decimalText,
  total_price: decimalText.nullish(),
  fee: decimalText.nullish(),
});

/** The older YApi shape of a trade (openapi_en.html v1.2.2). */
export const webseaRestDealSchema = z.looseObject({
  deal_id: intText,
  deal_time: intText,
  order_sn: z.string().min(1),
  price: decimalText,
  number: decimalText,
  fee: decimalText.nullish(),
  side: z.string().nullish(),
  symbol: z.string().nullish(),
  total_price: decimalText.nullish(),
  identity: z.string().nullish(),
});

export const webseaRestEnvelopeSchema = z.looseObject({
  errno: intText,
  errmsg: z.string().nullish(),
  result: z.unknown().optional(),
});

export type WebseaRestOrder = z.output<typeof webseaRestOrderSchema>;

/** An error envelope's errno and errmsg, or undefined for a success (errno 0). Throws on what is no envelope. */
export function webseaRestError(text: string): { errno: number; errmsg: string } | undefined {
  const env = parseEnvelope(text, 'WebSea REST answer');
  return env.errno === 0 ? undefined : { errno: env.errno, errmsg: env.errmsg };
}

function parseEnvelope(text: string, what: string): { errno: number; errmsg: string; result: unknown } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new FrameError('FRAME_NOT_JSON', `${what} is not valid JSON (${(error as Error).message}): ${previewValue(text)}`, { details: { head: text.slice(0, 120) } });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value) || !('errno' in value)) {
    throw new FrameError('FRAME_UNKNOWN_VARIANT', `${what} is not a WebSea envelope {errno, errmsg, result}: ${previewValue(text)}`, { details: { head: text.slice(0, 120) } });
  }
  const r = webseaRestEnvelopeSchema.safeParse(value);
  if (!r.success) throw zodFrameError(what, r.error.issues, value);
  return { errno: Number(r.data.errno), errmsg: r.data.errmsg ?? '', result: r.data.result };
}

// ---------------------------------------------------------------------------------------------------------------
// Mapping.

type RestKind = 'openOrders' | 'history' | 'detail' | 'trades';

function restKindOf(path: string): RestKind | undefined {
  for (const [kind, p] of Object.entries(WEBSEA_REST_PATHS)) if (path === p || path.endsWith(p)) return kind as RestKind;
  return undefined;
}

/** Maps one REST answer (ctx.rest set). An error envelope → skipped; a list → one canonical record per entry. */
export function mapWebseaRest(text: string, ctx: MapContext & { rest: RestContext }): MapResult {
  const rest = ctx.rest;
  const named = `${rest.method} ${rest.path}`;
  const kind = restKindOf(rest.path);
  if (!kind) throw new FrameError('FRAME_UNKNOWN_VARIANT', `WebSea REST answer to ${named}: not an endpoint this mapper reads`, { details: { path: rest.path } });
  const what = `WebSea ${named} answer`;
  const env = parseEnvelope(text, what);
  if (env.errno !== 0) return { kind: 'skipped', what: `error errno ${env.errno}${env.errmsg ? ` (${env.errmsg})` : ''} to ${named}` };
  if (kind === 'trades') return mapTrades(env.result, text, ctx, what);
  const entries = kind === 'detail' ? [env.result] : env.result;
  if (!Array.isArray(entries)) {
    throw new FrameError('FRAME_INVALID', `${what}: result must be ${kind === 'detail' ? 'an object' : 'a list'}, got ${previewValue(env.result)}`, { details: { field: 'result' } });
  }
  if (entries.length === 0) return { kind: 'skipped', what: `empty ${kind === 'history' ? 'order history' : 'open orders'} list` };
  return { kind: 'orders', orders: entries.map((e, i) => mapRestOrder(e, text, ctx, what, kind === 'detail' ? 'result' : `result[${i}]`)) };
}

function num(text: string, key: string, v: string | number | null | undefined, what: string, field: string): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v.trim() === '' ? null : normalizeDecimal(v.trim());
  return normalizeDecimal(exactNumberText(text, key, v, what, field));
}

function mapRestOrder(entry: unknown, text: string, ctx: MapContext, what: string, at: string): CanonicalOrder {
  const r = webseaRestOrderSchema.safeParse(entry);
  if (!r.success) throw zodFrameError(what, r.error.issues, entry, { tail: ` (${at})` });
  const o = r.data;
  const field = (k: string) => `${at}.${k}`;
  const orderId = o.order_sn;
  const statusInt = Number(o.status);
  const st = WEBSEA_REST_STATUS[statusInt];
  if (!st) {
    throw new FrameError('FRAME_UNKNOWN_STATUS', `${what}: ${field('status')} ${previewValue(o.status)} is not one of 1…6 [order_sn ${orderId}]`, {
      details: { field: field('status'), value: o.status, orderId },
    });
  }
  const typeWord = WEBSEA_REST_TYPE[Number(o.type)];
  const side = o.side.toUpperCase() as 'BUY' | 'SELL';
  const market = typeWord === 'MARKET';
  const price = num(text, 'price', o.price, what, field('price'));
  const number = num(text, 'number', o.number, what, field('number'));
  const total = num(text, 'total_price', o.total_price, what, field('total_price'));
  const dealNumber = num(text, 'deal_number', o.deal_number, what, field('deal_number')) ?? '0';
  const dealPrice = num(text, 'deal_price', o.deal_price, what, field('deal_price'));
  const seconds = webseaCtimeToSeconds(o.ctime);
  if (seconds === undefined) {
    throw new FrameError('FRAME_INVALID', `${what}: ${field('ctime')} must be "YYYY-MM-DD HH:mm:ss", got ${previewValue(o.ctime)} [order_sn ${orderId}]`, {
      details: { field: field('ctime'), value: o.ctime, orderId },
    });
  }
  // Market BUY: `number` is 0 and `total_price` the notional (the push's `amount` for the same order).
  const notional = market && side === 'BUY';
  const quantity = notional || number === null || isZeroDecimal(number) ? null : number;
  const extras: Record<string, string> = { ctime: o.ctime };
  if (o.order_id !== null && o.order_id !== undefined) extras.restOrderId = typeof o.order_id === 'number' ? exactNumberText(text, 'order_id', o.order_id, what, field('order_id')) : o.order_id;
  if (!notional && total !== null && !isZeroDecimal(total)) extras.totalPrice = total;
  if (!typeWord) extras.type = String(o.type);
  const symbol = o.symbol ?? ctx.rest?.params.symbol ?? '';
  return {
    orderKey: orderKeyOf('websea', ctx.account, orderId),
    venue: 'websea',
    account: ctx.account,
    orderId,
    clientOrderId: null,
    venueSymbol: symbol,
    symbol: symbol ? webseaUnifiedSymbol(symbol) : null,
    instrumentKind: 'SPOT',
    side,
    positionSide: null,
    orderType: typeWord ?? 'OTHER',
    venueOrderType: typeWord ?? String(o.type),
    timeInForce: null,
    status: st.status,
    venueStatus: st.word,
    price: market || price === null || isZeroDecimal(price) ? null : price,
    triggerPrice: null,
    quantity,
    venueQuantity: quantity,
    quoteQuantity: notional && total !== null && !isZeroDecimal(total) ? total : null,
    // The venue's cumulative claim; order-state (per-execution venue) keeps it beside the executions it sums.
    filledQuantity: dealNumber,
    venueFilledQuantity: dealNumber,
    filledQuoteQuantity: null,
    averagePrice: dealPrice === null || isZeroDecimal(dealPrice) ? null : dealPrice,
    fee: null,
    feeAsset: null,
    lastFillQuantity: null,
    lastFillPrice: null,
    lastFillFee: null,
    lastFillId: null,
    reduceOnly: null,
    postOnly: null,
    createdAt: seconds * 1_000_000,
    // REST gives no update time: the answer describes the order as of its receipt.
    updatedAt: ctx.receivedAt,
    receivedAt: ctx.receivedAt,
    source: ctx.source,
    extras,
  };
}

/** Marker in the extras of a record that carries one execution from a REST trade list and no order fields. */
export const WEBSEA_EXECUTION_ONLY_EXTRA = 'executionOnly';

/**
 * The execution id of a REST trade: `<fingerprint>#<trade id>`, the fingerprint being the id the push of the same
 * execution gets (`webseaExecutionId`). order-state counts a pushed execution only while no REST trade carries its
 * fingerprint, so the same execution is never counted twice, and two executions the pushes cannot tell apart are
 * told apart by their trade ids.
 */
export function webseaTradeExecutionId(fingerprint: string, tradeId: string): string {
  return `${fingerprint}#${tradeId}`;
}

function mapTrades(result: unknown, text: string, ctx: MapContext & { rest: RestContext }, what: string): MapResult {
  const orders: CanonicalOrder[] = [];
  if (Array.isArray(result)) {
    // YApi shape: [{deal_id, deal_time, order_sn, side, symbol, …}]
    result.forEach((entry, i) => {
      const r = webseaRestDealSchema.safeParse(entry);
      if (!r.success) throw zodFrameError(what, r.error.issues, entry, { tail: ` (result[${i}])` });
      const d = r.data;
      const micros = toEpochMicros(typeof d.deal_time === 'number' ? d.deal_time : d.deal_time);
      if (micros === null) throw new FrameError('FRAME_INVALID', `${what}: result[${i}].deal_time is not a time`, { details: { field: `result[${i}].deal_time` } });
      const tradeId = typeof d.deal_id === 'number' ? exactNumberText(text, 'deal_id', d.deal_id, what, `result[${i}].deal_id`) : d.deal_id;
      const side = typeof d.side === 'string' && /^(buy|sell)$/i.test(d.side) ? (d.side.toUpperCase() as 'BUY' | 'SELL') : undefined;
      orders.push(tradeRecord(ctx, d.order_sn, tradeId, Math.floor(micros / 1_000_000), {
        qty: num(text, 'number', d.number, what, `result[${i}].number`),
        price: num(text, 'price', d.price, what, `result[${i}].price`),
        fee: num(text, 'fee', d.fee, what, `result[${i}].fee`),
      }, what, { ...(side ? { side } : {}), ...(d.symbol ? { symbol: d.symbol } : {}) }));
    });
  } else {
    const r = z.looseObject({ order_sn: z.string().min(1).nullish(), trades: z.array(z.unknown()) }).safeParse(result);
    if (!r.success) throw zodFrameError(what, r.error.issues, result, { tail: ' (result)' });
    const orderId = r.data.order_sn ?? ctx.rest.params.order_sn ?? ctx.rest.params.orderSn;
    if (!orderId) throw new FrameError('FRAME_INVALID', `${what}: result.order_sn is missing and the request named no order`, { details: { field: 'result.order_sn' } });
    r.data.trades.forEach((entry, i) => {
      const t = webseaRestTradeSchema.safeParse(entry);
      if (!t.success) throw zodFrameError(what, t.error.issues, entry, { tail: ` (result.trades[${i}])` });
      const seconds = webseaCtimeToSeconds(t.data.ctime);
      if (seconds === undefined) {
        throw new FrameError('FRAME_INVALID', `${what}: result.trades[${i}].ctime must be "YYYY-MM-DD HH:mm:ss", got ${previewValue(t.data.ctime)}`, {
          details: { field: `result.trades[${i}].ctime` },
        });
      }
      const tradeId = typeof t.data.id === 'number' ? exactNumberText(text, 'id', t.data.id, what, `result.trades[${i}].id`) : t.data.id;
      orders.push(tradeRecord(ctx, orderId, tradeId, seconds, {
        qty: num(text, 'number', t.data.number, what, `result.trades[${i}].number`),
        price: num(text, 'price', t.data.price, what, `result.trades[${i}].price`),
        fee: num(text, 'fee', t.data.fee, what, `result.trades[${i}].fee`),
      }, what, {}));
    });
  }
  if (orders.length === 0) return { kind: 'skipped', what: 'empty trade list' };
  return { kind: 'orders', orders };
}

/**
 * One execution of a REST trade list as a canonical record. The trade list names no order status, side or type:
 * the record says what it knows (the order has at least this execution: PARTIALLY_FILLED, venueStatus `TRADE`, the
 * push's event word for an execution) and is marked execution-only (extras), so order-state takes its execution and
 * never its order fields (services/order-state/src/reduce.ts, rule 6). `side` is BUY unless the answer names it.
 */
function tradeRecord(
  ctx: MapContext,
  orderId: string,
  tradeId: string,
  seconds: number,
  f: { qty: string | null; price: string | null; fee: string | null },
  what: string,
  known: { side?: 'BUY' | 'SELL'; symbol?: string },
): CanonicalOrder {
  if (f.qty === null || isZeroDecimal(f.qty) || f.qty.startsWith('-')) throw new FrameError('FRAME_INVALID', `${what}: trade ${tradeId} number must be a positive quantity [order_sn ${orderId}]`, { details: { orderId, tradeId } });
  if (f.price === null || isZeroDecimal(f.price)) throw new FrameError('FRAME_INVALID', `${what}: trade ${tradeId} price must be positive [order_sn ${orderId}]`, { details: { orderId, tradeId } });
  const fingerprint = webseaExecutionId({ orderId, ts: String(seconds), quantity: f.qty, price: f.price, fee: f.fee });
  return {
    orderKey: orderKeyOf('websea', ctx.account, orderId),
    venue: 'websea',
    account: ctx.account,
    orderId,
    clientOrderId: null,
    venueSymbol: known.symbol ?? '',
    symbol: known.symbol ? webseaUnifiedSymbol(known.symbol) : null,
    instrumentKind: 'SPOT',
    side: known.side ?? 'BUY',
    positionSide: null,
    orderType: 'OTHER',
    venueOrderType: null,
    timeInForce: null,
    status: 'PARTIALLY_FILLED',
    venueStatus: 'TRADE',
    price: null,
    triggerPrice: null,
    quantity: null,
    venueQuantity: null,
    quoteQuantity: null,
    filledQuantity: null,
    venueFilledQuantity: null,
    filledQuoteQuantity: null,
    averagePrice: null,
    fee: null,
    feeAsset: null,
    lastFillQuantity: f.qty,
    lastFillPrice: f.price,
    lastFillFee: f.fee,
    lastFillId: webseaTradeExecutionId(fingerprint, tradeId),
    reduceOnly: null,
    postOnly: null,
    createdAt: null,
    updatedAt: seconds * 1_000_000,
    receivedAt: ctx.receivedAt,
    source: ctx.source,
    extras: { [WEBSEA_EXECUTION_ONLY_EXTRA]: 'true' },
  };
}
