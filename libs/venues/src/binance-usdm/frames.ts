import { z } from 'zod';
import { FrameError, isDecimal } from '@orderstream/kit';
import { exactIntegerAt, isInt64Digits, rawArrayElements, rawJsonValueAt, type JsonPath } from './exact-json.js';
import { jsonKind, previewValue, zodFrameError } from '../frame-kit.js';
import { parseBinanceUsdmUserEvent, type BinanceUsdmUserEvent } from './frames-uds.js';

/**
 * Every inbound frame of Binance USDⓈ-M's WebSocket API (`wss://ws-fapi.binance.com/ws-fapi/v1`) that the
 * collector's `order.status` polling can produce, as zod schemas plus one parser, `parseBinanceUsdmFrame`, that
 * the mapper and the client share. Sources and quirks: ./README.md.
 *
 * Inbound variants (every one is a reply to a request of ours: this socket pushes nothing):
 * - success `{"id","status":200,"result":{…order…},"rateLimits"?:[…]}`: the order (validated in full);
 * - error `{"id","status":4xx|5xx,"error":{"code","msg","data"?},"rateLimits"?:[…]}`: -2013, -1021, -1022, -2015,
 *   -1003 (429/418), …;
 * - error without `status` `{"error":{"code","msg"},"id"}` (the market-stream error shape, PROTOCOLS.md 5.6):
 *   recognised as an error reply.
 * Heartbeats are WebSocket ping/pong control frames, never text frames, so they never reach a mapper.
 *
 * `orderId` is an int64: its exact digits are read from the frame text (./exact-json.ts), never from a double.
 */

/** Order statuses of `order.status` (official doc + BNSDK + CCXT; PROTOCOLS.md 5.3). */
export const BINANCE_USDM_ORDER_STATUSES = [
  'NEW', 'PARTIALLY_FILLED', 'FILLED', 'CANCELED', 'REJECTED', 'EXPIRED', 'EXPIRED_IN_MATCH',
] as const;
export type BinanceUsdmOrderStatus = (typeof BINANCE_USDM_ORDER_STATUSES)[number];

/** Statuses after which an order never changes again: the client stops polling it. */
export const BINANCE_USDM_TERMINAL_STATUSES: ReadonlySet<string> = new Set([
  'FILLED', 'CANCELED', 'REJECTED', 'EXPIRED', 'EXPIRED_IN_MATCH',
]);

// ---------------------------------------------------------------------------------------------------------------
// Field schemas. Messages read as the end of "result.<field> …", so a dead letter names the field and the problem.

const missingOr = (problem: string) => (iss: { input?: unknown }) => (iss.input === undefined ? 'is required' : problem);

const PLAIN_DECIMAL_RE = /^\d+(?:\.\d+)?$/;

function isNonNegativeDecimal(v: string): boolean {
  return PLAIN_DECIMAL_RE.test(v) || (isDecimal(v) && !v.trim().startsWith('-'));
}

/** A decimal as Binance sends it (string); a JSON number is tolerated (exact digits recovered from the text). */
const decimalValue = z.custom<string | number>(
  (v) => (typeof v === 'string' && isNonNegativeDecimal(v)) || (typeof v === 'number' && Number.isFinite(v) && v >= 0),
  { error: missingOr('must be a non-negative decimal (string or number)') },
);

/** An integer as documented (JSON number, ms times); the same digits in a string are tolerated. */
const integerValue = z.custom<string | number>(
  (v) => (typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && /^-?\d+$/.test(v)),
  { error: missingOr('must be an integer (number or digit string)') },
);

/** int64 order id: a JSON integer (documented), or digits in a string (tolerated). Exactness is checked on the text. */
const orderIdValue = z.custom<string | number>(
  (v) => (typeof v === 'number' && Number.isInteger(v) && v >= 0) || (typeof v === 'string' && isInt64Digits(v)),
  { error: missingOr('must be a non-negative int64 (JSON integer)') },
);

const requiredString = z.string({ error: missingOr('must be a string') }).min(1, { error: 'must not be empty' });
const optionalString = z.string({ error: 'must be a string' }).nullish();
const optionalBoolean = z.boolean({ error: 'must be a boolean' }).nullish();

/** `result` of a successful `order.status` (official doc; BNSDK `QueryOrderResponseResult`). Loose: new fields → extras. */
export const binanceUsdmOrderResultSchema = z.looseObject(
  {
    orderId: orderIdValue,
    symbol: requiredString,
    status: requiredString,
    clientOrderId: optionalString,
    side: z.string({ error: missingOr('must be BUY or SELL') }).refine((s) => s === 'BUY' || s === 'SELL', { error: 'must be BUY or SELL' }),
    positionSide: optionalString,
    type: optionalString,
    origType: optionalString,
    timeInForce: optionalString,
    price: decimalValue.nullish(),
    avgPrice: decimalValue.nullish(),
    origQty: decimalValue,
    executedQty: decimalValue,
    cumQuote: decimalValue.nullish(),
    stopPrice: decimalValue.nullish(),
    activatePrice: decimalValue.nullish(),
    priceRate: decimalValue.nullish(),
    reduceOnly: optionalBoolean,
    closePosition: optionalBoolean,
    priceProtect: optionalBoolean,
    workingType: optionalString,
    priceMatch: optionalString,
    selfTradePreventionMode: optionalString,
    goodTillDate: integerValue.nullish(),
    time: integerValue.nullish(),
    updateTime: integerValue.nullish(),
  },
  { error: missingOr('must be an object') },
);

/** One entry of `rateLimits` (spot WS API docs "Rate limits"; ws-fapi examples in JKBN PlaceOrder.txt, BNTEST). */
export const binanceUsdmRateLimitSchema = z.looseObject({
  rateLimitType: z.string(),
  interval: z.string(),
  intervalNum: z.number().int().positive(),
  limit: z.number().int().nonnegative(),
  count: z.number().int().nonnegative().optional(),
});

export const binanceUsdmErrorSchema = z.looseObject(
  {
    code: z.number({ error: missingOr('must be a number') }).int({ error: 'must be an integer' }),
    msg: z.string({ error: 'must be a string' }).nullish(),
    /** 429/418: `{"serverTime","retryAfter"}` (spot WS API docs; UNCONFIRMED for ws-fapi) */
    data: z.unknown().optional(),
  },
  { error: missingOr('must be an object') },
);

export const binanceUsdmResponseSchema = z.looseObject({
  id: z.union([z.string(), z.number(), z.null()], { error: 'must be a string, a number or null' }).optional(),
  status: z.number({ error: 'must be a number' }).int({ error: 'must be an integer' }),
  result: z.unknown().optional(),
  error: binanceUsdmErrorSchema.optional(),
  rateLimits: z.array(binanceUsdmRateLimitSchema, { error: 'must be an array' }).nullish(),
});

export type BinanceUsdmRateLimit = z.output<typeof binanceUsdmRateLimitSchema>;
export type BinanceUsdmOrderResult = z.output<typeof binanceUsdmOrderResultSchema>;

// ---------------------------------------------------------------------------------------------------------------
// Parsed forms.

/** A validated order, every number as its exact text from the frame. */
export interface BinanceUsdmOrder {
  orderId: string;
  clientOrderId: string | null;
  symbol: string;
  status: string;
  side: 'BUY' | 'SELL';
  positionSide: string | null;
  type: string | null;
  origType: string | null;
  timeInForce: string | null;
  price: string | null;
  avgPrice: string | null;
  /** base-asset units, as sent */
  origQty: string;
  /** base-asset units, cumulative, as sent */
  executedQty: string;
  /** quote units, cumulative, as sent */
  cumQuote: string | null;
  stopPrice: string | null;
  activatePrice: string | null;
  priceRate: string | null;
  reduceOnly: boolean | null;
  closePosition: boolean | null;
  priceProtect: boolean | null;
  workingType: string | null;
  priceMatch: string | null;
  selfTradePreventionMode: string | null;
  /** ms digits as sent; "0" means none */
  goodTillDate: string | null;
  /** ms digits as sent */
  time: string | null;
  /** ms digits as sent */
  updateTime: string | null;
  /** result fields not listed above, as text (numbers exact, objects as JSON) */
  other: Record<string, string>;
}

export interface BinanceUsdmErrorReply {
  /** the request id echoed back, as text; null when the venue could not read one */
  id: string | null;
  /** the `status` field (HTTP-like: 400, 401, 403, 418, 429, 5xx); null for the market-stream error shape */
  httpStatus: number | null;
  code: number;
  msg: string;
  /** epoch ms from `error.data.retryAfter` (429/418), when given */
  retryAfter: number | null;
  /** epoch ms from `error.data.serverTime`, when given */
  serverTime: number | null;
}

export type BinanceUsdmFrame =
  | { kind: 'order'; id: string | null; httpStatus: number; order: BinanceUsdmOrder; rateLimits: BinanceUsdmRateLimit[] }
  | { kind: 'error'; error: BinanceUsdmErrorReply; rateLimits: BinanceUsdmRateLimit[] };

const KNOWN_RESULT_KEYS = new Set(Object.keys(binanceUsdmOrderResultSchema.shape));

// ---------------------------------------------------------------------------------------------------------------
// Parsing.

/**
 * Parses and validates one inbound frame. Throws FrameError: FRAME_NOT_JSON (not JSON), FRAME_UNKNOWN_VARIANT
 * (JSON that is not a WebSocket API response, e.g. a bare order object or a user-data event), FRAME_INVALID (a
 * response whose fields fail validation, naming them).
 */
export function parseBinanceUsdmFrame(text: string): BinanceUsdmFrame {
  return parseFrameValue(parseJson(text), text);
}

/**
 * Either socket's frame, parsed once: a user data stream event (`{"e":…}`, ./frames-uds.ts) or a WebSocket API answer
 * (as parseBinanceUsdmFrame). The mapper tells the two kinds apart by shape, so one api-version serves both sockets.
 */
export function parseBinanceUsdmInbound(text: string): BinanceUsdmFrame | { kind: 'event'; event: BinanceUsdmUserEvent } {
  const value = parseJson(text);
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && typeof (value as { e?: unknown }).e === 'string') {
    return { kind: 'event', event: parseBinanceUsdmUserEvent(value as Record<string, unknown>, text) };
  }
  return parseFrameValue(value, text);
}

function parseFrameValue(value: unknown, text: string): BinanceUsdmFrame {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new FrameError('FRAME_UNKNOWN_VARIANT', `Binance frame is ${jsonKind(value)}, not a JSON object: ${previewValue(text)}`, {
      details: { head: text.slice(0, 120) },
    });
  }
  const obj = value as Record<string, unknown>;
  if (typeof obj.status === 'number') return parseResponse(obj, text);
  if (obj.status === undefined && obj.error !== undefined && typeof obj.error === 'object' && obj.error !== null) {
    // {"error":{"code":2,"msg":"Invalid request: invalid stream"},"id":1}: the market-stream error shape.
    const e = binanceUsdmErrorSchema.safeParse(obj.error);
    if (!e.success) throw invalid('Binance error reply', e.error.issues, obj.error, 'error');
    return { kind: 'error', error: errorReply(obj, text, null, e.data), rateLimits: [] };
  }
  const keys = Object.keys(obj);
  if (typeof obj.status === 'string' && 'orderId' in obj) {
    throw new FrameError(
      'FRAME_UNKNOWN_VARIANT',
      'Binance frame is a bare order object without the WebSocket API response envelope ("id", "status", "result"); ' +
        'order.status answers always carry the envelope (the zh-CN doc page prints only the result)',
      { details: { keys: keys.slice(0, 20) } },
    );
  }
  if (typeof obj.e === 'string') {
    throw new FrameError(
      'FRAME_UNKNOWN_VARIANT',
      `Binance frame is a user-data-stream event ("e":${previewValue(obj.e)}), not a WebSocket API response (user data stream events are read by parseBinanceUsdmInbound)`,
      { details: { event: obj.e } },
    );
  }
  throw new FrameError(
    'FRAME_UNKNOWN_VARIANT',
    `Binance frame is a JSON object with neither a numeric "status" nor "error" (keys: ${keys.slice(0, 10).join(', ') || 'none'})`,
    { details: { keys: keys.slice(0, 20) } },
  );
}

function parseResponse(obj: Record<string, unknown>, text: string): BinanceUsdmFrame {
  const env = binanceUsdmResponseSchema.safeParse(obj);
  if (!env.success) throw invalid('Binance response', env.error.issues, obj, undefined);
  const r = env.data;
  const rateLimits = r.rateLimits ?? [];
  if (r.status === 200) {
    if (r.error !== undefined) {
      throw new FrameError('FRAME_INVALID', 'Binance response invalid: status 200 with an "error" object', { details: { field: 'error' } });
    }
    if (r.result === undefined || r.result === null) {
      throw new FrameError('FRAME_INVALID', 'Binance response invalid: status 200 without a "result"', { details: { field: 'result' } });
    }
    const res = binanceUsdmOrderResultSchema.safeParse(r.result);
    if (!res.success) {
      throw invalid('Binance order.status result', res.error.issues, r.result, 'result', safeExactInteger(text, ['result', 'orderId']));
    }
    return { kind: 'order', id: idText(obj, text), httpStatus: 200, order: toOrder(res.data, text, ['result'], 'Binance order.status result'), rateLimits };
  }
  if (r.error === undefined) {
    throw new FrameError('FRAME_INVALID', `Binance response invalid: status ${r.status} without an "error" object`, {
      details: { field: 'error', status: r.status },
    });
  }
  return { kind: 'error', error: errorReply(obj, text, r.status, r.error), rateLimits };
}

function errorReply(
  obj: Record<string, unknown>,
  text: string,
  httpStatus: number | null,
  e: z.output<typeof binanceUsdmErrorSchema>,
): BinanceUsdmErrorReply {
  const data = e.data !== null && typeof e.data === 'object' ? (e.data as Record<string, unknown>) : {};
  const ms = (v: unknown) => (typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? v : null);
  return {
    id: idText(obj, text),
    httpStatus,
    code: e.code,
    msg: e.msg ?? '',
    retryAfter: ms(data.retryAfter),
    serverTime: ms(data.serverTime),
  };
}

/** The request id as text; a numeric id keeps its exact digits. */
function idText(obj: Record<string, unknown>, text: string): string | null {
  const id = obj.id;
  if (typeof id === 'string') return id;
  if (typeof id === 'number') return Number.isSafeInteger(id) ? String(id) : (rawJsonValueAt(text, ['id']) ?? String(id));
  return null;
}

/**
 * The validated order `d`, every number as its exact text: `text` is the JSON text that holds it and `at` the path of
 * the order object inside it (`['result']` for a WebSocket API answer, `[]` for a REST order or one list element).
 */
function toOrder(d: BinanceUsdmOrderResult, text: string, at: JsonPath, what: string): BinanceUsdmOrder {
  const exact = (key: string, v: string | number | null | undefined): string | null => {
    if (v === null || v === undefined) return null;
    if (typeof v === 'string') return v;
    // Integers below 2^53 (times in ms) are exact doubles and print back exactly: no need to read the text.
    if (Number.isSafeInteger(v)) return String(v);
    const raw = rawJsonValueAt(text, [...at, key]);
    if (raw === undefined) return String(v);
    return raw;
  };
  // orderId: the digits of the token in the text, never the double JSON.parse made of it.
  const orderId = exactIntegerAt(text, [...at, 'orderId']);
  if (orderId === undefined || !isInt64Digits(orderId)) {
    throw new FrameError(
      'FRAME_INVALID',
      `${what} invalid: ${[...at, 'orderId'].join('.')} must be a non-negative int64 written as an integer, got ${previewValue(rawJsonValueAt(text, [...at, 'orderId']) ?? d.orderId)}`,
      { details: { field: [...at, 'orderId'].join('.') } },
    );
  }
  const other: Record<string, string> = {};
  for (const [k, v] of Object.entries(d)) {
    if (KNOWN_RESULT_KEYS.has(k) || v === null || v === undefined) continue;
    other[k] = typeof v === 'string' ? v : typeof v === 'number' ? (exact(k, v) as string) : JSON.stringify(v);
  }
  return {
    orderId,
    clientOrderId: d.clientOrderId ?? null,
    symbol: d.symbol,
    status: d.status,
    side: d.side as 'BUY' | 'SELL',
    positionSide: d.positionSide ?? null,
    type: d.type ?? null,
    origType: d.origType ?? null,
    timeInForce: d.timeInForce ?? null,
    price: exact('price', d.price),
    avgPrice: exact('avgPrice', d.avgPrice),
    origQty: exact('origQty', d.origQty) as string,
    executedQty: exact('executedQty', d.executedQty) as string,
    cumQuote: exact('cumQuote', d.cumQuote),
    stopPrice: exact('stopPrice', d.stopPrice),
    activatePrice: exact('activatePrice', d.activatePrice),
    priceRate: exact('priceRate', d.priceRate),
    reduceOnly: d.reduceOnly ?? null,
    closePosition: d.closePosition ?? null,
    priceProtect: d.priceProtect ?? null,
    workingType: d.workingType ?? null,
    priceMatch: d.priceMatch ?? null,
    selfTradePreventionMode: d.selfTradePreventionMode ?? null,
    goodTillDate: exact('goodTillDate', d.goodTillDate),
    time: exact('time', d.time),
    updateTime: exact('updateTime', d.updateTime),
    other,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers.

function parseJson(text: string): unknown {
  if (text.trim().length === 0) throw new FrameError('FRAME_NOT_JSON', 'Binance frame is empty');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new FrameError('FRAME_NOT_JSON', `Binance frame is not valid JSON (${(error as Error).message}): ${previewValue(text)}`, {
      details: { head: text.slice(0, 120) },
    });
  }
}

function invalid(what: string, issues: readonly z.core.$ZodIssue[], root: unknown, prefix: string | undefined, orderId?: string): FrameError {
  return zodFrameError(what, issues, root, {
    ...(prefix !== undefined ? { pathPrefix: prefix } : {}),
    ...(orderId !== undefined ? { tail: ` [orderId ${orderId}]` } : {}),
  });
}

function safeExactInteger(text: string, path: readonly (string | number)[]): string | undefined {
  try {
    return exactIntegerAt(text, path);
  } catch {
    return undefined;
  }
}




// ---------------------------------------------------------------------------------------------------------------
// REST answers of the reconciliation (USDⓈ-M REST API, https://fapi.binance.com). Sources: ./README.md
// ("Reconciliation") and ./fixtures/README.md.

/** The REST endpoints the reconciler calls; the mapper dispatches on these paths (MapContext.rest.path). */
export const BINANCE_USDM_REST_PATHS = {
  /** Current All Open Orders: a JSON array of orders (all symbols without `symbol`) */
  openOrders: '/fapi/v1/openOrders',
  /** Query Order: one order object */
  order: '/fapi/v1/order',
  /** All Orders: a JSON array of one symbol's orders (active, canceled, filled) */
  allOrders: '/fapi/v1/allOrders',
} as const;

const LIST_PATHS: ReadonlySet<string> = new Set([BINANCE_USDM_REST_PATHS.openOrders, BINANCE_USDM_REST_PATHS.allOrders]);

/** Binance's REST error payload `{"code":-1121,"msg":"Invalid symbol."}` (general info; error code page). */
export const binanceUsdmRestErrorSchema = z.looseObject({
  code: z.number({ error: missingOr('must be a number') }).int({ error: 'must be an integer' }),
  msg: z.string({ error: 'must be a string' }).nullish(),
});

export type BinanceUsdmRestBody =
  | { kind: 'orders'; orders: BinanceUsdmOrder[] }
  | { kind: 'error'; code: number; msg: string };

/** True when `path` is one of the REST endpoints this venue's reconciler calls. */
export function isBinanceUsdmRestPath(path: string): boolean {
  return path === BINANCE_USDM_REST_PATHS.order || LIST_PATHS.has(path);
}

/**
 * Parses one REST answer body of `path`: a list (open orders, all orders) → every order, validated like an
 * `order.status` result, its int64 `orderId` read from its own text; one order (query order) → that order; Binance's
 * error payload `{"code","msg"}` (even inside a 2xx answer) → `error`. Throws FrameError: FRAME_NOT_JSON,
 * FRAME_UNKNOWN_VARIANT (an unknown path, a list where an object belongs or the reverse), FRAME_INVALID (naming
 * the element and field).
 */
export function parseBinanceUsdmRestBody(text: string, path: string): BinanceUsdmRestBody {
  if (!isBinanceUsdmRestPath(path)) {
    throw new FrameError('FRAME_UNKNOWN_VARIANT', `Binance REST answer of ${previewValue(path)}: not an endpoint this venue reconciles with (${Object.values(BINANCE_USDM_REST_PATHS).join(', ')})`, {
      details: { path },
    });
  }
  const value = parseJson(text);
  const what = `Binance GET ${path} answer`;
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && 'code' in value && !('orderId' in value)) {
    const e = binanceUsdmRestErrorSchema.safeParse(value);
    if (!e.success) throw invalid(`${what} (error payload)`, e.error.issues, value, undefined);
    return { kind: 'error', code: e.data.code, msg: e.data.msg ?? '' };
  }
  if (LIST_PATHS.has(path)) {
    if (!Array.isArray(value)) {
      throw new FrameError('FRAME_UNKNOWN_VARIANT', `${what} is ${jsonKind(value)}, not a JSON array of orders nor an error payload`, { details: { path } });
    }
    const elements = value.length === 0 ? [] : rawArrayElements(text);
    return {
      kind: 'orders',
      orders: value.map((el, i) => {
        const res = binanceUsdmOrderResultSchema.safeParse(el);
        const elText = elements[i] as string;
        if (!res.success) throw invalid(what, res.error.issues, el, `[${i}]`, safeExactInteger(elText, ['orderId']));
        return toOrder(res.data, elText, [], `${what} [${i}]`);
      }),
    };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new FrameError('FRAME_UNKNOWN_VARIANT', `${what} is ${jsonKind(value)}, not an order object nor an error payload`, { details: { path } });
  }
  const res = binanceUsdmOrderResultSchema.safeParse(value);
  if (!res.success) throw invalid(what, res.error.issues, value, undefined, safeExactInteger(text, ['orderId']));
  return { kind: 'orders', orders: [toOrder(res.data, text, [], what)] };
}
