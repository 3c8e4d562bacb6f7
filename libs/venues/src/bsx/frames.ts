import { z } from 'zod';
import { FrameError, isDecimal } from '@orderstream/kit';
import { jsonKind, previewValue, valueAt, zodFrameError } from '../frame-kit.js';

/**
 * Every inbound frame of BSX's WebSocket (`wss://ws.bsx.exchange/ws`) that a session subscribed to the private
 * `orders` channel can receive, as zod schemas plus one router, `routeBsxFrame`, and one parser, `parseBsxFrame`,
 * that the mapper calls once per frame. Sources: ./README.md and ./fixtures/README.md.
 *
 * Inbound variants (all JSON objects routed on `type`, then `channel`):
 * - `{"type":"message","connection_id":…}`: first frame after connect;
 * - `{"type":"message","message":"bye - service is shutting down"}`: the server is about to close the socket;
 * - `{"channel":"auth","type":"authenticated"}`: auth accepted;
 * - `{"channel"?,"type":"error","message","code"}`: auth refused (400), not authenticated (401), channel unsupported
 *   (400), or a channel-less error (the ws-auth transcript's timestamp complaint);
 * - `{"channel","product"?,"type":"subscribed"|"unsubscribed"}`: acks;
 * - `{"type":"pong"}` (and the doc's literal `{'type': 'pong'}`, which is not JSON): heartbeat answer;
 * - `{"channel":"orders","type":"snapshot"|"update","data":[Order…],"timestamp"}`: order data (validated in full);
 * - `{"channel":<other>,"type":"snapshot"|"update",…}`: data of a public channel (book, trades…): recognised only.
 *
 * Numbers: BSX sends decimals and nanosecond times as strings. Where a JSON number appears anyway (the SDK types
 * `last_trades[].time` as a number, and ns times exceed 2^53), its exact digits are kept: the text is parsed
 * losslessly (`parseJsonLossless`), so no figure ever passes through a double.
 */

export const BSX_ORDERS_CHANNEL = 'orders';

/** The documented values of `status` (BSXSDK `OrderStatus`; BSXDOC matching-engine: pending, open, done, accepted). */
export const BSX_ORDER_STATUSES = ['PENDING', 'OPEN', 'DONE', 'STOP_ACCEPTED'] as const;
export type BsxOrderStatus = (typeof BSX_ORDER_STATUSES)[number];

// ---------------------------------------------------------------------------------------------------------------
// Lossless JSON.

const NUMBER_TOKEN_RE = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/**
 * The frame text with every JSON number that a double cannot hold exactly (19-digit ns times, long decimals,
 * `1.50`) turned into a string of the same digits. Numbers a double prints back unchanged (`400`, `0.5`) stay
 * numbers. Strings are skipped over (escapes honoured), so their content is never touched. Returns the same string
 * object when nothing needed quoting.
 */
export function losslessJsonText(text: string): string {
  let parts: string[] | undefined;
  let last = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      // a string: jump to its closing quote
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 92) i++;
        else if (d === 34) break;
      }
      continue;
    }
    if (c === 45 || (c >= 48 && c <= 57)) {
      NUMBER_TOKEN_RE.lastIndex = i;
      const m = NUMBER_TOKEN_RE.exec(text);
      if (!m) continue; // not a number token: JSON.parse will say what is wrong
      const token = m[0];
      if (String(Number(token)) !== token) {
        (parts ??= []).push(text.slice(last, i), '"', token, '"');
        last = i + token.length;
      }
      i += token.length - 1;
    }
  }
  if (!parts) return text;
  parts.push(text.slice(last));
  return parts.join('');
}

/** JSON.parse of `losslessJsonText(text)`: numbers that a double would change come back as digit strings. */
export function parseJsonLossless(text: string): unknown {
  return JSON.parse(losslessJsonText(text));
}

// ---------------------------------------------------------------------------------------------------------------
// Field schemas. Messages read as the end of "data.<i>.<field> …", so a dead letter names the field and the problem.

const missingOr = (problem: string) => (iss: { input?: unknown }) => (iss.input === undefined ? 'is required' : problem);

const PLAIN_DECIMAL_RE = /^-?\d+(?:\.\d+)?$/;

function decimalText(v: unknown, signed: boolean): v is string | number {
  if (typeof v === 'number') return Number.isFinite(v) && (signed || v >= 0);
  if (typeof v !== 'string') return false;
  const ok = PLAIN_DECIMAL_RE.test(v) || isDecimal(v);
  return ok && (signed || !v.trim().startsWith('-'));
}

/** Numbers reaching a schema survived the lossless parse, so String(n) is their exact text. */
const asText = (v: string | number): string => (typeof v === 'string' ? v : String(v));

/**
 * A non-negative integer JSON number whose exact text is String(v). After the lossless parse that holds for every
 * number left a number, including ns times a double happens to hold exactly (1795254322215999700): not only safe ones.
 */
function isWholeNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && /^\d+$/.test(String(v));
}

/** A non-negative decimal: string as documented, or a JSON number (exact text kept). */
const decimal = z
  .custom<string | number>((v) => decimalText(v, false), { error: missingOr('must be a non-negative decimal string') })
  .transform(asText);
/** A decimal that may be negative (fees: negative = rebate; funding payments). */
const signedDecimal = z
  .custom<string | number>((v) => decimalText(v, true), { error: missingOr('must be a decimal string') })
  .transform(asText);
/** Unix nanoseconds as a digit string (documented) or a JSON integer (SDK `last_trades[].time`); "0" = never. */
const nanos = z
  .custom<string | number>(
    (v) => (typeof v === 'string' && /^\d+$/.test(v)) || isWholeNumber(v),
    { error: missingOr('must be unix nanoseconds (a digit string)') },
  )
  .transform(asText);
/** An id: a non-empty string, or an integer JSON number (tolerated). */
const id = z
  .custom<string | number>(
    (v) => (typeof v === 'string' && v.length > 0) || isWholeNumber(v),
    { error: missingOr('must be a non-empty string') },
  )
  .transform(asText);
const requiredString = z.string({ error: missingOr('must be a string') }).min(1, { error: 'must not be empty' });
const optionalString = z.string({ error: 'must be a string' }).nullish();
const optionalBoolean = z.boolean({ error: 'must be true or false' }).nullish();
/** Free-form text kept for extras: a string, or a number/boolean written as text. */
const optionalText = z
  .union([z.string(), z.number(), z.boolean()], { error: 'must be a string' })
  .transform((v) => String(v))
  .nullish();

/** One element of `last_trades` (BSXSDK `Trade`). Loose: unlisted fields are kept (→ extras). */
export const bsxTradeSchema = z.looseObject(
  {
    id,
    price: decimal,
    size: decimal,
    /** ns; the SDK types it `number`, the public trades channel sends a string */
    time: nanos,
    liquidity_indicator: optionalString,
    trading_fee: signedDecimal.nullish(),
    sequencer_fee: signedDecimal.nullish(),
    funding_payment: signedDecimal.nullish(),
  },
  { error: missingOr('must be an object') },
);

/** One order (official doc example = REST "Get an order"; BSXSDK `UserOrder`). Loose: unlisted fields → extras. */
export const bsxOrderSchema = z.looseObject(
  {
    id,
    client_order_id: optionalString,
    product_id: requiredString,
    side: z
      .string({ error: missingOr('must be BUY or SELL') })
      .refine((s) => /^(buy|sell)$/i.test(s), { error: 'must be BUY or SELL' })
      .transform((s) => s.toUpperCase() as 'BUY' | 'SELL'),
    type: requiredString,
    time_in_force: optionalString,
    post_only: optionalBoolean,
    reduce_only: optionalBoolean,
    stp: optionalString,
    price: decimal.nullish(),
    size: decimal,
    filled_size: decimal,
    avg_price: decimal.nullish(),
    filled_fees: signedDecimal.nullish(),
    initial_margin: signedDecimal.nullish(),
    status: requiredString,
    order_stop_type: optionalString,
    stop_price: decimal.nullish(),
    stop_price_option: optionalString,
    cancel_requested: optionalBoolean,
    cancel_requested_at: nanos.nullish(),
    cancel_reason: optionalString,
    reject_reason: optionalString,
    cancel_reject_reason: optionalString,
    is_liquidation: optionalBoolean,
    nonce: optionalText,
    sender: optionalString,
    created_at_ts: nanos.nullish(),
    updated_at: nanos.nullish(),
    expired_at: nanos.nullish(),
    liquidation_fee_rate: signedDecimal.nullish(),
    maker_fee_rate: signedDecimal.nullish(),
    taker_fee_rate: signedDecimal.nullish(),
    /** present (empty) in snapshots, absent on cancel updates (official doc) */
    last_trades: z.array(bsxTradeSchema, { error: 'must be an array' }).nullish(),
  },
  { error: missingOr('must be an object') },
);

export const bsxOrdersFrameSchema = z.looseObject({
  channel: z.literal(BSX_ORDERS_CHANNEL),
  type: z.enum(['snapshot', 'update']),
  data: z.array(bsxOrderSchema, { error: missingOr('must be an array of orders') }),
  /** ns: when the snapshot was made / the event was emitted */
  timestamp: nanos.nullish(),
});

export const bsxErrorSchema = z.looseObject({
  channel: optionalString,
  type: z.literal('error'),
  message: optionalString,
  code: z.union([z.number(), z.string()], { error: 'must be a number' }).nullish(),
});

export const bsxAckSchema = z.looseObject({
  channel: optionalString,
  product: optionalString,
  type: z.enum(['subscribed', 'unsubscribed']),
});

export const bsxMessageSchema = z.looseObject({
  type: z.literal('message'),
  connection_id: optionalString,
  message: optionalString,
});

export type BsxTradeData = z.output<typeof bsxTradeSchema>;
export type BsxOrderData = z.output<typeof bsxOrderSchema>;
export type BsxOrdersFrameData = z.output<typeof bsxOrdersFrameSchema>;

// ---------------------------------------------------------------------------------------------------------------
// Parsed forms.

/** One trade of `last_trades`, every figure as its exact text. */
export interface BsxTrade {
  id: string;
  price: string;
  size: string;
  /** unix ns, exact digits */
  time: string;
  liquidityIndicator: string | null;
  tradingFee: string | null;
  sequencerFee: string | null;
  fundingPayment: string | null;
  /** fields not listed above, as text */
  other: Record<string, string>;
}

/** One order after validation: every figure and time as its exact text; absent or null fields are null. */
export interface BsxOrder {
  id: string;
  clientOrderId: string | null;
  productId: string;
  side: 'BUY' | 'SELL';
  type: string;
  timeInForce: string | null;
  postOnly: boolean | null;
  reduceOnly: boolean | null;
  stp: string | null;
  price: string | null;
  /** base units */
  size: string;
  /** base units, cumulative */
  filledSize: string;
  avgPrice: string | null;
  /** USDC, cumulative; negative = rebate */
  filledFees: string | null;
  initialMargin: string | null;
  status: string;
  orderStopType: string | null;
  stopPrice: string | null;
  stopPriceOption: string | null;
  cancelRequested: boolean | null;
  cancelRequestedAt: string | null;
  cancelReason: string | null;
  rejectReason: string | null;
  cancelRejectReason: string | null;
  isLiquidation: boolean | null;
  nonce: string | null;
  sender: string | null;
  /** unix ns digits */
  createdAtTs: string | null;
  /** unix ns digits; "0" = never updated */
  updatedAt: string | null;
  expiredAt: string | null;
  liquidationFeeRate: string | null;
  makerFeeRate: string | null;
  takerFeeRate: string | null;
  /** null when the key is absent (cancel updates); [] in snapshots */
  lastTrades: BsxTrade[] | null;
  /** order fields not listed above, as text (numbers exact, objects as JSON) */
  other: Record<string, string>;
}

export type BsxFrame =
  | { kind: 'orders'; type: 'snapshot' | 'update'; orders: BsxOrder[]; timestamp: string | null }
  | { kind: 'push'; channel: string; type: string }
  | { kind: 'connection'; connectionId: string }
  | { kind: 'notice'; message: string }
  | { kind: 'authenticated' }
  | { kind: 'ack'; type: 'subscribed' | 'unsubscribed'; channel: string | null; product: string | null }
  | { kind: 'error'; channel: string | null; message: string | null; code: number | string | null }
  | { kind: 'pong' };

// ---------------------------------------------------------------------------------------------------------------
// Routing.

/** Cheap classification shared by the mapper and the client: JSON parsed once, order data not yet validated. */
export type BsxRouted =
  | { kind: 'orders'; value: Record<string, unknown> }
  | { kind: 'push'; channel: string; type: string }
  | { kind: 'message'; value: Record<string, unknown> }
  | { kind: 'authenticated' }
  | { kind: 'ack'; value: Record<string, unknown> }
  | { kind: 'error'; value: Record<string, unknown> }
  | { kind: 'pong' };

/** The doc prints the pong as `{'type': 'pong'}` (not JSON); tolerated in case the server really sends that. */
const SINGLE_QUOTED_PONG_RE = /^\s*\{\s*'type'\s*:\s*'pong'\s*\}\s*$/;

/** Routes a frame by `type` (and `channel`); throws FrameError for anything unrecognised. */
export function routeBsxFrame(text: string): BsxRouted {
  if (text.length === 0 || text.trim().length === 0) throw new FrameError('FRAME_NOT_JSON', 'BSX frame is empty');
  let value: unknown;
  try {
    value = parseJsonLossless(text);
  } catch (error) {
    if (SINGLE_QUOTED_PONG_RE.test(text)) return { kind: 'pong' };
    throw new FrameError('FRAME_NOT_JSON', `BSX frame is not valid JSON (${(error as Error).message}): ${previewValue(text)}`, {
      details: { head: text.slice(0, 120) },
    });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new FrameError('FRAME_UNKNOWN_VARIANT', `BSX frame is ${jsonKind(value)}, not a JSON object: ${previewValue(text)}`, {
      details: { head: text.slice(0, 120) },
    });
  }
  return routeObject(value as Record<string, unknown>);
}

const FRAME_TYPES = ['message', 'pong', 'authenticated', 'error', 'subscribed', 'unsubscribed', 'snapshot', 'update'];

function routeObject(value: Record<string, unknown>): BsxRouted {
  const type = value.type;
  const channel = value.channel;
  if (type === undefined) {
    const keys = Object.keys(value);
    throw new FrameError('FRAME_UNKNOWN_VARIANT', `BSX frame is a JSON object without "type" (keys: ${keys.slice(0, 10).join(', ') || 'none'})`, {
      details: { keys: keys.slice(0, 20) },
    });
  }
  if (typeof type !== 'string') {
    throw new FrameError('FRAME_INVALID', `BSX frame invalid: type must be a string, got ${previewValue(type)}`, {
      details: { field: 'type', value: previewValue(type) },
    });
  }
  if (channel !== undefined && channel !== null && typeof channel !== 'string') {
    throw new FrameError('FRAME_INVALID', `BSX frame invalid: channel must be a string, got ${previewValue(channel)}`, {
      details: { field: 'channel', value: previewValue(channel) },
    });
  }
  switch (type) {
    case 'pong':
      return { kind: 'pong' };
    case 'message':
      return { kind: 'message', value };
    case 'authenticated':
      return { kind: 'authenticated' };
    case 'error':
      return { kind: 'error', value };
    case 'subscribed':
    case 'unsubscribed':
      return { kind: 'ack', value };
    case 'snapshot':
    case 'update':
      if (typeof channel !== 'string' || channel.length === 0) {
        throw new FrameError('FRAME_INVALID', `BSX ${type} frame invalid: channel is required`, { details: { field: 'channel' } });
      }
      return channel === BSX_ORDERS_CHANNEL ? { kind: 'orders', value } : { kind: 'push', channel, type };
    default:
      throw new FrameError(
        'FRAME_UNKNOWN_VARIANT',
        `BSX frame with unknown type ${previewValue(type)}${typeof channel === 'string' ? ` on channel ${previewValue(channel)}` : ''} (known: ${FRAME_TYPES.join(', ')})`,
        { details: { type, channel: channel ?? null } },
      );
  }
}

/** Parses and validates one inbound frame. Throws FrameError (FRAME_NOT_JSON / FRAME_INVALID / FRAME_UNKNOWN_VARIANT). */
export function parseBsxFrame(text: string): BsxFrame {
  const routed = routeBsxFrame(text);
  switch (routed.kind) {
    case 'pong':
    case 'authenticated':
    case 'push':
      return routed;
    case 'message': {
      const r = bsxMessageSchema.safeParse(routed.value);
      if (!r.success) throw bsxInvalid('BSX message frame', r.error.issues, routed.value);
      if (r.data.connection_id) return { kind: 'connection', connectionId: r.data.connection_id };
      if (r.data.message) return { kind: 'notice', message: r.data.message };
      throw new FrameError('FRAME_INVALID', 'BSX message frame invalid: neither connection_id nor message is set', {
        details: { keys: Object.keys(routed.value).slice(0, 20) },
      });
    }
    case 'error': {
      const r = bsxErrorSchema.safeParse(routed.value);
      if (!r.success) throw bsxInvalid('BSX error frame', r.error.issues, routed.value);
      return { kind: 'error', channel: r.data.channel ?? null, message: r.data.message ?? null, code: r.data.code ?? null };
    }
    case 'ack': {
      const r = bsxAckSchema.safeParse(routed.value);
      if (!r.success) throw bsxInvalid('BSX ack', r.error.issues, routed.value);
      return { kind: 'ack', type: r.data.type, channel: r.data.channel ?? null, product: r.data.product ?? null };
    }
    case 'orders': {
      const r = bsxOrdersFrameSchema.safeParse(routed.value);
      if (!r.success) throw bsxInvalid(`BSX orders ${String(routed.value.type)}`, r.error.issues, routed.value);
      const raw = routed.value.data as Record<string, unknown>[];
      return {
        kind: 'orders',
        type: r.data.type,
        orders: r.data.data.map((o, i) => toBsxOrder(o, raw[i] as Record<string, unknown>)),
        timestamp: r.data.timestamp ?? null,
      };
    }
  }
}

const ORDER_KEYS: ReadonlySet<string> = new Set(Object.keys(bsxOrderSchema.shape));
const TRADE_KEYS: ReadonlySet<string> = new Set(Object.keys(bsxTradeSchema.shape));

/** Fields outside the schema, as text: strings verbatim, numbers exact (lossless parse), anything else as JSON. */
function otherFields(raw: Record<string, unknown>, known: ReadonlySet<string>): Record<string, string> {
  const other: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (known.has(k) || v === null || v === undefined) continue;
    other[k] = typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
  }
  return other;
}

function toTrade(t: BsxTradeData, raw: Record<string, unknown>): BsxTrade {
  return {
    id: t.id,
    price: t.price,
    size: t.size,
    time: t.time,
    liquidityIndicator: t.liquidity_indicator ?? null,
    tradingFee: t.trading_fee ?? null,
    sequencerFee: t.sequencer_fee ?? null,
    fundingPayment: t.funding_payment ?? null,
    other: otherFields(raw, TRADE_KEYS),
  };
}

/** A validated order object → BsxOrder (fields outside the schema kept as text in `other`). */
export function toBsxOrder(o: BsxOrderData, raw: Record<string, unknown>): BsxOrder {
  const rawTrades = raw.last_trades as Record<string, unknown>[] | null | undefined;
  return {
    id: o.id,
    clientOrderId: o.client_order_id ?? null,
    productId: o.product_id,
    side: o.side,
    type: o.type,
    timeInForce: o.time_in_force ?? null,
    postOnly: o.post_only ?? null,
    reduceOnly: o.reduce_only ?? null,
    stp: o.stp ?? null,
    price: o.price ?? null,
    size: o.size,
    filledSize: o.filled_size,
    avgPrice: o.avg_price ?? null,
    filledFees: o.filled_fees ?? null,
    initialMargin: o.initial_margin ?? null,
    status: o.status,
    orderStopType: o.order_stop_type ?? null,
    stopPrice: o.stop_price ?? null,
    stopPriceOption: o.stop_price_option ?? null,
    cancelRequested: o.cancel_requested ?? null,
    cancelRequestedAt: o.cancel_requested_at ?? null,
    cancelReason: o.cancel_reason ?? null,
    rejectReason: o.reject_reason ?? null,
    cancelRejectReason: o.cancel_reject_reason ?? null,
    isLiquidation: o.is_liquidation ?? null,
    nonce: o.nonce ?? null,
    sender: o.sender ?? null,
    createdAtTs: o.created_at_ts ?? null,
    updatedAt: o.updated_at ?? null,
    expiredAt: o.expired_at ?? null,
    liquidationFeeRate: o.liquidation_fee_rate ?? null,
    makerFeeRate: o.maker_fee_rate ?? null,
    takerFeeRate: o.taker_fee_rate ?? null,
    lastTrades: o.last_trades ? o.last_trades.map((t, i) => toTrade(t, (rawTrades?.[i] ?? {}) as Record<string, unknown>)) : null,
    other: otherFields(raw, ORDER_KEYS),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers.

export function bsxInvalid(what: string, issues: readonly z.core.$ZodIssue[], root: unknown): FrameError {
  return zodFrameError(what, issues, root, { issueSuffix: (path) => orderIdAt(root, path) });
}

/** ` [order <id>]` when the path points into `data.<i>` and that order has an id. */
function orderIdAt(root: unknown, path: readonly PropertyKey[]): string {
  if (path[0] !== 'data' || typeof path[1] !== 'number' || path[2] === 'id') return '';
  const o = valueAt(root, ['data', path[1]]);
  const oid = o && typeof o === 'object' ? (o as { id?: unknown }).id : undefined;
  return typeof oid === 'string' || typeof oid === 'number' ? ` [order ${String(oid)}]` : '';
}



