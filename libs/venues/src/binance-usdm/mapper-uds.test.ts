import { describe, expect, it } from 'vitest';
import { FrameError } from '@orderstream/kit';
import type { CanonicalOrder } from '@orderstream/schemas';
import { EMPTY_REFERENCE } from '../reference.js';
import type { MapContext } from '../types.js';
import { binanceUsdmFixture, readBinanceUsdmFixtures } from './fixtures.js';
import { BINANCE_USDM_ALGO_STATUSES, BINANCE_USDM_UDS_EXECUTION_TYPES } from './frames-uds.js';
import { BINANCE_USDM_STATUS_MAP, binanceUsdmMapper } from './mapper.js';

const ctx: MapContext = {
  venue: 'binance-usdm', account: 'acc-1', receivedAt: 1_767_225_699_000_001, source: { topic: 'orders.raw.v1', partition: 0, offset: 7 }, reference: EMPTY_REFERENCE,
};

function one(text: string): CanonicalOrder {
  const r = binanceUsdmMapper.map(text, ctx);
  if (r.kind !== 'orders') throw new Error(`expected orders, got skipped: ${r.what}`);
  expect(r.orders).toHaveLength(1);
  return r.orders[0] as CanonicalOrder;
}
const ev = (name: string) => one(binanceUsdmFixture('uds-orders.jsonl', name).text);

function thrown(text: string): FrameError {
  try {
    binanceUsdmMapper.map(text, ctx);
  } catch (error) {
    expect(error).toBeInstanceOf(FrameError);
    return error as FrameError;
  }
  throw new Error('expected a FrameError');
}

describe('ORDER_TRADE_UPDATE', () => {
  it('the official example: trailing stop, stop price kept aside, extras named as order.status names them', () => {
    const o = ev('doc-order-trade-update');
    expect(o).toMatchObject({
      orderKey: 'binance-usdm|acc-1|8886774', orderId: '8886774', clientOrderId: 'TEST', venueSymbol: 'BTCUSDT', symbol: 'BTC/USDT:USDT',
      side: 'SELL', positionSide: 'LONG', orderType: 'TRAILING_STOP_MARKET', status: 'NEW', venueStatus: 'NEW', price: null, triggerPrice: null,
      quantity: '0.001', filledQuantity: '0', filledQuoteQuantity: '0', averagePrice: null, lastFillQuantity: null, lastFillFee: null,
      createdAt: 1568879465650000, updatedAt: 1568879465650000, reduceOnly: false, postOnly: false, receivedAt: ctx.receivedAt, source: ctx.source,
    });
    expect(o.extras).toMatchObject({
      executionType: 'NEW', eventTime: '1568879465651', transactionTime: '1568879465650', stopPrice: '7103.04', origType: 'TRAILING_STOP_MARKET',
      workingType: 'CONTRACT_PRICE', activatePrice: '7476.89', priceRate: '5', priceProtect: 'false', closePosition: 'false',
      selfTradePreventionMode: 'EXPIRE_TAKER', priceMatch: 'OPPONENT', realizedProfit: '0', askNotional: '9.91',
    });
    expect(o.extras.goodTillDate).toBeUndefined();
  });

  it('x NEW: creation time from T, nothing filled', () => {
    const o = ev('x-new');
    expect(o).toMatchObject({ orderId: '9007199254740993', status: 'NEW', price: '64000', quantity: '0.1', filledQuantity: '0', filledQuoteQuantity: '0', createdAt: 1767225600000000, updatedAt: 1767225600000000 });
  });

  it('x TRADE: cumulative z, average ap, last fill l/L, the trade\'s fee n/N, int64 trade id', () => {
    const p = ev('x-trade-partial');
    expect(p).toMatchObject({ status: 'PARTIALLY_FILLED', filledQuantity: '0.04', averagePrice: '64000', lastFillQuantity: '0.04', lastFillPrice: '64000', lastFillFee: '1.024', lastFillId: '5000000001', fee: null, feeAsset: null, filledQuoteQuantity: null, createdAt: null });
    expect(p.extras).toMatchObject({ lastFillFeeAsset: 'USDT', maker: 'true', executionType: 'TRADE' });
    const f = ev('x-trade-filled');
    expect(f).toMatchObject({ status: 'FILLED', filledQuantity: '0.1', averagePrice: '63999.7', lastFillQuantity: '0.06', lastFillPrice: '63999.5', lastFillFee: '1.535988', lastFillId: '9007199254741001', updatedAt: 1767225602000000 });
  });

  it('x CANCELED (unfilled, post-only SHORT; and after a partial fill), EXPIRED, EXPIRED_IN_MATCH', () => {
    expect(ev('x-canceled')).toMatchObject({ status: 'CANCELED', side: 'SELL', positionSide: 'SHORT', postOnly: true, timeInForce: 'GTX', symbol: 'ETH/USDT:USDT', lastFillQuantity: null });
    expect(ev('x-canceled-partial')).toMatchObject({ status: 'CANCELED', filledQuantity: '0.05', averagePrice: '64000', lastFillQuantity: null });
    expect(ev('x-expired-ioc')).toMatchObject({ status: 'EXPIRED', venueStatus: 'EXPIRED', timeInForce: 'IOC', filledQuantity: '0.01', extras: expect.objectContaining({ expireReason: '2' }) });
    expect(ev('x-expired-in-match')).toMatchObject({ status: 'EXPIRED', venueStatus: 'EXPIRED_IN_MATCH', symbol: 'SOL/USDT:USDT' });
  });

  it('x AMENDMENT: the order as modified, no fill reported', () => {
    expect(ev('x-amendment')).toMatchObject({ status: 'NEW', price: '63950', lastFillQuantity: null, createdAt: null, extras: expect.objectContaining({ executionType: 'AMENDMENT' }) });
    expect(ev('x-amendment-partial')).toMatchObject({ status: 'PARTIALLY_FILLED', quantity: '0.08', filledQuantity: '0.04', lastFillQuantity: null });
  });

  it('x CALCULATED: a liquidation execution is a fill; LIQUIDATION type → OTHER', () => {
    expect(ev('x-calculated-liquidation')).toMatchObject({
      status: 'FILLED', orderType: 'OTHER', venueOrderType: 'LIQUIDATION', clientOrderId: 'autoclose-1767225607000', lastFillQuantity: '0.1', lastFillPrice: '60010', lastFillFee: '3.0005', lastFillId: '5000000009',
    });
  });

  it('REJECTED (simulator choice), STOP_MARKET trigger price, GTD, int64 max id', () => {
    expect(ev('x-rejected-sim')).toMatchObject({ status: 'REJECTED' });
    expect(ev('x-new-stop-market')).toMatchObject({ orderType: 'STOP_MARKET', price: null, triggerPrice: '62000', reduceOnly: true, extras: expect.objectContaining({ workingType: 'MARK_PRICE', priceProtect: 'true' }) });
    expect(ev('x-new-gtd')).toMatchObject({ timeInForce: 'GTD', extras: expect.objectContaining({ goodTillDate: '1767312000000' }) });
    expect(ev('int64-max-order-id').orderId).toBe('9223372036854775807');
  });

  it('covers every documented execution type and every status', () => {
    const all = readBinanceUsdmFixtures('uds-orders.jsonl').filter((f) => f.text.includes('"ORDER_TRADE_UPDATE"')).map((f) => one(f.text));
    const types = new Set(all.map((o) => o.extras.executionType));
    for (const x of BINANCE_USDM_UDS_EXECUTION_TYPES) expect(types, x).toContain(x);
    expect(new Set(all.map((o) => o.venueStatus))).toEqual(new Set(Object.keys(BINANCE_USDM_STATUS_MAP)));
  });

  it('the same state by push and by order.status agrees on every field both carry', () => {
    const push = ev('x-new');
    const answer = one(JSON.stringify({ id: '1', status: 200, result: {} }).replace('{}', '{"avgPrice":"0.00000","clientOrderId":"uds-btc-1","cumQuote":"0","executedQty":"0","orderId":9007199254740993,"origQty":"0.100","origType":"LIMIT","price":"64000.0","reduceOnly":false,"side":"BUY","positionSide":"BOTH","status":"NEW","stopPrice":"0","closePosition":false,"symbol":"BTCUSDT","time":1767225600000,"timeInForce":"GTC","type":"LIMIT","updateTime":1767225600000,"workingType":"CONTRACT_PRICE","priceProtect":false,"priceMatch":"NONE","selfTradePreventionMode":"EXPIRE_MAKER","goodTillDate":0}'));
    for (const k of ['orderKey', 'orderId', 'clientOrderId', 'symbol', 'side', 'positionSide', 'orderType', 'timeInForce', 'status', 'price', 'triggerPrice', 'quantity', 'filledQuantity', 'filledQuoteQuantity', 'averagePrice', 'reduceOnly', 'postOnly', 'createdAt', 'updatedAt'] as const) {
      expect(push[k], k).toEqual(answer[k]);
    }
    for (const k of ['origType', 'workingType', 'priceProtect', 'closePosition', 'priceMatch', 'selfTradePreventionMode']) expect(push.extras[k], k).toBe(answer.extras[k]);
  });
});

describe('ALGO_UPDATE', () => {
  it('the official example: a canceled TAKE_PROFIT, keyed by algo id, reason kept', () => {
    const o = ev('doc-algo-update');
    expect(o).toMatchObject({
      orderKey: 'binance-usdm|acc-1|algo-2148719', orderId: 'algo-2148719', clientOrderId: 'Q5xaq5EGKgXXa0fD7fs0Ip', status: 'CANCELED', venueStatus: 'CANCELED',
      orderType: 'TAKE_PROFIT_LIMIT', venueOrderType: 'TAKE_PROFIT', price: '750', triggerPrice: '750', quantity: '0.01', filledQuantity: '0', averagePrice: null,
      updatedAt: 1750515742297000,
    });
    expect(o.extras).toMatchObject({ algo: 'true', algoId: '2148719', algoType: 'CONDITIONAL', rejectReason: 'Reduce Only reject' });
    expect(o.extras.actualOrderId).toBeUndefined();
  });

  it('NEW and TRIGGERING are UNTRIGGERED with the trigger price; TRIGGERED names its actual order; FINISHED is FILLED or CANCELED by aq', () => {
    expect(ev('algo-new')).toMatchObject({ orderId: 'algo-9007199254760001', status: 'UNTRIGGERED', triggerPrice: '62000', price: null, orderType: 'STOP_MARKET', reduceOnly: true, createdAt: 1767225700000000 });
    expect(ev('algo-triggering')).toMatchObject({ status: 'UNTRIGGERED', venueStatus: 'TRIGGERING', extras: expect.objectContaining({ triggerTime: '1767225701000' }) });
    const t = ev('algo-triggered');
    expect(t).toMatchObject({ status: 'NEW', venueStatus: 'TRIGGERED', extras: expect.objectContaining({ actualOrderId: '9007199254770001', actualOrderType: 'MARKET' }) });
    expect(ev('algo-finished-filled')).toMatchObject({ status: 'FILLED', filledQuantity: '0.1', averagePrice: '61990' });
    expect(ev('algo-finished-canceled')).toMatchObject({ status: 'CANCELED', filledQuantity: '0.04', orderType: 'STOP_LIMIT', price: '61900' });
    expect(ev('algo-rejected')).toMatchObject({ status: 'REJECTED', extras: expect.objectContaining({ rejectReason: 'Margin is insufficient.' }) });
    expect(ev('algo-expired')).toMatchObject({ status: 'EXPIRED', timeInForce: 'OTHER', extras: expect.objectContaining({ timeInForce: 'GTE_GTC', closePosition: 'true' }) });
    expect(ev('algo-trailing')).toMatchObject({ triggerPrice: null, extras: expect.objectContaining({ triggerPriceIgnored: '63000' }) });
  });

  it('covers every algo status', () => {
    const seen = new Set(readBinanceUsdmFixtures('uds-orders.jsonl').filter((f) => f.text.includes('"ALGO_UPDATE"')).map((f) => one(f.text).venueStatus));
    for (const s of BINANCE_USDM_ALGO_STATUSES) expect(seen, s).toContain(s);
  });
});

describe('other user data events', () => {
  it.each(readBinanceUsdmFixtures('uds-other.jsonl').map((f) => [f.name, f.text] as const))('%s is skipped', (_name, text) => {
    const r = binanceUsdmMapper.map(text, ctx);
    expect(r.kind).toBe('skipped');
  });

  it('names what it skipped', () => {
    const r = binanceUsdmMapper.map(binanceUsdmFixture('uds-other.jsonl', 'trade-lite').text, ctx);
    expect(r).toEqual({ kind: 'skipped', what: 'user data event TRADE_LITE' });
  });
});

describe('malformed user data events', () => {
  const expected: Record<string, [string, string[]]> = {
    'uds-unknown-event': ['FRAME_UNKNOWN_VARIANT', ['SOMETHING_NEW']],
    'uds-unknown-status': ['FRAME_UNKNOWN_STATUS', ['o.X', 'NEW_ADL', '9007199254740993']],
    'uds-float-order-id': ['FRAME_INVALID', ['o.i', '9.007199254740993e15']],
    'uds-missing-quantity': ['FRAME_INVALID', ['o.q', 'required']],
    'uds-algo-unknown-status': ['FRAME_UNKNOWN_STATUS', ['PAUSED', '9007199254760001']],
    'uds-order-not-object': ['FRAME_INVALID', ['o']],
  };
  const all = readBinanceUsdmFixtures('uds-malformed.jsonl');
  it('has an expectation for every fixture', () => expect(all.map((f) => f.name).sort()).toEqual(Object.keys(expected).sort()));
  it.each(all.map((f) => [f.name, f.text] as const))('%s', (name, text) => {
    const [code, mentions] = expected[name] as [string, string[]];
    const e = thrown(text);
    expect(e.code).toBe(code);
    for (const m of mentions) expect(e.message).toContain(m);
  });
});
