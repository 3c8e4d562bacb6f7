import { describe, expect, it } from 'vitest';
import type { CanonicalOrder } from '@orderstream/schemas';
import { mapFrameError, mapOneOrder, testMapContext } from '../sim/test-context.js';
import { readWebseaFixtures, webseaFixture, type WebseaFixtureFile } from './fixtures.js';
import { parseWebseaFrame, WEBSEA_ORDER_STATUSES } from './frames.js';
import { WEBSEA_API_VERSION, WEBSEA_STATUS_MAP, webseaExecutionId, webseaMapper, webseaUnifiedSymbol } from './mapper.js';

const ctx = testMapContext('websea', { receivedAt: 1_731_231_299_000_001, source: { topic: 'orders.raw.v1', partition: 2, offset: 77 } });

const mapOne = (text: string) => mapOneOrder(webseaMapper, text, ctx);

const mapError = (text: string) => mapFrameError(webseaMapper, text, ctx);

const fixture = (file: WebseaFixtureFile, name: string) => webseaFixture(file, name).text;

/** Every field a WebSea record has the same way, whatever the push. */
const COMMON = {
  venue: 'websea',
  account: 'acc-1',
  clientOrderId: null,
  instrumentKind: 'SPOT',
  positionSide: null,
  timeInForce: null,
  filledQuantity: null,
  venueFilledQuantity: null,
  filledQuoteQuantity: null,
  averagePrice: null,
  fee: null,
  feeAsset: null,
  reduceOnly: null,
  postOnly: null,
  receivedAt: 1_731_231_299_000_001,
  source: { topic: 'orders.raw.v1', partition: 2, offset: 77 },
} as const;

describe('webseaMapper identity', () => {
  it('is the websea mapper for api version v1', () => {
    expect(webseaMapper.venue).toBe('websea');
    expect(webseaMapper.apiVersion).toBe(WEBSEA_API_VERSION);
    expect(WEBSEA_API_VERSION).toBe('v1');
  });

  it('maps every documented status explicitly', () => {
    expect(Object.keys(WEBSEA_STATUS_MAP).sort()).toEqual([...WEBSEA_ORDER_STATUSES].sort());
    expect(WEBSEA_STATUS_MAP).toEqual({
      NEW: 'NEW',
      PARTIALLY_FILLED: 'PARTIALLY_FILLED',
      FILLED: 'FILLED',
      PARTIALLY_CANCELED: 'CANCELED',
      CANCELED: 'CANCELED',
    });
  });

  it('unified symbols: BASE/QUOTE, upper-cased; anything else null', () => {
    expect(webseaUnifiedSymbol('BTC-USDT')).toBe('BTC/USDT');
    expect(webseaUnifiedSymbol('eth-usdt')).toBe('ETH/USDT');
    expect(webseaUnifiedSymbol('币安人生-USDT')).toBe('币安人生/USDT');
    expect(webseaUnifiedSymbol('BTCUSDT')).toBeNull();
    expect(webseaUnifiedSymbol('A-B-C')).toBeNull();
  });
});

describe('order pushes, field by field', () => {
  it('the WSDOC spot push example (amount "", last_* "", order ts "", no entrust_time)', () => {
    expect(mapOne(fixture('orders.jsonl', 'wsdoc-spot-push-example'))).toEqual<CanonicalOrder>({
      ...COMMON,
      orderKey: 'websea|acc-1|BL2217102085443303CZQ2P',
      orderId: 'BL2217102085443303CZQ2P',
      venueSymbol: 'ETH-USDT',
      symbol: 'ETH/USDT',
      side: 'BUY',
      orderType: 'LIMIT',
      venueOrderType: 'LIMIT',
      status: 'NEW',
      venueStatus: 'NEW',
      price: '3800',
      triggerPrice: null,
      // amount "" in the doc's own example: unknown, never guessed
      quantity: null,
      venueQuantity: null,
      quoteQuantity: null,
      lastFillQuantity: null,
      lastFillPrice: null,
      lastFillFee: null,
      lastFillId: null,
      createdAt: null,
      updatedAt: 1_710_208_544_000_000,
      extras: { event: 'NEW', ts: '1710208544' },
    });
  });

  it('the doc table example values (a last execution on an event NEW: counted as an execution)', () => {
    expect(mapOne(fixture('orders.jsonl', 'doc-table-example-values'))).toEqual<CanonicalOrder>({
      ...COMMON,
      orderKey: 'websea|acc-1|BG5000181583375122413SZXEIX',
      orderId: 'BG5000181583375122413SZXEIX',
      venueSymbol: 'BTC-USDT',
      symbol: 'BTC/USDT',
      side: 'SELL',
      orderType: 'LIMIT',
      venueOrderType: 'LIMIT',
      status: 'NEW',
      venueStatus: 'NEW',
      price: '68000',
      triggerPrice: '70000',
      quantity: '20',
      venueQuantity: '20',
      quoteQuantity: null,
      lastFillQuantity: '12',
      lastFillPrice: '68000',
      lastFillFee: '0.23',
      lastFillId: 'BG5000181583375122413SZXEIX/1502448920/12/68000/0.23',
      createdAt: 1_502_448_920_000_000,
      updatedAt: 1_502_448_920_000_000,
      extras: { event: 'NEW', ts: '1502448920', executionTs: '1502448920', entrustTime: '1502448920', amountUnit: 'base' },
    });
  });

  it('the doc table values as a TRADE: PARTIALLY_FILLED, same execution id (event and status are not part of it)', () => {
    const o = mapOne(fixture('orders.jsonl', 'doc-table-values-as-trade'));
    expect(o).toMatchObject({ status: 'PARTIALLY_FILLED', venueStatus: 'PARTIALLY_FILLED', extras: { event: 'TRADE' } });
    expect(o.lastFillId).toBe(mapOne(fixture('orders.jsonl', 'doc-table-example-values')).lastFillId);
  });

  it('a limit order through NEW → TRADE → TRADE (FILLED): last fill per push, cumulative fields null', () => {
    const created = mapOne(fixture('orders.jsonl', 'limit-new'));
    expect(created).toEqual<CanonicalOrder>({
      ...COMMON,
      orderKey: 'websea|acc-1|BL2217312312313303AAAAA',
      orderId: 'BL2217312312313303AAAAA',
      venueSymbol: 'BTC-USDT',
      symbol: 'BTC/USDT',
      side: 'BUY',
      orderType: 'LIMIT',
      venueOrderType: 'LIMIT',
      status: 'NEW',
      venueStatus: 'NEW',
      price: '64000.5',
      triggerPrice: null,
      quantity: '0.5',
      venueQuantity: '0.5',
      quoteQuantity: null,
      lastFillQuantity: null,
      lastFillPrice: null,
      lastFillFee: null,
      lastFillId: null,
      createdAt: 1_731_231_231_000_000,
      updatedAt: 1_731_231_231_000_000,
      extras: { event: 'NEW', ts: '1731231231', entrustTime: '1731231231', amountUnit: 'base' },
    });
    const first = mapOne(fixture('orders.jsonl', 'limit-trade-partial'));
    expect(first).toEqual<CanonicalOrder>({
      ...created,
      status: 'PARTIALLY_FILLED',
      venueStatus: 'PARTIALLY_FILLED',
      lastFillQuantity: '0.2',
      lastFillPrice: '64000.5',
      lastFillFee: '0.0002',
      lastFillId: 'BL2217312312313303AAAAA/1731231235/0.2/64000.5/0.0002',
      updatedAt: 1_731_231_235_000_000,
      extras: { event: 'TRADE', ts: '1731231235', executionTs: '1731231235', entrustTime: '1731231231', amountUnit: 'base' },
    });
    const second = mapOne(fixture('orders.jsonl', 'limit-trade-filled'));
    expect(second).toEqual<CanonicalOrder>({
      ...created,
      status: 'FILLED',
      venueStatus: 'FILLED',
      // "64000.30", "0.30", "0.00030" normalized
      lastFillQuantity: '0.3',
      lastFillPrice: '64000.3',
      lastFillFee: '0.0003',
      lastFillId: 'BL2217312312313303AAAAA/1731231240/0.3/64000.3/0.0003',
      updatedAt: 1_731_231_240_000_000,
      extras: { event: 'TRADE', ts: '1731231240', executionTs: '1731231240', entrustTime: '1731231231', amountUnit: 'base' },
    });
  });

  it('a re-sent push of the same execution (only the push ts differs) gets the same lastFillId', () => {
    const original = mapOne(fixture('orders.jsonl', 'limit-trade-partial'));
    const resent = mapOne(fixture('orders.jsonl', 'limit-trade-partial-resent'));
    expect(resent.lastFillId).toBe(original.lastFillId);
    expect(resent.updatedAt).toBe(1_731_231_299_000_000);
    expect({ ...resent, updatedAt: 0, extras: {} }).toEqual({ ...original, updatedAt: 0, extras: {} });
    // and a byte-identical duplicate maps to an identical record
    expect(mapOne(fixture('orders.jsonl', 'limit-trade-partial'))).toEqual(original);
  });

  it('cancel with nothing executed', () => {
    expect(mapOne(fixture('orders.jsonl', 'limit-canceled'))).toEqual<CanonicalOrder>({
      ...COMMON,
      orderKey: 'websea|acc-1|BL2217312312313303BBBBB',
      orderId: 'BL2217312312313303BBBBB',
      venueSymbol: 'ETH-USDT',
      symbol: 'ETH/USDT',
      side: 'SELL',
      orderType: 'LIMIT',
      venueOrderType: 'LIMIT',
      status: 'CANCELED',
      venueStatus: 'CANCELED',
      price: '3150.25',
      triggerPrice: null,
      quantity: '2.5',
      venueQuantity: '2.5',
      quoteQuantity: null,
      lastFillQuantity: null,
      lastFillPrice: null,
      lastFillFee: null,
      lastFillId: null,
      createdAt: 1_731_231_300_000_000,
      updatedAt: 1_731_231_310_000_000,
      extras: { event: 'CANCELED', ts: '1731231310', entrustTime: '1731231300', amountUnit: 'base' },
    });
  });

  it('partial fill then PARTIALLY_CANCELED → CANCELED; a cancel repeating the last execution yields the same id', () => {
    const trade = mapOne(fixture('orders.jsonl', 'partial-trade'));
    expect(trade).toMatchObject({
      status: 'PARTIALLY_FILLED',
      lastFillQuantity: '1',
      lastFillPrice: '3150.25',
      lastFillFee: '1.575125',
      lastFillId: 'BL2217312312313303CCCCC/1731231320/1/3150.25/1.575125',
    });
    const canceled = mapOne(fixture('orders.jsonl', 'partial-canceled'));
    expect(canceled).toMatchObject({
      status: 'CANCELED',
      venueStatus: 'PARTIALLY_CANCELED',
      lastFillQuantity: null,
      lastFillId: null,
      updatedAt: 1_731_231_330_000_000,
      extras: { event: 'CANCELED', ts: '1731231330', entrustTime: '1731231300', amountUnit: 'base' },
    });
    const repeating = mapOne(fixture('orders.jsonl', 'partial-canceled-repeating-last-fill'));
    expect(repeating).toMatchObject({ status: 'CANCELED', venueStatus: 'PARTIALLY_CANCELED', lastFillQuantity: '1' });
    expect(repeating.lastFillId).toBe(trade.lastFillId);
  });

  it('market BUY: amount is the quote notional → quoteQuantity, quantity null; price "" → null', () => {
    expect(mapOne(fixture('orders.jsonl', 'market-buy-new'))).toEqual<CanonicalOrder>({
      ...COMMON,
      orderKey: 'websea|acc-1|BL2217312312313303DDDDD',
      orderId: 'BL2217312312313303DDDDD',
      venueSymbol: 'BTC-USDT',
      symbol: 'BTC/USDT',
      side: 'BUY',
      orderType: 'MARKET',
      venueOrderType: 'MARKET',
      status: 'NEW',
      venueStatus: 'NEW',
      price: null,
      triggerPrice: null,
      quantity: null,
      venueQuantity: null,
      quoteQuantity: '1000',
      lastFillQuantity: null,
      lastFillPrice: null,
      lastFillFee: null,
      lastFillId: null,
      createdAt: 1_731_231_400_000_000,
      updatedAt: 1_731_231_400_000_000,
      extras: { event: 'NEW', ts: '1731231400', entrustTime: '1731231400', amountUnit: 'quote' },
    });
    expect(mapOne(fixture('orders.jsonl', 'market-buy-filled'))).toMatchObject({
      status: 'FILLED',
      quantity: null,
      quoteQuantity: '1000',
      lastFillQuantity: '0.015',
      lastFillPrice: '64010.1',
      lastFillFee: '0.00003',
      lastFillId: 'BL2217312312313303DDDDD/1731231401/0.015/64010.1/0.00003',
    });
  });

  it('market SELL: amount is the base quantity', () => {
    expect(mapOne(fixture('orders.jsonl', 'market-sell-filled'))).toMatchObject({
      side: 'SELL',
      orderType: 'MARKET',
      status: 'FILLED',
      price: null,
      quantity: '0.01',
      venueQuantity: '0.01',
      quoteQuantity: null,
      lastFillQuantity: '0.01',
      lastFillPrice: '63990',
      lastFillFee: '1.2798',
      extras: { amountUnit: 'base', event: 'TRADE' },
    });
  });

  it('trigger_price is normalized into triggerPrice', () => {
    expect(mapOne(fixture('orders.jsonl', 'trigger-price'))).toMatchObject({ triggerPrice: '70000', price: '69000', quantity: '0.1', lastFillId: null });
  });

  it('tolerates lower-case side, omitted optional fields, numbers, string times, unknown fields', () => {
    expect(mapOne(fixture('orders.jsonl', 'quirk-lower-case-side')).side).toBe('SELL');

    const omitted = mapOne(fixture('orders.jsonl', 'quirk-omitted-fields'));
    expect(omitted).toMatchObject({ quantity: '1.2', createdAt: null, lastFillId: null, extras: { event: 'NEW', ts: '1731231800', amountUnit: 'base' } });
    expect(omitted.extras).not.toHaveProperty('entrustTime');

    const numbers = mapOne(fixture('orders.jsonl', 'quirk-numbers-and-string-times'));
    expect(numbers).toMatchObject({
      quantity: '12.5',
      price: '150.125',
      lastFillQuantity: '2.5',
      lastFillPrice: '150.125',
      // a double holds 1.23456789e-17; the exact digits come from the frame text
      lastFillFee: '0.0000000000000000123456789',
      lastFillId: 'BL2217312312313303IIIII/1731231900/2.5/150.125/0.0000000000000000123456789',
      createdAt: 1_731_231_899_000_000,
      updatedAt: 1_731_231_900_000_000,
    });

    const unknown = mapOne(fixture('orders.jsonl', 'quirk-unknown-fields'));
    expect(unknown.extras).toEqual({
      event: 'NEW',
      ts: '1731232000',
      entrustTime: '1731231300',
      amountUnit: 'base',
      client_oid: 'my-7',
      is_maker: 'false',
      fee_coin: 'USDT',
    });
    // a fee currency in an unknown field is kept, never promoted to feeAsset (undocumented)
    expect(unknown.feeAsset).toBeNull();
    expect(unknown.clientOrderId).toBeNull();
  });

  it('times in ms are detected by magnitude; a negative fee (rebate) is kept', () => {
    expect(mapOne(fixture('orders.jsonl', 'quirk-ms-times-negative-fee'))).toMatchObject({
      createdAt: 1_731_232_000_456_000,
      updatedAt: 1_731_232_100_123_000,
      lastFillFee: '-0.0015',
      lastFillId: 'BL2217312312313303KKKKK/1731232100123/3/3001/-0.0015',
      status: 'FILLED',
    });
  });

  it('a non-ASCII symbol maps (UTF-8 survives)', () => {
    expect(mapOne(fixture('orders.jsonl', 'utf8-symbol'))).toMatchObject({ venueSymbol: '币安人生-USDT', symbol: '币安人生/USDT', lastFillQuantity: '100' });
  });

  it('every order fixture maps to exactly one record with string decimals and SPOT', () => {
    const all = readWebseaFixtures('orders.jsonl');
    expect(all.length).toBeGreaterThanOrEqual(20);
    const statuses = new Set<string>();
    for (const f of all) {
      const o = mapOne(f.text);
      statuses.add(o.venueStatus);
      expect(o.instrumentKind).toBe('SPOT');
      expect(o.orderKey).toBe(`websea|acc-1|${o.orderId}`);
      for (const k of ['price', 'quantity', 'quoteQuantity', 'lastFillQuantity', 'lastFillPrice', 'lastFillFee'] as const) {
        expect(o[k] === null || typeof o[k] === 'string').toBe(true);
      }
      // cumulative figures are never in a WebSea record: order-state sums executions
      expect([o.filledQuantity, o.venueFilledQuantity, o.averagePrice, o.fee, o.feeAsset]).toEqual([null, null, null, null, null]);
      // lastFill* come as a group
      expect(o.lastFillId === null).toBe(o.lastFillQuantity === null);
    }
    expect([...statuses].sort()).toEqual([...WEBSEA_ORDER_STATUSES].sort());
  });
});

/** A complete WebSea record: identity and the fields every push has, with everything else null unless given. */
function rec(
  o: Pick<CanonicalOrder, 'orderId' | 'venueSymbol' | 'symbol' | 'side' | 'orderType' | 'status' | 'venueStatus' | 'createdAt' | 'updatedAt' | 'extras'> &
    Partial<CanonicalOrder>,
): CanonicalOrder {
  return {
    ...COMMON,
    orderKey: `websea|acc-1|${o.orderId}`,
    venueOrderType: o.orderType,
    price: null,
    triggerPrice: null,
    quantity: null,
    venueQuantity: null,
    quoteQuantity: null,
    lastFillQuantity: null,
    lastFillPrice: null,
    lastFillFee: null,
    lastFillId: null,
    ...o,
  } as CanonicalOrder;
}

const S = 1_000_000; // seconds → µs
const ETH_SELL = { venueSymbol: 'ETH-USDT', symbol: 'ETH/USDT', side: 'SELL', orderType: 'LIMIT', price: '3150.25', quantity: '2.5', venueQuantity: '2.5' } as const;

/** Every order fixture, complete. */
const FULL: Record<string, CanonicalOrder> = {
  'doc-table-values-as-trade': rec({
    orderId: 'BG5000181583375122413SZXEIX', venueSymbol: 'BTC-USDT', symbol: 'BTC/USDT', side: 'SELL', orderType: 'LIMIT',
    status: 'PARTIALLY_FILLED', venueStatus: 'PARTIALLY_FILLED', price: '68000', triggerPrice: '70000', quantity: '20', venueQuantity: '20',
    lastFillQuantity: '12', lastFillPrice: '68000', lastFillFee: '0.23', lastFillId: 'BG5000181583375122413SZXEIX/1502448920/12/68000/0.23',
    createdAt: 1_502_448_920 * S, updatedAt: 1_502_448_920 * S,
    extras: { event: 'TRADE', ts: '1502448920', executionTs: '1502448920', entrustTime: '1502448920', amountUnit: 'base' },
  }),
  'limit-trade-partial-resent': rec({
    orderId: 'BL2217312312313303AAAAA', venueSymbol: 'BTC-USDT', symbol: 'BTC/USDT', side: 'BUY', orderType: 'LIMIT',
    status: 'PARTIALLY_FILLED', venueStatus: 'PARTIALLY_FILLED', price: '64000.5', quantity: '0.5', venueQuantity: '0.5',
    lastFillQuantity: '0.2', lastFillPrice: '64000.5', lastFillFee: '0.0002', lastFillId: 'BL2217312312313303AAAAA/1731231235/0.2/64000.5/0.0002',
    createdAt: 1_731_231_231 * S, updatedAt: 1_731_231_299 * S,
    extras: { event: 'TRADE', ts: '1731231299', executionTs: '1731231235', entrustTime: '1731231231', amountUnit: 'base' },
  }),
  'partial-trade': rec({
    ...ETH_SELL, orderId: 'BL2217312312313303CCCCC', status: 'PARTIALLY_FILLED', venueStatus: 'PARTIALLY_FILLED',
    lastFillQuantity: '1', lastFillPrice: '3150.25', lastFillFee: '1.575125', lastFillId: 'BL2217312312313303CCCCC/1731231320/1/3150.25/1.575125',
    createdAt: 1_731_231_300 * S, updatedAt: 1_731_231_320 * S,
    extras: { event: 'TRADE', ts: '1731231320', executionTs: '1731231320', entrustTime: '1731231300', amountUnit: 'base' },
  }),
  'partial-canceled': rec({
    ...ETH_SELL, orderId: 'BL2217312312313303CCCCC', status: 'CANCELED', venueStatus: 'PARTIALLY_CANCELED',
    createdAt: 1_731_231_300 * S, updatedAt: 1_731_231_330 * S,
    extras: { event: 'CANCELED', ts: '1731231330', entrustTime: '1731231300', amountUnit: 'base' },
  }),
  'partial-canceled-repeating-last-fill': rec({
    ...ETH_SELL, orderId: 'BL2217312312313303CCCCC', status: 'CANCELED', venueStatus: 'PARTIALLY_CANCELED',
    lastFillQuantity: '1', lastFillPrice: '3150.25', lastFillFee: '1.575125', lastFillId: 'BL2217312312313303CCCCC/1731231320/1/3150.25/1.575125',
    createdAt: 1_731_231_300 * S, updatedAt: 1_731_231_330 * S,
    extras: { event: 'CANCELED', ts: '1731231330', executionTs: '1731231320', entrustTime: '1731231300', amountUnit: 'base' },
  }),
  'market-buy-filled': rec({
    orderId: 'BL2217312312313303DDDDD', venueSymbol: 'BTC-USDT', symbol: 'BTC/USDT', side: 'BUY', orderType: 'MARKET',
    status: 'FILLED', venueStatus: 'FILLED', quoteQuantity: '1000',
    lastFillQuantity: '0.015', lastFillPrice: '64010.1', lastFillFee: '0.00003', lastFillId: 'BL2217312312313303DDDDD/1731231401/0.015/64010.1/0.00003',
    createdAt: 1_731_231_400 * S, updatedAt: 1_731_231_401 * S,
    extras: { event: 'TRADE', ts: '1731231401', executionTs: '1731231401', entrustTime: '1731231400', amountUnit: 'quote' },
  }),
  'market-sell-filled': rec({
    orderId: 'BL2217312312313303EEEEE', venueSymbol: 'BTC-USDT', symbol: 'BTC/USDT', side: 'SELL', orderType: 'MARKET',
    status: 'FILLED', venueStatus: 'FILLED', quantity: '0.01', venueQuantity: '0.01',
    lastFillQuantity: '0.01', lastFillPrice: '63990', lastFillFee: '1.2798', lastFillId: 'BL2217312312313303EEEEE/1731231501/0.01/63990/1.2798',
    createdAt: 1_731_231_500 * S, updatedAt: 1_731_231_501 * S,
    extras: { event: 'TRADE', ts: '1731231501', executionTs: '1731231501', entrustTime: '1731231500', amountUnit: 'base' },
  }),
  'trigger-price': rec({
    orderId: 'BL2217312312313303FFFFF', venueSymbol: 'BTC-USDT', symbol: 'BTC/USDT', side: 'SELL', orderType: 'LIMIT',
    status: 'NEW', venueStatus: 'NEW', price: '69000', triggerPrice: '70000', quantity: '0.1', venueQuantity: '0.1',
    createdAt: 1_731_231_600 * S, updatedAt: 1_731_231_600 * S,
    extras: { event: 'NEW', ts: '1731231600', entrustTime: '1731231600', amountUnit: 'base' },
  }),
  'quirk-lower-case-side': rec({
    ...ETH_SELL, orderId: 'BL2217312312313303GGGGG', status: 'NEW', venueStatus: 'NEW',
    createdAt: 1_731_231_300 * S, updatedAt: 1_731_231_700 * S,
    extras: { event: 'NEW', ts: '1731231700', entrustTime: '1731231300', amountUnit: 'base' },
  }),
  'quirk-omitted-fields': rec({
    orderId: 'BL2217312312313303HHHHH', venueSymbol: 'ETH-USDT', symbol: 'ETH/USDT', side: 'BUY', orderType: 'LIMIT',
    status: 'NEW', venueStatus: 'NEW', price: '3000', quantity: '1.2', venueQuantity: '1.2',
    createdAt: null, updatedAt: 1_731_231_800 * S,
    extras: { event: 'NEW', ts: '1731231800', amountUnit: 'base' },
  }),
  'quirk-numbers-and-string-times': rec({
    orderId: 'BL2217312312313303IIIII', venueSymbol: 'SOL-USDT', symbol: 'SOL/USDT', side: 'BUY', orderType: 'LIMIT',
    status: 'PARTIALLY_FILLED', venueStatus: 'PARTIALLY_FILLED', price: '150.125', quantity: '12.5', venueQuantity: '12.5',
    lastFillQuantity: '2.5', lastFillPrice: '150.125', lastFillFee: '0.0000000000000000123456789',
    lastFillId: 'BL2217312312313303IIIII/1731231900/2.5/150.125/0.0000000000000000123456789',
    createdAt: 1_731_231_899 * S, updatedAt: 1_731_231_900 * S,
    extras: { event: 'TRADE', ts: '1731231900', executionTs: '1731231900', entrustTime: '1731231899', amountUnit: 'base' },
  }),
  'quirk-unknown-fields': rec({
    ...ETH_SELL, orderId: 'BL2217312312313303JJJJJ', status: 'NEW', venueStatus: 'NEW',
    createdAt: 1_731_231_300 * S, updatedAt: 1_731_232_000 * S,
    extras: { event: 'NEW', ts: '1731232000', entrustTime: '1731231300', amountUnit: 'base', client_oid: 'my-7', is_maker: 'false', fee_coin: 'USDT' },
  }),
  'quirk-ms-times-negative-fee': rec({
    orderId: 'BL2217312312313303KKKKK', venueSymbol: 'ETH-USDT', symbol: 'ETH/USDT', side: 'BUY', orderType: 'LIMIT',
    status: 'FILLED', venueStatus: 'FILLED', price: '3001', quantity: '3', venueQuantity: '3',
    lastFillQuantity: '3', lastFillPrice: '3001', lastFillFee: '-0.0015', lastFillId: 'BL2217312312313303KKKKK/1731232100123/3/3001/-0.0015',
    createdAt: 1_731_232_000_456_000, updatedAt: 1_731_232_100_123_000,
    extras: { event: 'TRADE', ts: '1731232100123', executionTs: '1731232100123', entrustTime: '1731232000456', amountUnit: 'base' },
  }),
  'utf8-symbol': rec({
    orderId: 'BL2217312312313303LLLLL', venueSymbol: '币安人生-USDT', symbol: '币安人生/USDT', side: 'BUY', orderType: 'LIMIT',
    status: 'FILLED', venueStatus: 'FILLED', price: '0.1234', quantity: '100', venueQuantity: '100',
    lastFillQuantity: '100', lastFillPrice: '0.1234', lastFillFee: '0.02468', lastFillId: 'BL2217312312313303LLLLL/1731232200/100/0.1234/0.02468',
    createdAt: 1_731_232_199 * S, updatedAt: 1_731_232_200 * S,
    extras: { event: 'TRADE', ts: '1731232200', executionTs: '1731232200', entrustTime: '1731232199', amountUnit: 'base' },
  }),
};

/** Fixtures whose complete record is asserted in the narrative tests above. */
const FULL_ELSEWHERE = [
  'wsdoc-spot-push-example', 'doc-table-example-values', 'limit-new', 'limit-trade-partial', 'limit-trade-filled', 'limit-canceled', 'market-buy-new',
];

describe('every order fixture, complete record', () => {
  it.each(Object.entries(FULL))('%s', (name, expected) => {
    expect(mapOne(fixture('orders.jsonl', name))).toEqual(expected);
  });

  it('no order fixture goes unchecked', () => {
    expect(readWebseaFixtures('orders.jsonl').map((f) => f.name).sort()).toEqual([...Object.keys(FULL), ...FULL_ELSEWHERE].sort());
  });
});

describe('execution ids', () => {
  it('are order_id / execution ts / qty / price / fee in normal form, "-" without fee, "p" + push ts without execution ts', () => {
    expect(webseaExecutionId({ orderId: 'X', ts: '1502448920', quantity: '12.0', price: '68000.00', fee: '0.230' })).toBe('X/1502448920/12/68000/0.23');
    expect(webseaExecutionId({ orderId: 'X', ts: '1502448920', quantity: '1', price: '2', fee: null })).toBe('X/1502448920/1/2/-');
    expect(webseaExecutionId({ orderId: 'X', ts: '1502448999', tsFromPush: true, quantity: '1', price: '2', fee: '0' })).toBe('X/p1502448999/1/2/0');
  });

  it('falls back to the push ts when the execution ts is missing, and says so in extras', () => {
    const text = fixture('orders.jsonl', 'limit-trade-partial').replace('"ts":1731231235,"entrust_time"', '"ts":"","entrust_time"');
    const o = mapOne(text);
    expect(o.lastFillId).toBe('BL2217312312313303AAAAA/p1731231235/0.2/64000.5/0.0002');
    expect(o.extras.lastFillTsSource).toBe('push');
  });

  it('documented limit: two distinct executions in the same second with equal qty, price and fee collide', () => {
    const a = mapOne(fixture('orders.jsonl', 'limit-trade-partial'));
    const b = mapOne(fixture('orders.jsonl', 'limit-trade-partial').replace('"ts":1731231235,"order"', '"ts":1731231236,"order"'));
    expect(b.lastFillId).toBe(a.lastFillId);
  });
});

describe('non-order frames are skipped, not dead-lettered', () => {
  const expectations: Array<[string, string]> = [
    ['ack-doc', 'sub order ack'],
    ['ack-public-nema', 'sub tickers ack'],
    ['ack-without-op', 'reply trade ack'],
    ['ack-unsub', 'unsub order ack'],
    ['error-50009-nema', 'error reply errno 50009 (WS channel unavailable.) to sub depth'],
    ['error-51000-unknown-op', 'error reply errno 51000 (unsupported op) to ping'],
    ['error-20506', 'error reply errno 20506 (api signature not valid) to sub order'],
    ['error-20519', 'error reply errno 20519 (the nonce has been used) to sub order'],
    ['error-20520', 'error reply errno 20520 (nonce expires, please verify server time) to sub order'],
    ['error-20521', 'error reply errno 20521 (incomplete header parameters) to sub order'],
    ['error-20522', 'error reply errno 20522 (not getting the current user) to sub order'],
    ['error-20523', 'error reply errno 20523 (please authenticate) to sub order'],
    ['error-20529', 'error reply errno 20529 (API Key expired) to sub order'],
    ['error-20401', 'error reply errno 20401 (no permission) to sub order'],
    ['error-20530', 'error reply errno 20530 (no permission) to sub order'],
    ['error-errno-as-string', 'error reply errno 20506 (api signature not valid) to sub order'],
  ];
  it.each(expectations)('%s → skipped (%s)', (name, what) => {
    expect(webseaMapper.map(fixture('control.jsonl', name), ctx)).toEqual({ kind: 'skipped', what });
  });

  it('covers every control fixture', () => {
    expect(readWebseaFixtures('control.jsonl').map((f) => f.name).sort()).toEqual(expectations.map(([n]) => n).sort());
  });

  it('parses replies into errno / errmsg / op / channel', () => {
    expect(parseWebseaFrame(fixture('control.jsonl', 'error-50009-nema'))).toEqual({
      kind: 'reply',
      reply: { errno: 50009, errmsg: 'WS channel unavailable.', op: 'sub', channel: 'depth' },
    });
  });
});

describe('malformed frames get the right FrameError', () => {
  const expectations: Array<[string, string, RegExp]> = [
    ['not-json-truncated', 'FRAME_NOT_JSON', /not valid JSON/],
    ['not-json-text', 'FRAME_NOT_JSON', /not JSON: "hello"/],
    ['empty', 'FRAME_NOT_JSON', /empty/],
    ['json-array', 'FRAME_UNKNOWN_VARIANT', /a JSON array/],
    ['json-number-keepalive-echo', 'FRAME_UNKNOWN_VARIANT', /a JSON number/],
    ['json-unknown-shape', 'FRAME_UNKNOWN_VARIANT', /neither "channel" nor "errno" \(keys: foo\)/],
    ['public-tickers-push-nema', 'FRAME_UNKNOWN_VARIANT', /channel "tickers"/],
    ['wsdoc-futures-push-example', 'FRAME_UNKNOWN_VARIANT', /futures order channel/],
    ['order-not-object', 'FRAME_INVALID', /order must be an object/],
    ['missing-order-id', 'FRAME_INVALID', /order\.order_id is required/],
    ['missing-push-ts', 'FRAME_INVALID', /ts is required/],
    ['wrong-type-amount', 'FRAME_INVALID', /order\.amount must be a non-negative decimal .*got "ten".*\[order_id BL2217312312313303ZZZZZ\]/],
    ['wrong-type-last-amount-bool', 'FRAME_INVALID', /order\.last_amount must be a non-negative decimal.*got true/],
    ['bad-side', 'FRAME_INVALID', /order\.side must be BUY or SELL, got "HOLD"/],
    ['bad-entrust-time', 'FRAME_INVALID', /order\.entrust_time must be an integer.*got "yesterday"/],
    ['trade-without-execution', 'FRAME_INVALID', /order\.last_amount must be a positive quantity on a TRADE event/],
    ['execution-without-price', 'FRAME_INVALID', /order\.last_price is required with a positive last_amount/],
    ['negative-last-amount', 'FRAME_INVALID', /order\.last_amount must be a non-negative decimal/],
    ['errno-not-integer', 'FRAME_INVALID', /WebSea reply invalid: errno must be an integer/],
    ['unknown-status-rest-int', 'FRAME_UNKNOWN_STATUS', /order\.status "3" is not one of NEW, PARTIALLY_FILLED, FILLED, PARTIALLY_CANCELED, CANCELED/],
    ['unknown-status', 'FRAME_UNKNOWN_STATUS', /order\.status "EXPIRED"/],
  ];
  it.each(expectations)('%s → %s', (name, code, message) => {
    const e = mapError(fixture('malformed.jsonl', name));
    expect(e.code).toBe(code);
    expect(e.message).toMatch(message);
    expect(e.retriable).toBe(false);
  });

  it('covers every malformed fixture', () => {
    expect(readWebseaFixtures('malformed.jsonl').map((f) => f.name).sort()).toEqual(expectations.map(([n]) => n).sort());
  });

  it('FRAME_INVALID lists every problem in details.issues', () => {
    const e = mapError(JSON.stringify({ channel: 'order', ts: 1, order: { symbol: '', side: 'UP', event: 'NEW', status: 'NEW', amount: '1' } }));
    expect(e.code).toBe('FRAME_INVALID');
    const paths = (e.details.issues as Array<{ path: string }>).map((i) => i.path).sort();
    expect(paths).toEqual(['order.order_id', 'order.order_type', 'order.side', 'order.symbol']);
  });

  it('refuses a JSON-number decimal whose digits cannot be recovered unambiguously', () => {
    const text = '{"channel":"order","ts":1731231900,"order":{"symbol":"A-B","side":"BUY","amount":0.1,"x":{"amount":0.10},"price":"1","event":"NEW","order_id":"1","order_type":"LIMIT","status":"NEW"}}';
    expect(mapError(text).message).toMatch(/order\.amount is a JSON number whose exact digits cannot be recovered/);
  });
});
