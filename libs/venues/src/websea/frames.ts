import { z } from 'zod';
import { FrameError, isDecimal } from '@orderstream/kit';
import { exactNumberText, firstNonBlank, jsonKind, previewValue, zodFrameError } from '../frame-kit.js';

/**
 * Every inbound frame of WebSea's spot order socket (`/ws/v1/spot/order`, channel `order`), as zod schemas plus
 * one router, `parseWebseaFrame`, that the mapper calls once per frame. Sources and quirks: ./README.md.
 *
 * Inbound variants:
 * - push `{"channel":"order","ts":<s>,"order":{…}}`: one order event (NEW, CANCELED, TRADE) carrying the latest
 *   execution only (validated in full);
 * - reply `{"errno":…,"errmsg":…,"op"?,"channel"?}`: subscribe/unsubscribe ack (errno 0) or refusal (auth errno
 *   20506/20519/…, 50009 channel unavailable, 51000 unknown op).
 * Text and binary frames carry the same UTF-8 JSON; the session decodes both to text before they get here.
 * The socket sends no text heartbeats (keepalive is RFC 6455 ping/pong, invisible at this level).
 */

/** The documented values of `order.status` (WSDOC spot). */
export const WEBSEA_ORDER_STATUSES = ['NEW', 'PARTIALLY_FILLED', 'FILLED', 'PARTIALLY_CANCELED', 'CANCELED'] as const;
export type WebseaOrderStatus = (typeof WEBSEA_ORDER_STATUSES)[number];

/** The documented values of `order.event` (WSDOC spot). Other values are kept (extras), not refused. */
export const WEBSEA_ORDER_EVENTS = ['NEW', 'CANCELED', 'TRADE'] as const;
export type WebseaOrderEvent = (typeof WEBSEA_ORDER_EVENTS)[number];

/**
 * Keys of the *futures* order channel (`/ws/v1/futures/order`) that the spot push does not have. The futures push
 * uses the same channel name but `amount` means "last executed quantity" there, so reading it as spot would be
 * wrong: such frames are refused. (`is_maker`, also futures-only today, is not used to tell them apart: a spot push
 * may well gain it; it would go to extras.)
 */
export const WEBSEA_FUTURES_ONLY_KEYS = ['quantity', 'deal_amount'] as const;

// ---------------------------------------------------------------------------------------------------------------
// Field schemas. Messages read as the end of "order.<field> …", so a dead letter names the field and the problem.

const missingOr = (problem: string) => (iss: { input?: unknown }) => (iss.input === undefined ? 'is required' : problem);

const UNSIGNED_RE = /^\d+(?:\.\d+)?$/;
const SIGNED_RE = /^-?\d+(?:\.\d+)?$/;

const isUnsignedDecimal = (v: string) => UNSIGNED_RE.test(v) || (isDecimal(v) && !v.trim().startsWith('-'));
const isSignedDecimal = (v: string) => SIGNED_RE.test(v) || isDecimal(v);

/**
 * A decimal as documented (string), `""` (the WSDOC example's way of saying "none"), or a JSON number
 * (tolerated: exact digits recovered from the frame text).
 */
const decimalOrEmpty = (signed: boolean) =>
  z.custom<string | number>(
    (v) =>
      (typeof v === 'string' && (v === '' || (signed ? isSignedDecimal(v) : isUnsignedDecimal(v)))) ||
      (typeof v === 'number' && Number.isFinite(v) && (signed || v >= 0)),
    { error: missingOr(signed ? 'must be a decimal (string or number) or ""' : 'must be a non-negative decimal (string or number) or ""') },
  );

/** An integer time as documented (JSON number), or the same digits in a string; `""` allowed where `optional`. */
const integerValue = (emptyAllowed: boolean) =>
  z.custom<string | number>(
    (v) =>
      (typeof v === 'number' && Number.isInteger(v) && v >= 0) ||
      (typeof v === 'string' && (/^\d+$/.test(v) || (emptyAllowed && v === ''))),
    { error: missingOr(emptyAllowed ? 'must be an integer (number or digit string) or ""' : 'must be an integer (number or digit string)') },
  );

/** An id: a non-empty string as documented, or a non-negative integer JSON number (exact digits recovered). */
const idValue = z.custom<string | number>(
  (v) => (typeof v === 'string' && v.length > 0) || (typeof v === 'number' && Number.isInteger(v) && v >= 0),
  { error: missingOr('must be a non-empty string or an integer') },
);

const requiredString = z.string({ error: missingOr('must be a string') }).min(1, { error: 'must not be empty' });

/** `order` of a push. Loose: fields WebSea adds later are kept (→ extras), not rejected. */
export const webseaOrderDataSchema = z.looseObject(
  {
    symbol: requiredString,
    order_id: idValue,
    side: z.string({ error: missingOr('must be BUY or SELL') }).refine((s) => /^(buy|sell)$/i.test(s), { error: 'must be BUY or SELL' }),
    order_type: requiredString,
    /** base units; quote notional for market BUY; `""` in the WSDOC example */
    amount: decimalOrEmpty(false),
    /** documented required, absent from the WSDOC example */
    entrust_time: integerValue(true).nullish(),
    /** `""` for market orders */
    price: decimalOrEmpty(false).nullish(),
    trigger_price: decimalOrEmpty(false).nullish(),
    event: requiredString,
    status: requiredString,
    last_amount: decimalOrEmpty(false).nullish(),
    last_price: decimalOrEmpty(false).nullish(),
    /** signed: a maker rebate would be negative (not documented either way) */
    last_fee: decimalOrEmpty(true).nullish(),
    /** execution time (s); `""` in the WSDOC example of a NEW push */
    ts: integerValue(true).nullish(),
  },
  { error: missingOr('must be an object') },
);

export const webseaOrderPushSchema = z.looseObject({
  channel: z.literal('order'),
  /** push time, seconds */
  ts: integerValue(false),
  order: webseaOrderDataSchema,
});

export const webseaReplySchema = z.looseObject({
  errno: integerValue(false),
  errmsg: z.string({ error: 'must be a string' }).nullish(),
  op: z.string({ error: 'must be a string' }).nullish(),
  channel: z.string({ error: 'must be a string' }).nullish(),
});

export type WebseaOrderData = z.output<typeof webseaOrderDataSchema>;
export type WebseaOrderPush = z.output<typeof webseaOrderPushSchema>;

// ---------------------------------------------------------------------------------------------------------------
// Parsed forms.

/** An order push after validation. Numbers are their exact text from the frame; `""` and absent are both null. */
export interface WebseaOrder {
  /** top-level `ts`: push time, integer digits (seconds per the doc) */
  pushTs: string;
  symbol: string;
  orderId: string;
  /** upper-cased */
  side: 'BUY' | 'SELL';
  orderType: string;
  /** base units, or quote notional for a market BUY; null when `""` */
  amount: string | null;
  /** integer digits (seconds per the doc) */
  entrustTime: string | null;
  price: string | null;
  triggerPrice: string | null;
  event: string;
  status: string;
  lastAmount: string | null;
  lastPrice: string | null;
  lastFee: string | null;
  /** order-level `ts`: execution time, integer digits (seconds per the doc) */
  executionTs: string | null;
  /** order fields not listed above, as text (numbers by their exact digits, objects as JSON) */
  other: Record<string, string>;
}

export interface WebseaReply {
  errno: number;
  errmsg: string | null;
  op: string | null;
  channel: string | null;
}

export type WebseaFrame = { kind: 'order'; order: WebseaOrder } | { kind: 'reply'; reply: WebseaReply };

const KNOWN_ORDER_KEYS = new Set(Object.keys(webseaOrderDataSchema.shape));

// ---------------------------------------------------------------------------------------------------------------
// Routing.

/** Cheap classification shared by the mapper and the client: JSON parsed once, nothing validated yet. */
export type WebseaRouted = { kind: 'push'; value: Record<string, unknown> } | { kind: 'reply'; value: Record<string, unknown> };

/** Routes a frame by `errno` / `channel`; throws FrameError for anything that is not a frame of this socket. */
export function routeWebseaFrame(text: string): WebseaRouted {
  if (firstNonBlank(text) === '{') {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new FrameError('FRAME_NOT_JSON', `WebSea frame is not valid JSON (${(error as Error).message}): ${previewValue(text)}`, {
        details: { head: text.slice(0, 120) },
      });
    }
    return routeObject(value as Record<string, unknown>);
  }
  if (text.trim().length === 0) throw new FrameError('FRAME_NOT_JSON', 'WebSea frame is empty');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new FrameError('FRAME_NOT_JSON', `WebSea frame is not JSON: ${previewValue(text)}`, { details: { head: text.slice(0, 120) } });
  }
  throw new FrameError('FRAME_UNKNOWN_VARIANT', `WebSea frame is ${jsonKind(value)}, not a JSON object: ${previewValue(text)}`, {
    details: { head: text.slice(0, 120) },
  });
}

function routeObject(value: Record<string, unknown>): WebseaRouted {
  if ('errno' in value) return { kind: 'reply', value };
  const channel = value.channel;
  if (channel === 'order') {
    const order = value.order;
    if (order !== null && typeof order === 'object' && !Array.isArray(order)) {
      const futuresKeys = WEBSEA_FUTURES_ONLY_KEYS.filter((k) => k in order);
      if (futuresKeys.length > 0) {
        throw new FrameError(
          'FRAME_UNKNOWN_VARIANT',
          `WebSea order push with ${futuresKeys.join(', ')} looks like the futures order channel (/ws/v1/futures/order), where "amount" is the last executed quantity; this mapper reads the spot channel (/ws/v1/spot/order)`,
          { details: { keys: futuresKeys } },
        );
      }
    }
    return { kind: 'push', value };
  }
  if (channel !== undefined) {
    throw new FrameError(
      'FRAME_UNKNOWN_VARIANT',
      `WebSea push on channel ${previewValue(channel)}: the spot order socket carries only channel "order" (is wsUrl a market socket?)`,
      { details: { channel: typeof channel === 'string' ? channel : previewValue(channel) } },
    );
  }
  const keys = Object.keys(value);
  throw new FrameError(
    'FRAME_UNKNOWN_VARIANT',
    `WebSea frame is a JSON object with neither "channel" nor "errno" (keys: ${keys.slice(0, 10).join(', ') || 'none'})`,
    { details: { keys: keys.slice(0, 20) } },
  );
}

/** Parses and validates one inbound frame. Throws FrameError (FRAME_NOT_JSON / FRAME_INVALID / FRAME_UNKNOWN_VARIANT). */
export function parseWebseaFrame(text: string): WebseaFrame {
  const routed = routeWebseaFrame(text);
  if (routed.kind === 'reply') {
    const r = webseaReplySchema.safeParse(routed.value);
    if (!r.success) throw invalid('WebSea reply', r.error.issues, routed.value);
    return {
      kind: 'reply',
      reply: { errno: Number(r.data.errno), errmsg: r.data.errmsg ?? null, op: r.data.op ?? null, channel: r.data.channel ?? null },
    };
  }
  const r = webseaOrderPushSchema.safeParse(routed.value);
  if (!r.success) throw invalid('WebSea order push', r.error.issues, routed.value);
  return { kind: 'order', order: toOrder(r.data, text) };
}

function toOrder(push: WebseaOrderPush, text: string): WebseaOrder {
  const o = push.order;
  // "" means "none" in the doc example: null, like an absent field.
  const num = (key: string, v: string | number | null | undefined): string | null =>
    v === null || v === undefined || v === '' ? null : typeof v === 'string' ? v.trim() : exactNumberText(text, key, v, 'WebSea order push', `order.${key}`);
  const other: Record<string, string> = {};
  for (const [k, v] of Object.entries(o)) {
    if (KNOWN_ORDER_KEYS.has(k) || v === null || v === undefined) continue;
    other[k] = typeof v === 'string' ? v : typeof v === 'number' ? exactNumberText(text, k, v, 'WebSea order push', `order.${k}`) : JSON.stringify(v);
  }
  return {
    pushTs: num('ts', push.ts) as string,
    symbol: o.symbol,
    orderId: num('order_id', o.order_id) as string,
    side: o.side.toUpperCase() as 'BUY' | 'SELL',
    orderType: o.order_type,
    amount: num('amount', o.amount),
    entrustTime: num('entrust_time', o.entrust_time),
    price: num('price', o.price),
    triggerPrice: num('trigger_price', o.trigger_price),
    event: o.event,
    status: o.status,
    lastAmount: num('last_amount', o.last_amount),
    lastPrice: num('last_price', o.last_price),
    lastFee: num('last_fee', o.last_fee),
    executionTs: num('ts', o.ts),
    other,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers.


function invalid(what: string, issues: readonly z.core.$ZodIssue[], root: unknown): FrameError {
  const order = (root as { order?: { order_id?: unknown } } | null)?.order;
  const orderId = order && typeof order === 'object' && order.order_id !== undefined ? ` [order_id ${String(order.order_id)}]` : '';
  return zodFrameError(what, issues, root, { tail: orderId });
}




