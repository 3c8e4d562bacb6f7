import { z } from 'zod';
import { FrameError } from '@orderstream/kit';
import { exactNumberText, jsonKind, previewValue, zodFrameError } from '../frame-kit.js';
import { loopringOrderDataSchema, loopringOrderOf, type LoopringOrder } from './frames.js';

/**
 * Loopring's REST answers used by reconciliation (see ./README.md "Reconciliation"), as zod schemas plus one parser,
 * `parseLoopringRest`, that the mapper calls when a frame is a REST answer (MapContext.rest set).
 *
 * Two documented API generations, both read whatever the path says, so a relayer that mixes them still maps:
 * - v2 (LRV2 `dex_apis/getOrders`, `getOrderDetail`): every answer HTTP 200 with `{"resultInfo":{"code","message"},
 *   "data":…}`; `data` is `{"totalNum","orders":[Order]}` or one `Order`, the push's flat shape (`size`, `volume`,
 *   `filledSize`, … raw token units; `createdAt` ms; `validSince`/`validUntil` s; `side` `BUY`/`SELL`; `orderType`).
 * - v3 (LRV3 `dex_apis/getOrders`, `getOrderDetail`, swag.json `OrdersDetailV3`/`OrderDetailV3`): no envelope on
 *   success, `{"totalNum","orders":[…]}` or one order with `volumes` {baseAmount, quoteAmount, baseFilled,
 *   quoteFilled, fee} and `validity` {start, end}, `tradeChannel`, `storageInfo`; no creation or update time.
 *   Errors: `{"resultInfo":{"code","message"}}` (loopring_sdk) or `{"code","msg"}` (LRV3 general_info.md).
 * Both become the same `LoopringOrder` as a push, so REST and push map through one function.
 */

export const LOOPRING_REST_PATHS = {
  v2: { orders: '/api/v2/orders', order: '/api/v2/order' },
  v3: { orders: '/api/v3/orders', order: '/api/v3/order' },
} as const;
export type LoopringRestApi = keyof typeof LOOPRING_REST_PATHS;

/** Documented `resultInfo.code` values of the order endpoints (LRV2 getOrders / getOrderDetail, LRV3 swag.json). */
export const LOOPRING_REST_CODES = {
  0: 'SUCCESS',
  100000: 'Unknown error',
  100001: 'Invalid parameter',
  100002: 'Request timeout',
  104001: 'Empty ApiKey',
  104002: 'Invalid ApiKey',
  104003: 'Invalid Account ID',
  107001: 'User ID cannot be empty',
  107002: 'Order Hash cannot be empty',
  107003: 'Order does not exist',
} as const;
/** "Order does not exist": a detail lookup's answer for an order the relayer does not know. */
export const LOOPRING_ORDER_NOT_FOUND = 107003;

const missingOr = (problem: string) => (iss: { input?: unknown }) => (iss.input === undefined ? 'is required' : problem);
const rawAmount = z.custom<string | number>(
  (v) => (typeof v === 'string' && /^\d+$/.test(v)) || (typeof v === 'number' && Number.isInteger(v) && v >= 0),
  { error: missingOr('must be a non-negative integer of raw token units') },
);
const integerValue = z.custom<string | number>(
  (v) => (typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && /^-?\d+$/.test(v)),
  { error: missingOr('must be an integer (number or digit string)') },
);

/** One order in the v3 shape (swag.json OrderDetailV3). Loose: undocumented fields go to extras. */
export const loopringRestOrderV3Schema = z.looseObject({
  hash: z.union([z.string().min(1), z.number().int().nonnegative()], { error: missingOr('must be a non-empty string') }),
  clientOrderId: z.union([z.string(), z.number()]).nullish(),
  side: z.string({ error: missingOr('must be BUY or SELL') }).refine((s) => /^(buy|sell)$/i.test(s), { error: 'must be BUY or SELL' }),
  market: z.string({ error: missingOr('must be a string') }).min(1),
  price: z.union([z.string(), z.number()], { error: missingOr('must be a decimal') }),
  volumes: z.looseObject(
    { baseAmount: rawAmount, quoteAmount: rawAmount, baseFilled: rawAmount, quoteFilled: rawAmount, fee: rawAmount },
    { error: missingOr('must be an object') },
  ),
  validity: z.looseObject({ start: integerValue.nullish(), end: integerValue.nullish() }).nullish(),
  orderType: z.string().nullish(),
  status: z.string({ error: missingOr('must be a string') }).min(1),
  /** not in the v3 model; read when a relayer adds them */
  createdAt: integerValue.nullish(),
  updatedAt: integerValue.nullish(),
  updateAt: integerValue.nullish(),
});

const resultInfoSchema = z.looseObject({ code: integerValue, message: z.string().nullish(), msg: z.string().nullish() });

/** What a REST answer says. */
export type LoopringRestAnswer =
  | { kind: 'error'; code: number; message: string }
  | { kind: 'orders'; orders: LoopringOrder[]; list: boolean; totalNum: number | null };

const V3_KEYS = new Set(['hash', 'clientOrderId', 'side', 'market', 'price', 'volumes', 'validity', 'orderType', 'status', 'createdAt', 'updatedAt', 'updateAt']);

/**
 * Parses one REST answer of an order endpoint. `path` (from the rest-request header) says whether a list or one
 * order is expected; the body's own shape says which generation it is. Throws FrameError for anything unreadable.
 */
export function parseLoopringRest(text: string, path: string): LoopringRestAnswer {
  const list = path.endsWith('/orders');
  if (!list && !path.endsWith('/order')) {
    throw new FrameError('FRAME_UNKNOWN_VARIANT', `Loopring REST answer for ${previewValue(path)}: not an order endpoint (${Object.values(LOOPRING_REST_PATHS).flatMap((p) => Object.values(p)).join(', ')})`, {
      details: { path },
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new FrameError('FRAME_NOT_JSON', `Loopring REST answer (${path}) is not valid JSON (${(error as Error).message}): ${previewValue(text)}`, {
      details: { head: text.slice(0, 120), path },
    });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new FrameError('FRAME_UNKNOWN_VARIANT', `Loopring REST answer (${path}) is ${jsonKind(value)}, not a JSON object`, { details: { path } });
  }
  const root = value as Record<string, unknown>;
  const error = restError(root);
  if (error) return error;
  // v2: the payload is in `data`; v3: the body is the payload.
  const body = 'resultInfo' in root ? root.data : root;
  const where = 'resultInfo' in root ? ['data'] : [];
  if (list) {
    const b = body as Record<string, unknown> | null | undefined;
    if (b === null || typeof b !== 'object' || !Array.isArray(b.orders)) {
      throw new FrameError('FRAME_INVALID', `Loopring REST answer (${path}) invalid: ${[...where, 'orders'].join('.')} must be a list, got ${previewValue(b === null || typeof b !== 'object' ? b : b.orders)}`, {
        details: { field: [...where, 'orders'].join('.'), path },
      });
    }
    const totalNum = b.totalNum === undefined || b.totalNum === null ? null : Number(b.totalNum);
    const orders = (b.orders as unknown[]).map((o, i) => restOrder(o, text, [...where, 'orders', i], path));
    return { kind: 'orders', orders, list: true, totalNum: Number.isFinite(totalNum) ? totalNum : null };
  }
  return { kind: 'orders', orders: [restOrder(body, text, where, path)], list: false, totalNum: null };
}

/** An error envelope: `resultInfo.code` ≠ 0 (v2, v3 per loopring_sdk) or a top-level `code` ≠ 0 (LRV3 general_info). */
function restError(root: Record<string, unknown>): LoopringRestAnswer | undefined {
  if (root.resultInfo !== undefined && root.resultInfo !== null) {
    const r = resultInfoSchema.safeParse(root.resultInfo);
    if (!r.success) throw zodFrameError('Loopring REST answer', r.error.issues.map((i) => ({ ...i, path: ['resultInfo', ...i.path] })), root);
    const code = Number(r.data.code);
    if (code !== 0) return { kind: 'error', code, message: r.data.message ?? r.data.msg ?? '' };
    return undefined;
  }
  if ('code' in root && !('hash' in root) && !('orders' in root)) {
    const code = Number(root.code);
    if (Number.isInteger(code) && code !== 0) {
      const message = typeof root.msg === 'string' ? root.msg : typeof root.message === 'string' ? root.message : '';
      return { kind: 'error', code, message };
    }
  }
  return undefined;
}

function restOrder(o: unknown, text: string, path: (string | number)[], restPath: string): LoopringOrder {
  const rec = o !== null && typeof o === 'object' && !Array.isArray(o) ? (o as Record<string, unknown>) : undefined;
  const what = `Loopring REST answer (${restPath})`;
  const options = { pathPrefix: path.join('.'), ...(rec && rec.hash !== undefined ? { tail: ` [hash ${String(rec.hash)}]` } : {}) };
  if (rec && typeof rec.volumes === 'object' && rec.volumes !== null) {
    // v3: volumes / validity objects → the push's flat fields
    const r = loopringRestOrderV3Schema.safeParse(rec);
    if (!r.success) throw zodFrameError(what, r.error.issues, rec, options);
    const d = r.data;
    const num = (key: string, v: string | number): string => (typeof v === 'string' ? v : exactNumberText(text, key, v, what, key));
    const opt = (key: string, v: string | number | null | undefined): string | null => (v === null || v === undefined ? null : num(key, v));
    const other: Record<string, string> = {};
    for (const [k, v] of Object.entries(rec)) {
      if (V3_KEYS.has(k) || v === null || v === undefined) continue;
      other[k] = typeof v === 'string' ? v : typeof v === 'number' ? num(k, v) : JSON.stringify(v);
    }
    const clientOrderId = d.clientOrderId === null || d.clientOrderId === undefined ? null : num('clientOrderId', d.clientOrderId);
    const validSince = opt('start', d.validity?.start);
    const validUntil = opt('end', d.validity?.end);
    return {
      hash: num('hash', d.hash),
      clientOrderId: clientOrderId === '' ? null : clientOrderId,
      size: num('baseAmount', d.volumes.baseAmount),
      volume: num('quoteAmount', d.volumes.quoteAmount),
      price: num('price', d.price),
      filledSize: num('baseFilled', d.volumes.baseFilled),
      filledVolume: num('quoteFilled', d.volumes.quoteFilled),
      filledFee: num('fee', d.volumes.fee),
      status: d.status,
      side: d.side.toUpperCase() as 'BUY' | 'SELL',
      market: d.market,
      createdAt: opt('createdAt', d.createdAt),
      updateAt: opt('updatedAt', d.updatedAt) ?? opt('updateAt', d.updateAt),
      // the v3 example shows {start: 0, end: 0}: zero means "not given"
      validSince: validSince === '0' ? null : validSince,
      validUntil: validUntil === '0' ? null : validUntil,
      orderType: d.orderType ?? null,
      other,
    };
  }
  // v2: the push's Order shape
  const r = loopringOrderDataSchema.safeParse(o);
  if (!r.success) throw zodFrameError(what, r.error.issues, o, options);
  return loopringOrderOf(r.data, text);
}
