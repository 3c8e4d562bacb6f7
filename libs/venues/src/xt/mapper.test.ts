import { describe, expect, it } from 'vitest';
import type { CanonicalOrder } from '@orderstream/schemas';
import { EMPTY_REFERENCE, type ReferenceData } from '../reference.js';
import type { MapContext } from '../types.js';
import { mapFrameError, mapOneOrder, testMapContext } from '../sim/test-context.js';
import { readXtFixtures, xtFixture, type XtFixtureFile } from './fixtures.js';
import { parseXtFrame, xtInvalidListenKeySchema, xtPongSchema } from './frames.js';
import { XT_API_VERSION, xtMapper, xtUnifiedSymbol } from './mapper.js';

const REFERENCE: ReferenceData = { xt: { btc_usdt: { contractSize: '0.0001' }, eth_usdt: { contractSize: '0.01' } } };

function ctx(reference: ReferenceData = REFERENCE): MapContext {
  return testMapContext('xt', { receivedAt: 1_731_231_299_000_001, source: { topic: 'orders.raw.v1', partition: 3, offset: 42 }, reference });
}

const mapOne = (text: string, reference?: ReferenceData) => mapOneOrder(xtMapper, text, ctx(reference));

const mapError = (text: string) => mapFrameError(xtMapper, text, ctx());

const fixture = (file: XtFixtureFile, name: string) => xtFixture(file, name).text;

describe('xtMapper identity', () => {
  it('is the xt mapper for api version v2', () => {
    expect(xtMapper.venue).toBe('xt');
    expect(xtMapper.apiVersion).toBe(XT_API_VERSION);
    expect(XT_API_VERSION).toBe('v2');
  });
});

describe('order pushes', () => {
  it('maps the seed XT frame (doc example: typo key "orderType:", 10-digit createdTime) field by field', () => {
    const o = mapOne(fixture('orders.jsonl', 'seed-doc-example'));
    expect(o).toEqual<CanonicalOrder>({
      orderKey: 'xt|acc-1|1234',
      venue: 'xt',
      account: 'acc-1',
      orderId: '1234',
      clientOrderId: null,
      venueSymbol: 'btc_usdt',
      symbol: 'BTC/USDT:USDT',
      instrumentKind: 'PERPETUAL',
      side: 'BUY',
      positionSide: 'LONG',
      orderType: 'MARKET',
      venueOrderType: 'MARKET',
      timeInForce: 'IOC',
      status: 'FILLED',
      venueStatus: 'FILLED',
      price: '1111',
      triggerPrice: null,
      quantity: '3.4244', // 34244 contracts × 0.0001 BTC
      venueQuantity: '34244',
      quoteQuantity: null,
      filledQuantity: '3.4244',
      venueFilledQuantity: '34244',
      filledQuoteQuantity: '421.2012', // 3.4244 × 123
      averagePrice: '123',
      fee: null,
      feeAsset: null,
      lastFillQuantity: null,
      lastFillPrice: null,
      lastFillFee: null,
      lastFillId: null,
      reduceOnly: null,
      postOnly: false,
      createdAt: 1_731_231_231_000_000, // seconds detected by magnitude
      updatedAt: null,
      receivedAt: 1_731_231_299_000_001,
      source: { topic: 'orders.raw.v1', partition: 3, offset: 42 },
      extras: {
        marginFrozen: '123',
        sourceType: 'default',
        type: 'ORDER',
        leverage: '20',
        positionType: 'ISOLATED',
        event: 'order@1234…',
        createdTime: '1731231231',
      },
    });
  });

  it('maps the corrected variant (orderType key, 13-digit ms createdTime) to the same order', () => {
    const seed = mapOne(fixture('orders.jsonl', 'seed-doc-example'));
    const fixed = mapOne(fixture('orders.jsonl', 'doc-example-ms-fixed-key'));
    expect(fixed.createdAt).toBe(1_731_231_231_000_000);
    expect(fixed.extras.createdTime).toBe('1731231231000');
    expect({ ...fixed, extras: { ...fixed.extras, createdTime: 'x' } }).toEqual({ ...seed, extras: { ...seed.extras, createdTime: 'x' } });
  });

  it('leaves base-unit quantities null without reference data, never guessed', () => {
    const o = mapOne(fixture('orders.jsonl', 'seed-doc-example'), EMPTY_REFERENCE);
    expect(o.venueQuantity).toBe('34244');
    expect(o.venueFilledQuantity).toBe('34244');
    expect(o.quantity).toBeNull();
    expect(o.filledQuantity).toBeNull();
    expect(o.filledQuoteQuantity).toBeNull();
    expect(o.averagePrice).toBe('123');
  });

  const states: Array<[string, Partial<CanonicalOrder>]> = [
    ['state-new', { status: 'NEW', venueStatus: 'NEW', venueFilledQuantity: '0', filledQuantity: '0', averagePrice: null, filledQuoteQuantity: '0', quantity: '0.01' }],
    ['state-partially-filled', { status: 'PARTIALLY_FILLED', venueFilledQuantity: '40', filledQuantity: '0.004', averagePrice: '64000.5', filledQuoteQuantity: '256.002' }],
    ['state-filled', { status: 'FILLED', venueFilledQuantity: '100', filledQuantity: '0.01', averagePrice: '64000.38', filledQuoteQuantity: '640.0038' }],
    ['state-partially-canceled', { status: 'CANCELED', venueStatus: 'PARTIALLY_CANCELED', venueFilledQuantity: '40', filledQuantity: '0.004', averagePrice: '64000.5' }],
    ['state-canceled', { status: 'CANCELED', venueStatus: 'CANCELED', side: 'SELL', positionSide: 'SHORT', timeInForce: 'GTX', postOnly: true, quantity: '0.25', filledQuantity: '0', averagePrice: null, price: '3150.25', symbol: 'ETH/USDT:USDT' }],
    ['state-rejected', { status: 'REJECTED', orderType: 'MARKET', venueOrderType: 'MARKET', price: null, timeInForce: 'IOC', quantity: '0.05', filledQuantity: '0' }],
    ['state-expired', { status: 'EXPIRED', timeInForce: 'FOK', postOnly: false, filledQuantity: '0', filledQuoteQuantity: '0' }],
  ];
  it.each(states)('%s maps status, fills and prices', (name, expected) => {
    const o = mapOne(fixture('orders.jsonl', name));
    expect(o).toMatchObject(expected);
    expect(o.createdAt).toBe(1_731_231_231_456_000);
    expect(o.updatedAt).toBeNull();
    expect(o.orderKey).toBe(`xt|acc-1|${o.orderId}`);
  });

  it('covers every documented state', () => {
    const venueStatuses = new Set(readXtFixtures('orders.jsonl').map((f) => mapOne(f.text).venueStatus));
    expect([...venueStatuses].sort()).toEqual(['CANCELED', 'EXPIRED', 'FILLED', 'NEW', 'PARTIALLY_CANCELED', 'PARTIALLY_FILLED', 'REJECTED']);
  });

  it('normalizes decimals ("64000.50" → "64000.5") and keeps them strings', () => {
    const o = mapOne(fixture('orders.jsonl', 'state-partially-filled'));
    expect(o.averagePrice).toBe('64000.5');
    expect(o.extras.marginFrozen).toBe('19.20015');
    for (const k of ['price', 'quantity', 'venueQuantity', 'filledQuantity', 'venueFilledQuantity', 'averagePrice'] as const) {
      expect(typeof o[k]).toBe('string');
    }
  });

  it('tolerates the bare "event":"order" (JKXT)', () => {
    const o = mapOne(fixture('orders.jsonl', 'quirk-event-bare'));
    expect(o.status).toBe('NEW');
    expect(o.extras.event).toBe('order');
  });

  it('masks the listen key carried by event', () => {
    const o = mapOne(fixture('orders.jsonl', 'state-new'));
    expect(o.extras.event).toBe('order@3BC1…');
    expect(JSON.stringify(o)).not.toContain('3BC1D71D6CF96DA3458FC35B05B633351684511731128');
  });

  it('tolerates integers sent as strings', () => {
    const o = mapOne(fixture('orders.jsonl', 'quirk-ints-as-strings'));
    expect(o.createdAt).toBe(1_731_231_231_456_000);
    expect(o.extras.leverage).toBe('20');
    expect(o.extras.createdTime).toBe('1731231231456');
  });

  it('keeps the exact digits of numbers sent as JSON numbers (orderId beyond 2^53)', () => {
    const o = mapOne(fixture('orders.jsonl', 'quirk-numbers'));
    expect(o.orderId).toBe('387755326502374984');
    expect(o.orderKey).toBe('xt|acc-1|387755326502374984');
    expect(o.venueQuantity).toBe('100');
    expect(o.price).toBe('64000.5');
  });

  it('recovers long decimals sent as JSON numbers exactly', () => {
    const text = fixture('orders.jsonl', 'state-partially-filled').replace('"avgPrice":"64000.50"', '"avgPrice":64000.123456789012345678');
    expect(mapOne(text).averagePrice).toBe('64000.123456789012345678');
  });

  it('maps clientOrderId from the older doc shape and keeps unknown fields in extras', () => {
    const o = mapOne(fixture('orders.jsonl', 'quirk-legacy-fields'));
    expect(o.clientOrderId).toBe('cli-42');
    expect(o.extras.sourceId).toBe('7');
  });

  it('prefers "orderType" over the typo key and keeps a disagreeing typo value in extras', () => {
    const text = fixture('orders.jsonl', 'state-new').replace('"orderType":"LIMIT"', '"orderType":"LIMIT","orderType:":"MARKET"');
    const o = mapOne(text);
    expect(o.orderType).toBe('LIMIT');
    expect(o.extras['orderType:']).toBe('MARKET');
  });

  it('maps unknown order types, times in force and position sides without failing', () => {
    const text = fixture('orders.jsonl', 'state-new')
      .replace('"orderType":"LIMIT"', '"orderType":"STOP"')
      .replace('"timeInForce":"GTC"', '"timeInForce":"GTD"')
      .replace('"positionSide":"LONG"', '"positionSide":"NET"');
    const o = mapOne(text);
    expect(o.orderType).toBe('OTHER');
    expect(o.venueOrderType).toBe('STOP');
    expect(o.timeInForce).toBe('OTHER');
    expect(o.postOnly).toBeNull();
    expect(o.extras.timeInForce).toBe('GTD');
    expect(o.positionSide).toBeNull();
    expect(o.extras.positionSide).toBe('NET');
  });

  it('detects createdTime units by magnitude (s, ms, µs, ns)', () => {
    const base = fixture('orders.jsonl', 'state-new');
    const at = (t: string) => mapOne(base.replace('"createdTime":1731231231456', `"createdTime":${t}`)).createdAt;
    expect(at('1731231231')).toBe(1_731_231_231_000_000);
    expect(at('1731231231456')).toBe(1_731_231_231_456_000);
    expect(at('1731231231456789')).toBe(1_731_231_231_456_789);
    expect(at('"1731231231456789123"')).toBe(1_731_231_231_456_789);
  });

  it('treats a missing or zero createdTime as unknown', () => {
    const base = fixture('orders.jsonl', 'state-new');
    expect(mapOne(base.replace('"createdTime":1731231231456,', '')).createdAt).toBeNull();
    expect(mapOne(base.replace('"createdTime":1731231231456', '"createdTime":0')).createdAt).toBeNull();
  });

  it('gives a null unified symbol and OTHER kind for a symbol not shaped base_quote', () => {
    expect(xtUnifiedSymbol('1000pepe_usdt')).toBe('1000PEPE/USDT:USDT');
    expect(xtUnifiedSymbol('btc_usdt_250328')).toBeNull();
    const o = mapOne(fixture('orders.jsonl', 'state-new').replace('"symbol":"btc_usdt"', '"symbol":"btc_usdt_250328"'));
    expect(o.symbol).toBeNull();
    expect(o.instrumentKind).toBe('OTHER');
    expect(o.venueSymbol).toBe('btc_usdt_250328');
  });

  it('is pure: same input, same output; context untouched', () => {
    const c = ctx();
    const before = JSON.stringify(c);
    const text = fixture('orders.jsonl', 'state-filled');
    expect(xtMapper.map(text, c)).toEqual(xtMapper.map(text, c));
    expect(JSON.stringify(c)).toBe(before);
  });
});

describe('non-order frames are recognised and skipped', () => {
  const expected: Record<string, string> = {
    'ack-success-doc': 'subscribe ack',
    'ack-success': 'subscribe ack',
    'ack-success-session-id': 'subscribe ack',
    'ack-unsubscribe': 'unsubscribe ack',
    'ack-failure-code-1': 'error reply code 1 (fail)',
    'ack-listen-key-invalid-code-2': 'error reply code 2 (listenKey invalid)',
    'error-token-expire': 'error reply code 401 (token expire)',
    'error-invalid-parameter': 'error reply code 1 (Invalid parameter)',
    'text-pong': 'pong',
    'text-order-invalid-listenkey': 'listen key invalid (order@invalid_listenkey)',
    'text-balance-invalid-listen-key': 'listen key invalid (balance@invalid_listen_key)',
    'push-balance-doc': 'balance push',
    'push-trade-doc': 'trade push',
  };
  const all = readXtFixtures('control.jsonl');

  it('has an expectation for every control fixture', () => {
    expect(all.map((f) => f.name).sort()).toEqual(Object.keys(expected).sort());
  });

  it.each(all.map((f) => [f.name, f.text] as const))('%s', (name, text) => {
    expect(xtMapper.map(text, ctx())).toEqual({ kind: 'skipped', what: expected[name] });
  });

  it('text frame schemas agree with the router', () => {
    expect(xtPongSchema.safeParse('pong').success).toBe(true);
    expect(xtInvalidListenKeySchema.safeParse('order@invalid_listenkey').success).toBe(true);
    expect(xtInvalidListenKeySchema.safeParse('balance@invalid_listen_key').success).toBe(true);
    expect(xtInvalidListenKeySchema.safeParse('order@valid').success).toBe(false);
    expect(parseXtFrame('balance@invalid_listen_key')).toEqual({ kind: 'invalid-listen-key', topic: 'balance', text: 'balance@invalid_listen_key' });
  });
});

describe('malformed input gets the right error code and a message naming the problem', () => {
  const expected: Record<string, [code: string, mentions: string[]]> = {
    'not-json-truncated': ['FRAME_NOT_JSON', ['not valid JSON']],
    'not-json-text': ['FRAME_NOT_JSON', ['"hello"']],
    empty: ['FRAME_NOT_JSON', ['empty']],
    'json-array': ['FRAME_UNKNOWN_VARIANT', ['JSON array']],
    'json-unknown-shape': ['FRAME_UNKNOWN_VARIANT', ['neither "topic" nor "code"', 'foo']],
    'unknown-topic': ['FRAME_UNKNOWN_VARIANT', ['"depth"']],
    'legacy-v1-user-order': ['FRAME_UNKNOWN_VARIANT', ['user.order', 'v1']],
    'wrong-type-origqty': ['FRAME_INVALID', ['data.origQty', '"abc"', '387755326502374990']],
    'wrong-type-executedqty-bool': ['FRAME_INVALID', ['data.executedQty', 'got true']],
    'missing-order-id': ['FRAME_INVALID', ['data.orderId is required']],
    'data-not-object': ['FRAME_INVALID', ['data must be an object', '"FILLED"']],
    'bad-created-time': ['FRAME_INVALID', ['data.createdTime', '"yesterday"']],
    'bad-order-side': ['FRAME_INVALID', ['data.orderSide', '"HOLD"']],
    'unknown-state': ['FRAME_UNKNOWN_STATUS', ['data.state', '"UNFINISHED"', '387755326502374994']],
  };
  const all = readXtFixtures('malformed.jsonl');

  it('has an expectation for every malformed fixture', () => {
    expect(all.map((f) => f.name).sort()).toEqual(Object.keys(expected).sort());
  });

  it.each(all.map((f) => [f.name, f.text] as const))('%s', (name, text) => {
    const [code, mentions] = expected[name] as [string, string[]];
    const error = mapError(text);
    expect(error.code).toBe(code);
    for (const m of mentions) expect(error.message).toContain(m);
  });

  it('rejects negative quantities and an invalid reply code', () => {
    const neg = mapError(fixture('orders.jsonl', 'state-new').replace('"origQty":"100"', '"origQty":"-100"'));
    expect(neg.code).toBe('FRAME_INVALID');
    expect(neg.message).toContain('data.origQty');
    const reply = mapError('{"id":"1","code":"zero","msg":"x"}');
    expect(reply.code).toBe('FRAME_INVALID');
    expect(reply.message).toContain('code');
  });

  it('lists several problems at once', () => {
    const e = mapError(fixture('orders.jsonl', 'state-new').replace('"origQty":"100"', '"origQty":"x"').replace('"executedQty":"0"', '"executedQty":"y"'));
    expect(e.message).toContain('data.origQty');
    expect(e.message).toContain('data.executedQty');
    expect(e.details.issues).toHaveLength(2);
  });

  it('non-object JSON scalars are unknown variants, not "not JSON"', () => {
    expect(mapError('42').code).toBe('FRAME_UNKNOWN_VARIANT');
    expect(mapError('"pong"').code).toBe('FRAME_UNKNOWN_VARIANT');
    expect(mapError('null').code).toBe('FRAME_UNKNOWN_VARIANT');
  });
});
