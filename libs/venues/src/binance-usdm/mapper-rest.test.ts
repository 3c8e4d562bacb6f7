import { describe, expect, it } from 'vitest';
import type { CanonicalOrder } from '@orderstream/schemas';
import type { MapContext, MapResult } from '../types.js';
import { mapFrameError, testRestContext } from '../sim/test-context.js';
import { binanceUsdmFixture, readBinanceUsdmFixtures } from './fixtures.js';
import { BINANCE_USDM_REST_PATHS } from './frames.js';
import { binanceUsdmMapper } from './mapper.js';

const SOURCE = { topic: 'orders.raw.v1', partition: 1, offset: 7 };

function ctx(path: string, params: Record<string, string> = {}): MapContext {
  return testRestContext('binance-usdm', { method: 'GET', path, params }, 200, { receivedAt: 1_767_225_699_000_001, source: SOURCE });
}

const rest = (name: string) => binanceUsdmFixture('rest.jsonl', name);

function mapRest(name: string): MapResult {
  const f = rest(name);
  return binanceUsdmMapper.map(f.text, ctx(f.path as string));
}

function ordersOf(name: string): CanonicalOrder[] {
  const r = mapRest(name);
  if (r.kind !== 'orders') throw new Error(`expected orders, got skipped: ${r.what}`);
  expect(r.snapshot).toBeUndefined(); // the snapshot comes from the `reconciled` event, never from the mapper
  return r.orders;
}

const mapError = (text: string, path: string) => mapFrameError(binanceUsdmMapper, text, ctx(path));

describe('REST answers (reconciliation)', () => {
  it('maps the official Query Order example field by field, as order.status answers are mapped', () => {
    const [o] = ordersOf('doc-query-order');
    expect(o).toEqual<CanonicalOrder>({
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
      price: null,
      triggerPrice: null, // DOC: stopPrice "please ignore when order type is TRAILING_STOP_MARKET"
      quantity: '0.4',
      venueQuantity: '0.4',
      quoteQuantity: null,
      filledQuantity: '0',
      venueFilledQuantity: '0',
      filledQuoteQuantity: '0',
      averagePrice: null,
      fee: null,
      feeAsset: null,
      lastFillQuantity: null,
      lastFillPrice: null,
      lastFillFee: null,
      lastFillId: null,
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
        priceMatch: 'NONE',
        selfTradePreventionMode: 'NONE',
        stopPrice: '9300',
        activatePrice: '9020',
        priceRate: '0.3',
      },
    });
  });

  it('maps the official open-orders and all-orders examples (arrays) to the same order as the query example', () => {
    const [single] = ordersOf('doc-query-order');
    expect(ordersOf('doc-open-orders')).toEqual([single]);
    expect(ordersOf('doc-all-orders')).toEqual([single]);
  });

  it('a REST order and an order.status answer of the same state give the same canonical order', () => {
    const ws = binanceUsdmMapper.map(binanceUsdmFixture('orders.jsonl', 'state-filled').text, { ...ctx('x'), rest: undefined } as MapContext);
    if (ws.kind !== 'orders') throw new Error('expected orders');
    const [viaRest] = ordersOf('query-order-filled-int64');
    expect(viaRest).toEqual(ws.orders[0]);
    expect(viaRest?.orderId).toBe('9007199254740993');
  });

  it('a list becomes one canonical order per entry, int64 ids exact, units and times as for pushes', () => {
    const orders = ordersOf('open-orders-int64');
    expect(orders.map((o) => [o.orderKey, o.orderId, o.status, o.venueSymbol, o.positionSide, o.postOnly])).toEqual([
      ['binance-usdm|acc-1|9007199254740993', '9007199254740993', 'NEW', 'BTCUSDT', 'BOTH', false],
      ['binance-usdm|acc-1|9007199254740995', '9007199254740995', 'PARTIALLY_FILLED', 'ETHUSDT', 'SHORT', true],
    ]);
    const part = orders[1] as CanonicalOrder;
    expect([part.quantity, part.filledQuantity, part.filledQuoteQuantity, part.averagePrice, part.price]).toEqual(['1', '0.4', '1280.2', '3200.5', '3200.5']);
    expect([part.createdAt, part.updatedAt]).toEqual([1_767_225_600_005_000, 1_767_225_600_900_000]);
  });

  it('covers every status word of the history, each mapped explicitly', () => {
    const orders = ordersOf('all-orders-every-status');
    expect(orders.map((o) => [o.venueStatus, o.status, o.filledQuantity])).toEqual([
      ['NEW', 'NEW', '0'],
      ['PARTIALLY_FILLED', 'PARTIALLY_FILLED', '4'],
      ['FILLED', 'FILLED', '5'],
      ['CANCELED', 'CANCELED', '3'],
      ['REJECTED', 'REJECTED', '0'],
      ['EXPIRED', 'EXPIRED', '0'],
      ['EXPIRED_IN_MATCH', 'EXPIRED', '1'],
    ]);
    const market = orders[2] as CanonicalOrder;
    expect([market.orderType, market.price, market.averagePrice, market.filledQuoteQuantity, market.reduceOnly]).toEqual(['MARKET', null, '150.012', '750.06', true]);
    expect((orders[5] as CanonicalOrder).extras.goodTillDate).toBe('1767312000005');
    expect(new Set(orders.map((o) => o.orderId)).size).toBe(7);
  });

  it('an empty list and every error payload are skipped, not dead-lettered', () => {
    expect(mapRest('open-orders-empty')).toEqual({ kind: 'skipped', what: 'empty order list (GET /fapi/v1/openOrders)' });
    const errors = readBinanceUsdmFixtures('rest.jsonl').filter((f) => f.name.startsWith('error-'));
    expect(errors.length).toBeGreaterThanOrEqual(8);
    for (const f of errors) {
      const r = binanceUsdmMapper.map(f.text, ctx(f.path as string));
      expect(r.kind, f.name).toBe('skipped');
      expect((r as { what: string }).what).toMatch(/^rest error -\d+ \(/);
    }
    expect(mapRest('error-1003-in-200')).toEqual({
      kind: 'skipped',
      what: 'rest error -1003 (Too many requests; current limit is 2400 requests per minute. Please use the websocket for live updates to avoid polling the API.)',
    });
  });

  it('every fixture of rest.jsonl maps or is skipped (none throws)', () => {
    for (const f of readBinanceUsdmFixtures('rest.jsonl')) {
      expect(typeof f.path, f.name).toBe('string');
      expect(() => binanceUsdmMapper.map(f.text, ctx(f.path as string)), f.name).not.toThrow();
    }
  });

  it('refuses what is not a documented REST shape, naming the element and field', () => {
    const { openOrders, order, allOrders } = BINANCE_USDM_REST_PATHS;
    expect(mapError('[]', '/fapi/v1/userTrades').code).toBe('FRAME_UNKNOWN_VARIANT');
    expect(mapError(rest('doc-open-orders').text, order).code).toBe('FRAME_UNKNOWN_VARIANT');
    expect(mapError(rest('doc-query-order').text, openOrders).code).toBe('FRAME_UNKNOWN_VARIANT');
    expect(mapError('[{"orderId":1', allOrders).code).toBe('FRAME_NOT_JSON');
    const list = rest('open-orders-int64').text;
    const bad = mapError(list.replace(/"executedQty":"0\.400"/, '"executedQty":"lots"'), openOrders);
    expect(bad.code).toBe('FRAME_INVALID');
    expect(bad.message).toContain('[1].executedQty');
    expect(bad.message).toContain('9007199254740995');
    const float = mapError(list.replace('9007199254740995', '9.007199254740995e15'), openOrders);
    expect(float.code).toBe('FRAME_INVALID');
    expect(float.message).toContain('orderId');
    expect(mapError(list.replace('"status":"NEW"', '"status":"NEW_ADL"'), openOrders).code).toBe('FRAME_UNKNOWN_STATUS');
  });

  it('without a REST context, a REST body is not an order.status answer (the socket path is unchanged)', () => {
    expect(() => binanceUsdmMapper.map(rest('doc-query-order').text, { ...ctx('x'), rest: undefined } as MapContext)).toThrow(/envelope/);
  });
});
