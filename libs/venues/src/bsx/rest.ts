import { z } from 'zod';
import { FrameError } from '@orderstream/kit';
import { jsonKind, previewValue, valueAt, zodFrameError } from '../frame-kit.js';
import { bsxOrderSchema, parseJsonLossless, toBsxOrder, type BsxOrder } from './frames.js';

/**
 * BSX's REST answers that reconciliation reads (sources: ./README.md "Reconciliation", ./fixtures/README.md):
 * - `GET /orders` (open orders of every market): a JSON array of orders (BSXSDK js `OpenOrderResult = UserOrder[]`,
 *   py `get_all_open_orders` iterates the body as a list);
 * - `GET /orders/{order_id}` (one order, "Get an order" in the official orders doc; path UNCONFIRMED): one order object;
 * - `GET /order-history` (BSXSDK py `get_order_history`, js `getOrderHistory`): a JSON array of orders;
 * - any non-2xx answer, and an error inside a 2xx answer: `{"code":<int>,"message":"…","details":[…]}` (BSXSDK py
 *   `_handle_response` reads `code`, `message`, `detail`; code 16 = Unauthenticated).
 * The order object is the push's ("the order's format should be the same with the REST api about order", official
 * doc), so the same schema validates it and the same mapping applies.
 */

export const BSX_REST_PATHS = Object.freeze({
  openOrders: '/orders',
  /** `/orders/<id>` */
  orderPrefix: '/orders/',
  history: '/order-history',
});

/** BSX's error envelope (BSXSDK py). `code` follows the gRPC code table (16 Unauthenticated, 5 not found: UNCONFIRMED). */
export const bsxRestErrorSchema = z.looseObject({
  code: z.union([z.number(), z.string()]),
  message: z.string().nullish(),
});
export type BsxRestError = { code: number | string; message: string | null };

/** gRPC codes BSX's envelopes carry (BSXSDK py: 16 = Unauthenticated; the others UNCONFIRMED). */
export const BSX_REST_CODES = Object.freeze({ notFound: 5, rateLimited: 8, internal: 13, unauthenticated: 16 });

export type BsxRestBody =
  | { kind: 'orders'; orders: BsxOrder[] }
  | { kind: 'error'; error: BsxRestError };

/** The envelope if `value` is one (an object with a `code` and no order `id`). */
export function bsxRestErrorOf(value: unknown): BsxRestError | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || 'id' in value) return undefined;
  const r = bsxRestErrorSchema.safeParse(value);
  return r.success ? { code: r.data.code, message: r.data.message ?? null } : undefined;
}

/** Which REST shape a path answers with: a list of orders, one order, or not one of ours (undefined). */
export function bsxRestShapeOf(path: string): 'list' | 'one' | undefined {
  if (path === BSX_REST_PATHS.openOrders || path === BSX_REST_PATHS.history) return 'list';
  if (path.startsWith(BSX_REST_PATHS.orderPrefix) && path.length > BSX_REST_PATHS.orderPrefix.length) return 'one';
  return undefined;
}

/**
 * Parses and validates one REST answer body of `path`. Numbers a double would alter keep their digits (lossless
 * parse, as for pushes). Throws FrameError: FRAME_NOT_JSON, FRAME_UNKNOWN_VARIANT (a path or shape that is none of
 * the above), FRAME_INVALID (an order field, named `<i>.<field>` with the order id).
 */
export function parseBsxRestBody(text: string, path: string): BsxRestBody {
  const shape = bsxRestShapeOf(path);
  if (shape === undefined) {
    throw new FrameError('FRAME_UNKNOWN_VARIANT', `BSX REST answer of ${previewValue(path)}: not an endpoint reconciliation reads`, { details: { path } });
  }
  let value: unknown;
  try {
    value = parseJsonLossless(text);
  } catch (error) {
    throw new FrameError('FRAME_NOT_JSON', `BSX REST answer of ${path} is not JSON: ${previewValue(text)}`, { cause: error, details: { path } });
  }
  const error = bsxRestErrorOf(value);
  if (error) return { kind: 'error', error };
  if (shape === 'list') {
    if (!Array.isArray(value)) {
      throw new FrameError('FRAME_UNKNOWN_VARIANT', `BSX REST answer of ${path} is ${jsonKind(value)}, not a list of orders or an error`, { details: { path } });
    }
    const r = z.array(bsxOrderSchema).safeParse(value);
    if (!r.success) throw zodFrameError(`BSX REST ${path}`, r.error.issues, value, { issueSuffix: (p) => orderIdAt(value, p, true) });
    return { kind: 'orders', orders: r.data.map((o, i) => toBsxOrder(o, value[i] as Record<string, unknown>)) };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new FrameError('FRAME_UNKNOWN_VARIANT', `BSX REST answer of ${path} is ${jsonKind(value)}, not an order or an error`, { details: { path } });
  }
  const r = bsxOrderSchema.safeParse(value);
  if (!r.success) throw zodFrameError(`BSX REST ${path}`, r.error.issues, value, { issueSuffix: (p) => orderIdAt(value, p, false) });
  return { kind: 'orders', orders: [toBsxOrder(r.data, value as Record<string, unknown>)] };
}

/** ` [order <id>]` for an issue inside an order that has an id. */
function orderIdAt(root: unknown, path: readonly PropertyKey[], list: boolean): string {
  const at = list ? [path[0] as PropertyKey] : [];
  if (list && typeof path[0] !== 'number') return '';
  if (path[at.length] === 'id') return '';
  const o = at.length ? valueAt(root, at) : root;
  const oid = o && typeof o === 'object' ? (o as { id?: unknown }).id : undefined;
  return typeof oid === 'string' || typeof oid === 'number' ? ` [order ${String(oid)}]` : '';
}
