import { z } from 'zod';
import { FrameError, isDecimal } from '@orderstream/kit';
import { exactNumberText, firstNonBlank, jsonKind, previewValue, zodFrameError } from '../frame-kit.js';

/**
 * Every inbound frame of Loopring's v2 relayer socket (`wss://ws.loopring.io/v2/ws`) that the `order` topic
 * client can meet, as zod schemas plus one router, `parseLoopringFrame`, that the mapper calls once per frame.
 * Sources and quirks: ./README.md (source tags as in shared/venues/PROTOCOLS.md: LRV2, LRV3, LRWEB).
 *
 * Inbound variants:
 * - push `{"topic":{"topic":"order","market":"LRC-ETH"},"ts":…,"data":{Order}}`: the order update (validated in full);
 *   the topic may also come with the doc typo key `{"topic:":"order",…}` or as the legacy string `"order&LRC-ETH"`;
 * - push on another topic of the socket (account, orderbook, trade, …): recognised, not validated;
 * - reply to sub/unSub: `{"op","sequence"?,"topics"|"topic"|"args","result":{"status":"ok"|"OK"}}` or
 *   `"result":{"status":"failed","error":{"code":1041xx,"message":…}}`;
 * - text `ping`: the relayer's heartbeat (the client answers `pong`; the relayer never sends `pong`).
 *
 * Hot path: one JSON.parse per frame, routing on `result` / `topic` before any schema runs.
 */

/** The documented values of `data.status` on the `order` topic (official doc, LRV2 `websocket/order.md`). */
export const LOOPRING_ORDER_STATUSES = ['processing', 'processed', 'cancelling', 'cancelled', 'expired', 'waiting'] as const;
export type LoopringDocumentedStatus = (typeof LOOPRING_ORDER_STATUSES)[number];
/**
 * Not in the topic doc, but a documented order status elsewhere: LRV2 REST `GET /api/v2/orders` lists `failed`
 * among its status filter values, and hummingbot's connector models it. Mapped (→ REJECTED) rather than dead-lettered.
 */
export const LOOPRING_EXTRA_STATUSES = ['failed'] as const;
export type LoopringOrderStatus = LoopringDocumentedStatus | (typeof LOOPRING_EXTRA_STATUSES)[number];

/**
 * Topic names the relayer socket documents: LRV2 websocket pages (account, order, orderbook, trade, ticker, candlestick;
 * depth and depth10 in older revisions), LRV3 (blockgen, ammpool), Loopring/loopring_sdk `WsTopicType` (mixorder).
 * Only `order` is read; pushes on the others are recognised and skipped (we never subscribe to them).
 */
export const LOOPRING_TOPICS = [
  'order', 'account', 'orderbook', 'trade', 'ticker', 'candlestick', 'depth', 'depth10', 'blockgen', 'ammpool', 'mixorder',
] as const;
export type LoopringTopic = (typeof LOOPRING_TOPICS)[number];
const KNOWN_TOPICS: ReadonlySet<string> = new Set(LOOPRING_TOPICS);

/** The text heartbeat the relayer sends every 30 s (LRV2 overview.md "Heartbeat"). */
export const LOOPRING_PING = 'ping';
/** What the client answers, exactly once per `ping` (more pongs than pings → the relayer disconnects). */
export const LOOPRING_PONG = 'pong';

// ---------------------------------------------------------------------------------------------------------------
// Field schemas. Messages read as the end of "data.<field> …", so a dead letter names the field and the problem.

const missingOr = (problem: string) => (iss: { input?: unknown }) => (iss.input === undefined ? 'is required' : problem);

const DIGITS_RE = /^\d+$/;
const PLAIN_DECIMAL_RE = /^\d+(?:\.\d+)?$/;

/**
 * Raw token units: a non-negative integer (the doc sends strings; `"8210000000000001024"` in REST). A decimal point
 * here means the frame is not in raw units, which would silently scale a quantity by 10^decimals: refused.
 */
const rawAmount = z.custom<string | number>(
  (v) => (typeof v === 'string' && DIGITS_RE.test(v)) || (typeof v === 'number' && Number.isInteger(v) && v >= 0),
  { error: missingOr('must be a non-negative integer of raw token units') },
);

/** A human decimal (price) as a string, or a JSON number (tolerated: exact digits recovered from the text). */
const decimalValue = z.custom<string | number>(
  (v) =>
    (typeof v === 'string' && (PLAIN_DECIMAL_RE.test(v) || (isDecimal(v) && !v.trim().startsWith('-')))) ||
    (typeof v === 'number' && Number.isFinite(v) && v >= 0),
  { error: missingOr('must be a non-negative decimal (string or number)') },
);

/** An integer as the model says (JSON number), or the same digits in a string (the doc example's `createdAt`). */
const integerValue = z.custom<string | number>(
  (v) => (typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && /^-?\d+$/.test(v)),
  { error: missingOr('must be an integer (number or digit string)') },
);

/** An id: a non-empty string as documented, or a non-negative integer JSON number (exact digits recovered). */
const idValue = z.custom<string | number>(
  (v) => (typeof v === 'string' && v.length > 0) || (typeof v === 'number' && Number.isInteger(v) && v >= 0),
  { error: missingOr('must be a non-empty string or an integer') },
);

const requiredString = z.string({ error: missingOr('must be a string') }).min(1, { error: 'must not be empty' });

/** `data` of an order push (official doc model). Loose: fields the relayer adds later are kept (→ extras). */
export const loopringOrderDataSchema = z.looseObject(
  {
    hash: idValue,
    /** documented as required; tolerated absent, null or a number */
    clientOrderId: z.union([z.string(), z.number()], { error: 'must be a string' }).nullish(),
    size: rawAmount,
    volume: rawAmount,
    price: decimalValue,
    filledSize: rawAmount,
    filledVolume: rawAmount,
    filledFee: rawAmount,
    status: requiredString,
    side: z.string({ error: missingOr('must be buy or sell') }).refine((s) => /^(buy|sell)$/i.test(s), { error: 'must be buy or sell' }),
    market: requiredString,
    /** model: integer; doc example: a 10-digit string; REST: 13-digit ms */
    createdAt: integerValue.nullish(),
    /** in the model, absent from the doc example */
    updateAt: integerValue.nullish(),
    /** in the doc example (strings, seconds), not in the model table */
    validSince: integerValue.nullish(),
    validUntil: integerValue.nullish(),
    /** a REST field (`LIMIT_ORDER`, `MAKER_ONLY`, `TAKER_ONLY`); read if a push ever carries it */
    orderType: z.string({ error: 'must be a string' }).nullish(),
  },
  { error: missingOr('must be an object') },
);

/** The echo of one subscribed topic: `{"topic":"order","market":"LRC-ETH"}`, or with the doc typo key `"topic:"`. */
export const loopringTopicObjectSchema = z.looseObject({
  topic: z.string().optional(),
  'topic:': z.string().optional(),
  market: z.string().nullish(),
});

export const loopringReplySchema = z.looseObject({
  /** `sub` / `unSub`; `""` when the relayer could not parse the request (104115 example) */
  op: z.string({ error: 'must be a string' }).nullish(),
  sequence: integerValue.nullish(),
  /** current docs: a list of topic objects */
  topics: z.array(z.unknown(), { error: 'must be a list' }).nullish(),
  /** older doc revision (LRV2 @28a8446): one topic object */
  topic: z.unknown().optional(),
  /** legacy args protocol (LRV3 @ce3ccbcb): `["trade&LRC-ETH", …]` */
  args: z.array(z.unknown(), { error: 'must be a list' }).nullish(),
  result: z.looseObject(
    {
      status: z.string({ error: missingOr('must be a string') }),
      error: z
        .looseObject({ code: integerValue, message: z.string({ error: 'must be a string' }).nullish() }, { error: 'must be an object' })
        .nullish(),
    },
    { error: missingOr('must be an object') },
  ),
});

export const loopringPingSchema = z.literal(LOOPRING_PING);

export type LoopringOrderData = z.output<typeof loopringOrderDataSchema>;
export type LoopringReplyData = z.output<typeof loopringReplySchema>;

// ---------------------------------------------------------------------------------------------------------------
// Parsed forms.

/** How the topic of a push was written. */
export type LoopringTopicForm = 'object' | 'typo-key' | 'legacy-string';

export interface LoopringTopicRef {
  /** lower-cased topic name */
  topic: string;
  market: string | null;
  form: LoopringTopicForm;
}

/** An order push after validation, with every number as its exact text from the frame. */
export interface LoopringOrder {
  hash: string;
  clientOrderId: string | null;
  /** raw base-token units, exact digits */
  size: string;
  /** raw quote-token units */
  volume: string;
  /** human decimal, quote per base */
  price: string;
  filledSize: string;
  filledVolume: string;
  /** raw units of the token received (base for a buy, quote for a sell) */
  filledFee: string;
  status: string;
  side: 'BUY' | 'SELL';
  market: string;
  /** integer digits as sent (unit by magnitude) */
  createdAt: string | null;
  updateAt: string | null;
  validSince: string | null;
  validUntil: string | null;
  orderType: string | null;
  /** data fields not listed above, as text */
  other: Record<string, string>;
}

export interface LoopringOrderPush {
  topic: LoopringTopicRef;
  /** push time, integer digits as sent */
  ts: string | null;
  order: LoopringOrder;
}

export interface LoopringReply {
  op: string | null;
  sequence: number | null;
  /** `result.status` is ok (any casing: `ok` in LRV2, `OK` in LRV3 blockgen.md) */
  ok: boolean;
  status: string;
  code: number | null;
  message: string | null;
  /** echoed topics, e.g. `order&LRC-ETH` (typo keys and legacy args read alike) */
  topics: string[];
}

export type LoopringFrame =
  | { kind: 'order'; push: LoopringOrderPush }
  | { kind: 'push'; topic: string }
  | { kind: 'reply'; reply: LoopringReply }
  | { kind: 'ping' };

const KNOWN_DATA_KEYS = new Set(Object.keys(loopringOrderDataSchema.shape));

// ---------------------------------------------------------------------------------------------------------------
// Routing.

/** Cheap classification shared by the mapper and the client: JSON parsed once, order data not yet validated. */
export type LoopringRouted =
  | { kind: 'ping' }
  | { kind: 'reply'; value: Record<string, unknown> }
  | { kind: 'push'; topic: LoopringTopicRef; value: Record<string, unknown> };

/** Routes a frame by its first character and `result` / `topic`; throws FrameError for anything unrecognised. */
export function routeLoopringFrame(text: string): LoopringRouted {
  if (text === LOOPRING_PING) return { kind: 'ping' };
  const first = firstNonBlank(text);
  if (first === '{') {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new FrameError('FRAME_NOT_JSON', `Loopring frame is not valid JSON (${(error as Error).message}): ${previewValue(text)}`, {
        details: { head: text.slice(0, 120) },
      });
    }
    return routeObject(value as Record<string, unknown>);
  }
  if (text.trim() === LOOPRING_PING) return { kind: 'ping' };
  if (text.length === 0) throw new FrameError('FRAME_NOT_JSON', 'Loopring frame is empty');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new FrameError('FRAME_NOT_JSON', `Loopring frame is neither JSON nor the text "ping": ${previewValue(text)}`, {
      details: { head: text.slice(0, 120) },
    });
  }
  throw new FrameError('FRAME_UNKNOWN_VARIANT', `Loopring frame is ${jsonKind(value)}, not a JSON object: ${previewValue(text)}`, {
    details: { head: text.slice(0, 120) },
  });
}

function routeObject(value: Record<string, unknown>): LoopringRouted {
  // Replies echo the topic(s) too, so `result` is checked first.
  if ('result' in value) return { kind: 'reply', value };
  if ('topic' in value) return { kind: 'push', topic: topicRef(value.topic), value };
  const keys = Object.keys(value);
  throw new FrameError(
    'FRAME_UNKNOWN_VARIANT',
    `Loopring frame is a JSON object with neither "topic" nor "result" (keys: ${keys.slice(0, 10).join(', ') || 'none'})`,
    { details: { keys: keys.slice(0, 20) } },
  );
}

/** Reads a push's topic in any of its documented spellings; throws FrameError for anything else. */
function topicRef(topic: unknown): LoopringTopicRef {
  let ref: LoopringTopicRef | undefined;
  if (typeof topic === 'string') {
    // legacy protocol (LRV3 @ce3ccbcb): "order&LRC-BTC"
    const [name = '', market] = topic.split('&');
    if (name.length > 0) ref = { topic: name.toLowerCase(), market: market && market.length > 0 ? market : null, form: 'legacy-string' };
  } else if (topic !== null && typeof topic === 'object' && !Array.isArray(topic)) {
    const t = topic as Record<string, unknown>;
    const name = typeof t.topic === 'string' ? t.topic : typeof t['topic:'] === 'string' ? (t['topic:'] as string) : undefined;
    const market = typeof t.market === 'string' && t.market.length > 0 ? t.market : null;
    if (name !== undefined && name.length > 0) ref = { topic: name.toLowerCase(), market, form: typeof t.topic === 'string' ? 'object' : 'typo-key' };
  }
  if (!ref) {
    throw new FrameError('FRAME_INVALID', `Loopring push: topic must be {"topic":<name>,…} or "<name>&<market>", got ${previewValue(topic)}`, {
      details: { field: 'topic', value: previewValue(topic) },
    });
  }
  if (!KNOWN_TOPICS.has(ref.topic)) {
    throw new FrameError('FRAME_UNKNOWN_VARIANT', `Loopring push with unknown topic ${previewValue(ref.topic)} (documented: ${LOOPRING_TOPICS.join(', ')})`, {
      details: { topic: ref.topic },
    });
  }
  return ref;
}

/** Parses and validates one inbound frame. Throws FrameError (FRAME_NOT_JSON / FRAME_INVALID / FRAME_UNKNOWN_VARIANT). */
export function parseLoopringFrame(text: string): LoopringFrame {
  const routed = routeLoopringFrame(text);
  switch (routed.kind) {
    case 'ping':
      return routed;
    case 'reply':
      return { kind: 'reply', reply: parseLoopringReply(routed.value) };
    case 'push': {
      if (routed.topic.topic !== 'order') return { kind: 'push', topic: routed.topic.topic };
      const value = routed.value;
      const ts = value.ts;
      const issues: z.core.$ZodIssue[] = [];
      if (ts !== undefined && ts !== null && !integerValue.safeParse(ts).success) {
        issues.push({ code: 'custom', path: ['ts'], message: 'must be an integer (number or digit string)', input: ts } as z.core.$ZodIssue);
      }
      const data = loopringOrderDataSchema.safeParse(value.data);
      if (!data.success) issues.push(...data.error.issues.map((i) => ({ ...i, path: ['data', ...i.path] })));
      if (issues.length > 0 || !data.success) throw invalid('Loopring order push', issues, value);
      return {
        kind: 'order',
        push: {
          topic: routed.topic,
          ts: ts === undefined || ts === null ? null : numText(text, 'ts', ts as string | number),
          order: loopringOrderOf(data.data, text),
        },
      };
    }
  }
}

/** Validates a sub/unSub reply (already routed). */
export function parseLoopringReply(value: Record<string, unknown>): LoopringReply {
  const r = loopringReplySchema.safeParse(value);
  if (!r.success) throw invalid('Loopring reply', r.error.issues, value);
  const d = r.data;
  const echoed: unknown[] = d.topics ?? (d.topic !== undefined && d.topic !== null ? [d.topic] : (d.args ?? []));
  const topics = echoed.map(topicText).filter((t): t is string => t !== undefined);
  const ok = d.result.status.toLowerCase() === 'ok';
  return {
    op: d.op ?? null,
    sequence: d.sequence === undefined || d.sequence === null ? null : Number(d.sequence),
    ok,
    status: d.result.status,
    code: d.result.error?.code === undefined ? null : Number(d.result.error.code),
    message: d.result.error?.message ?? null,
    topics,
  };
}

function topicText(t: unknown): string | undefined {
  if (typeof t === 'string') return t;
  if (t === null || typeof t !== 'object') return undefined;
  const o = t as Record<string, unknown>;
  const name = typeof o.topic === 'string' ? o.topic : typeof o['topic:'] === 'string' ? (o['topic:'] as string) : undefined;
  if (name === undefined) return undefined;
  return typeof o.market === 'string' ? `${name}&${o.market}` : name;
}

/** A validated order object (push `data`, or a v2 REST order) with every number as its exact text from `text`. */
export function loopringOrderOf(d: LoopringOrderData, text: string): LoopringOrder {
  const num = (key: string, v: string | number): string => numText(text, key, v);
  const opt = (key: string, v: string | number | null | undefined): string | null => (v === null || v === undefined ? null : num(key, v));
  const other: Record<string, string> = {};
  for (const [k, v] of Object.entries(d)) {
    if (KNOWN_DATA_KEYS.has(k) || v === null || v === undefined) continue;
    other[k] = typeof v === 'string' ? v : typeof v === 'number' ? numText(text, k, v) : JSON.stringify(v);
  }
  const clientOrderId = d.clientOrderId === null || d.clientOrderId === undefined ? null : num('clientOrderId', d.clientOrderId);
  return {
    hash: num('hash', d.hash),
    clientOrderId: clientOrderId === '' ? null : clientOrderId,
    size: num('size', d.size),
    volume: num('volume', d.volume),
    price: num('price', d.price),
    filledSize: num('filledSize', d.filledSize),
    filledVolume: num('filledVolume', d.filledVolume),
    filledFee: num('filledFee', d.filledFee),
    status: d.status,
    side: d.side.toUpperCase() as 'BUY' | 'SELL',
    market: d.market,
    createdAt: opt('createdAt', d.createdAt),
    updateAt: opt('updateAt', d.updateAt),
    validSince: opt('validSince', d.validSince),
    validUntil: opt('validUntil', d.validUntil),
    orderType: d.orderType ?? null,
    other,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers.


/** The exact text of a value: strings as they are, JSON numbers read back from the frame text (frame-kit). */
function numText(text: string, key: string, value: string | number): string {
  return typeof value === 'string' ? value : exactNumberText(text, key, value, 'Loopring order push', key);
}

function invalid(what: string, issues: readonly z.core.$ZodIssue[], root: unknown): FrameError {
  const data = (root as { data?: { hash?: unknown } } | null)?.data;
  const hash = data && typeof data === 'object' && data.hash !== undefined ? ` [hash ${String(data.hash)}]` : '';
  return zodFrameError(what, issues, root, { tail: hash });
}




