import { describe, expect, it } from 'vitest';
import type { CanonicalOrder } from '@orderstream/schemas';
import { EMPTY_REFERENCE, type ReferenceData } from '../reference.js';
import type { MapContext } from '../types.js';
import { mapFrameError, mapOneOrder, testMapContext } from '../sim/test-context.js';
import { loopringFixture, readLoopringFixtures, type LoopringFixtureFile } from './fixtures.js';
import { LOOPRING_ORDER_STATUSES, loopringPingSchema, parseLoopringFrame } from './frames.js';
import { LOOPRING_API_VERSION, LOOPRING_STATUS_MAP, loopringMapper, loopringStatus, loopringUnifiedSymbol } from './mapper.js';

const REFERENCE: ReferenceData = {
  loopring: {
    'LRC-ETH': { baseDecimals: 18, quoteDecimals: 18 },
    'LRC-USDT': { baseDecimals: 18, quoteDecimals: 6 },
    'ETH-USDT': { baseDecimals: 18, quoteDecimals: 6 },
    'WBTC-ETH': { baseDecimals: 8, quoteDecimals: 18 },
    'LRC-BTC': { baseDecimals: 18, quoteDecimals: 8 },
  },
};

function ctx(reference: ReferenceData = REFERENCE): MapContext {
  return testMapContext('loopring', { receivedAt: 1_700_000_999_000_001, source: { topic: 'orders.raw.v1', partition: 2, offset: 7 }, reference });
}

const mapOne = (text: string, reference?: ReferenceData) => mapOneOrder(loopringMapper, text, ctx(reference));

const mapError = (text: string) => mapFrameError(loopringMapper, text, ctx());

const fixture = (file: LoopringFixtureFile, name: string) => loopringFixture(file, name).text;
const A = '0x1d0f4b3f6c2a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a29180706f5e4d3c2b1';

describe('loopringMapper identity', () => {
  it('is the loopring mapper for api version v2', () => {
    expect(loopringMapper.venue).toBe('loopring');
    expect(loopringMapper.apiVersion).toBe(LOOPRING_API_VERSION);
    expect(LOOPRING_API_VERSION).toBe('v2');
  });
});

describe('order pushes', () => {
  it('maps the seed Loopring frame (official doc example) field by field', () => {
    const o = mapOne(fixture('orders.jsonl', 'seed-doc-example'));
    expect(o).toEqual<CanonicalOrder>({
      orderKey: 'loopring|acc-1|11212',
      venue: 'loopring',
      account: 'acc-1',
      orderId: '11212',
      clientOrderId: 'myOrder',
      venueSymbol: 'LRC-ETH',
      symbol: 'LRC/ETH',
      instrumentKind: 'SPOT',
      side: 'BUY',
      positionSide: null,
      orderType: 'LIMIT', // Loopring has limit orders only (LRV2 orders.md)
      venueOrderType: null,
      timeInForce: 'GTD', // validUntil present
      status: 'PARTIALLY_FILLED', // processing with filledSize > 0
      venueStatus: 'processing',
      price: '0.000004', // already human
      triggerPrice: null,
      quantity: '0.0000000005', // 500000000 / 10^18 LRC
      venueQuantity: '500000000',
      quoteQuantity: '0.00000000021', // 210000000 / 10^18 ETH
      filledQuantity: '0.00000000003',
      venueFilledQuantity: '30000000',
      filledQuoteQuantity: '0.0000000000001',
      averagePrice: '0.003333333333333333', // 1e-13 / 3e-11, half-even at 18 places (ETH decimals)
      fee: '0.000000000001', // buy: fee in LRC (received), 10^6 / 10^18
      feeAsset: 'LRC',
      lastFillQuantity: null,
      lastFillPrice: null,
      lastFillFee: null,
      lastFillId: null,
      reduceOnly: null,
      postOnly: null,
      createdAt: 1_494_900_087_000_000, // "1494900087": a string, seconds by magnitude
      updatedAt: 1_565_844_328_000_000, // no updateAt: push time ts (seconds by magnitude)
      receivedAt: 1_700_000_999_000_001,
      source: { topic: 'orders.raw.v1', partition: 2, offset: 7 },
      extras: {
        volume: '210000000',
        filledVolume: '100000',
        filledFee: '1000000',
        ts: '1565844328',
        createdAt: '1494900087',
        validSince: '1494900087',
        validUntil: '1495900087',
      },
    });
  });

  it('maps the legacy string topic "order&LRC-BTC" (LRV3 @ce3ccbcb) like an object topic', () => {
    const o = mapOne(fixture('orders.jsonl', 'legacy-string-topic-doc'));
    expect(o).toMatchObject({
      orderId: '11212',
      venueSymbol: 'LRC-BTC',
      symbol: 'LRC/BTC',
      status: 'PARTIALLY_FILLED',
      filledQuoteQuantity: '0.001', // 100000 / 10^8 BTC
      averagePrice: '33333333.33333333', // 0.001 BTC / 3e-11 LRC, 8 places (BTC decimals)
      fee: '0.000000000001',
      feeAsset: 'LRC',
    });
    expect(o.extras.topicMarket).toBeUndefined();
  });

  it('leaves every converted figure null without reference data, never guessed; raw figures kept', () => {
    const o = mapOne(fixture('orders.jsonl', 'seed-doc-example'), EMPTY_REFERENCE);
    expect(o).toMatchObject({
      venueQuantity: '500000000',
      venueFilledQuantity: '30000000',
      quantity: null,
      filledQuantity: null,
      quoteQuantity: null,
      filledQuoteQuantity: null,
      averagePrice: null,
      fee: null,
      feeAsset: 'LRC', // known from the market name and side, whatever the decimals
      price: '0.000004',
    });
    expect(o.extras).toMatchObject({ volume: '210000000', filledVolume: '100000', filledFee: '1000000' });
  });

  it('converts what it can with partial reference data', () => {
    const onlyBase = mapOne(fixture('orders.jsonl', 'state-processing-partial'), { loopring: { 'LRC-ETH': { baseDecimals: 18 } } });
    expect(onlyBase).toMatchObject({ quantity: '1000', filledQuantity: '400', fee: '0.8', quoteQuantity: null, filledQuoteQuantity: null, averagePrice: null });
    const onlyQuote = mapOne(fixture('orders.jsonl', 'state-cancelled'), { loopring: { 'LRC-USDT': { quoteDecimals: 6 } } });
    expect(onlyQuote).toMatchObject({ quantity: null, quoteQuantity: '682.88655', filledQuoteQuantity: '273.1', fee: '0.68275', averagePrice: null });
  });

  const common = { venue: 'loopring', account: 'acc-1', instrumentKind: 'SPOT', orderType: 'LIMIT', timeInForce: 'GTD', positionSide: null, lastFillQuantity: null, lastFillPrice: null, lastFillFee: null, lastFillId: null };
  const states: Array<[string, Partial<CanonicalOrder>]> = [
    ['state-waiting', { status: 'PENDING_NEW', venueStatus: 'waiting', orderId: A, clientOrderId: 'cli-a-1', side: 'BUY', price: '0.00012345', quantity: '1000', venueQuantity: '1000000000000000000000', quoteQuantity: '0.12345', filledQuantity: '0', venueFilledQuantity: '0', filledQuoteQuantity: '0', averagePrice: null, fee: '0', feeAsset: 'LRC', createdAt: 1_700_000_000_000_000, updatedAt: 1_700_000_000_000_000 }],
    ['state-processing-new', { status: 'NEW', venueStatus: 'processing', filledQuantity: '0', averagePrice: null, updatedAt: 1_700_000_600_123_000 }],
    ['state-processing-partial', { status: 'PARTIALLY_FILLED', filledQuantity: '400', venueFilledQuantity: '400000000000000000000', filledQuoteQuantity: '0.04938', averagePrice: '0.00012345', fee: '0.8', feeAsset: 'LRC' }],
    ['state-processed', { status: 'FILLED', venueStatus: 'processed', filledQuantity: '1000', filledQuoteQuantity: '0.12342', averagePrice: '0.00012342', fee: '2', feeAsset: 'LRC', updatedAt: 1_700_000_800_789_000 }],
    ['state-cancelling', { status: 'PENDING_CANCEL', venueStatus: 'cancelling', side: 'SELL', symbol: 'LRC/USDT', quantity: '2500.5', quoteQuantity: '682.88655', filledQuantity: '1000', filledQuoteQuantity: '273.1', averagePrice: '0.2731', fee: '0.68275', feeAsset: 'USDT' }],
    ['state-cancelled', { status: 'CANCELED', venueStatus: 'cancelled', filledQuantity: '1000', fee: '0.68275', feeAsset: 'USDT', updatedAt: 1_700_000_900_500_000 }],
    ['state-expired', { status: 'EXPIRED', venueStatus: 'expired', symbol: 'ETH/USDT', quantity: '0.5', quoteQuantity: '1575.25', filledQuantity: '0', averagePrice: null, fee: '0', feeAsset: 'ETH', price: '3150.5' }],
    ['state-failed', { status: 'REJECTED', venueStatus: 'failed', side: 'SELL', quantity: '10', quoteQuantity: '0.0012345', feeAsset: 'ETH' }],
    ['rounding-average', { status: 'PARTIALLY_FILLED', symbol: 'WBTC/ETH', quantity: '1', filledQuantity: '0.3', filledQuoteQuantity: '5', averagePrice: '16.666666666666666667', fee: '0.0006', feeAsset: 'WBTC' }],
  ];
  it.each(states)('%s maps status, amounts, fee and times', (name, expected) => {
    const o = mapOne(fixture('orders.jsonl', name));
    expect(o).toMatchObject({ ...common, ...expected });
    expect(o.orderKey).toBe(`loopring|acc-1|${o.orderId}`);
    expect(o.createdAt).toBeGreaterThan(1_699_999_999_000_000);
    expect(o.updatedAt).toBe(Number(JSON.parse(loopringFixture('orders.jsonl', name).text).data.updateAt) * 1000);
    expect(o.extras).toMatchObject({ volume: expect.stringMatching(/^\d+$/), filledFee: expect.stringMatching(/^\d+$/), validUntil: expect.stringMatching(/^\d{10}$/) });
  });

  it('covers every documented status (and the REST-only failed)', () => {
    const seen = new Set(readLoopringFixtures('orders.jsonl').map((f) => mapOne(f.text).venueStatus));
    expect([...seen].sort()).toEqual([...LOOPRING_ORDER_STATUSES, 'failed'].sort());
    const unified = new Set(readLoopringFixtures('orders.jsonl').map((f) => mapOne(f.text).status));
    expect([...unified].sort()).toEqual(['CANCELED', 'EXPIRED', 'FILLED', 'NEW', 'PARTIALLY_FILLED', 'PENDING_CANCEL', 'PENDING_NEW', 'REJECTED']);
  });

  it('maps statuses explicitly and case-insensitively; processing by filled size', () => {
    expect(loopringStatus('processing', '0')).toBe('NEW');
    expect(loopringStatus('processing', '1')).toBe('PARTIALLY_FILLED');
    expect(loopringStatus('PROCESSED', '5')).toBe('FILLED');
    expect(loopringStatus('pending', '0')).toBeUndefined();
    expect(LOOPRING_STATUS_MAP).toEqual({ waiting: 'PENDING_NEW', processed: 'FILLED', cancelling: 'PENDING_CANCEL', cancelled: 'CANCELED', expired: 'EXPIRED', failed: 'REJECTED' });
  });

  it('reads the topic typo key "topic:" and the legacy string topic like the object topic', () => {
    const plain = mapOne(fixture('orders.jsonl', 'state-processing-partial'));
    expect(mapOne(fixture('orders.jsonl', 'quirk-topic-typo-key'))).toEqual(plain);
    expect(mapOne(fixture('orders.jsonl', 'quirk-legacy-string-topic'))).toEqual(plain);
  });

  it('tolerates the REST spellings: side "BUY", orderType, createdAt as a string; extra fields go to extras', () => {
    const o = mapOne(fixture('orders.jsonl', 'quirk-rest-spellings'));
    const plain = mapOne(fixture('orders.jsonl', 'state-processed'));
    expect(o).toMatchObject({ side: 'BUY', orderType: 'LIMIT', venueOrderType: 'MAKER_ONLY', postOnly: true, createdAt: plain.createdAt, status: 'FILLED' });
    expect(o.extras.channelId).toBe('hebao::subchannel::0001');
    expect(o.extras.orderType).toBeUndefined();
    const taker = mapOne(fixture('orders.jsonl', 'quirk-rest-spellings').replace('MAKER_ONLY', 'TAKER_ONLY'));
    expect(taker).toMatchObject({ orderType: 'LIMIT', postOnly: false });
    const odd = mapOne(fixture('orders.jsonl', 'quirk-rest-spellings').replace('MAKER_ONLY', 'AMM'));
    expect(odd).toMatchObject({ orderType: 'OTHER', venueOrderType: 'AMM', postOnly: null });
  });

  it('keeps the exact digits of amounts sent as JSON numbers beyond 2^53; "" clientOrderId is null; no validUntil → no GTD', () => {
    const o = mapOne(fixture('orders.jsonl', 'quirk-numbers'));
    const plain = mapOne(fixture('orders.jsonl', 'state-processing-partial'));
    expect(o).toMatchObject({
      venueQuantity: '1000000000000000000000',
      venueFilledQuantity: '400000000000000000000',
      quantity: '1000',
      filledQuoteQuantity: '0.04938',
      price: '0.00012345',
      averagePrice: plain.averagePrice,
      fee: '0.8',
      clientOrderId: null,
      timeInForce: null,
    });
    expect(o.extras.filledVolume).toBe('49380000000000000');
    expect(o.extras.topicMarket).toBe('lrc-eth'); // the topic's market differs from data.market (case): kept
  });

  it('takes updatedAt from updateAt, else from ts; time units by magnitude', () => {
    const base = fixture('orders.jsonl', 'state-processing-new');
    expect(mapOne(base.replace('"updateAt":1700000600123', '"updateAt":1700000601')).updatedAt).toBe(1_700_000_601_000_000);
    expect(mapOne(base.replace('"updateAt":1700000600123,', '')).updatedAt).toBe(1_700_000_600_123_000); // ts
    expect(mapOne(base.replace('"updateAt":1700000600123,', '').replace('"ts":1700000600123,', '')).updatedAt).toBeNull();
    expect(mapOne(base.replace('"createdAt":1700000000000', '"createdAt":"1700000000000123"')).createdAt).toBe(1_700_000_000_000_123);
    expect(mapOne(base.replace('"createdAt":1700000000000,', '')).createdAt).toBeNull();
  });

  it('rounds the average half-even at the quote token\'s decimals', () => {
    // 2 / 3 ETH per 1 WBTC-unit … at 18 places: ...6667 (round up)
    const text = fixture('orders.jsonl', 'rounding-average').replace('"filledVolume":"5000000000000000000"', '"filledVolume":"6000000000000000000"').replace('"filledSize":"30000000"', '"filledSize":"9000000"');
    expect(mapOne(text).averagePrice).toBe('66.666666666666666667');
    // a tie at the last place goes to even (quote decimals 0: 5 ÷ 2 = 2.5 → 2, 7 ÷ 2 = 3.5 → 4)
    const zeroDecimals: ReferenceData = { loopring: { 'WBTC-ETH': { baseDecimals: 8, quoteDecimals: 0 } } };
    const two = fixture('orders.jsonl', 'rounding-average').replace('"filledSize":"30000000"', '"filledSize":"200000000"');
    expect(mapOne(two.replace('"filledVolume":"5000000000000000000"', '"filledVolume":"5"'), zeroDecimals).averagePrice).toBe('2');
    expect(mapOne(two.replace('"filledVolume":"5000000000000000000"', '"filledVolume":"7"'), zeroDecimals).averagePrice).toBe('4');
  });

  it('gives a null unified symbol and fee asset for a market not shaped BASE-QUOTE', () => {
    expect(loopringUnifiedSymbol('LRC-ETH')).toBe('LRC/ETH');
    expect(loopringUnifiedSymbol('AMM-LRC-ETH')).toBeNull();
    const o = mapOne(fixture('orders.jsonl', 'state-processed').replaceAll('"LRC-ETH"', '"AMM-LRC-ETH"'), EMPTY_REFERENCE);
    expect(o).toMatchObject({ symbol: null, feeAsset: null, instrumentKind: 'SPOT', venueSymbol: 'AMM-LRC-ETH' });
  });

  it('is pure: same input, same output; context untouched', () => {
    const c = ctx();
    const before = JSON.stringify(c);
    const text = fixture('orders.jsonl', 'state-processed');
    expect(loopringMapper.map(text, c)).toEqual(loopringMapper.map(text, c));
    expect(JSON.stringify(c)).toBe(before);
  });
});

describe('non-order frames are recognised and skipped', () => {
  const expected: Record<string, string> = {
    'ack-sub-doc': 'sub ack',
    'ack-failed-104106-doc': 'sub failed code 104106 (receive illegal arg for candlestick:lrc-eth)',
    'ack-failed-104115-doc': 'sub failed code 104115 (unexpected msg:xxx)',
    'ack-sub-typo-topics-doc': 'sub ack',
    'ack-failed-104106-typo-topics-doc': 'sub failed code 104106 (receive illegal arg for candlestick:lrc-eth)',
    'ack-sub-singular-topic-doc': 'sub ack',
    'ack-failed-104106-singular-topic-doc': 'sub failed code 104106 (receive illegal arg for candlestick:lrc-eth)',
    'ack-failed-104115-empty-op-doc': 'request failed code 104115 (unexpected msg:xxx)',
    'ack-sub-upper-ok-doc': 'sub ack',
    'ack-sub-legacy-args-doc': 'sub ack',
    'ack-failed-104106-legacy-args-doc': 'sub failed code 104106 (receive illegal arg for candlestick:lrc-eth)',
    'ack-failed-104115-legacy-args-doc': 'request failed code 104115 (unexpected msg:xxx)',
    'ack-sub-order': 'sub ack',
    'ack-unsub-order': 'unSub ack',
    'failed-104100-empty-topics': 'sub failed code 104100 (empty topics)',
    'failed-104101-invalid-op': 'subscribe failed code 104101 (unsupported op: subscribe)',
    'failed-104102-invalid-topic': 'sub failed code 104102 (unsupported topic: orders)',
    'failed-104103-duplicate-topic': 'sub failed code 104103 (duplicate topic config: order&LRC-ETH)',
    'failed-104104-missing-api-key': 'sub failed code 104104 (apiKey is required)',
    'failed-104105-api-key-mismatch': 'sub failed code 104105 (apiKey differs from the one of earlier subscriptions)',
    'failed-104110-bad-order-topic': 'sub failed code 104110 (invalid order topic config: {"topic":"order","market":"XYZ-ABC"})',
    'failed-104112-invalid-api-key': 'sub failed code 104112 (invalid apiKey)',
    'failed-104113-not-subscribed': 'unSub failed code 104113 (not subscribed: order&LRC-ETH)',
    'failed-104114-no-user': 'sub failed code 104114 (no user for apiKey)',
    'failed-104116-too-many': 'sub failed code 104116 (exceed maximum subscriptions (20))',
    'text-ping': 'ping',
    'push-account-doc': 'account push',
    'push-trade-doc-uncommented': 'trade push',
  };
  const all = readLoopringFixtures('control.jsonl');

  it('has an expectation for every control fixture', () => {
    expect(all.map((f) => f.name).sort()).toEqual(Object.keys(expected).sort());
  });

  it.each(all.map((f) => [f.name, f.text] as const))('%s', (name, text) => {
    expect(loopringMapper.map(text, ctx())).toEqual({ kind: 'skipped', what: expected[name] });
  });

  it('every documented subscription error code has a fixture', () => {
    const codes = new Set<number>();
    for (const f of all) {
      const frame = parseLoopringFrame(f.text);
      if (frame.kind === 'reply' && frame.reply.code !== null) codes.add(frame.reply.code);
    }
    for (const c of [104100, 104101, 104102, 104103, 104104, 104105, 104106, 104110, 104112, 104113, 104114, 104115, 104116]) expect(codes).toContain(c);
  });

  it('reads echoed topics in every documented form (list, singular with typo key, legacy args)', () => {
    const topics = (name: string) => {
      const f = parseLoopringFrame(fixture('control.jsonl', name));
      if (f.kind !== 'reply') throw new Error(name);
      return f.reply;
    };
    expect(topics('ack-sub-order')).toMatchObject({ ok: true, op: 'sub', sequence: 1, topics: ['order&LRC-ETH'], code: null });
    expect(topics('ack-sub-singular-topic-doc')).toMatchObject({ ok: true, topics: ['depth&LRC-ETH'], sequence: 10000 });
    expect(topics('ack-sub-typo-topics-doc')).toMatchObject({ ok: true, topics: ['orderbook&LRC-ETH'] });
    expect(topics('ack-sub-legacy-args-doc').topics).toEqual(['candlestick&LRC-ETH&1hr', 'depth&LRC-ETH&1', 'trade&LRC-ETH', 'ticker&LRC-ETH']);
    expect(topics('ack-sub-upper-ok-doc')).toMatchObject({ ok: true, status: 'OK', topics: ['blockgen'] });
    expect(topics('ack-failed-104115-doc')).toMatchObject({ ok: false, sequence: null, code: 104115, topics: [] });
    expect(loopringPingSchema.safeParse('ping').success).toBe(true);
  });
});

describe('malformed input gets the right error code and a message naming the problem', () => {
  const expected: Record<string, [code: string, mentions: string[]]> = {
    'not-json-truncated': ['FRAME_NOT_JSON', ['not valid JSON']],
    'not-json-text': ['FRAME_NOT_JSON', ['"hello"', 'ping']],
    'text-pong': ['FRAME_NOT_JSON', ['"pong"']],
    empty: ['FRAME_NOT_JSON', ['empty']],
    'json-array': ['FRAME_UNKNOWN_VARIANT', ['JSON array']],
    'json-unknown-shape': ['FRAME_UNKNOWN_VARIANT', ['neither "topic" nor "result"', 'foo']],
    'unknown-topic': ['FRAME_UNKNOWN_VARIANT', ['"position"']],
    'topic-not-object': ['FRAME_INVALID', ['topic must be', '42']],
    'doc-blockgen-push-not-json': ['FRAME_NOT_JSON', ['not valid JSON']],
    'doc-trade-push-with-comments': ['FRAME_NOT_JSON', ['not valid JSON']],
    'size-human-decimal': ['FRAME_INVALID', ['data.size', 'raw token units', '"1000.5"', A]],
    'filled-size-bool': ['FRAME_INVALID', ['data.filledSize', 'got true']],
    'missing-hash': ['FRAME_INVALID', ['data.hash is required']],
    'data-not-object': ['FRAME_INVALID', ['data must be an object', '"processed"']],
    'bad-side': ['FRAME_INVALID', ['data.side', '"hold"']],
    'negative-price': ['FRAME_INVALID', ['data.price', '"-0.1"']],
    'bad-created-at': ['FRAME_INVALID', ['data.createdAt', '"yesterday"']],
    'bad-ts': ['FRAME_INVALID', ['ts must be an integer', '"soon"']],
    'unknown-status': ['FRAME_UNKNOWN_STATUS', ['data.status', '"pending"', A]],
    'reply-bad-code': ['FRAME_INVALID', ['result.error.code']],
    'reply-no-status': ['FRAME_INVALID', ['result.status is required']],
  };
  const all = readLoopringFixtures('malformed.jsonl');

  it('has an expectation for every malformed fixture', () => {
    expect(all.map((f) => f.name).sort()).toEqual(Object.keys(expected).sort());
  });

  it.each(all.map((f) => [f.name, f.text] as const))('%s', (name, text) => {
    const [code, mentions] = expected[name] as [string, string[]];
    const error = mapError(text);
    expect(error.code).toBe(code);
    for (const m of mentions) expect(error.message).toContain(m);
  });

  it('lists several problems at once', () => {
    const e = mapError(fixture('orders.jsonl', 'state-processed').replace('"size":"1000000000000000000000"', '"size":"x"').replace('"filledFee":"2000000000000000000"', '"filledFee":"-1"'));
    expect(e.message).toContain('data.size');
    expect(e.message).toContain('data.filledFee');
    expect(e.details.issues).toHaveLength(2);
  });

  it('non-object JSON scalars are unknown variants, not "not JSON"', () => {
    expect(mapError('42').code).toBe('FRAME_UNKNOWN_VARIANT');
    expect(mapError('"ping"').code).toBe('FRAME_UNKNOWN_VARIANT');
    expect(mapError('null').code).toBe('FRAME_UNKNOWN_VARIANT');
  });
});
