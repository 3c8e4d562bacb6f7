import { describe, expect, it } from 'vitest';
import type { ErrorCode } from '@orderstream/kit';
import { encodeRawHeaders, headerString, orderSerdes, topicNames, type InRecord } from '@orderstream/kafka';
import { mapperLookup, venueModule, type ReferenceData, type VenueId } from '@orderstream/venues';
import { normalizeRecord, MAX_DLQ_MESSAGE_CHARS, type NormalizeDeps } from './normalize.js';
import { CORPUS_REFERENCE, venueCorpus } from './fuzz-support.js';

/**
 * The bad-frame table: hostile and broken frames of all five venues, each with the exact answer the normalizer gives
 * (a dead letter's code, or `skipped`), through normalizeRecord with the real mappers and the real Avro serde. Most
 * rows are a real fixture frame with one value replaced, so each row tests one thing.
 */

const topics = topicNames('bad.');
const serdes = orderSerdes();

function depsWith(reference: ReferenceData): NormalizeDeps {
  return { lookup: mapperLookup, reference, topics, encode: serdes.encodeCanonical, encodeMarker: serdes.encodeMarker, canonicalPartitions: 3 };
}

/** Where each venue's order sits in its push frame, and the names it gives the fields a row replaces. */
interface VenueShape {
  /** fixture (orders.jsonl) every row of the venue starts from: one order */
  base: string;
  order: (frame: Record<string, unknown>) => Record<string, unknown>;
  id: string;
  clientId: string;
  symbol: string;
  quantity: string;
  price: string;
  status: string;
  /** the creation time field and a value in the year 2200 in that venue's unit */
  time: [field: string, year2200: unknown];
}

const SHAPES: Record<VenueId, VenueShape> = {
  xt: { base: 'state-new', order: (f) => f.data as Record<string, unknown>, id: 'orderId', clientId: 'clientOrderId', symbol: 'symbol', quantity: 'origQty', price: 'price', status: 'state', time: ['createdTime', 7_258_118_400_000] },
  loopring: { base: 'state-processing-new', order: (f) => f.data as Record<string, unknown>, id: 'hash', clientId: 'clientOrderId', symbol: 'market', quantity: 'size', price: 'price', status: 'status', time: ['createdAt', 7_258_118_400_000] },
  websea: { base: 'limit-new', order: (f) => f.order as Record<string, unknown>, id: 'order_id', clientId: 'order_type', symbol: 'symbol', quantity: 'amount', price: 'price', status: 'status', time: ['entrust_time', 7_258_118_400] },
  bsx: { base: 'doc-update-open', order: (f) => (f.data as Record<string, unknown>[])[0] as Record<string, unknown>, id: 'id', clientId: 'client_order_id', symbol: 'product_id', quantity: 'size', price: 'price', status: 'status', time: ['created_at_ts', '7258118400000000000'] },
  'binance-usdm': { base: 'doc-example', order: (f) => f.result as Record<string, unknown>, id: 'orderId', clientId: 'clientOrderId', symbol: 'symbol', quantity: 'origQty', price: 'price', status: 'status', time: ['time', 7_258_118_400_000] },
};

const corpus = new Map((Object.keys(SHAPES) as VenueId[]).map((v) => [v, venueCorpus(v)]));

function fixtureText(venue: VenueId, name: string): string {
  const f = corpus.get(venue)?.find((x) => x.name.endsWith(`:${name}`));
  if (!f) throw new Error(`no ${venue} fixture ${name}`);
  return f.text;
}

/** A raw JSON number token in a value: JSON.stringify cannot write 1e400 or an exact 19-digit integer. */
const RAW = (token: string) => `@@RAW:${token}@@`;

/** The venue's base frame with one field of its order replaced (`undefined` deletes it). */
function withField(venue: VenueId, field: keyof Omit<VenueShape, 'base' | 'order' | 'time'> | 'time', value: unknown): string {
  const shape = SHAPES[venue];
  const frame = JSON.parse(fixtureText(venue, shape.base)) as Record<string, unknown>;
  const name = field === 'time' ? shape.time[0] : shape[field];
  const order = shape.order(frame);
  if (value === undefined) delete order[name];
  else order[name] = value;
  return JSON.stringify(frame).replace(/"@@RAW:([^@]*)@@"/g, '$1');
}

type Expected = ErrorCode | 'skipped';
interface Row {
  venue: VenueId;
  what: string;
  text: string;
  expected: Expected;
  /** the dead letter's message must contain this (the field it names) */
  names?: string;
  rest?: { request: string; status: number };
  reference?: ReferenceData;
}

const V: VenueId[] = ['xt', 'loopring', 'websea', 'bsx', 'binance-usdm'];
/** Binance order ids are int64 JSON numbers: a string id is refused by the venue's own schema first. */
const idCode = (v: VenueId): ErrorCode => (v === 'binance-usdm' ? 'FRAME_INVALID' : 'FRAME_ID_INVALID');

const rows: Row[] = [];
for (const venue of V) {
  const s = SHAPES[venue];
  const id = s.id;
  rows.push(
    { venue, what: 'order id of 1 MiB', text: withField(venue, 'id', 'a'.repeat(2 ** 20)), expected: idCode(venue), names: id === 'orderId' && venue === 'xt' ? 'orderId' : undefined },
    { venue, what: 'order id with a lone surrogate', text: withField(venue, 'id', 'ab\ud800c'), expected: idCode(venue) },
    { venue, what: "order id with '|'", text: withField(venue, 'id', '7|8'), expected: idCode(venue) },
    { venue, what: 'order id with a newline', text: withField(venue, 'id', '7\n8'), expected: idCode(venue) },
    { venue, what: 'order id is an object', text: withField(venue, 'id', { x: 1 }), expected: 'FRAME_INVALID' },
    { venue, what: 'order id is empty', text: withField(venue, 'id', ''), expected: 'FRAME_INVALID' },
    { venue, what: 'order id missing', text: withField(venue, 'id', undefined), expected: 'FRAME_INVALID' },
    { venue, what: `${s.clientId} with a control character`, text: withField(venue, 'clientId', 'cli\u0007x'), expected: 'FRAME_ID_INVALID', names: venue === 'websea' ? 'venueOrderType' : 'clientOrderId' },
    { venue, what: 'symbol with a newline', text: withField(venue, 'symbol', 'BTC\nUSDT'), expected: 'FRAME_ID_INVALID', names: 'venueSymbol' },
    { venue, what: "symbol with '|'", text: withField(venue, 'symbol', 'BTC|USDT'), expected: 'FRAME_ID_INVALID', names: 'venueSymbol' },
    { venue, what: 'symbol of 65 characters', text: withField(venue, 'symbol', 'X'.repeat(65)), expected: 'FRAME_ID_INVALID', names: 'venueSymbol' },
    { venue, what: 'quantity 1e400 (JSON number)', text: withField(venue, 'quantity', RAW('1e400')), expected: 'FRAME_VALUE_OUT_OF_RANGE', names: venue === 'bsx' ? 'quantity' : s.quantity },
    { venue, what: 'quantity "1e400" (string)', text: withField(venue, 'quantity', '1e400'), expected: venue === 'loopring' ? 'FRAME_INVALID' : 'FRAME_VALUE_OUT_OF_RANGE' },
    { venue, what: 'quantity -1', text: withField(venue, 'quantity', '-1'), expected: 'FRAME_INVALID', names: s.quantity },
    { venue, what: 'quantity of 99 digits', text: withField(venue, 'quantity', '9'.repeat(99)), expected: 'FRAME_VALUE_OUT_OF_RANGE', names: 'uantity' },
    { venue, what: 'price with 50 decimals', text: withField(venue, 'price', `0.${'0'.repeat(49)}1`), expected: 'FRAME_VALUE_OUT_OF_RANGE', names: 'price' },
    { venue, what: 'quantity is an object', text: withField(venue, 'quantity', { a: 1 }), expected: 'FRAME_INVALID', names: s.quantity },
    { venue, what: 'unknown status word', text: withField(venue, 'status', 'ON_THE_MOON'), expected: 'FRAME_UNKNOWN_STATUS' },
    { venue, what: 'created in the year 2200', text: withField(venue, 'time', s.time[1]), expected: 'FRAME_VALUE_OUT_OF_RANGE', names: 'createdAt' },
    { venue, what: 'not JSON', text: 'hello', expected: 'FRAME_NOT_JSON' },
    { venue, what: 'truncated frame', text: fixtureText(venue, s.base).slice(0, 40), expected: 'FRAME_NOT_JSON' },
    { venue, what: 'a JSON array', text: '[1,2,3]', expected: 'FRAME_UNKNOWN_VARIANT' },
  );
}

rows.push(
  // reference data that slipped past the load-time check (a test double) still cannot make a quantity negative
  { venue: 'xt', what: 'contract size -1 in reference data', text: fixtureText('xt', 'state-new'), expected: 'FRAME_VALUE_OUT_OF_RANGE', names: 'quantity', reference: { xt: { btc_usdt: { contractSize: '-1' } } } },
  { venue: 'xt', what: 'text pong', text: 'pong', expected: 'skipped' },
  { venue: 'xt', what: 'subscribe ack', text: fixtureText('xt', 'ack-success'), expected: 'skipped' },
  { venue: 'loopring', what: 'subscribe ack', text: fixtureText('loopring', 'ack-sub-order'), expected: 'skipped' },
  { venue: 'websea', what: 'error reply', text: fixtureText('websea', 'error-20506'), expected: 'skipped' },
  { venue: 'bsx', what: 'pong', text: fixtureText('bsx', 'pong'), expected: 'skipped' },
  { venue: 'binance-usdm', what: 'error -2013', text: fixtureText('binance-usdm', 'error-2013'), expected: 'skipped' },
  // REST answers of a reconciliation
  { venue: 'xt', what: "REST list item id with '|'", text: fixtureText('xt', 'ccxt-list-page').replace('"207519546930995456"', '"2075|19546930995456"'), expected: 'FRAME_ID_INVALID', rest: { request: 'GET /future/trade/v1/order/list?page=1&size=100&state=UNFINISHED', status: 200 } },
  { venue: 'xt', what: 'REST list item quantity 1e400', text: fixtureText('xt', 'ccxt-list-page').replace('"origQty": "100"', '"origQty": 1e400'), expected: 'FRAME_VALUE_OUT_OF_RANGE', rest: { request: 'GET /future/trade/v1/order/list?page=1&size=100&state=UNFINISHED', status: 200 } },
  { venue: 'xt', what: 'REST error envelope', text: fixtureText('xt', 'error-invalid-symbol'), expected: 'skipped', rest: { request: 'GET /future/trade/v1/order/list-history?direction=NEXT&limit=100&startTime=1679170000000', status: 200 } },
  { venue: 'bsx', what: 'REST open order symbol with a newline', text: fixtureText('bsx', 'doc-open-orders').replace('"BTC-PERP"', '"BTC\\nPERP"'), expected: 'FRAME_ID_INVALID', rest: { request: 'GET /orders', status: 200 } },
  { venue: 'bsx', what: 'REST answer 429', text: fixtureText('bsx', 'error-rate-limited'), expected: 'skipped', rest: { request: 'GET /orders', status: 429 } },
  { venue: 'websea', what: 'REST list order_sn with a lone surrogate', text: fixtureText('websea', 'open-every-live-status').replace('"BL2217312312313303PPPPP"', '"BL\\ud800P"'), expected: 'FRAME_ID_INVALID', rest: { request: 'GET /openApi/entrust/currentList?limit=100&direct=prev', status: 200 } },
  { venue: 'loopring', what: "REST v2 order hash with '|'", text: fixtureText('loopring', 'v2-order-detail-doc').replace(/"hash"\s*:\s*"0x/, '"hash": "0x|'), expected: 'FRAME_ID_INVALID', rest: { request: 'GET /api/v2/order?accountId=1&orderHash=0xfb5e711c2f044e94322ed262229cd8f0d0da00c22e1a00a0f5d881e45a38e1cf', status: 200 } },
  { venue: 'binance-usdm', what: 'REST open orders clientOrderId with DEL', text: fixtureText('binance-usdm', 'doc-open-orders').replace(/"clientOrderId"\s*:\s*"[^"]*"/, '"clientOrderId": "a\\u007fb"'), expected: 'FRAME_ID_INVALID', rest: { request: 'GET /fapi/v1/openOrders', status: 200 } },
  { venue: 'binance-usdm', what: 'REST query order with an unknown path', text: fixtureText('binance-usdm', 'doc-query-order'), expected: 'FRAME_UNKNOWN_VARIANT', rest: { request: 'GET /fapi/v9/whatever', status: 200 } },
);

function record(row: Row): InRecord {
  const headers = encodeRawHeaders({
    venue: row.venue, account: 'main', apiVersion: venueModule(row.venue)?.apiVersion as string, connId: 'c1', connSeq: 1, receivedAt: '1795000000000000000',
    frameKind: row.rest ? 'rest' : 'data', ...(row.rest ? { restRequest: row.rest.request, restStatus: row.rest.status } : {}),
  });
  return { topic: topics.raw, partition: 0, offset: '7', key: Buffer.from(`${row.venue}|main`), value: Buffer.from(row.text), headers };
}

describe('bad-frame table: every hostile or broken frame gets its exact answer', () => {
  it('has at least 60 rows across the five venues', () => {
    expect(rows.length).toBeGreaterThanOrEqual(60);
    for (const v of V) expect(rows.filter((r) => r.venue === v).length).toBeGreaterThanOrEqual(12);
  });

  it.each(rows.map((r) => [r.venue, r.what, r] as const))('%s: %s', (_venue, _what, row) => {
    const { outcome, outputs } = normalizeRecord(record(row), depsWith(row.reference ?? CORPUS_REFERENCE));
    if (row.expected === 'skipped') {
      expect(outcome.kind, JSON.stringify(outcome).slice(0, 300)).toBe('skipped');
      expect(outputs).toEqual([]);
      return;
    }
    expect(outcome.kind === 'dlq' ? outcome.code : `${outcome.kind} ${JSON.stringify(outcome).slice(0, 300)}`).toBe(row.expected);
    if (outcome.kind !== 'dlq') return;
    // one dead letter with the original bytes; a message naming the field, short, one line, well-formed
    expect(outputs).toHaveLength(1);
    expect(outputs[0]?.topic).toBe(topics.dlq);
    expect(outputs[0]?.value?.equals(Buffer.from(row.text))).toBe(true);
    expect(headerString(outputs[0]?.headers, 'dlq-code')).toBe(row.expected);
    const message = outcome.message;
    if (row.names) expect(message).toContain(row.names);
    expect(message.length).toBeLessThanOrEqual(MAX_DLQ_MESSAGE_CHARS + 40);
    expect(message).not.toContain('[object Object]');
    expect(message).not.toMatch(/got null\b/);
    // eslint-disable-next-line no-control-regex
    expect(message).not.toMatch(/[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
  });
});
