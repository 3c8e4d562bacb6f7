import { z } from 'zod';
import { FrameError } from '@orderstream/kit';
import { exactIntegerAt, isInt64Digits, rawJsonValueAt } from './exact-json.js';
import { previewValue, zodFrameError } from '../frame-kit.js';

/**
 * Events of Binance USDⓈ-M's **user data stream** (`wss://fstream.binance.com/private/ws/<listenKey>`): every frame
 * is a JSON object with an event type `e`. Sources and field tables: ./README.md ("User data stream").
 *
 * - `ORDER_TRADE_UPDATE` (official "Event: Order Update"): one regular order, `o` = the order; validated in full.
 * - `ALGO_UPDATE` (official "Event: Algo Order Update"): one conditional order of the Algo Service (since
 *   2025-12-09), `o` = the algo order; validated in full.
 * - `listenKeyExpired` (official "Event: User Data Stream Expired"): the key died; the client gets a new one.
 * - any other event (`ACCOUNT_UPDATE`, `MARGIN_CALL`, `TRADE_LITE`, `ACCOUNT_CONFIG_UPDATE`, `STRATEGY_UPDATE`,
 *   `GRID_UPDATE`, `CONDITIONAL_ORDER_TRIGGER_REJECT`, …): recognised, carries no order.
 *
 * Int64 ids (`o.i`, `o.aid`, `o.t`) are read as the exact digits of the frame text, never from a double.
 */

/** ORDER_TRADE_UPDATE statuses `X` (official list, plus REJECTED as order.status knows it). */
export const BINANCE_USDM_UDS_EXECUTION_TYPES = ['NEW', 'CANCELED', 'CALCULATED', 'EXPIRED', 'TRADE', 'AMENDMENT'] as const;

/** Algo statuses of ALGO_UPDATE `o.X` (official "Event: Algo Order Update"). */
export const BINANCE_USDM_ALGO_STATUSES = ['NEW', 'TRIGGERING', 'TRIGGERED', 'FINISHED', 'CANCELED', 'REJECTED', 'EXPIRED'] as const;
export type BinanceUsdmAlgoStatus = (typeof BINANCE_USDM_ALGO_STATUSES)[number];

/** Event types documented for the USDⓈ-M user data stream that carry no order for us (skipped, never dead-lettered). */
export const BINANCE_USDM_NON_ORDER_EVENTS: ReadonlySet<string> = new Set([
  'ACCOUNT_UPDATE', 'MARGIN_CALL', 'TRADE_LITE', 'ACCOUNT_CONFIG_UPDATE', 'STRATEGY_UPDATE', 'GRID_UPDATE',
  'CONDITIONAL_ORDER_TRIGGER_REJECT',
]);

const missingOr = (problem: string) => (iss: { input?: unknown }) => (iss.input === undefined ? 'is required' : problem);
const PLAIN_DECIMAL_RE = /^-?\d+(?:\.\d+)?$/;
const decimal = z.string({ error: missingOr('must be a decimal string') }).regex(PLAIN_DECIMAL_RE, { error: 'must be a decimal string' });
const idValue = z.custom<string | number>(
  (v) => (typeof v === 'number' && Number.isInteger(v) && v >= 0) || (typeof v === 'string' && isInt64Digits(v)),
  { error: missingOr('must be a non-negative int64 (JSON integer)') },
);
const msValue = z.custom<number | string>((v) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) || (typeof v === 'string' && /^\d{1,16}$/.test(v)), {
  error: missingOr('must be epoch milliseconds'),
});
const requiredString = z.string({ error: missingOr('must be a string') }).min(1, { error: 'must not be empty' });
const side = z.string({ error: missingOr('must be BUY or SELL') }).refine((s) => s === 'BUY' || s === 'SELL', { error: 'must be BUY or SELL' });

/** `o` of ORDER_TRADE_UPDATE. Loose: undocumented fields go to extras. */
export const binanceUsdmUdsOrderSchema = z.looseObject(
  {
    s: requiredString,
    c: z.string({ error: 'must be a string' }).nullish(),
    S: side,
    o: requiredString,
    f: z.string().nullish(),
    q: decimal,
    p: decimal.nullish(),
    ap: decimal.nullish(),
    sp: decimal.nullish(),
    x: requiredString,
    X: requiredString,
    i: idValue,
    l: decimal.nullish(),
    z: decimal,
    L: decimal.nullish(),
    N: z.string().nullish(),
    n: decimal.nullish(),
    T: msValue.nullish(),
    t: idValue.nullish(),
    R: z.boolean({ error: 'must be a boolean' }).nullish(),
    ps: z.string().nullish(),
    ot: z.string().nullish(),
  },
  { error: missingOr('must be an object') },
);

/** `o` of ALGO_UPDATE. */
export const binanceUsdmAlgoOrderSchema = z.looseObject(
  {
    caid: z.string({ error: 'must be a string' }).nullish(),
    aid: idValue,
    at: z.string().nullish(),
    o: requiredString,
    s: requiredString,
    S: side,
    ps: z.string().nullish(),
    f: z.string().nullish(),
    q: decimal,
    X: requiredString,
    ai: z.union([z.string(), z.number()]).nullish(),
    ap: decimal.nullish(),
    aq: decimal.nullish(),
    act: z.string().nullish(),
    tp: decimal.nullish(),
    p: decimal.nullish(),
    R: z.boolean({ error: 'must be a boolean' }).nullish(),
    tt: msValue.nullish(),
  },
  { error: missingOr('must be an object') },
);

const eventTimes = { E: msValue.nullish(), T: msValue.nullish() };
const orderEventSchema = z.looseObject({ e: z.literal('ORDER_TRADE_UPDATE'), ...eventTimes, o: binanceUsdmUdsOrderSchema });
const algoEventSchema = z.looseObject({ e: z.literal('ALGO_UPDATE'), ...eventTimes, o: binanceUsdmAlgoOrderSchema });

export type BinanceUsdmUdsOrderRaw = z.output<typeof binanceUsdmUdsOrderSchema>;
export type BinanceUsdmAlgoOrderRaw = z.output<typeof binanceUsdmAlgoOrderSchema>;

/** ORDER_TRADE_UPDATE, numbers as exact text. */
export interface BinanceUsdmUdsOrder {
  /** the event: E event time, T transaction time (ms digits) */
  eventTime: string | null;
  transactionTime: string | null;
  orderId: string;
  raw: BinanceUsdmUdsOrderRaw;
  /** trade id digits when non-zero */
  tradeId: string | null;
  /** fields of `o` not in the schema, as text */
  other: Record<string, string>;
}

export interface BinanceUsdmAlgoOrder {
  eventTime: string | null;
  transactionTime: string | null;
  algoId: string;
  /** `ai`: id of the regular order created when the algo order triggered; null while there is none ("") */
  actualOrderId: string | null;
  raw: BinanceUsdmAlgoOrderRaw;
  other: Record<string, string>;
}

export type BinanceUsdmUserEvent =
  | { kind: 'order'; order: BinanceUsdmUdsOrder }
  | { kind: 'algo'; algo: BinanceUsdmAlgoOrder }
  | { kind: 'listenKeyExpired'; listenKey: string | null }
  | { kind: 'other'; event: string };

const ORDER_KEYS = new Set(Object.keys(binanceUsdmUdsOrderSchema.shape));
const ALGO_KEYS = new Set(Object.keys(binanceUsdmAlgoOrderSchema.shape));

function otherFields(o: Record<string, unknown>, known: ReadonlySet<string>, text: string): Record<string, string> {
  const other: Record<string, string> = {};
  for (const [k, v] of Object.entries(o)) {
    if (known.has(k) || v === null || v === undefined) continue;
    if (typeof v === 'string') other[k] = v;
    else if (typeof v === 'number') other[k] = Number.isSafeInteger(v) ? String(v) : (rawJsonValueAt(text, ['o', k]) ?? String(v));
    else other[k] = JSON.stringify(v);
  }
  return other;
}

function msText(v: string | number | null | undefined): string | null {
  return v === null || v === undefined ? null : String(v);
}

function idAt(text: string, path: string[], what: string): string {
  const digits = exactIntegerAt(text, path);
  if (digits === undefined || !isInt64Digits(digits)) {
    throw new FrameError('FRAME_INVALID', `${what} invalid: ${path.join('.')} must be a non-negative int64 written as an integer, got ${previewValue(rawJsonValueAt(text, path))}`, {
      details: { field: path.join('.') },
    });
  }
  return digits;
}

/**
 * A user data stream event (`obj` = the parsed frame, `text` = its exact text). Throws FrameError FRAME_INVALID for
 * an order or algo event whose fields fail validation, FRAME_UNKNOWN_VARIANT for an event type nobody documents.
 */
export function parseBinanceUsdmUserEvent(obj: Record<string, unknown>, text: string): BinanceUsdmUserEvent {
  const e = obj.e as string;
  if (e === 'ORDER_TRADE_UPDATE') {
    const r = orderEventSchema.safeParse(obj);
    if (!r.success) throw zodFrameError('Binance ORDER_TRADE_UPDATE', r.error.issues, obj, { tail: idTail(text, ['o', 'i']) });
    const o = r.data.o;
    const orderId = idAt(text, ['o', 'i'], 'Binance ORDER_TRADE_UPDATE');
    const t = o.t === null || o.t === undefined ? null : idAt(text, ['o', 't'], 'Binance ORDER_TRADE_UPDATE');
    return {
      kind: 'order',
      order: {
        eventTime: msText(r.data.E), transactionTime: msText(r.data.T), orderId, raw: o,
        tradeId: t === null || t === '0' ? null : t,
        other: otherFields(o, ORDER_KEYS, text),
      },
    };
  }
  if (e === 'ALGO_UPDATE') {
    const r = algoEventSchema.safeParse(obj);
    if (!r.success) throw zodFrameError('Binance ALGO_UPDATE', r.error.issues, obj, { tail: idTail(text, ['o', 'aid']) });
    const o = r.data.o;
    const algoId = idAt(text, ['o', 'aid'], 'Binance ALGO_UPDATE');
    let actual: string | null = null;
    if (typeof o.ai === 'number') actual = idAt(text, ['o', 'ai'], 'Binance ALGO_UPDATE');
    else if (typeof o.ai === 'string' && o.ai !== '') {
      if (!isInt64Digits(o.ai)) throw new FrameError('FRAME_INVALID', `Binance ALGO_UPDATE invalid: o.ai must be an order id or "", got ${previewValue(o.ai)}`, { details: { field: 'o.ai' } });
      actual = o.ai;
    }
    return {
      kind: 'algo',
      algo: { eventTime: msText(r.data.E), transactionTime: msText(r.data.T), algoId, actualOrderId: actual === '0' ? null : actual, raw: o, other: otherFields(o, ALGO_KEYS, text) },
    };
  }
  if (e === 'listenKeyExpired') return { kind: 'listenKeyExpired', listenKey: typeof obj.listenKey === 'string' ? obj.listenKey : null };
  if (BINANCE_USDM_NON_ORDER_EVENTS.has(e)) return { kind: 'other', event: e };
  throw new FrameError('FRAME_UNKNOWN_VARIANT', `Binance user data stream event ${previewValue(e)} is not one this venue knows (ORDER_TRADE_UPDATE, ALGO_UPDATE, listenKeyExpired, ${[...BINANCE_USDM_NON_ORDER_EVENTS].join(', ')})`, {
    details: { event: e },
  });
}

function idTail(text: string, path: string[]): string {
  try {
    const id = exactIntegerAt(text, path);
    return id === undefined ? '' : ` [${path[1] === 'aid' ? 'algoId' : 'orderId'} ${id}]`;
  } catch {
    return '';
  }
}
