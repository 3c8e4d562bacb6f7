import { describe, expect, it } from 'vitest';
import { FrameError } from '@orderstream/kit';
import { encodeRawHeaders, headerString, topicNames, type InRecord } from '@orderstream/kafka';
import type { CanonicalOrder } from '@orderstream/schemas';
import type { MapContext, VenueMapper } from '@orderstream/venues';
import { MAX_DLQ_MESSAGE_CHARS, normalizeRecord, type NormalizeDeps } from './normalize.js';

/** A complete canonical order (the guard in normalizeFrame checks every field) with the given id. */
function orderOf(id: string, ctx: MapContext): CanonicalOrder {
  return {
    orderKey: `xt|${ctx.account}|${id}`, venue: 'xt', account: ctx.account, orderId: id, clientOrderId: null, venueSymbol: 'btc_usdt',
    symbol: null, instrumentKind: 'PERPETUAL', side: 'BUY', positionSide: null, orderType: 'LIMIT', venueOrderType: null, timeInForce: null,
    status: 'NEW', venueStatus: 'NEW', price: '1', triggerPrice: null, quantity: null, venueQuantity: '1', quoteQuantity: null,
    filledQuantity: null, venueFilledQuantity: '0', filledQuoteQuantity: null, averagePrice: null, fee: null, feeAsset: null,
    lastFillQuantity: null, lastFillPrice: null, lastFillFee: null, lastFillId: null, reduceOnly: null, postOnly: null,
    createdAt: null, updatedAt: null, receivedAt: ctx.receivedAt, source: ctx.source, extras: {},
  };
}

/** A minimal mapper that follows the VenueMapper contract, so this test exercises normalizeRecord alone. */
const echoMapper: VenueMapper = {
  venue: 'xt',
  apiVersion: 'test',
  map(text, ctx) {
    if (text === 'pong') return { kind: 'skipped', what: 'pong' };
    if (text.startsWith('snapshot:')) {
      const ids = text.slice('snapshot:'.length).split(',').filter(Boolean);
      return { kind: 'orders', orders: ids.map((id) => orderOf(id, ctx)), snapshot: { complete: true } };
    }
    if (text === 'boom') throw new TypeError('mapper bug');
    if (ctx.rest) return { kind: 'skipped', what: `rest ${ctx.rest.method} ${ctx.rest.path} ${JSON.stringify(ctx.rest.params)} ${ctx.rest.status}` };
    let json: { id: string };
    try {
      json = JSON.parse(text) as { id: string };
    } catch {
      throw new FrameError('FRAME_NOT_JSON', 'not json');
    }
    return { kind: 'orders', orders: [orderOf(json.id, ctx)] };
  },
};

const topics = topicNames('t.');
const deps: NormalizeDeps = {
  lookup: (venue, apiVersion) => (venue === 'xt' && apiVersion === 'test' ? echoMapper : undefined),
  reference: {},
  topics,
  encode: (o) => Buffer.from(JSON.stringify(o)),
  encodeMarker: (m) => Buffer.from(JSON.stringify(m)),
  canonicalPartitions: 3,
};

function raw(text: string, overrides: Partial<Record<string, string>> = {}): InRecord {
  const headers = {
    ...encodeRawHeaders({ venue: 'xt', account: 'main', apiVersion: 'test', connId: 'c1', connSeq: 7, receivedAt: '1700000000123456789', frameKind: 'data' }),
    ...overrides,
  };
  for (const [k, v] of Object.entries(headers)) if (v === undefined) delete headers[k];
  return { topic: topics.raw, partition: 2, offset: '41', key: Buffer.from('xt|main'), value: Buffer.from(text), headers };
}

describe('normalizeRecord', () => {
  it('maps order frames to canonical records keyed by orderKey, with provenance', () => {
    const { outcome, outputs } = normalizeRecord(raw('{"id":"9"}'), deps);
    expect(outcome.kind).toBe('orders');
    expect(outputs).toHaveLength(1);
    expect(outputs[0]?.topic).toBe(topics.canonical);
    expect(outputs[0]?.key).toBe('xt|main|9');
    const order = JSON.parse(String(outputs[0]?.value)) as CanonicalOrder;
    expect(order.receivedAt).toBe(1700000000123456); // ns header → µs, exact
    expect(order.source).toEqual({ topic: topics.raw, partition: 2, offset: 41 });
  });

  it('follows a complete snapshot with a marker on every canonical partition', () => {
    const { outputs } = normalizeRecord(raw('snapshot:1,2'), deps);
    expect(outputs.map((o) => [o.key, o.partition])).toEqual([
      ['xt|main|1', undefined], ['xt|main|2', undefined], ['xt|main', 0], ['xt|main', 1], ['xt|main', 2],
    ]);
    expect(JSON.parse(String(outputs[2]?.value))).toEqual({
      venue: 'xt', account: 'main', orderKeys: ['xt|main|1', 'xt|main|2'], receivedAt: 1700000000123456,
      source: { topic: topics.raw, partition: 2, offset: 41 },
    });
    // an empty snapshot still says "nothing is open"
    expect(normalizeRecord(raw('snapshot:'), deps).outputs).toHaveLength(3);
  });

  it('skips acks and pongs without output', () => {
    expect(normalizeRecord(raw('pong'), deps)).toEqual({ outcome: { kind: 'skipped', what: 'pong' }, outputs: [] });
  });

  it('hands REST answers to the mapper with the request they answer; refusals (non-2xx) never reach it', () => {
    const rest = { 'frame-kind': 'rest', 'rest-request': 'GET /orders/open?page=2', 'rest-status': '200' };
    expect(normalizeRecord(raw('{"list":[]}', rest), deps).outcome).toEqual({ kind: 'skipped', what: 'rest GET /orders/open {"page":"2"} 200' });
    expect(normalizeRecord(raw('Too many requests', { ...rest, 'rest-status': '429' }), deps)).toEqual({
      outcome: { kind: 'skipped', what: 'rest answer HTTP 429' }, outputs: [],
    });
    const missing = normalizeRecord(raw('{}', { 'frame-kind': 'rest', 'rest-request': 'GET /x' }), deps);
    expect(missing.outcome).toMatchObject({ kind: 'dlq', code: 'RAW_HEADERS_MISSING' });
  });

  it('turns a completed reconciliation into snapshot markers as of its request time', () => {
    const event = { event: 'reconciled', venue: 'xt', details: { trigger: 'reconnect', snapshot: { asOf: 1700000000000000, orderIds: ['5', '6'] } } };
    const { outcome, outputs } = normalizeRecord(raw(JSON.stringify(event), { 'frame-kind': 'session' }), deps);
    expect(outcome).toEqual({ kind: 'session', snapshot: true });
    expect(outputs.map((o) => [o.key, o.partition])).toEqual([['xt|main', 0], ['xt|main', 1], ['xt|main', 2]]);
    expect(JSON.parse(String(outputs[0]?.value))).toEqual({
      venue: 'xt', account: 'main', orderKeys: ['xt|main|5', 'xt|main|6'], receivedAt: 1700000000000000,
      source: { topic: topics.raw, partition: 2, offset: 41 },
    });
  });

  it('leaves ids the input limits refuse out of a reconciliation snapshot (they can be no order in the state)', () => {
    const event = { event: 'reconciled', venue: 'xt', details: { snapshot: { asOf: 1700000000000000, orderIds: ['5', 'main|6', '7\n', '', 'x'.repeat(129), '8'] } } };
    const { outputs } = normalizeRecord(raw(JSON.stringify(event), { 'frame-kind': 'session' }), deps);
    expect((JSON.parse(String(outputs[0]?.value)) as { orderKeys: string[] }).orderKeys).toEqual(['xt|main|5', 'xt|main|8']);
  });

  it('passes session events by', () => {
    expect(normalizeRecord(raw('{"event":"connected"}', { 'frame-kind': 'session' }), deps).outputs).toEqual([]);
  });

  it('dead-letters a frame whose canonical order breaks an input limit (guard.ts), with a short one-line message', () => {
    const { outcome, outputs } = normalizeRecord(raw(JSON.stringify({ id: `7|${'\n'.repeat(3000)}` })), deps);
    expect(outcome).toMatchObject({ kind: 'dlq', code: 'FRAME_ID_INVALID' });
    expect(outputs).toHaveLength(1);
    const message = headerString(outputs[0]?.headers, 'dlq-message') as string;
    expect(message).toContain('orderId');
    expect(message.length).toBeLessThan(300);
    expect(message).not.toContain('\n');
  });

  it('caps and escapes any dead letter message, whoever wrote it', () => {
    const chatty: VenueMapper = { venue: 'xt', apiVersion: 'chatty', map: () => { throw new FrameError('FRAME_INVALID', `bad\u0000${'x'.repeat(5000)}`); } };
    const d = { ...deps, lookup: () => chatty };
    const { outcome } = normalizeRecord(raw('{}'), d);
    expect(outcome).toMatchObject({ kind: 'dlq', code: 'FRAME_INVALID' });
    const message = (outcome as { message: string }).message;
    expect(message.startsWith('bad\\u0000xxx')).toBe(true);
    expect(message).toMatch(/\.\.\. \(5004 characters\)$/);
    expect(message.length).toBeLessThanOrEqual(MAX_DLQ_MESSAGE_CHARS + 40);
  });

  it('dead-letters an order that does not encode instead of throwing out of the batch', () => {
    const d = { ...deps, encode: () => { throw new FrameError('AVRO_ENCODE_FAILED', 'no'); } };
    expect(normalizeRecord(raw('{"id":"9"}'), d).outcome).toMatchObject({ kind: 'dlq', code: 'AVRO_ENCODE_FAILED' });
  });

  it.each([
    ['not json', {}, 'FRAME_NOT_JSON'],
    ['boom', {}, 'FRAME_UNMAPPABLE'],
    ['{"id":"1"}', { venue: 'nowhere' }, 'VENUE_UNKNOWN'],
    ['{"id":"1"}', { 'conn-id': undefined }, 'RAW_HEADERS_MISSING'],
    ['{"id":"1"}', { 'received-at': '12.5' }, 'RAW_HEADERS_MISSING'],
  ] as const)('dead-letters %j (%j) as %s, keeping the original bytes and headers', (text, overrides, code) => {
    const record = raw(text, overrides);
    const { outcome, outputs } = normalizeRecord(record, deps);
    expect(outcome).toMatchObject({ kind: 'dlq', code });
    expect(outputs).toHaveLength(1);
    const dl = outputs[0]!;
    expect(dl.topic).toBe(topics.dlq);
    expect(dl.key).toBe('xt|main');
    expect(dl.value?.equals(Buffer.from(text))).toBe(true);
    expect(headerString(dl.headers, 'dlq-code')).toBe(code);
    expect(headerString(dl.headers, 'dlq-message')).toBeTruthy();
    expect(headerString(dl.headers, 'dlq-source-offset')).toBe('41');
    expect(headerString(dl.headers, 'dlq-source-partition')).toBe('2');
    expect(headerString(dl.headers, 'account')).toBe('main');
  });
});
