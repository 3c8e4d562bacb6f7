import { z } from 'zod';
import { FrameError } from '@orderstream/kit';
import { exactNumberText, jsonKind, previewValue, zodFrameError } from '../frame-kit.js';
import { decimalValue, idValue, integerValue, missingOr, optionalString, requiredString } from './fields.js';
import type { XtOrder } from './frames.js';

/**
 * XT USDT-M futures REST answers that reconciliation reads (sources and coverage: ./README.md "Reconciliation"):
 * - `GET /future/trade/v1/order/list` (state, page, size): `result` = `{page, ps, total, items: [order…]}`;
 * - `GET /future/trade/v1/order/list-history` (startTime, endTime, id, direction, limit): `result` =
 *   `{hasPrev, hasNext, items: [order…]}`;
 * - `GET /future/trade/v1/order/detail` (orderId): `result` = one order, or null when XT has no such order;
 * - `GET /future/trade/v1/order/list-open-order` (symbol): `result` = `[order…]` (read, not asked by us).
 * Every answer comes in XT's futures envelope `{"returnCode","msgInfo","error":{"code","msg"}|null,"result"}`;
 * an application error is a 2xx body with a non-zero `returnCode` and an `error.code`.
 */

export const XT_ORDER_LIST_PATH = '/future/trade/v1/order/list';
export const XT_ORDER_HISTORY_PATH = '/future/trade/v1/order/list-history';
export const XT_ORDER_DETAIL_PATH = '/future/trade/v1/order/detail';
export const XT_OPEN_ORDERS_PATH = '/future/trade/v1/order/list-open-order';

/** Paths whose answers carry orders (the mapper refuses a REST answer of any other path). */
export const XT_REST_ORDER_PATHS: ReadonlySet<string> = new Set([XT_ORDER_LIST_PATH, XT_ORDER_HISTORY_PATH, XT_ORDER_DETAIL_PATH, XT_OPEN_ORDERS_PATH]);

/** One order of a REST answer (XTREPO getOrders.md / getHistory.md / getById.md / getOpenOrders.md; CCXT parseOrder). */
export const xtRestOrderSchema = z.looseObject(
  {
    orderId: idValue,
    clientOrderId: optionalString,
    symbol: requiredString,
    orderType: optionalString,
    orderSide: z.string({ error: missingOr('must be BUY or SELL') }).refine((s) => /^(buy|sell)$/i.test(s), { error: 'must be BUY or SELL' }),
    positionSide: optionalString,
    timeInForce: optionalString,
    price: decimalValue.nullish(),
    origQty: decimalValue,
    avgPrice: decimalValue.nullish(),
    executedQty: decimalValue,
    marginFrozen: decimalValue.nullish(),
    state: requiredString,
    createdTime: integerValue.nullish(),
    updatedTime: integerValue.nullish(),
    leverage: integerValue.nullish(),
    positionType: optionalString,
    sourceType: optionalString,
  },
  { error: missingOr('must be an object') },
);
export type XtRestOrder = z.output<typeof xtRestOrderSchema>;

/** The futures REST envelope (XTREPO `_futures_documentation/returnFormat.md`; CCXT comments). */
export const xtRestEnvelopeSchema = z.looseObject({
  returnCode: z.union([z.number(), z.string()], { error: missingOr('must be a number or a string') }),
  msgInfo: z.string().nullish(),
  error: z.looseObject({ code: z.union([z.string(), z.number()]).nullish(), msg: z.string().nullish() }).nullish(),
  result: z.unknown().optional(),
});
export type XtRestEnvelope = z.output<typeof xtRestEnvelopeSchema>;

const pageSchema = z.looseObject({
  items: z.array(z.unknown(), { error: missingOr('must be an array') }),
  page: integerValue.nullish(),
  ps: integerValue.nullish(),
  total: integerValue.nullish(),
  hasNext: z.boolean().nullish(),
  hasPrev: z.boolean().nullish(),
});
export type XtRestPage = z.output<typeof pageSchema>;

/** An XT application error carried by an envelope: its code (or the returnCode) and message. */
export interface XtRestError {
  code: string;
  msg: string;
}

/** Success is returnCode 0 (every observed answer); returnFormat.md's own example says 200, accepted too. */
export function xtReturnCodeOk(returnCode: number | string): boolean {
  const c = String(returnCode);
  return c === '0' || c === '200';
}

/** The application error an envelope carries, or undefined when it is a success. */
export function xtEnvelopeError(env: XtRestEnvelope): XtRestError | undefined {
  const code = env.error?.code;
  const hasCode = code !== null && code !== undefined && String(code) !== '';
  if (xtReturnCodeOk(env.returnCode) && !hasCode) return undefined;
  return { code: hasCode ? String(code) : String(env.returnCode), msg: env.error?.msg || env.msgInfo || '' };
}

/** Parses the envelope of a REST answer; FRAME_NOT_JSON / FRAME_UNKNOWN_VARIANT / FRAME_INVALID otherwise. */
export function parseXtEnvelope(text: string, what: string): XtRestEnvelope {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new FrameError('FRAME_NOT_JSON', `${what} is not valid JSON (${(error as Error).message}): ${previewValue(text)}`, {
      details: { head: text.slice(0, 120) },
    });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new FrameError('FRAME_UNKNOWN_VARIANT', `${what} is ${jsonKind(value)}, not XT's envelope object`, { details: { head: text.slice(0, 120) } });
  }
  const r = xtRestEnvelopeSchema.safeParse(value);
  if (!r.success) throw zodFrameError(what, r.error.issues, value);
  return r.data;
}

/** The `result` of a list answer (order/list, list-history): its page fields and raw items. */
export function parseXtPage(result: unknown, what: string): XtRestPage {
  const r = pageSchema.safeParse(result);
  if (!r.success) throw zodFrameError(what, r.error.issues, result, { pathPrefix: 'result' });
  return r.data;
}

const KNOWN_KEYS = new Set(Object.keys(xtRestOrderSchema.shape));

/**
 * Validates one order of a REST answer and turns it into the mapper's XtOrder (every number as its exact text from
 * the body). `field` names where it sits (`result`, `result.items.3`) for error messages.
 */
export function parseXtRestOrder(value: unknown, text: string, what: string, field: string): XtOrder {
  const r = xtRestOrderSchema.safeParse(value);
  if (!r.success) {
    const id = (value as { orderId?: unknown } | null)?.orderId;
    throw zodFrameError(what, r.error.issues, value, { pathPrefix: field, ...(id !== undefined ? { tail: ` [orderId ${String(id)}]` } : {}) });
  }
  const d = r.data;
  const num = (key: string, v: string | number | null | undefined): string | null =>
    v === null || v === undefined ? null : typeof v === 'string' ? v : exactNumberText(text, key, v, what, `${field}.${key}`);
  const other: Record<string, string> = {};
  for (const [k, v] of Object.entries(d)) {
    if (KNOWN_KEYS.has(k) || v === null || v === undefined) continue;
    other[k] = typeof v === 'string' ? v : typeof v === 'number' ? exactNumberText(text, k, v, what, `${field}.${k}`) : JSON.stringify(v);
  }
  return {
    event: null,
    symbol: d.symbol,
    orderId: num('orderId', d.orderId) as string,
    clientOrderId: d.clientOrderId || null,
    origQty: num('origQty', d.origQty) as string,
    executedQty: num('executedQty', d.executedQty) as string,
    avgPrice: num('avgPrice', d.avgPrice),
    price: num('price', d.price),
    marginFrozen: num('marginFrozen', d.marginFrozen),
    orderSide: d.orderSide.toUpperCase() as 'BUY' | 'SELL',
    state: d.state,
    timeInForce: d.timeInForce || null,
    positionSide: d.positionSide || null,
    orderType: d.orderType || null,
    createdTime: num('createdTime', d.createdTime),
    updatedTime: num('updatedTime', d.updatedTime),
    leverage: num('leverage', d.leverage),
    sourceType: d.sourceType ?? null,
    type: null,
    positionType: d.positionType ?? null,
    other,
  };
}
