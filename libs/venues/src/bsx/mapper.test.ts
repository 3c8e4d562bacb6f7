import { describe, expect, it } from 'vitest';
import type { CanonicalOrder } from '@orderstream/schemas';
import type { MapContext, MapResult } from '../types.js';
import { mapFrameError, testMapContext } from '../sim/test-context.js';
import { bsxFixture, readBsxFixtures, type BsxFixtureFile } from './fixtures.js';
import { losslessJsonText, parseBsxFrame, parseJsonLossless } from './frames.js';
import { BSX_API_VERSION, bsxLatestTrade, bsxMapper, bsxOrderType, bsxUnifiedStatus, bsxUnifiedSymbol } from './mapper.js';

const RECEIVED = 1_719_320_999_000_001;
const SOURCE = { topic: 'orders.raw.v1', partition: 2, offset: 77 };

function ctx(): MapContext {
  return testMapContext('bsx', { receivedAt: RECEIVED, source: SOURCE });
}

const fixture = (file: BsxFixtureFile, name: string) => bsxFixture(file, name).text;

function mapOrders(text: string): { orders: CanonicalOrder[]; result: MapResult } {
  const result = bsxMapper.map(text, ctx());
  if (result.kind !== 'orders') throw new Error(`expected orders, got skipped: ${result.what}`);
  return { orders: result.orders, result };
}

function mapOne(text: string): CanonicalOrder {
  const { orders } = mapOrders(text);
  expect(orders).toHaveLength(1);
  return orders[0] as CanonicalOrder;
}

const mapError = (text: string) => mapFrameError(bsxMapper, text, ctx());

/** Fields every BSX order shares in this context. */
const common = {
  venue: 'bsx',
  account: 'acc-1',
  positionSide: null,
  quoteQuantity: null,
  feeAsset: 'USDC',
  receivedAt: RECEIVED,
  source: SOURCE,
} as const;

/** The extras every doc-shaped order carries, with its own values. */
function docExtras(e: {
  created: string;
  updated: string;
  nonce: string;
  sender?: string;
  stp?: string;
  stopType?: string;
  margin: string;
  cancelRequested?: string;
  cancelRequestedAt?: string;
  cancelReason?: string;
  rejectReason?: string;
}): Record<string, string> {
  return {
    created_at_ts: e.created,
    updated_at: e.updated,
    nonce: e.nonce,
    sender: e.sender ?? '0x5b3a4c2e1d0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b',
    stp: e.stp ?? 'CANCEL_TAKER',
    order_stop_type: e.stopType ?? 'STOP_NONE',
    initial_margin: e.margin,
    cancel_requested: e.cancelRequested ?? 'false',
    cancel_requested_at: e.cancelRequestedAt ?? '0',
    cancel_reason: e.cancelReason ?? '',
    reject_reason: e.rejectReason ?? '',
    cancel_reject_reason: '',
    is_liquidation: 'false',
  };
}

const DOC_SENDER = '0xa01f2319baf9e8a344486ebafa96fb3c9f5bda05';
const noFill = { lastFillQuantity: null, lastFillPrice: null, lastFillFee: null, lastFillId: null } as const;

describe('bsxMapper identity', () => {
  it('is the bsx mapper for api version v1', () => {
    expect(bsxMapper.venue).toBe('bsx');
    expect(bsxMapper.apiVersion).toBe(BSX_API_VERSION);
    expect(BSX_API_VERSION).toBe('v1');
  });
});

describe('official doc frames', () => {
  it('maps the doc snapshot to four orders, field by field, flagged as a complete snapshot', () => {
    const { orders, result } = mapOrders(fixture('orders.jsonl', 'doc-snapshot'));
    expect(result).toMatchObject({ kind: 'orders', snapshot: { complete: true } });
    expect(orders).toEqual<CanonicalOrder[]>([
      {
        ...common,
        orderKey: 'bsx|acc-1|6cb26475-a6df-404a-b00c-3ebc2e8fc846',
        orderId: '6cb26475-a6df-404a-b00c-3ebc2e8fc846',
        clientOrderId: null,
        venueSymbol: 'BTC-PERP',
        symbol: 'BTC/USDC:USDC',
        instrumentKind: 'PERPETUAL',
        side: 'BUY',
        orderType: 'LIMIT',
        venueOrderType: 'LIMIT',
        timeInForce: 'GTC',
        status: 'NEW',
        venueStatus: 'OPEN',
        price: '55000',
        triggerPrice: null,
        quantity: '0.018',
        venueQuantity: '0.018',
        filledQuantity: '0',
        venueFilledQuantity: '0',
        filledQuoteQuantity: '0',
        averagePrice: null,
        fee: '0',
        ...noFill,
        reduceOnly: false,
        postOnly: false,
        createdAt: 1_719_319_405_611_080,
        updatedAt: 1_719_319_405_611_080,
        extras: docExtras({
          created: '1719319405611080236',
          updated: '1719319405611080236',
          nonce: '1719319405354011720',
          sender: DOC_SENDER,
          margin: '54.9528381846000009',
        }),
      },
      {
        ...common,
        orderKey: 'bsx|acc-1|b83f7c94-8779-4089-b15f-58e3d40cdfed',
        orderId: 'b83f7c94-8779-4089-b15f-58e3d40cdfed',
        clientOrderId: null,
        venueSymbol: 'BTC-PERP',
        symbol: 'BTC/USDC:USDC',
        instrumentKind: 'PERPETUAL',
        side: 'SELL',
        orderType: 'LIMIT',
        venueOrderType: 'LIMIT',
        timeInForce: 'GTC',
        status: 'PARTIALLY_FILLED',
        venueStatus: 'OPEN',
        price: '70000',
        triggerPrice: null,
        quantity: '0.014',
        venueQuantity: '0.014',
        filledQuantity: '0.011',
        venueFilledQuantity: '0.011',
        filledQuoteQuantity: '770',
        averagePrice: '70000',
        fee: '-0.0385', // a maker rebate
        ...noFill, // snapshots carry no last_trades
        reduceOnly: false,
        postOnly: false,
        createdAt: 1_718_911_292_630_380,
        updatedAt: 1_719_249_149_768_837,
        extras: docExtras({
          created: '1718911292630380000',
          updated: '1719249149768837378',
          nonce: '1718911292249923774',
          sender: DOC_SENDER,
          margin: '9.15880636410000015',
        }),
      },
      {
        ...common,
        orderKey: 'bsx|acc-1|f9d68224-5127-4dc6-98f6-037f7f178c67',
        orderId: 'f9d68224-5127-4dc6-98f6-037f7f178c67',
        clientOrderId: null,
        venueSymbol: 'ETH-PERP',
        symbol: 'ETH/USDC:USDC',
        instrumentKind: 'PERPETUAL',
        side: 'BUY',
        orderType: 'LIMIT',
        venueOrderType: 'LIMIT',
        timeInForce: 'GTC',
        status: 'PARTIALLY_FILLED',
        venueStatus: 'OPEN',
        price: '3000',
        triggerPrice: null,
        quantity: '0.23',
        venueQuantity: '0.23',
        filledQuantity: '0.2',
        venueFilledQuantity: '0.2',
        filledQuoteQuantity: '600',
        averagePrice: '3000',
        fee: '-0.03',
        ...noFill,
        reduceOnly: false,
        postOnly: false,
        createdAt: 1_718_859_866_862_498,
        updatedAt: null, // "0": never updated
        extras: docExtras({
          created: '1718859866862498000',
          updated: '0',
          nonce: '1718859866425486599',
          sender: DOC_SENDER,
          margin: '5.0493477974999985',
        }),
      },
      {
        ...common,
        orderKey: 'bsx|acc-1|572c6d1f-cb3d-4db2-8328-d164017bbfaf',
        orderId: '572c6d1f-cb3d-4db2-8328-d164017bbfaf',
        clientOrderId: null,
        venueSymbol: 'SOL-PERP',
        symbol: 'SOL/USDC:USDC',
        instrumentKind: 'PERPETUAL',
        side: 'BUY',
        orderType: 'STOP_MARKET',
        venueOrderType: 'STOP',
        timeInForce: 'IOC',
        status: 'UNTRIGGERED',
        venueStatus: 'STOP_ACCEPTED',
        price: '197.89',
        triggerPrice: '196.91',
        quantity: '8.8',
        venueQuantity: '8.8',
        filledQuantity: '0',
        venueFilledQuantity: '0',
        filledQuoteQuantity: '0',
        averagePrice: null,
        fee: '0',
        ...noFill,
        reduceOnly: true,
        postOnly: false,
        createdAt: 1_718_859_847_456_358,
        updatedAt: null,
        extras: docExtras({
          created: '1718859847456358000',
          updated: '0',
          nonce: '1718859847142017325',
          sender: DOC_SENDER,
          stopType: 'STOP_LOSS',
          margin: '0',
        }),
      },
    ]);
  });

  const docOrder = (status: 'PENDING_NEW' | 'NEW', venueStatus: string): CanonicalOrder => ({
    ...common,
    orderKey: 'bsx|acc-1|a01292c9-00f1-4c18-9d47-ec18df88d0ae',
    orderId: 'a01292c9-00f1-4c18-9d47-ec18df88d0ae',
    clientOrderId: null,
    venueSymbol: 'BTC-PERP',
    symbol: 'BTC/USDC:USDC',
    instrumentKind: 'PERPETUAL',
    side: 'BUY',
    orderType: 'LIMIT',
    venueOrderType: 'LIMIT',
    timeInForce: 'GTC',
    status,
    venueStatus,
    price: '55000',
    triggerPrice: null,
    quantity: '0.018',
    venueQuantity: '0.018',
    filledQuantity: '0',
    venueFilledQuantity: '0',
    filledQuoteQuantity: '0',
    averagePrice: null,
    fee: '0',
    ...noFill,
    reduceOnly: false,
    postOnly: false,
    createdAt: 1_719_319_688_307_036,
    updatedAt: 1_719_319_688_307_036,
    extras: docExtras({
      created: '1719319688307036691',
      updated: '1719319688307036691',
      nonce: '1719319688044650011',
      sender: DOC_SENDER,
      margin: '54.9516550639499991',
    }),
  });

  it('maps the doc PENDING update to PENDING_NEW, not a snapshot', () => {
    const { orders, result } = mapOrders(fixture('orders.jsonl', 'doc-update-pending'));
    expect(result).not.toHaveProperty('snapshot');
    expect(orders).toEqual([docOrder('PENDING_NEW', 'PENDING')]);
  });

  it('maps the doc OPEN update (same updated_at as PENDING) to NEW', () => {
    expect(mapOrders(fixture('orders.jsonl', 'doc-update-open')).orders).toEqual([docOrder('NEW', 'OPEN')]);
  });

  it('keeps every nanosecond digit in extras while createdAt/updatedAt are µs', () => {
    const o = mapOne(fixture('orders.jsonl', 'doc-update-pending'));
    expect(o.extras.created_at_ts).toBe('1719319688307036691');
    expect(o.createdAt).toBe(1_719_319_688_307_036);
    expect(Number.isSafeInteger(o.createdAt)).toBe(true);
  });
});

describe('synthetic order frames', () => {
  const btc = {
    ...common,
    orderKey: 'bsx|acc-1|c0ffee00-4b1d-4e57-9a3c-5d2b8e7f6a01',
    orderId: 'c0ffee00-4b1d-4e57-9a3c-5d2b8e7f6a01',
    clientOrderId: null,
    venueSymbol: 'BTC-PERP',
    symbol: 'BTC/USDC:USDC',
    instrumentKind: 'PERPETUAL',
    side: 'BUY',
    orderType: 'LIMIT',
    venueOrderType: 'LIMIT',
    timeInForce: 'GTC',
    price: '64000.5',
    triggerPrice: null,
    quantity: '0.05',
    venueQuantity: '0.05',
    reduceOnly: false,
    postOnly: false,
    createdAt: 1_719_319_999_000_000,
  } as const;
  const TRADE = '0x7a1e4c9b3d5f2a8e6c0b1d4f7a9c3e5b8d2f6a0c4e7b9d1f3a5c8e0b2d4f6a8';

  it('two trades in one event, listed newest first, times as JSON numbers 2 ns apart: the latest by exact time is the last fill', () => {
    expect(mapOne(fixture('orders.jsonl', 'update-open-partial-two-trades'))).toEqual<CanonicalOrder>({
      ...btc,
      status: 'PARTIALLY_FILLED',
      venueStatus: 'OPEN',
      filledQuantity: '0.03',
      venueFilledQuantity: '0.03',
      averagePrice: '64000.43333333',
      filledQuoteQuantity: '1920.0129999999',
      fee: '0.458002',
      lastFillQuantity: '0.02',
      lastFillPrice: '64000.4',
      lastFillFee: '0.522003', // trading_fee 0.512003 + sequencer_fee 0.01
      lastFillId: `${TRADE}2`,
      updatedAt: 1_719_320_000_123_456,
      extras: {
        ...docExtras({ created: '1719319999000000001', updated: '1719320000123456791', nonce: '1719319998765432109', margin: '64.0005' }),
        last_trade_time: '1719320000123456791',
        last_trade_liquidity_indicator: 'TAKER',
        last_trade_trading_fee: '0.512003',
        last_trade_sequencer_fee: '0.01',
        last_trade_funding_payment: '0',
        last_trades_count: '2',
        last_trades_ids: `${TRADE}1,${TRADE}2`,
      },
    });
  });

  it('the fill that completes the order: FILLED, cumulative figures, maker rebate as the last fill fee', () => {
    expect(mapOne(fixture('orders.jsonl', 'update-done-filled'))).toEqual<CanonicalOrder>({
      ...btc,
      status: 'FILLED',
      venueStatus: 'DONE',
      filledQuantity: '0.05',
      venueFilledQuantity: '0.05',
      averagePrice: '64000.46',
      filledQuoteQuantity: '3200.023',
      fee: '0.330001',
      lastFillQuantity: '0.02',
      lastFillPrice: '64000.5',
      lastFillFee: '-0.128001',
      lastFillId: `${TRADE}3`,
      updatedAt: 1_719_320_001_987_654,
      extras: {
        ...docExtras({ created: '1719319999000000001', updated: '1719320001987654321', nonce: '1719319998765432109', margin: '0' }),
        last_trade_time: '1719320001987654321',
        last_trade_liquidity_indicator: 'MAKER',
        last_trade_trading_fee: '-0.128001',
        last_trade_sequencer_fee: '0',
        last_trade_funding_payment: '0',
      },
    });
  });

  const eth = {
    ...common,
    orderKey: 'bsx|acc-1|5e7f9a1b-2c3d-4e5f-8a6b-7c8d9e0f1a2b',
    orderId: '5e7f9a1b-2c3d-4e5f-8a6b-7c8d9e0f1a2b',
    clientOrderId: 'my-order-7',
    venueSymbol: 'ETH-PERP',
    symbol: 'ETH/USDC:USDC',
    instrumentKind: 'PERPETUAL',
    side: 'SELL',
    orderType: 'LIMIT',
    venueOrderType: 'LIMIT',
    timeInForce: 'GTC',
    price: '3150.25',
    triggerPrice: null,
    quantity: '1.5',
    venueQuantity: '1.5',
    filledQuantity: '0',
    venueFilledQuantity: '0',
    filledQuoteQuantity: '0',
    averagePrice: null,
    fee: '0',
    ...noFill,
    reduceOnly: false,
    postOnly: true,
    createdAt: 1_719_320_050_000_000,
  } as const;

  it('cancel_requested on an OPEN order → PENDING_CANCEL', () => {
    expect(mapOne(fixture('orders.jsonl', 'update-open-cancel-requested'))).toEqual<CanonicalOrder>({
      ...eth,
      status: 'PENDING_CANCEL',
      venueStatus: 'OPEN',
      updatedAt: 1_719_320_100_000_000,
      extras: docExtras({
        created: '1719320050000000007',
        updated: '1719320100000000123',
        nonce: '1719320049999999999',
        stp: 'CANCEL_MAKER',
        margin: '236.26875',
        cancelRequested: 'true',
        cancelRequestedAt: '1719320100000000123',
      }),
    });
  });

  it('DONE by the user with nothing filled → CANCELED; no last_trades key, so no last fill', () => {
    expect(mapOne(fixture('orders.jsonl', 'update-done-canceled-user'))).toEqual<CanonicalOrder>({
      ...eth,
      status: 'CANCELED',
      venueStatus: 'DONE',
      updatedAt: 1_719_320_100_000_450,
      extras: docExtras({
        created: '1719320050000000007',
        updated: '1719320100000450001',
        nonce: '1719320049999999999',
        stp: 'CANCEL_MAKER',
        margin: '0',
        cancelRequested: 'true',
        cancelRequestedAt: '1719320100000000123',
        cancelReason: 'user',
      }),
    });
  });

  it('an update with several orders → one canonical order each, in frame order, identical to the single-order frames', () => {
    const { orders, result } = mapOrders(fixture('orders.jsonl', 'update-multi-order'));
    expect(result).not.toHaveProperty('snapshot');
    expect(orders).toEqual([mapOne(fixture('orders.jsonl', 'update-done-canceled-user')), mapOne(fixture('orders.jsonl', 'update-done-filled'))]);
  });

  it('IOC partly filled, rest canceled in the same event → CANCELED with the fill as last fill', () => {
    expect(mapOne(fixture('orders.jsonl', 'update-done-ioc-partial'))).toEqual<CanonicalOrder>({
      ...common,
      orderKey: 'bsx|acc-1|0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e',
      orderId: '0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e',
      clientOrderId: null,
      venueSymbol: 'SOL-PERP',
      symbol: 'SOL/USDC:USDC',
      instrumentKind: 'PERPETUAL',
      side: 'SELL',
      orderType: 'LIMIT',
      venueOrderType: 'LIMIT',
      timeInForce: 'IOC',
      status: 'CANCELED',
      venueStatus: 'DONE',
      price: '149.5',
      triggerPrice: null,
      quantity: '10',
      venueQuantity: '10',
      filledQuantity: '4',
      venueFilledQuantity: '4',
      filledQuoteQuantity: '598.48',
      averagePrice: '149.62',
      fee: '0.289392',
      lastFillQuantity: '4',
      lastFillPrice: '149.62',
      lastFillFee: '0.289392',
      lastFillId: '0x00000000000000000000000000000000000000000000000000000000000abc01',
      reduceOnly: false,
      postOnly: false,
      createdAt: 1_719_320_200_000_000,
      updatedAt: 1_719_320_200_000_000,
      extras: {
        ...docExtras({ created: '1719320200000000100', updated: '1719320200000000999', nonce: '1719320199000000000', margin: '0', cancelReason: 'time in force IOC' }),
        last_trade_time: '1719320200000000999',
        last_trade_liquidity_indicator: 'TAKER',
        last_trade_trading_fee: '0.239392',
        last_trade_sequencer_fee: '0.05',
        last_trade_funding_payment: '0',
      },
    });
  });

  it('DONE with a reject_reason and nothing filled → REJECTED', () => {
    expect(mapOne(fixture('orders.jsonl', 'update-done-rejected'))).toEqual<CanonicalOrder>({
      ...common,
      orderKey: 'bsx|acc-1|9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
      orderId: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
      clientOrderId: null,
      venueSymbol: 'BTC-PERP',
      symbol: 'BTC/USDC:USDC',
      instrumentKind: 'PERPETUAL',
      side: 'BUY',
      orderType: 'LIMIT',
      venueOrderType: 'LIMIT',
      timeInForce: 'GTC',
      status: 'REJECTED',
      venueStatus: 'DONE',
      price: '64100',
      triggerPrice: null,
      quantity: '0.5',
      venueQuantity: '0.5',
      filledQuantity: '0',
      venueFilledQuantity: '0',
      filledQuoteQuantity: '0',
      averagePrice: null,
      fee: '0',
      ...noFill,
      reduceOnly: false,
      postOnly: false,
      createdAt: 1_719_320_300_000_000,
      updatedAt: 1_719_320_300_000_000,
      extras: docExtras({ created: '1719320300000000001', updated: '1719320300000000002', nonce: '1719320299000000001', margin: '0', rejectReason: 'insufficient margin' }),
    });
  });

  it('GTT order run out after a partial fill ("time in force GTT") → EXPIRED; expired_at kept', () => {
    expect(mapOne(fixture('orders.jsonl', 'update-done-expired-gtt'))).toEqual<CanonicalOrder>({
      ...common,
      orderKey: 'bsx|acc-1|1f2e3d4c-5b6a-4978-8a6b-5c4d3e2f1a0b',
      orderId: '1f2e3d4c-5b6a-4978-8a6b-5c4d3e2f1a0b',
      clientOrderId: null,
      venueSymbol: 'ETH-PERP',
      symbol: 'ETH/USDC:USDC',
      instrumentKind: 'PERPETUAL',
      side: 'BUY',
      orderType: 'LIMIT',
      venueOrderType: 'LIMIT',
      timeInForce: 'GTD',
      status: 'EXPIRED',
      venueStatus: 'DONE',
      price: '3000',
      triggerPrice: null,
      quantity: '0.2',
      venueQuantity: '0.2',
      filledQuantity: '0.05',
      venueFilledQuantity: '0.05',
      filledQuoteQuantity: '150',
      averagePrice: '3000',
      fee: '-0.015',
      ...noFill, // empty last_trades
      reduceOnly: false,
      postOnly: false,
      createdAt: 1_719_320_300_000_000,
      updatedAt: 1_719_323_900_000_000,
      extras: {
        ...docExtras({ created: '1719320300000000000', updated: '1719323900000000017', nonce: '1719320299000000000', margin: '0', cancelReason: 'time in force GTT' }),
        expired_at: '1719323900000000000',
      },
    });
  });

  it('FOK not fillable → CANCELED, nothing filled', () => {
    const o = mapOne(fixture('orders.jsonl', 'update-done-fok'));
    expect(o).toEqual<CanonicalOrder>({
      ...common,
      orderKey: 'bsx|acc-1|2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d',
      orderId: '2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d',
      clientOrderId: null,
      venueSymbol: 'BTC-PERP',
      symbol: 'BTC/USDC:USDC',
      instrumentKind: 'PERPETUAL',
      side: 'SELL',
      orderType: 'LIMIT',
      venueOrderType: 'LIMIT',
      timeInForce: 'FOK',
      status: 'CANCELED',
      venueStatus: 'DONE',
      price: '63000',
      triggerPrice: null,
      quantity: '2',
      venueQuantity: '2',
      filledQuantity: '0',
      venueFilledQuantity: '0',
      filledQuoteQuantity: '0',
      averagePrice: null,
      fee: '0',
      ...noFill,
      reduceOnly: false,
      postOnly: false,
      createdAt: 1_719_320_400_000_000,
      updatedAt: 1_719_320_400_000_000,
      extras: docExtras({ created: '1719320400000000400', updated: '1719320400000000401', nonce: '1719320399000000400', margin: '0', cancelReason: 'time in force FOK' }),
    });
  });

  it('a take-profit STOP_ACCEPTED → UNTRIGGERED TAKE_PROFIT_MARKET; SDK fields and unknown fields in extras', () => {
    expect(mapOne(fixture('orders.jsonl', 'update-stop-take-profit'))).toEqual<CanonicalOrder>({
      ...common,
      orderKey: 'bsx|acc-1|3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f',
      orderId: '3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f',
      clientOrderId: null,
      venueSymbol: 'BTC-PERP',
      symbol: 'BTC/USDC:USDC',
      instrumentKind: 'PERPETUAL',
      side: 'SELL',
      orderType: 'TAKE_PROFIT_MARKET',
      venueOrderType: 'STOP',
      timeInForce: 'IOC',
      status: 'UNTRIGGERED',
      venueStatus: 'STOP_ACCEPTED',
      price: '69650',
      triggerPrice: '70000',
      quantity: '0.05',
      venueQuantity: '0.05',
      filledQuantity: '0',
      venueFilledQuantity: '0',
      filledQuoteQuantity: '0',
      averagePrice: null,
      fee: '0',
      ...noFill,
      reduceOnly: true,
      postOnly: false,
      createdAt: 1_719_320_500_000_000,
      updatedAt: null,
      extras: {
        ...docExtras({ created: '1719320500000000500', updated: '0', nonce: '1719320499000000500', stopType: 'TAKE_PROFIT', margin: '0' }),
        stop_price_option: 'LAST_TRADED_PRICE',
        liquidation_fee_rate: '0.01',
        maker_fee_rate: '-0.0001',
        taker_fee_rate: '0.0004',
        expired_at: '0',
        margin_mode: 'CROSS',
      },
    });
  });

  it('the doc stop-loss after its trigger → FILLED STOP_MARKET with its trade', () => {
    expect(mapOne(fixture('orders.jsonl', 'update-doc-stop-filled'))).toEqual<CanonicalOrder>({
      ...common,
      orderKey: 'bsx|acc-1|572c6d1f-cb3d-4db2-8328-d164017bbfaf',
      orderId: '572c6d1f-cb3d-4db2-8328-d164017bbfaf',
      clientOrderId: null,
      venueSymbol: 'SOL-PERP',
      symbol: 'SOL/USDC:USDC',
      instrumentKind: 'PERPETUAL',
      side: 'BUY',
      orderType: 'STOP_MARKET',
      venueOrderType: 'STOP',
      timeInForce: 'IOC',
      status: 'FILLED',
      venueStatus: 'DONE',
      price: '197.89',
      triggerPrice: '196.91',
      quantity: '8.8',
      venueQuantity: '8.8',
      filledQuantity: '8.8',
      venueFilledQuantity: '8.8',
      filledQuoteQuantity: '1735.36',
      averagePrice: '197.2',
      fee: '0.744144',
      lastFillQuantity: '8.8',
      lastFillPrice: '197.2',
      lastFillFee: '0.744144',
      lastFillId: '0x00000000000000000000000000000000000000000000000000000000000abc02',
      reduceOnly: true,
      postOnly: false,
      createdAt: 1_718_859_847_456_358,
      updatedAt: 1_719_320_600_000_000,
      extras: {
        ...docExtras({ created: '1718859847456358000', updated: '1719320600000000600', nonce: '1718859847142017325', sender: DOC_SENDER, stopType: 'STOP_LOSS', margin: '0' }),
        last_trade_time: '1719320600000000600',
        last_trade_liquidity_indicator: 'TAKER',
        last_trade_trading_fee: '0.694144',
        last_trade_sequencer_fee: '0.05',
        last_trade_funding_payment: '0',
      },
    });
  });

  it('an empty snapshot is still a complete snapshot (nothing is open)', () => {
    expect(bsxMapper.map(fixture('orders.jsonl', 'snapshot-empty'), ctx())).toEqual({ kind: 'orders', orders: [], snapshot: { complete: true } });
  });

  it('figures and ns times sent as JSON numbers keep their exact digits', () => {
    const o = mapOne(fixture('orders.jsonl', 'quirk-numbers'));
    expect(o).toMatchObject({ price: '64000.5', quantity: '0.05', createdAt: 1_719_319_999_000_000, updatedAt: null, status: 'NEW' });
    expect(o.extras.created_at_ts).toBe('1719319999000000001'); // a double would say ...000000000
    expect(o.extras.updated_at).toBe('0');
    expect(o.extras.initial_margin).toBe('160.00125');
  });

  it('a MARKET order with price "0" has no price', () => {
    expect(mapOne(fixture('orders.jsonl', 'quirk-market-price-zero'))).toMatchObject({ orderType: 'MARKET', price: null, timeInForce: 'IOC', status: 'PENDING_NEW' });
  });

  it('covers every documented status and the unified statuses BSX can reach', () => {
    const all = readBsxFixtures('orders.jsonl').flatMap((f) => mapOrders(f.text).orders);
    expect([...new Set(all.map((o) => o.venueStatus))].sort()).toEqual(['DONE', 'OPEN', 'PENDING', 'STOP_ACCEPTED']);
    expect([...new Set(all.map((o) => o.status))].sort()).toEqual(
      ['CANCELED', 'EXPIRED', 'FILLED', 'NEW', 'PARTIALLY_FILLED', 'PENDING_CANCEL', 'PENDING_NEW', 'REJECTED', 'UNTRIGGERED'].sort(),
    );
  });

  it('is pure: same input, same output; context untouched', () => {
    const c = ctx();
    const before = JSON.stringify(c);
    const text = fixture('orders.jsonl', 'update-open-partial-two-trades');
    expect(bsxMapper.map(text, c)).toEqual(bsxMapper.map(text, c));
    expect(JSON.stringify(c)).toBe(before);
  });
});

describe('status, type and symbol rules', () => {
  const o = (over: Partial<Parameters<typeof bsxUnifiedStatus>[0]>) =>
    bsxUnifiedStatus({ status: 'DONE', size: '1', filledSize: '0', cancelRequested: false, cancelRejectReason: '', cancelReason: '', rejectReason: '', ...over });

  it('DONE: filled size reaching size wins over any reason', () => {
    expect(o({ filledSize: '1' })).toBe('FILLED');
    expect(o({ filledSize: '1.0', cancelReason: 'user' })).toBe('FILLED');
    expect(o({ filledSize: '1', rejectReason: 'x' })).toBe('FILLED');
  });

  it('DONE short of size: REJECTED only with a reject reason and no fill; EXPIRED for GTT; CANCELED otherwise', () => {
    expect(o({ rejectReason: 'insufficient margin' })).toBe('REJECTED');
    expect(o({ rejectReason: 'insufficient margin', filledSize: '0.5' })).toBe('CANCELED');
    expect(o({ cancelReason: 'time in force GTT' })).toBe('EXPIRED');
    expect(o({ cancelReason: 'time in force GTT', filledSize: '0.2' })).toBe('EXPIRED');
    for (const reason of ['user', 'admin', 'stp', 'time in force IOC', 'time in force FOK', 'post only', 'liquidation', 'insufficient margin', 'TPSL order canceled due to position closed', '']) {
      expect(o({ cancelReason: reason })).toBe('CANCELED');
    }
  });

  it('live statuses, and a cancel request that was refused is not pending', () => {
    expect(o({ status: 'PENDING' })).toBe('PENDING_NEW');
    expect(o({ status: 'STOP_ACCEPTED' })).toBe('UNTRIGGERED');
    expect(o({ status: 'OPEN' })).toBe('NEW');
    expect(o({ status: 'OPEN', filledSize: '0.3' })).toBe('PARTIALLY_FILLED');
    expect(o({ status: 'OPEN', cancelRequested: true })).toBe('PENDING_CANCEL');
    expect(o({ status: 'OPEN', cancelRequested: true, cancelRejectReason: 'order not found' })).toBe('NEW');
    expect(o({ status: 'STOP_ACCEPTED', cancelRequested: true })).toBe('PENDING_CANCEL');
    expect(o({ status: 'CANCELLED' })).toBeUndefined();
  });

  it('order types', () => {
    expect(bsxOrderType('LIMIT', 'STOP_NONE')).toBe('LIMIT');
    expect(bsxOrderType('MARKET', null)).toBe('MARKET');
    expect(bsxOrderType('STOP', 'STOP_LOSS')).toBe('STOP_MARKET');
    expect(bsxOrderType('STOP', 'TAKE_PROFIT')).toBe('TAKE_PROFIT_MARKET');
    expect(bsxOrderType('STOP', 'STOP_NONE')).toBe('OTHER');
    expect(bsxOrderType('TWAP', null)).toBe('OTHER');
  });

  it('unified symbols: <BASE>-PERP → BASE/USDC:USDC; other shapes null and kind OTHER', () => {
    expect(bsxUnifiedSymbol('BTC-PERP')).toBe('BTC/USDC:USDC');
    expect(bsxUnifiedSymbol('1000PEPE-PERP')).toBe('1000PEPE/USDC:USDC');
    expect(bsxUnifiedSymbol('ETH_PERP')).toBeNull();
    expect(bsxUnifiedSymbol('BTC-USDC')).toBeNull();
    const text = fixture('orders.jsonl', 'doc-update-open').replace('"product_id": "BTC-PERP"', '"product_id": "BTC-USDC"');
    expect(mapOne(text)).toMatchObject({ symbol: null, instrumentKind: 'OTHER', venueSymbol: 'BTC-USDC' });
  });

  it('unknown times in force are OTHER with the raw value kept; GTT is GTD', () => {
    const text = fixture('orders.jsonl', 'doc-update-open').replace('"time_in_force": "GTC"', '"time_in_force": "DAY"');
    const m = mapOne(text);
    expect(m.timeInForce).toBe('OTHER');
    expect(m.extras.time_in_force).toBe('DAY');
  });

  it('latest trade: by exact ns time, ties → the later element', () => {
    const t = (id: string, time: string) => ({ id, price: '1', size: '1', time, liquidityIndicator: null, tradingFee: null, sequencerFee: null, fundingPayment: null, other: {} });
    expect(bsxLatestTrade([t('a', '1719320000123456791'), t('b', '1719320000123456789')])?.id).toBe('a');
    expect(bsxLatestTrade([t('a', '5'), t('b', '5')])?.id).toBe('b');
    expect(bsxLatestTrade([])).toBeUndefined();
    expect(bsxLatestTrade(null)).toBeUndefined();
  });

  it('a trade without fee fields has no last fill fee; a trade with only a trading fee uses it', () => {
    const base = fixture('orders.jsonl', 'update-done-filled');
    expect(mapOne(base.replace(',"trading_fee":"-0.128001","sequencer_fee":"0"', '')).lastFillFee).toBeNull();
    expect(mapOne(base.replace(',"sequencer_fee":"0"', '')).lastFillFee).toBe('-0.128001');
  });
});

describe('lossless JSON', () => {
  it('quotes only the numbers a double would change, never touching strings', () => {
    expect(losslessJsonText('{"a":1719320000123456791,"b":400,"c":0.5,"d":"1719320000123456791","e":1.50,"f":-0}')).toBe(
      '{"a":"1719320000123456791","b":400,"c":0.5,"d":"1719320000123456791","e":"1.50","f":"-0"}',
    );
    const same = '{"x":"a \\"quoted\\" 12345678901234567890 string","y":[1,2,3]}';
    expect(losslessJsonText(same)).toBe(same);
    expect(parseJsonLossless('[1e400, 123]')).toEqual(['1e400', 123]);
  });

  it('accepts an ns time that a double holds exactly (it stays a JSON number) and keeps its digits', () => {
    // 1795254322215999700 prints back unchanged from a double, so the lossless parse leaves it a number
    expect(losslessJsonText('{"time":1795254322215999700}')).toBe('{"time":1795254322215999700}');
    const text = fixture('orders.jsonl', 'update-done-filled').replace('"time":"1719320001987654321"', '"time":1795254322215999700');
    const o = mapOne(text);
    expect(o.extras.last_trade_time).toBe('1795254322215999700');
    expect(o.lastFillId).toMatch(/a83$/);
  });
});

describe('non-order frames are recognised and skipped', () => {
  const expected: Record<string, string> = {
    'doc-connection-id-auth': 'connection id',
    'doc-connection-id-trades': 'connection id',
    'doc-authenticated': 'authenticated',
    'doc-auth-error-key-not-found': 'auth error code 400 (api key not found)',
    'doc-auth-error-timestamp-drift': 'auth error code 400 (timestamp should be closed to current timestamp (100.854776s))',
    'doc-error-timestamp-no-channel': '(no channel) error code 400 (timestamp should be close to current timestamp)',
    'doc-orders-error-not-authenticated': 'orders error code 401 (not authenticated)',
    'doc-trades-error-unsupported': 'trades error code 400 (given channel/product is unsupported)',
    'orders-subscribed': 'orders subscribed',
    'doc-book-subscribed': 'book subscribed (ETH-PERP)',
    'doc-trades-subscribed': 'trades subscribed (BTC-PERP)',
    'doc-book-unsubscribed': 'book unsubscribed (BTC-PERP)',
    pong: 'pong',
    'doc-pong-single-quotes': 'pong',
    'doc-bye-shutdown': 'notice (bye - service is shutting down)',
    'doc-book-snapshot': 'book snapshot',
    'doc-trades-update': 'trades update',
  };
  const all = readBsxFixtures('control.jsonl');

  it('has an expectation for every control fixture', () => {
    expect(all.map((f) => f.name).sort()).toEqual(Object.keys(expected).sort());
  });

  it.each(all.map((f) => [f.name, f.text] as const))('%s', (name, text) => {
    expect(bsxMapper.map(text, ctx())).toEqual({ kind: 'skipped', what: expected[name] });
  });

  it('the parser gives the client what it needs: connection id, notice text, error code', () => {
    expect(parseBsxFrame(fixture('control.jsonl', 'doc-connection-id-auth'))).toEqual({ kind: 'connection', connectionId: '8fdad76b-bf71-42ea-9792-a1bdfbc245d2' });
    expect(parseBsxFrame(fixture('control.jsonl', 'doc-bye-shutdown'))).toEqual({ kind: 'notice', message: 'bye - service is shutting down' });
    expect(parseBsxFrame(fixture('control.jsonl', 'doc-orders-error-not-authenticated'))).toEqual({ kind: 'error', channel: 'orders', message: 'not authenticated', code: 401 });
  });
});

describe('malformed input gets the right error code and a message naming the problem', () => {
  const expected: Record<string, [code: string, mentions: string[]]> = {
    'not-json-truncated': ['FRAME_NOT_JSON', ['not valid JSON']],
    'not-json-text': ['FRAME_NOT_JSON', ['"hello"']],
    empty: ['FRAME_NOT_JSON', ['empty']],
    'json-array': ['FRAME_UNKNOWN_VARIANT', ['JSON array']],
    'json-no-type': ['FRAME_UNKNOWN_VARIANT', ['without "type"', 'channel, data']],
    'unknown-type': ['FRAME_UNKNOWN_VARIANT', ['"delta"', '"orders"']],
    'type-not-string': ['FRAME_INVALID', ['type must be a string', '7']],
    'data-not-array': ['FRAME_INVALID', ['data must be an array']],
    'order-missing-id': ['FRAME_INVALID', ['data.0.id is required']],
    'order-bad-size': ['FRAME_INVALID', ['data.0.size', '"lots"', 'a01292c9-00f1-4c18-9d47-ec18df88d0ae']],
    'order-negative-filled': ['FRAME_INVALID', ['data.0.filled_size', '"-0.1"']],
    'order-bad-side': ['FRAME_INVALID', ['data.0.side must be BUY or SELL', '"HOLD"']],
    'order-bad-created-at': ['FRAME_INVALID', ['data.0.created_at_ts', 'nanoseconds']],
    'order-bad-post-only': ['FRAME_INVALID', ['data.0.post_only', '"no"']],
    'trade-bad-time': ['FRAME_INVALID', ['data.0.last_trades.0.time', '"soon"']],
    'second-order-invalid': ['FRAME_INVALID', ['data.1.price', 'got true', 'x-2']],
    'unknown-status': ['FRAME_UNKNOWN_STATUS', ['status "CANCELLED"', 'a01292c9-00f1-4c18-9d47-ec18df88d0ae']],
  };
  const all = readBsxFixtures('malformed.jsonl');

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
    const text = fixture('orders.jsonl', 'doc-update-open').replace('"size": "0.018"', '"size": "x"').replace('"filled_size": "0"', '"filled_size": "y"');
    const e = mapError(text);
    expect(e.message).toContain('data.0.size');
    expect(e.message).toContain('data.0.filled_size');
    expect(e.details.issues).toHaveLength(2);
  });

  it('an orders frame without a channel, and a message frame with neither field, are invalid', () => {
    expect(mapError('{"type":"update","data":[]}').code).toBe('FRAME_INVALID');
    expect(mapError('{"type":"message"}').code).toBe('FRAME_INVALID');
  });

  it('non-object JSON scalars are unknown variants, not "not JSON"', () => {
    expect(mapError('42').code).toBe('FRAME_UNKNOWN_VARIANT');
    expect(mapError('"pong"').code).toBe('FRAME_UNKNOWN_VARIANT');
    expect(mapError('null').code).toBe('FRAME_UNKNOWN_VARIANT');
  });
});
