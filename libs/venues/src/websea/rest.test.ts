import { describe, expect, it } from 'vitest';
import { FrameError } from '@orderstream/kit';
import type { CanonicalOrder } from '@orderstream/schemas';
import type { MapResult } from '../types.js';
import { testMapContext } from '../sim/test-context.js';
import { readWebseaRestFixtures, webseaFixture, webseaRestFixture, type WebseaRestFixture } from './fixtures.js';
import { webseaMapper } from './mapper.js';
import { webseaCtimeToSeconds, webseaRestError, webseaSecondsToCtime } from './rest.js';

const base = testMapContext('websea', { account: 'main', receivedAt: 1_731_231_300_000_000, source: { topic: 'orders.raw.v1', partition: 0, offset: 7 } });

function mapFixture(f: WebseaRestFixture): MapResult {
  return webseaMapper.map(f.text, { ...base, rest: { ...f.request, status: f.status } });
}
function mapPush(name: string): CanonicalOrder {
  const r = webseaMapper.map(webseaFixture('orders.jsonl', name).text, base);
  if (r.kind !== 'orders') throw new Error(name);
  return r.orders[0] as CanonicalOrder;
}

describe('WebSea REST times', () => {
  it('reads ctime as UTC+8 text and writes it back', () => {
    expect(webseaCtimeToSeconds('2024-11-10 17:33:51')).toBe(1731231231);
    expect(webseaSecondsToCtime(1731231231)).toBe('2024-11-10 17:33:51');
    expect(webseaCtimeToSeconds('2018-10-02 10:33:33')).toBe(Date.UTC(2018, 9, 2, 2, 33, 33) / 1000);
    expect(webseaCtimeToSeconds('2024-02-30 00:00:00')).toBeUndefined();
    expect(webseaCtimeToSeconds('1731231231')).toBeUndefined();
  });
});

describe('WebSea REST answers → canonical orders', () => {
  const expectations: Record<string, (r: MapResult) => void> = {
    'doc-current-list': (r) => {
      expect(r.kind).toBe('orders');
      const orders = (r as { orders: CanonicalOrder[] }).orders;
      expect(orders.map((o) => [o.orderId, o.side, o.orderType, o.status, o.venueStatus, o.price, o.quantity, o.quoteQuantity])).toEqual([
        ['BL123456789987523', 'BUY', 'LIMIT', 'NEW', 'NEW', '0.123456', '1', null],
        ['SL123456789987523', 'SELL', 'LIMIT', 'NEW', 'NEW', '0.123456', '1', null],
        ['BM123456789987523', 'BUY', 'MARKET', 'NEW', 'NEW', null, null, '1'],
        ['SM123456789987523', 'SELL', 'MARKET', 'NEW', 'NEW', null, '1', null],
      ]);
      expect(orders[0]).toMatchObject({
        orderKey: 'websea|main|BL123456789987523', venueSymbol: 'MCO-BTC', symbol: 'MCO/BTC', instrumentKind: 'SPOT',
        filledQuantity: '0', venueFilledQuantity: '0', averagePrice: null, fee: null, feeAsset: null, lastFillId: null,
        createdAt: Date.UTC(2018, 9, 2, 2, 33, 33) * 1000, updatedAt: base.receivedAt,
        extras: { ctime: '2018-10-02 10:33:33', restOrderId: '121', totalPrice: '0.123456' },
      });
    },
    'doc-order-detail': (r) => {
      const [o] = (r as { orders: CanonicalOrder[] }).orders;
      expect(o).toMatchObject({ orderId: 'BL123456789987523', venueSymbol: 'BTC-USDT', status: 'NEW', extras: { ctime: '2018-10-02 10:33:33', totalPrice: '0.123456' } });
      expect(o?.extras.restOrderId).toBeUndefined();
    },
    'doc-history-list': (r) => expect((r as { orders: CanonicalOrder[] }).orders).toHaveLength(4),
    'doc-order-trades': (r) => {
      const orders = (r as { orders: CanonicalOrder[] }).orders;
      const t = Date.UTC(2018, 9, 2, 2, 33, 33) / 1000;
      expect(orders.map((o) => o.lastFillId)).toEqual([
        `BL123456789987523/${t}/1/0.123456/0.00001#18`,
        `BL123456789987523/${t}/1/0.123456/0.00001#19`,
      ]);
      expect(orders[0]).toMatchObject({ status: 'PARTIALLY_FILLED', venueStatus: 'TRADE', lastFillQuantity: '1', lastFillPrice: '0.123456', lastFillFee: '0.00001', updatedAt: t * 1_000_000, extras: { executionOnly: 'true' } });
    },
    'open-every-live-status': (r) => {
      const orders = (r as { orders: CanonicalOrder[] }).orders;
      expect(orders.map((o) => [o.status, o.venueStatus, o.filledQuantity, o.averagePrice])).toEqual([
        ['NEW', 'NEW', '0', null],
        ['PARTIALLY_FILLED', 'PARTIALLY_FILLED', '0.2', '64000.5'],
        ['PENDING_CANCEL', 'CANCELLING', '1', '3150.25'],
        ['NEW', 'NEW', '0', null],
        ['NEW', 'NEW', '0', null],
      ]);
      expect(orders[3]).toMatchObject({ orderType: 'MARKET', price: null, quantity: null, venueQuantity: null, quoteQuantity: '1000' });
      expect(orders[3]?.extras.totalPrice).toBeUndefined();
      expect(orders[4]).toMatchObject({ orderType: 'MARKET', side: 'SELL', price: null, quantity: '0.01', quoteQuantity: null });
    },
    'history-every-final-status': (r) => {
      const orders = (r as { orders: CanonicalOrder[] }).orders;
      expect(orders.map((o) => [o.status, o.venueStatus])).toEqual([
        ['FILLED', 'FILLED'], ['CANCELED', 'PARTIALLY_CANCELED'], ['CANCELED', 'CANCELED'], ['FILLED', 'FILLED'],
      ]);
    },
    'detail-filled': (r) => {
      const [o] = (r as { orders: CanonicalOrder[] }).orders;
      const push = mapPush('limit-new');
      // Same identity, units and times as the push of the same order.
      for (const k of ['orderKey', 'orderId', 'venueSymbol', 'symbol', 'side', 'orderType', 'venueOrderType', 'price', 'quantity', 'venueQuantity', 'quoteQuantity', 'createdAt'] as const) {
        expect(o?.[k], k).toEqual(push[k]);
      }
      expect(o).toMatchObject({ status: 'FILLED', venueStatus: 'FILLED', filledQuantity: '0.5', averagePrice: '64000.38' });
    },
    'trades-filled': (r) => {
      const orders = (r as { orders: CanonicalOrder[] }).orders;
      const pushed = [mapPush('limit-trade-partial'), mapPush('limit-trade-filled')];
      // The fingerprint (before '#') is the id the pushes of the same executions got.
      expect(orders.map((o) => o.lastFillId?.split('#')[0])).toEqual(pushed.map((p) => p.lastFillId));
      expect(orders.map((o) => o.lastFillId?.split('#')[1])).toEqual(['1001', '1002']);
      expect(orders[1]).toMatchObject({ lastFillQuantity: '0.3', lastFillPrice: '64000.3', lastFillFee: '0.0003' });
    },
    'trades-twins': (r) => {
      const ids = (r as { orders: CanonicalOrder[] }).orders.map((o) => o.lastFillId);
      expect(new Set(ids).size).toBe(2);
      expect(new Set(ids.map((id) => id?.split('#')[0])).size).toBe(1);
    },
    'trades-yapi-shape': (r) => {
      const [o] = (r as { orders: CanonicalOrder[] }).orders;
      expect(o).toMatchObject({ orderId: 'BL2217312312313303AAAAA', side: 'BUY', venueSymbol: 'BTC-USDT', lastFillId: `${mapPush('limit-trade-partial').lastFillId}#1001` });
    },
    'empty-list': (r) => expect(r).toEqual({ kind: 'skipped', what: 'empty open orders list' }),
    'trades-none': (r) => expect(r).toEqual({ kind: 'skipped', what: 'empty trade list' }),
    'error-20506': (r) => expect(r).toEqual({ kind: 'skipped', what: 'error errno 20506 (api signature not valid) to GET /openApi/entrust/currentList' }),
    'error-20519': (r) => expect(r.kind).toBe('skipped'),
    'error-20515': (r) => expect(r).toEqual({ kind: 'skipped', what: 'error errno 20515 (order queryorder invalid) to GET /openApi/entrust/status' }),
    'error-20507': (r) => expect(r.kind).toBe('skipped'),
    'error-20500': (r) => expect(r.kind).toBe('skipped'),
    'error-20517': (r) => expect(r.kind).toBe('skipped'),
    'error-no-result': (r) => expect(r).toEqual({ kind: 'skipped', what: 'error errno 20523 (please authenticate) to GET /openApi/entrust/currentList' }),
  };

  for (const f of readWebseaRestFixtures()) {
    it(`${f.name}`, () => {
      const check = expectations[f.name];
      if (!check) throw new Error(`fixture ${f.name} has no expectation`);
      check(mapFixture(f));
    });
  }

  it('webseaRestError reads the envelope', () => {
    expect(webseaRestError(webseaRestFixture('error-20515').text)).toEqual({ errno: 20515, errmsg: 'order queryorder invalid' });
    expect(webseaRestError(webseaRestFixture('empty-list').text)).toBeUndefined();
  });

  it('refuses what it cannot read, naming the field', () => {
    const ctx = { ...base, rest: { method: 'GET', path: '/openApi/entrust/currentList', params: {}, status: 200 } };
    const bad = (text: string, code: string, re: RegExp) => {
      try {
        webseaMapper.map(text, ctx);
        throw new Error('no error');
      } catch (error) {
        expect(error).toBeInstanceOf(FrameError);
        expect((error as FrameError).code).toBe(code);
        expect((error as Error).message).toMatch(re);
      }
    };
    bad('<html>503</html>', 'FRAME_NOT_JSON', /not valid JSON/);
    bad('{"result":[]}', 'FRAME_UNKNOWN_VARIANT', /envelope/);
    bad('{"errno":0,"errmsg":"success","result":{}}', 'FRAME_INVALID', /result must be a list/);
    const one = JSON.parse(webseaRestFixture('open-every-live-status').text) as { result: Record<string, unknown>[] };
    const withStatus = (status: unknown) => JSON.stringify({ errno: 0, errmsg: 'success', result: [{ ...one.result[0], status }] });
    bad(withStatus(7), 'FRAME_UNKNOWN_STATUS', /status 7/);
    bad(JSON.stringify({ errno: 0, errmsg: 'success', result: [{ ...one.result[0], ctime: '1731231231' }] }), 'FRAME_INVALID', /ctime/);
    bad(JSON.stringify({ errno: 0, errmsg: 'success', result: [{ ...one.result[0], side: 'hold' }] }), 'FRAME_INVALID', /side/);
    expect(() => webseaMapper.map('{}', { ...ctx, rest: { ...ctx.rest, path: '/openApi/wallet/list' } })).toThrow(/not an endpoint/);
  });

  it('keeps the exact digits of JSON-number ids and decimals', () => {
    const ctx = { ...base, rest: { method: 'GET', path: '/openApi/entrust/currentList', params: {}, status: 200 } };
    const text = '{"errno":0,"errmsg":"success","result":[{"order_id":12345678901234567890,"order_sn":"BL1","symbol":"BTC-USDT","ctime":"2024-11-10 17:33:51","type":2,"side":"buy","price":64000.50,"number":0.1000000000000000055511,"total_price":"6400.05","deal_number":"0","deal_price":"0","status":1}]}';
    const r = webseaMapper.map(text, ctx);
    expect(r.kind === 'orders' && r.orders[0]).toMatchObject({ price: '64000.5', quantity: '0.1000000000000000055511', extras: { restOrderId: '12345678901234567890' } });
  });
});
