import { z } from 'zod';
import { FrameError } from '@orderstream/kit';
import { exactNumberText, firstNonBlank, jsonKind, previewValue, zodFrameError } from '../frame-kit.js';
import { decimalValue, idValue, integerValue, missingOr, optionalString, requiredString } from './fields.js';

/**
 * Every inbound frame of XT's USDT-M futures user socket (`/ws/user`, protocol "v2" in XT's docs), as zod schemas
 * plus one router, `parseXtFrame`, that the mapper calls once per frame. Sources and quirks: ./README.md.
 *
 * Inbound variants:
 * - push `{"topic":"order","event":"order@…","data":{…}}`: the order update (validated in full);
 * - push on another documented topic of this socket (trade, balance, position, notify): recognised, not validated;
 * - reply `{"id"?,"code","msg"?,"sessionId"?,"method"?}`: subscribe/unsubscribe ack (code 0), failure (1),
 *   listenKey invalid (2), token expired (401), or the reply to unparseable input (no id);
 * - text `pong`: heartbeat answer;
 * - text `<topic>@invalid_listenkey` (XT docs) or `<topic>@invalid_listen_key` (seen in the wild): key expired.
 *
 * Hot path: one JSON.parse per frame, routing by first character and `topic` before any schema runs.
 */

export const XT_USER_TOPICS = ['order', 'trade', 'balance', 'position', 'notify'] as const;
export type XtUserTopic = (typeof XT_USER_TOPICS)[number];

/** The documented values of `data.state` (XTDOC user order page). */
export const XT_ORDER_STATES = [
  'NEW', 'PARTIALLY_FILLED', 'PARTIALLY_CANCELED', 'FILLED', 'CANCELED', 'REJECTED', 'EXPIRED',
] as const;
export type XtOrderState = (typeof XT_ORDER_STATES)[number];

// ---------------------------------------------------------------------------------------------------------------

/** `data` of an order push. Loose: fields XT adds later are kept (→ extras), not rejected. */
export const xtOrderDataSchema = z.looseObject(
  {
    symbol: requiredString,
    orderId: idValue,
    clientOrderId: optionalString,
    origQty: decimalValue,
    executedQty: decimalValue,
    avgPrice: decimalValue.nullish(),
    price: decimalValue.nullish(),
    orderSide: z.string({ error: missingOr('must be BUY or SELL') }).refine((s) => /^(buy|sell)$/i.test(s), {
      error: 'must be BUY or SELL',
    }),
    state: requiredString,
    timeInForce: optionalString,
    positionSide: optionalString,
    /** XTDOC spelling */
    orderType: optionalString,
    /** the doc example's typo key (seed frame, XTREPO) */
    'orderType:': optionalString,
    createdTime: integerValue.nullish(),
    leverage: integerValue.nullish(),
    marginFrozen: decimalValue.nullish(),
    sourceType: optionalString,
    type: optionalString,
    positionType: optionalString,
  },
  { error: missingOr('must be an object') },
);

export const xtOrderPushSchema = z.looseObject({
  topic: z.literal('order'),
  /** `order@<listenKey-ish>` (XTDOC) or bare `order` (JKXT fixtures) */
  event: optionalString,
  data: xtOrderDataSchema,
});

/** A push on another topic of the user socket; not validated beyond the envelope. */
export const xtOtherPushSchema = z.looseObject({
  topic: z.enum(['trade', 'balance', 'position', 'notify']),
  event: optionalString,
  data: z.unknown(),
});

export const xtReplySchema = z.looseObject({
  id: z.union([z.string(), z.number()], { error: 'must be a string or a number' }).nullish(),
  code: integerValue,
  msg: optionalString,
  sessionId: optionalString,
  method: optionalString,
});

export const xtPongSchema = z.literal('pong');

/** `order@invalid_listenkey` (XTDOC spelling) or `balance@invalid_listen_key` (JKXT, XTREPO base.md). */
export const XT_INVALID_LISTEN_KEY_RE = /^([A-Za-z_]+)@invalid_listen_?key$/;
export const xtInvalidListenKeySchema = z.string().regex(XT_INVALID_LISTEN_KEY_RE);

export type XtOrderData = z.output<typeof xtOrderDataSchema>;
export type XtOrderPush = z.output<typeof xtOrderPushSchema>;
export type XtOtherPush = z.output<typeof xtOtherPushSchema>;
export type XtReply = z.output<typeof xtReplySchema>;

// ---------------------------------------------------------------------------------------------------------------
// Parsed forms.

/** An order push after validation, with every number as its exact text from the frame. */
export interface XtOrder {
  event: string | null;
  symbol: string;
  orderId: string;
  clientOrderId: string | null;
  /** contracts, exact text as sent */
  origQty: string;
  /** contracts, cumulative, exact text as sent */
  executedQty: string;
  avgPrice: string | null;
  price: string | null;
  marginFrozen: string | null;
  /** upper-cased */
  orderSide: 'BUY' | 'SELL';
  state: string;
  timeInForce: string | null;
  positionSide: string | null;
  /** from `orderType`, else from the typo key `orderType:` */
  orderType: string | null;
  /** integer digits as sent (unit not documented: s or ms) */
  createdTime: string | null;
  /** REST answers only: update time, ms digits as sent (pushes carry none) */
  updatedTime?: string | null;
  leverage: string | null;
  sourceType: string | null;
  type: string | null;
  positionType: string | null;
  /** data fields not listed above (and a typo-key orderType that disagrees with orderType), as text */
  other: Record<string, string>;
}

export type XtFrame =
  | { kind: 'order'; order: XtOrder }
  | { kind: 'push'; topic: Exclude<XtUserTopic, 'order'> }
  | { kind: 'reply'; reply: XtReply }
  | { kind: 'pong' }
  | { kind: 'invalid-listen-key'; topic: string; text: string };

const KNOWN_DATA_KEYS = new Set(Object.keys(xtOrderDataSchema.shape));
const OTHER_TOPICS: ReadonlySet<string> = new Set(['trade', 'balance', 'position', 'notify']);

// ---------------------------------------------------------------------------------------------------------------
// Routing.

/** Cheap classification shared by the mapper and the client: JSON parsed once, order data not yet validated. */
export type XtRouted =
  | { kind: 'push'; topic: XtUserTopic; value: Record<string, unknown> }
  | { kind: 'reply'; value: Record<string, unknown> }
  | { kind: 'pong' }
  | { kind: 'invalid-listen-key'; topic: string; text: string };

/** Routes a frame by its first character and `topic`/`code`; throws FrameError for anything unrecognised. */
export function routeXtFrame(text: string): XtRouted {
  const first = firstNonBlank(text);
  if (first === '{') {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new FrameError('FRAME_NOT_JSON', `XT frame is not valid JSON (${(error as Error).message}): ${previewValue(text)}`, {
        details: { head: text.slice(0, 120) },
      });
    }
    return routeObject(value as Record<string, unknown>);
  }
  if (text === 'pong') return { kind: 'pong' };
  const invalid = XT_INVALID_LISTEN_KEY_RE.exec(text);
  if (invalid) return { kind: 'invalid-listen-key', topic: invalid[1] as string, text };
  if (text.trim() === 'pong') return { kind: 'pong' };
  if (text.length === 0) throw new FrameError('FRAME_NOT_JSON', 'XT frame is empty');
  // Not an object: valid JSON of another kind is an unknown variant, anything else is not JSON.
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new FrameError(
      'FRAME_NOT_JSON',
      `XT frame is neither JSON nor a known text frame ("pong", "<topic>@invalid_listen_key"): ${previewValue(text)}`,
      { details: { head: text.slice(0, 120) } },
    );
  }
  throw new FrameError('FRAME_UNKNOWN_VARIANT', `XT frame is ${jsonKind(value)}, not a JSON object: ${previewValue(text)}`, {
    details: { head: text.slice(0, 120) },
  });
}

function routeObject(value: Record<string, unknown>): XtRouted {
  const topic = value.topic;
  if (topic !== undefined) {
    if (typeof topic !== 'string') {
      throw new FrameError('FRAME_INVALID', `XT push: topic must be a string, got ${previewValue(topic)}`, {
        details: { field: 'topic', value: previewValue(topic) },
      });
    }
    if (topic === 'order' || OTHER_TOPICS.has(topic)) return { kind: 'push', topic: topic as XtUserTopic, value };
    throw new FrameError(
      'FRAME_UNKNOWN_VARIANT',
      `XT push with unknown topic ${previewValue(topic)} (user socket topics: ${XT_USER_TOPICS.join(', ')})`,
      { details: { topic } },
    );
  }
  if ('code' in value) return { kind: 'reply', value };
  const keys = Object.keys(value);
  if (typeof value.channel === 'string') {
    throw new FrameError(
      'FRAME_UNKNOWN_VARIANT',
      `XT frame with "channel":${previewValue(value.channel)} looks like the legacy v1 user stream; this mapper reads the v2 user socket (frames routed on "topic")`,
      { details: { channel: value.channel } },
    );
  }
  throw new FrameError(
    'FRAME_UNKNOWN_VARIANT',
    `XT frame is a JSON object with neither "topic" nor "code" (keys: ${keys.slice(0, 10).join(', ') || 'none'})`,
    { details: { keys: keys.slice(0, 20) } },
  );
}

/** Parses and validates one inbound frame. Throws FrameError (FRAME_NOT_JSON / FRAME_INVALID / FRAME_UNKNOWN_VARIANT). */
export function parseXtFrame(text: string): XtFrame {
  const routed = routeXtFrame(text);
  switch (routed.kind) {
    case 'pong':
    case 'invalid-listen-key':
      return routed;
    case 'reply': {
      const r = xtReplySchema.safeParse(routed.value);
      if (!r.success) throw invalid('XT reply', r.error.issues, routed.value);
      return { kind: 'reply', reply: r.data };
    }
    case 'push': {
      if (routed.topic !== 'order') return { kind: 'push', topic: routed.topic };
      const r = xtOrderPushSchema.safeParse(routed.value);
      if (!r.success) throw invalid('XT order push', r.error.issues, routed.value);
      return { kind: 'order', order: toOrder(r.data, text) };
    }
  }
}

function toOrder(push: XtOrderPush, text: string): XtOrder {
  const d = push.data;
  const num = (key: string, v: string | number | null | undefined): string | null =>
    v === null || v === undefined ? null : typeof v === 'string' ? v : exactNumberText(text, key, v, 'XT order push', `data.${key}`);
  const typed = d.orderType ?? null;
  const typo = d['orderType:'] ?? null;
  const other: Record<string, string> = {};
  for (const [k, v] of Object.entries(d)) {
    if (KNOWN_DATA_KEYS.has(k) || v === null || v === undefined) continue;
    other[k] = typeof v === 'string' ? v : typeof v === 'number' ? exactNumberText(text, k, v, 'XT order push', `data.${k}`) : JSON.stringify(v);
  }
  if (typed !== null && typo !== null && typed !== typo) other['orderType:'] = typo;
  return {
    event: push.event ?? null,
    symbol: d.symbol,
    orderId: num('orderId', d.orderId) as string,
    clientOrderId: d.clientOrderId ?? null,
    origQty: num('origQty', d.origQty) as string,
    executedQty: num('executedQty', d.executedQty) as string,
    avgPrice: num('avgPrice', d.avgPrice),
    price: num('price', d.price),
    marginFrozen: num('marginFrozen', d.marginFrozen),
    orderSide: d.orderSide.toUpperCase() as 'BUY' | 'SELL',
    state: d.state,
    timeInForce: d.timeInForce ?? null,
    positionSide: d.positionSide ?? null,
    orderType: typed ?? typo,
    createdTime: num('createdTime', d.createdTime),
    leverage: num('leverage', d.leverage),
    sourceType: d.sourceType ?? null,
    type: d.type ?? null,
    positionType: d.positionType ?? null,
    other,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers.


function invalid(what: string, issues: readonly z.core.$ZodIssue[], root: unknown): FrameError {
  const data = (root as { data?: { orderId?: unknown } } | null)?.data;
  const orderId = data && typeof data === 'object' && data.orderId !== undefined ? ` [orderId ${String(data.orderId)}]` : '';
  return zodFrameError(what, issues, root, { tail: orderId });
}




