import { FrameError } from '@orderstream/kit';
import {
  INSTRUMENT_KINDS,
  ORDER_STATUSES,
  ORDER_TYPES,
  POSITION_SIDES,
  SIDES,
  TIMES_IN_FORCE,
  orderKeyOf,
  type CanonicalOrder,
} from '@orderstream/schemas';
import { decimalBoundProblem, previewValue, type MapContext } from '@orderstream/venues';

/**
 * The edge's last check: every canonical order a venue mapper returns passes here before it is encoded and produced
 * (normalizeFrame), so the limits hold for all five venues (and their REST answers) in one place, whatever each
 * mapper's own validation does. A violation turns the whole frame into a dead letter, like any other mapper refusal.
 * The rules, in the order they are checked (docs/decisions.md → Input limits):
 *
 *  1. Identity: `venue` and `account` are the record's own; `orderKey` is exactly orderKeyOf(venue, account, orderId)
 *     (anything else is a mapper bug: FRAME_UNMAPPABLE).
 *  2. Identifiers (FRAME_ID_INVALID): orderId, account and venueSymbol are the parts of keys (the order key
 *     `venue|account|orderId`, the track key `venue|account|symbol|orderId`): no `|`, no control character, no
 *     lone surrogate, at most 128 (orderId) / 64 characters; orderId and account non-empty. clientOrderId, symbol, lastFillId,
 *     venueStatus, venueOrderType and feeAsset: no control character, no lone surrogate, within their caps. The
 *     order key is then at most 256 characters. `|` is refused, not escaped: every reader of the shared key format
 *     stays as it is, and two distinct ids can never produce the same key.
 *  3. Enumerations are values the Avro schema has (a mapper bug otherwise: FRAME_UNMAPPABLE).
 *  4. Figures (FRAME_VALUE_OUT_OF_RANGE): every decimal is null or a decimal in normal form within the digit bound
 *     (40 digits before and after the point); quantities and prices are not negative (fees may be: rebates).
 *  5. Times (FRAME_VALUE_OUT_OF_RANGE): createdAt and updatedAt are null or whole epoch microseconds in
 *     [2000-01-01, 2100-01-01); receivedAt is a non-negative safe integer.
 *  6. Extras: at most 64 entries, keys at most 64 characters without control characters, values at most 1024
 *     characters; no lone surrogate anywhere (UTF-8, hence Avro, cannot carry one: it would be silently replaced).
 *
 * Cost: a handful of regex tests and comparisons per order, no allocation on the happy path.
 */

/** Characters of an order id (and of a client order id). Real venues use ≤ 64 (UUIDs, int64, Loopring hashes 66). */
export const MAX_ORDER_ID_CHARS = 128;
/** Characters of an account name, a venue symbol, a unified symbol, a status or order-type word, a fee asset. */
export const MAX_NAME_CHARS = 64;
/** Characters of an execution id (some are derived from several venue fields). */
export const MAX_FILL_ID_CHARS = 256;
/** Characters of the order key `venue|account|orderId` (follows from the caps above; checked anyway). */
export const MAX_ORDER_KEY_CHARS = 256;
/** Entries of `extras`, characters of an extras key and of an extras value. */
export const MAX_EXTRAS = 64;
export const MAX_EXTRAS_KEY_CHARS = 64;
export const MAX_EXTRAS_VALUE_CHARS = 1024;
/** The range of venue times (epoch µs): [2000-01-01T00:00:00Z, 2100-01-01T00:00:00Z). */
export const MIN_TIME_MICROS = 946_684_800_000_000;
export const MAX_TIME_MICROS = 4_102_444_800_000_000;

/** Plain printable ASCII without `|`: the common case, one cheap test. */
const PLAIN_KEY_PART_RE = /^[\x20-\x7b\x7d\x7e]+$/;
/** Plain printable ASCII: the common case of every other string, one cheap test. */
const PLAIN_RE = /^[\x20-\x7e]*$/;
/** A control character (C0, DEL, C1) or a lone surrogate. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const BAD_CHAR_RE = /[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** A lone surrogate only. */
const LONE_SURROGATE_RE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** A decimal in the project's normal form (libs/kit decimal.ts), with an optional '-'. */
const NORMAL_DECIMAL_RE = /^-?(?:0|[1-9]\d*)(?:\.\d*[1-9])?$/;

const STATUSES: ReadonlySet<string> = new Set(ORDER_STATUSES);
const KINDS: ReadonlySet<string> = new Set(INSTRUMENT_KINDS);
const SIDE_SET: ReadonlySet<string> = new Set(SIDES);
const POSITION_SIDE_SET: ReadonlySet<string> = new Set(POSITION_SIDES);
const TYPES: ReadonlySet<string> = new Set(ORDER_TYPES);
const TIFS: ReadonlySet<string> = new Set(TIMES_IN_FORCE);

type DecimalField =
  | 'price' | 'triggerPrice' | 'quantity' | 'venueQuantity' | 'quoteQuantity' | 'filledQuantity' | 'venueFilledQuantity'
  | 'filledQuoteQuantity' | 'averagePrice' | 'fee' | 'lastFillQuantity' | 'lastFillPrice' | 'lastFillFee';

/** Decimal fields that may never be negative (quantities and prices); the fees may (rebates). */
const UNSIGNED_DECIMALS: readonly DecimalField[] = [
  'price', 'triggerPrice', 'quantity', 'venueQuantity', 'quoteQuantity', 'filledQuantity', 'venueFilledQuantity',
  'filledQuoteQuantity', 'averagePrice', 'lastFillQuantity', 'lastFillPrice',
];
const SIGNED_DECIMALS: readonly DecimalField[] = ['fee', 'lastFillFee'];

/**
 * Throws a FrameError when `order` breaks one of the rules above; `index` is its place in the frame's list (named in
 * the message when the frame carried several).
 */
export function guardCanonicalOrder(order: CanonicalOrder, ctx: MapContext, index: number, count: number): void {
  const where = count > 1 ? ` (order ${index + 1} of ${count})` : '';
  const fail = (code: 'FRAME_ID_INVALID' | 'FRAME_VALUE_OUT_OF_RANGE' | 'FRAME_UNMAPPABLE', field: string, problem: string, value: unknown): never => {
    const id = field === 'orderId' || field === 'orderKey' ? '' : ` [orderId ${previewValue(order.orderId)}]`;
    throw new FrameError(code, `canonical order${where}: ${field} ${problem}, got ${previewValue(value)}${id}`, { details: { field, index } });
  };

  // 1. identity
  if (order.venue !== ctx.venue) fail('FRAME_UNMAPPABLE', 'venue', `must be the record's venue ${JSON.stringify(ctx.venue)}`, order.venue);
  if (order.account !== ctx.account) fail('FRAME_UNMAPPABLE', 'account', "must be the record's account", order.account);

  // 2. identifiers
  keyPart('orderId', order.orderId, MAX_ORDER_ID_CHARS, false, fail);
  keyPart('account', order.account, MAX_NAME_CHARS, false, fail);
  // empty where the answer does not name it (WebSea's trade-list detail)
  keyPart('venueSymbol', order.venueSymbol, MAX_NAME_CHARS, true, fail);
  if (order.orderKey !== orderKeyOf(order.venue, order.account, order.orderId)) {
    fail('FRAME_UNMAPPABLE', 'orderKey', 'must be venue|account|orderId', order.orderKey);
  }
  if (order.orderKey.length > MAX_ORDER_KEY_CHARS) fail('FRAME_ID_INVALID', 'orderKey', `is ${order.orderKey.length} characters long, at most ${MAX_ORDER_KEY_CHARS} allowed`, order.orderKey);
  name('clientOrderId', order.clientOrderId, MAX_ORDER_ID_CHARS, fail);
  name('symbol', order.symbol, MAX_NAME_CHARS, fail);
  name('venueStatus', order.venueStatus, MAX_NAME_CHARS, fail);
  name('venueOrderType', order.venueOrderType, MAX_NAME_CHARS, fail);
  name('feeAsset', order.feeAsset, MAX_NAME_CHARS, fail);
  name('lastFillId', order.lastFillId, MAX_FILL_ID_CHARS, fail);

  // 3. enumerations
  if (!STATUSES.has(order.status)) fail('FRAME_UNMAPPABLE', 'status', 'is not a canonical status', order.status);
  if (!KINDS.has(order.instrumentKind)) fail('FRAME_UNMAPPABLE', 'instrumentKind', 'is not a canonical instrument kind', order.instrumentKind);
  if (!SIDE_SET.has(order.side)) fail('FRAME_UNMAPPABLE', 'side', 'is not BUY or SELL', order.side);
  if (order.positionSide !== null && !POSITION_SIDE_SET.has(order.positionSide)) fail('FRAME_UNMAPPABLE', 'positionSide', 'is not a canonical position side', order.positionSide);
  if (!TYPES.has(order.orderType)) fail('FRAME_UNMAPPABLE', 'orderType', 'is not a canonical order type', order.orderType);
  if (order.timeInForce !== null && !TIFS.has(order.timeInForce)) fail('FRAME_UNMAPPABLE', 'timeInForce', 'is not a canonical time in force', order.timeInForce);

  // 4. figures
  for (const field of UNSIGNED_DECIMALS) decimal(field, order[field], false, fail);
  for (const field of SIGNED_DECIMALS) decimal(field, order[field], true, fail);

  // 5. times
  time('createdAt', order.createdAt, fail);
  time('updatedAt', order.updatedAt, fail);
  if (!Number.isSafeInteger(order.receivedAt) || order.receivedAt < 0) fail('FRAME_UNMAPPABLE', 'receivedAt', 'must be non-negative epoch microseconds', order.receivedAt);

  // 6. extras
  const extras = Object.keys(order.extras);
  if (extras.length > MAX_EXTRAS) fail('FRAME_VALUE_OUT_OF_RANGE', 'extras', `has ${extras.length} entries, at most ${MAX_EXTRAS} allowed`, extras.slice(0, 5));
  for (const k of extras) {
    if (k.length > MAX_EXTRAS_KEY_CHARS || (!PLAIN_RE.test(k) && BAD_CHAR_RE.test(k))) {
      fail('FRAME_ID_INVALID', 'extras key', `must be at most ${MAX_EXTRAS_KEY_CHARS} characters without control characters or lone surrogates`, k);
    }
    const v = order.extras[k] as string;
    if (typeof v !== 'string') fail('FRAME_UNMAPPABLE', `extras.${k}`, 'must be a string', v);
    if (v.length > MAX_EXTRAS_VALUE_CHARS) fail('FRAME_VALUE_OUT_OF_RANGE', `extras.${k}`, `is ${v.length} characters long, at most ${MAX_EXTRAS_VALUE_CHARS} allowed`, v);
    if (!PLAIN_RE.test(v) && LONE_SURROGATE_RE.test(v)) fail('FRAME_ID_INVALID', `extras.${k}`, 'contains a lone surrogate', v);
  }
}

type Fail = (code: 'FRAME_ID_INVALID' | 'FRAME_VALUE_OUT_OF_RANGE' | 'FRAME_UNMAPPABLE', field: string, problem: string, value: unknown) => never;

/**
 * Whether `orderId` could be the id of a canonical order (rule 2): the ids a completed reconciliation lists are
 * filtered with it, since no order with another id can be in the state.
 */
export function isAdmissibleOrderId(orderId: unknown): boolean {
  if (typeof orderId !== 'string' || orderId.length === 0 || orderId.length > MAX_ORDER_ID_CHARS) return false;
  return PLAIN_KEY_PART_RE.test(orderId) || (!orderId.includes('|') && !BAD_CHAR_RE.test(orderId));
}

/** A part of a key: a string of at most `max` characters with no `|`, control character or lone surrogate. */
function keyPart(field: string, v: string, max: number, mayBeEmpty: boolean, fail: Fail): void {
  if (typeof v !== 'string') fail('FRAME_UNMAPPABLE', field, 'must be a string', v);
  if (v.length === 0) {
    if (mayBeEmpty) return;
    fail('FRAME_ID_INVALID', field, 'must not be empty', v);
  }
  if (v.length > max) fail('FRAME_ID_INVALID', field, `is ${v.length} characters long, at most ${max} allowed`, v);
  if (PLAIN_KEY_PART_RE.test(v)) return;
  if (v.includes('|')) fail('FRAME_ID_INVALID', field, "must not contain '|' (the order key's separator)", v);
  if (BAD_CHAR_RE.test(v)) fail('FRAME_ID_INVALID', field, 'must not contain control characters or lone surrogates', v);
}

/** null, or a string of at most `max` characters with no control character or lone surrogate. */
function name(field: string, v: string | null, max: number, fail: Fail): void {
  if (v === null) return;
  if (typeof v !== 'string') fail('FRAME_UNMAPPABLE', field, 'must be a string or null', v);
  if (v.length > max) fail('FRAME_ID_INVALID', field, `is ${v.length} characters long, at most ${max} allowed`, v);
  if (!PLAIN_RE.test(v) && BAD_CHAR_RE.test(v)) fail('FRAME_ID_INVALID', field, 'must not contain control characters or lone surrogates', v);
}

function decimal(field: DecimalField, v: string | null, signed: boolean, fail: Fail): void {
  if (v === null) return;
  if (typeof v !== 'string' || !NORMAL_DECIMAL_RE.test(v) || v === '-0') fail('FRAME_UNMAPPABLE', field, 'must be a decimal string in normal form', v);
  if (!signed && v.startsWith('-')) fail('FRAME_VALUE_OUT_OF_RANGE', field, 'must not be negative', v);
  if (v.length > 20) {
    const problem = decimalBoundProblem(v);
    if (problem !== undefined) fail('FRAME_VALUE_OUT_OF_RANGE', field, problem, v);
  }
}

function time(field: 'createdAt' | 'updatedAt', v: number | null, fail: Fail): void {
  if (v === null) return;
  if (!Number.isSafeInteger(v)) fail('FRAME_VALUE_OUT_OF_RANGE', field, 'must be whole epoch microseconds', v);
  if (v < MIN_TIME_MICROS || v >= MAX_TIME_MICROS) {
    fail('FRAME_VALUE_OUT_OF_RANGE', field, 'must be between 2000-01-01 and 2100-01-01 (epoch microseconds)', v);
  }
}
