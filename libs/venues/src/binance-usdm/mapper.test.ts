import { describe, expect, it } from 'vitest';
import type { CanonicalOrder } from '@orderstream/schemas';
import type { MapContext } from '../types.js';
import { mapFrameError, testMapContext } from '../sim/test-context.js';
import { binanceUsdmFixture, readBinanceUsdmFixtures, type BinanceUsdmFixtureFile } from './fixtures.js';
import { parseBinanceUsdmFrame } from './frames.js';
import { BINANCE_USDM_API_VERSION, BINANCE_USDM_STATUS_MAP, binanceUsdmInstrument, binanceUsdmMapper } from './mapper.js';

const SOURCE = { topic: 'orders.raw.v1', partition: 3, offset: 42 };

function ctx(): MapContext {
  return testMapContext('binance-usdm', { receivedAt: 1_767_225_699_000_001, source: SOURCE });
}

function mapOne(text: string): CanonicalOrder {
  const r = binanceUsdmMapper.map(text, ctx());
  if (r.kind !== 'orders') throw new Error(`expected orders, got skipped: ${r.what}`);
  expect(r.orders).toHaveLength(1);
  expect(r.snapshot).toBeUndefined();
  return r.orders[0] as CanonicalOrder;
}

const mapError = (text: string) => mapFrameError(binanceUsdmMapper, text, ctx());

const fixture = (file: BinanceUsdmFixtureFile, name: string) => binanceUsdmFixture(file, name).text;

const NULL_FILL_FIELDS = { fee: null, feeAsset: null, lastFillQuantity: null, lastFillPrice: null, lastFillFee: null, lastFillId: null, quoteQuantity: null };

describe('binanceUsdmMapper identity', () => {
  it('is the binance-usdm mapper for api version v1 (/ws-fapi/v1)', () => {
    expect(binanceUsdmMapper.venue).toBe('binance-usdm');
    expect(binanceUsdmMapper.apiVersion).toBe(BINANCE_USDM_API_VERSION);
    expect(BINANCE_USDM_API_VERSION).toBe('v1');
  });
});

describe('order.status answers', () => {
  it('maps the official doc example (TRAILING_STOP_MARKET, stopPrice ignored as the doc says) field by field', () => {
    expect(mapOne(fixture('orders.jsonl', 'doc-example'))).toEqual<CanonicalOrder>({
      orderKey: 'binance-usdm|acc-1|1917641',
      venue: 'binance-usdm',
      account: 'acc-1',
      orderId: '1917641',
      clientOrderId: 'abc',
      venueSymbol: 'BTCUSDT',
      symbol: 'BTC/USDT:USDT',
      instrumentKind: 'PERPETUAL',
      side: 'BUY',
      positionSide: 'SHORT',
      orderType: 'TRAILING_STOP_MARKET',
      venueOrderType: 'TRAILING_STOP_MARKET',
      timeInForce: 'GTC',
      status: 'NEW',
      venueStatus: 'NEW',
      price: null, // "0"
      triggerPrice: null, // "please ignore when order type is TRAILING_STOP_MARKET"
      quantity: '0.4',
      venueQuantity: '0.4',
      filledQuantity: '0',
      venueFilledQuantity: '0',
      filledQuoteQuantity: '0',
      averagePrice: null, // "0.00000"
      ...NULL_FILL_FIELDS,
      reduceOnly: false,
      postOnly: false,
      createdAt: 1_579_276_756_075_000,
      updatedAt: 1_579_276_756_075_000,
      receivedAt: 1_767_225_699_000_001,
      source: SOURCE,
      extras: {
        origType: 'TRAILING_STOP_MARKET',
        workingType: 'CONTRACT_PRICE',
        priceProtect: 'false',
        closePosition: 'false',
        stopPrice: '9300',
        activatePrice: '9020',
        priceRate: '0.3',
      },
    });
  });

  it('maps the BNSDK queryOrder mock: the zh-CN id, plus priceMatch / selfTradePreventionMode; goodTillDate 0 means none', () => {
    const o = mapOne(fixture('orders.jsonl', 'bnsdk-mock-query-order'));
    expect(o.orderId).toBe('1573346959');
    expect(o.extras).toEqual({
      origType: 'TRAILING_STOP_MARKET',
      workingType: 'CONTRACT_PRICE',
      priceProtect: 'false',
      closePosition: 'false',
      priceMatch: 'NONE',
      selfTradePreventionMode: 'NONE',
      stopPrice: '9300',
      activatePrice: '9020',
      priceRate: '0.3',
    });
  });

  it('maps a NEW limit order with an int64 id above 2^53 field by field, every digit kept', () => {
    const text = fixture('orders.jsonl', 'state-new');
    // what JSON.parse alone would have produced:
    expect(String((JSON.parse(text) as { result: { orderId: number } }).result.orderId)).toBe('9007199254740992');
    expect(mapOne(text)).toEqual<CanonicalOrder>({
      orderKey: 'binance-usdm|acc-1|9007199254740993',
      venue: 'binance-usdm',
      account: 'acc-1',
      orderId: '9007199254740993',
      clientOrderId: 'os-demo-1',
      venueSymbol: 'BTCUSDT',
      symbol: 'BTC/USDT:USDT',
      instrumentKind: 'PERPETUAL',
      side: 'BUY',
      positionSide: 'BOTH',
      orderType: 'LIMIT',
      venueOrderType: 'LIMIT',
      timeInForce: 'GTC',
      status: 'NEW',
      venueStatus: 'NEW',
      price: '64000',
      triggerPrice: null, // "0.0"
      quantity: '0.1',
      venueQuantity: '0.1',
      filledQuantity: '0',
      venueFilledQuantity: '0',
      filledQuoteQuantity: '0',
      averagePrice: null,
      ...NULL_FILL_FIELDS,
      reduceOnly: false,
      postOnly: false,
      createdAt: 1_767_225_600_000_000,
      updatedAt: 1_767_225_600_000_000,
      receivedAt: 1_767_225_699_000_001,
      source: SOURCE,
      extras: {
        origType: 'LIMIT',
        workingType: 'CONTRACT_PRICE',
        priceProtect: 'false',
        closePosition: 'false',
        priceMatch: 'NONE',
        selfTradePreventionMode: 'EXPIRE_MAKER',
      },
    });
  });

  const cases: Array<[string, Partial<CanonicalOrder>]> = [
    ['state-partially-filled', { status: 'PARTIALLY_FILLED', venueStatus: 'PARTIALLY_FILLED', filledQuantity: '0.04', venueFilledQuantity: '0.04', averagePrice: '64000', filledQuoteQuantity: '2560', updatedAt: 1_767_225_601_500_000 }],
    ['state-filled', { status: 'FILLED', filledQuantity: '0.1', averagePrice: '63999.7', filledQuoteQuantity: '6399.97', updatedAt: 1_767_225_603_250_000 }],
    ['state-canceled-post-only', { orderId: '1234567890123456789', status: 'CANCELED', side: 'SELL', positionSide: 'SHORT', timeInForce: 'GTX', postOnly: true, price: '3150.25', quantity: '1.5', filledQuantity: '0', averagePrice: null, symbol: 'ETH/USDT:USDT', clientOrderId: 'os-demo-2' }],
    ['state-rejected', { orderId: '9007199254740995', status: 'REJECTED', venueStatus: 'REJECTED', timeInForce: 'IOC', postOnly: false }],
    ['state-expired-ioc', { status: 'EXPIRED', venueStatus: 'EXPIRED', quantity: '0.05', filledQuantity: '0.01', averagePrice: '64000', filledQuoteQuantity: '640' }],
    ['state-expired-in-match', { status: 'EXPIRED', venueStatus: 'EXPIRED_IN_MATCH', symbol: 'SOL/USDT:USDT', quantity: '12', filledQuantity: '0', price: '150.25' }],
    ['market-filled-reduce-only', { orderType: 'MARKET', venueOrderType: 'MARKET', price: null, status: 'FILLED', reduceOnly: true, side: 'SELL', averagePrice: '64010.1', filledQuoteQuantity: '1280.202', filledQuantity: '0.02' }],
    ['stop-limit-new', { orderType: 'STOP_LIMIT', venueOrderType: 'STOP', price: '65000', triggerPrice: '64900', status: 'NEW' }],
    ['take-profit-market-close-position', { orderType: 'TAKE_PROFIT_MARKET', price: null, triggerPrice: '70000', quantity: '0', reduceOnly: true, timeInForce: 'OTHER', postOnly: false }],
    ['gtd-limit', { timeInForce: 'GTD', postOnly: false }],
    ['usdc-perpetual', { symbol: 'BTC/USDC:USDC', instrumentKind: 'PERPETUAL', positionSide: 'LONG', venueSymbol: 'BTCUSDC' }],
    ['delivery-future', { symbol: 'ETH/USDT:USDT-260327', instrumentKind: 'FUTURE', venueSymbol: 'ETHUSDT_260327', price: '3250.5', quantity: '2' }],
    ['unknown-quote-symbol', { symbol: null, instrumentKind: 'OTHER', venueSymbol: 'BTCEUR' }],
    ['int64-max-order-id', { orderId: '9223372036854775807', orderKey: 'binance-usdm|acc-1|9223372036854775807' }],
  ];
  it.each(cases)('%s', (name, expected) => {
    const o = mapOne(fixture('orders.jsonl', name));
    expect(o).toMatchObject(expected);
    expect(o.orderKey).toBe(`binance-usdm|acc-1|${o.orderId}`);
    expect(o.quantity).toBe(o.venueQuantity); // base units already
    expect(o.filledQuantity).toBe(o.venueFilledQuantity);
  });

  it('keeps the extras of the less common fields', () => {
    expect(mapOne(fixture('orders.jsonl', 'take-profit-market-close-position')).extras).toMatchObject({ closePosition: 'true', timeInForce: 'GTE_GTC' });
    expect(mapOne(fixture('orders.jsonl', 'stop-limit-new')).extras).toMatchObject({ workingType: 'MARK_PRICE', priceProtect: 'true', origType: 'STOP' });
    expect(mapOne(fixture('orders.jsonl', 'gtd-limit')).extras.goodTillDate).toBe('1767312000000');
    expect(mapOne(fixture('orders.jsonl', 'state-expired-in-match')).extras.selfTradePreventionMode).toBe('EXPIRE_TAKER');
  });

  it('covers every documented status', () => {
    const seen = new Set(readBinanceUsdmFixtures('orders.jsonl').map((f) => mapOne(f.text).venueStatus));
    expect([...seen].sort()).toEqual(Object.keys(BINANCE_USDM_STATUS_MAP).sort());
  });

  it('maps every order fixture to exactly one order with decimals as normalized strings', () => {
    for (const f of readBinanceUsdmFixtures('orders.jsonl')) {
      const o = mapOne(f.text);
      for (const k of ['price', 'triggerPrice', 'quantity', 'filledQuantity', 'filledQuoteQuantity', 'averagePrice'] as const) {
        const v = o[k];
        if (v !== null) expect(v, `${f.name} ${k}`).toMatch(/^(0|[1-9]\d*)(\.\d*[1-9])?$|^0\.\d*[1-9]$/);
      }
    }
  });

  it('tolerates orderId as a digit string and decimals as JSON numbers, keeping exact digits', () => {
    expect(mapOne(fixture('orders.jsonl', 'quirk-string-order-id')).orderId).toBe('9007199254741015');
    const o = mapOne(fixture('orders.jsonl', 'quirk-json-numbers'));
    expect(o.orderId).toBe('9007199254741017');
    expect(o.price).toBe('64000.123456789012345'); // a double would print 64000.12345678901
    expect(o.quantity).toBe('0.1');
    expect(o.averagePrice).toBeNull();
  });

  it('keeps unknown result fields in extras (numbers exact, objects as JSON)', () => {
    const o = mapOne(fixture('orders.jsonl', 'quirk-extra-fields'));
    expect(o.extras.cumQty).toBe('0.000');
    expect(o.extras.futureField).toBe('{"a":1}');
  });

  it('avgPrice is null while nothing is filled, even if a venue sent a non-zero one', () => {
    const text = fixture('orders.jsonl', 'state-new').replace('"avgPrice":"0.00000"', '"avgPrice":"64000.00000"');
    expect(mapOne(text).averagePrice).toBeNull();
  });

  it('takes orderId from the result, not from a lookalike key in a string or another object', () => {
    const text = fixture('orders.jsonl', 'state-new').replace('"clientOrderId":"os-demo-1"', '"clientOrderId":"x\\"orderId\\":1"');
    const o = mapOne(text);
    expect(o.orderId).toBe('9007199254740993');
    expect(o.clientOrderId).toBe('x"orderId":1');
  });

  it('is pure: same input, same output; context untouched', () => {
    const c = ctx();
    const before = JSON.stringify(c);
    const text = fixture('orders.jsonl', 'state-filled');
    expect(binanceUsdmMapper.map(text, c)).toEqual(binanceUsdmMapper.map(text, c));
    expect(JSON.stringify(c)).toBe(before);
  });
});

describe('binanceUsdmInstrument (quote split by known suffixes)', () => {
  it.each([
    ['BTCUSDT', 'BTC/USDT:USDT', 'PERPETUAL'],
    ['1000PEPEUSDT', '1000PEPE/USDT:USDT', 'PERPETUAL'],
    ['ETHUSDC', 'ETH/USDC:USDC', 'PERPETUAL'],
    ['BTCBUSD', 'BTC/BUSD:BUSD', 'PERPETUAL'],
    ['BTCUSDT_250627', 'BTC/USDT:USDT-250627', 'FUTURE'],
    ['BTCDOMUSDT', 'BTCDOM/USDT:USDT', 'PERPETUAL'],
  ])('%s → %s', (venue, unified, kind) => {
    expect(binanceUsdmInstrument(venue)).toMatchObject({ symbol: unified, kind });
  });
  it.each(['USDT', 'BTCEUR', 'btcusdt', 'BTC-USDT', 'BTCUSDT_25'])('%s → null', (venue) => {
    expect(binanceUsdmInstrument(venue)).toBeNull();
  });
});

describe('error answers are recognised and skipped (they are not order data)', () => {
  const expected: Record<string, string> = {
    'error-2013': 'error reply -2013 (Order does not exist.)',
    'error-1021-outside-recv-window': 'error reply -1021 (Timestamp for this request is outside of the recvWindow.)',
    'error-1021-ahead': "error reply -1021 (Timestamp for this request was 1000ms ahead of the server's time.)",
    'error-1022': 'error reply -1022 (Signature for this request is not valid.)',
    'error-2015': 'error reply -2015 (Invalid API-key, IP, or permissions for action.)',
    'error-1102-no-ids': "error reply -1102 (Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!)",
    'error-429': 'error reply -1003 (Too many requests; current limit is 2400 requests per minute. Please use the websocket for live updates to avoid polling the API.)',
    'error-418': 'error reply -1003 (Way too much request weight used; IP banned until 1659146400000. Please use WebSocket Streams for live updates to avoid bans.)',
    'bnsdk-error-mock': 'error reply -2010 (Account has insufficient balance for requested action.)',
    'error-5xx': 'error reply -1001 (Internal error; unable to process your request. Please try again.)',
    'market-stream-error-no-status': 'error reply 2 (Invalid request: invalid stream)',
  };
  const all = readBinanceUsdmFixtures('errors.jsonl');

  it('has an expectation for every error fixture', () => {
    expect(all.map((f) => f.name).sort()).toEqual(Object.keys(expected).sort());
  });

  it.each(all.map((f) => [f.name, f.text] as const))('%s', (name, text) => {
    expect(binanceUsdmMapper.map(text, ctx())).toEqual({ kind: 'skipped', what: expected[name] });
  });

  it('the parser reads status, code, retryAfter and rateLimits for the client', () => {
    const f = parseBinanceUsdmFrame(fixture('errors.jsonl', 'error-429'));
    expect(f).toEqual({
      kind: 'error',
      error: { id: 'os1-25', httpStatus: 429, code: -1003, msg: expect.stringContaining('Too many requests'), retryAfter: 1_767_225_660_000, serverTime: 1_767_225_630_000 },
      rateLimits: [{ rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 2400, count: 2400 }],
    });
    const m = parseBinanceUsdmFrame(fixture('errors.jsonl', 'market-stream-error-no-status'));
    expect(m).toMatchObject({ kind: 'error', error: { id: '1', httpStatus: null, code: 2 } });
  });
});

describe('malformed input gets the right error code and a message naming the problem', () => {
  const expected: Record<string, [code: string, mentions: string[]]> = {
    'not-json-truncated': ['FRAME_NOT_JSON', ['not valid JSON']],
    empty: ['FRAME_NOT_JSON', ['empty']],
    'json-array': ['FRAME_UNKNOWN_VARIANT', ['JSON array']],
    'json-unknown-shape': ['FRAME_UNKNOWN_VARIANT', ['neither a numeric "status" nor "error"', 'foo']],
    'doc-zh-bare-result': ['FRAME_UNKNOWN_VARIANT', ['bare order object', 'envelope']],
    // an ORDER_TRADE_UPDATE cut down to a few fields: read as a user data stream event (issue 8), invalid
    'user-data-event': ['FRAME_INVALID', ['ORDER_TRADE_UPDATE', 'o.q', '9007199254740993']],
    'status-200-without-result': ['FRAME_INVALID', ['without a "result"']],
    'status-400-without-error': ['FRAME_INVALID', ['status 400 without an "error"']],
    'result-not-object': ['FRAME_INVALID', ['result must be an object']],
    'wrong-type-origqty': ['FRAME_INVALID', ['result.origQty', '"abc"', '9007199254740993']],
    'wrong-type-executedqty-bool': ['FRAME_INVALID', ['result.executedQty', 'got true']],
    'missing-order-id': ['FRAME_INVALID', ['result.orderId is required']],
    'float-order-id': ['FRAME_INVALID', ['result.orderId', 'int64', '9.007199254740993e15']],
    'negative-order-id': ['FRAME_INVALID', ['result.orderId']],
    'order-id-beyond-int64': ['FRAME_INVALID', ['result.orderId', '9223372036854775808']],
    'bad-side': ['FRAME_INVALID', ['result.side', '"HOLD"']],
    'bad-time': ['FRAME_INVALID', ['result.time', '"yesterday"']],
    'error-code-not-number': ['FRAME_INVALID', ['error.code']],
    'unknown-status': ['FRAME_UNKNOWN_STATUS', ['result.status', '"NEW_ADL"', '9007199254740993']],
  };
  const all = readBinanceUsdmFixtures('malformed.jsonl');

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
    const e = mapError(fixture('orders.jsonl', 'state-new').replace('"origQty":"0.100"', '"origQty":"x"').replace('"executedQty":"0.000"', '"executedQty":"y"'));
    expect(e.message).toContain('result.origQty');
    expect(e.message).toContain('result.executedQty');
    expect(e.details.issues).toHaveLength(2);
  });

  it('rejects negative quantities and a non-numeric status field', () => {
    expect(mapError(fixture('orders.jsonl', 'state-new').replace('"origQty":"0.100"', '"origQty":"-0.1"')).message).toContain('result.origQty');
    expect(mapError('{"id":"1","status":"200","result":{}}').code).toBe('FRAME_UNKNOWN_VARIANT');
  });

  it('non-object JSON scalars are unknown variants, not "not JSON"', () => {
    expect(mapError('42').code).toBe('FRAME_UNKNOWN_VARIANT');
    expect(mapError('"pong"').code).toBe('FRAME_UNKNOWN_VARIANT');
    expect(mapError('null').code).toBe('FRAME_UNKNOWN_VARIANT');
  });
});
