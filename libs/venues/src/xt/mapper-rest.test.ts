import { describe, expect, it } from 'vitest';
import { FrameError } from '@orderstream/kit';
import type { CanonicalOrder } from '@orderstream/schemas';
import type { ReferenceData } from '../reference.js';
import type { MapContext, MapResult } from '../types.js';
import { testRestContext } from '../sim/test-context.js';
import { readXtFixtures, xtFixture } from './fixtures.js';
import { xtMapper } from './mapper.js';

const REFERENCE: ReferenceData = { xt: { btc_usdt: { contractSize: '0.0001' }, eth_usdt: { contractSize: '0.01' } } };

function ctxFor(request: string, status = 200): MapContext {
  return testRestContext('xt', request, status, { receivedAt: 1_731_231_299_000_001, source: { topic: 'orders.raw.v1', partition: 1, offset: 7 }, reference: REFERENCE });
}

function mapFixture(name: string): MapResult {
  const f = xtFixture('rest.jsonl', name);
  return xtMapper.map(f.text, ctxFor(f.request as string, f.status));
}

function ordersOf(name: string): CanonicalOrder[] {
  const r = mapFixture(name);
  if (r.kind !== 'orders') throw new Error(`expected orders, got skipped: ${r.what}`);
  return r.orders;
}

function errorOf(fn: () => unknown): FrameError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(FrameError);
    return error as FrameError;
  }
  throw new Error('expected the mapper to throw');
}

describe('REST fixtures', () => {
  it('every fixture names its request and status', () => {
    const all = readXtFixtures('rest.jsonl');
    expect(all.length).toBeGreaterThanOrEqual(10);
    for (const f of all) {
      expect(f.request, f.name).toMatch(/^GET \/future\/trade\/v1\/order\//);
      expect(typeof f.status, f.name).toBe('number');
    }
  });
});

describe('XT REST answers → canonical orders', () => {
  it('maps CCXT\'s order/list page field by field (same orderKey, units and status table as a push; ms times)', () => {
    const [o, ...rest] = ordersOf('ccxt-list-page');
    expect(rest).toEqual([]);
    expect(o).toEqual<CanonicalOrder>({
      orderKey: 'xt|acc-1|207519546930995456',
      venue: 'xt',
      account: 'acc-1',
      orderId: '207519546930995456',
      clientOrderId: null,
      venueSymbol: 'btc_usdt',
      symbol: 'BTC/USDT:USDT',
      instrumentKind: 'PERPETUAL',
      side: 'BUY',
      positionSide: 'LONG',
      orderType: 'LIMIT',
      venueOrderType: 'LIMIT',
      timeInForce: 'GTC',
      status: 'CANCELED',
      venueStatus: 'CANCELED',
      price: '20000',
      triggerPrice: null,
      quantity: '0.01',
      venueQuantity: '100',
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
      reduceOnly: null,
      postOnly: false,
      createdAt: 1_679_178_515_689_000,
      updatedAt: 1_679_180_096_172_000,
      receivedAt: 1_731_231_299_000_001,
      source: { topic: 'orders.raw.v1', partition: 1, offset: 7 },
      extras: {
        marginFrozen: '4.12',
        sourceType: 'DEFAULT',
        createdTime: '1679178515689',
        updatedTime: '1679180096172',
        closePosition: 'false',
        forceClose: 'false',
      },
    });
  });

  it('maps the history page and the detail answer of the same order to the same canonical figures', () => {
    const [h] = ordersOf('ccxt-history-page');
    const [d] = ordersOf('ccxt-detail');
    const [l] = ordersOf('ccxt-list-page');
    expect(h).toEqual(l);
    expect(d).toEqual(l);
  });

  it('maps the list-open-order doc example (clientOrderId, leverage, positionType; unknown fields to extras, exact digits)', () => {
    const [o] = ordersOf('xtrepo-open-orders');
    expect(o).toMatchObject({
      orderKey: 'xt|acc-1|538511221008857280',
      clientOrderId: 'myOrder123',
      venueSymbol: 'eth_usdt',
      symbol: 'ETH/USDT:USDT',
      status: 'NEW',
      price: '4009.94',
      venueQuantity: '12',
      quantity: '0.12',
      filledQuantity: '0',
      averagePrice: null,
      createdAt: 1_758_093_080_143_000,
      updatedAt: 1_758_093_080_371_000,
    });
    expect(o?.extras).toMatchObject({
      contractSize: '0.01',
      markPrice: '4543.73',
      welfareAccount: 'false',
      leverage: '6',
      positionType: 'ISOLATED',
      marginFrozen: '80.48751569',
    });
    // nulls carry nothing
    expect(o?.extras).not.toHaveProperty('remark');
  });

  it('maps every documented status word exactly as for pushes, with units and fills', () => {
    const byId = new Map(ordersOf('history-every-state').map((o) => [o.orderId, o]));
    const pick = (id: string) => {
      const o = byId.get(id) as CanonicalOrder;
      return [o.venueStatus, o.status, o.venueFilledQuantity, o.filledQuantity, o.averagePrice, o.filledQuoteQuantity];
    };
    expect(pick('387755326502375010')).toEqual(['NEW', 'NEW', '0', '0', null, '0']);
    expect(pick('387755326502375011')).toEqual(['PARTIALLY_FILLED', 'PARTIALLY_FILLED', '40', '0.004', '64000.5', '256.002']);
    expect(pick('387755326502375012')).toEqual(['FILLED', 'FILLED', '100', '0.01', '64000.38', '640.0038']);
    expect(pick('387755326502375013')).toEqual(['PARTIALLY_CANCELED', 'CANCELED', '40', '0.004', '64000.5', '256.002']);
    expect(pick('387755326502375014')).toEqual(['CANCELED', 'CANCELED', '0', '0', null, '0']);
    expect(pick('387755326502375015')).toEqual(['REJECTED', 'REJECTED', '0', '0', null, '0']);
    expect(pick('387755326502375016')).toEqual(['EXPIRED', 'EXPIRED', '0', '0', null, '0']);
    expect(byId.get('387755326502375014')).toMatchObject({ side: 'SELL', positionSide: 'SHORT', timeInForce: 'GTX', postOnly: true, quantity: '0.25' });
    expect(byId.get('387755326502375015')).toMatchObject({ orderType: 'MARKET', price: null });
    expect(byId.get('387755326502375012')?.updatedAt).toBe(1_731_231_233_002_000);
  });

  it('a list answer becomes one canonical record per order, in the answer\'s order', () => {
    expect(ordersOf('list-unfinished-page-1-of-2').map((o) => o.orderId)).toEqual(['387755326502375010', '387755326502375011']);
  });

  it('skips empty lists, a detail of an order XT does not know, and error envelopes in a 2xx body (naming the code)', () => {
    expect(mapFixture('list-empty')).toEqual({ kind: 'skipped', what: 'empty order list' });
    expect(mapFixture('history-empty')).toEqual({ kind: 'skipped', what: 'empty order list' });
    expect(mapFixture('detail-no-such-order')).toEqual({ kind: 'skipped', what: 'order detail: no such order 1' });
    expect(mapFixture('error-connection-refused')).toEqual({ kind: 'skipped', what: 'error envelope code 400 (Connection refused: /10.0.26.71:8080)' });
    expect(mapFixture('error-invalid-symbol')).toEqual({ kind: 'skipped', what: 'error envelope code invalid_symbol (invalid symbol)' });
    expect(mapFixture('error-symbol-not-supported')).toMatchObject({ kind: 'skipped', what: expect.stringContaining('symbol_not_support_trading_via_api') });
    expect(mapFixture('error-rate-limited')).toMatchObject({ kind: 'skipped', what: expect.stringContaining('code 429') });
    expect(mapFixture('error-auth-103')).toMatchObject({ kind: 'skipped', what: expect.stringContaining('AUTH_103') });
  });

  it('refuses XT\'s doc template (empty strings for symbol, side and state) with FRAME_INVALID naming the fields', () => {
    const e = errorOf(() => mapFixture('xtrepo-detail-template'));
    expect(e.code).toBe('FRAME_INVALID');
    expect(e.message).toContain('result.symbol');
    expect(e.message).toContain('result.orderSide');
  });

  it('dead-letters what it cannot read: not JSON, no envelope, unknown path, unknown state', () => {
    const list = 'GET /future/trade/v1/order/list?page=1&size=100&state=UNFINISHED';
    expect(errorOf(() => xtMapper.map('<html>busy</html>', ctxFor(list))).code).toBe('FRAME_NOT_JSON');
    expect(errorOf(() => xtMapper.map('[1]', ctxFor(list))).code).toBe('FRAME_UNKNOWN_VARIANT');
    expect(errorOf(() => xtMapper.map('{"result":{"items":[]}}', ctxFor(list))).code).toBe('FRAME_INVALID');
    const ok = xtFixture('rest.jsonl', 'ccxt-detail').text;
    expect(errorOf(() => xtMapper.map(ok, ctxFor('GET /future/user/v1/balance/list'))).code).toBe('FRAME_UNKNOWN_VARIANT');
    const plan = ok.replace('"state":"CANCELED"', '"state":"NOT_TRIGGERED"');
    const e = errorOf(() => xtMapper.map(plan, ctxFor('GET /future/trade/v1/order/detail?orderId=207519546930995456')));
    expect(e.code).toBe('FRAME_UNKNOWN_STATUS');
    expect(e.message).toContain('result.state');
    const badItem = xtFixture('rest.jsonl', 'history-every-state').text.replace('"executedQty":"40"', '"executedQty":true');
    const bad = errorOf(() => xtMapper.map(badItem, ctxFor('GET /future/trade/v1/order/list-history?limit=100')));
    expect(bad.code).toBe('FRAME_INVALID');
    expect(bad.message).toContain('result.items.1.executedQty');
  });

  it('keeps an orderId beyond 2^53 sent as a JSON number exact', () => {
    const text = '{"returnCode":0,"msgInfo":"success","error":null,"result":{"orderId":387755326502374984,"symbol":"btc_usdt","orderType":"LIMIT","orderSide":"BUY","positionSide":"LONG","timeInForce":"GTC","price":"1","origQty":"1","avgPrice":"0","executedQty":"0","state":"NEW","createdTime":1731231231456,"updatedTime":1731231231456}}';
    const r = xtMapper.map(text, ctxFor('GET /future/trade/v1/order/detail?orderId=387755326502374984'));
    expect(r.kind === 'orders' ? r.orders[0]?.orderId : r.what).toBe('387755326502374984');
  });

  it('a push is still a push: without ctx.rest the REST shapes are not read', () => {
    const { rest: _rest, ...pushCtx } = ctxFor('GET /x');
    expect(errorOf(() => xtMapper.map(xtFixture('rest.jsonl', 'ccxt-detail').text, pushCtx)).code).toBe('FRAME_UNKNOWN_VARIANT');
  });
});
