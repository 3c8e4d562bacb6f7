import { describe, expect, it } from 'vitest';
import { FrameError } from '@orderstream/kit';
import type { CanonicalOrder } from '@orderstream/schemas';
import type { MapContext } from '@orderstream/venues';
import { guardCanonicalOrder, MAX_ORDER_ID_CHARS } from './guard.js';

const ctx: MapContext = { venue: 'bsx', account: 'main', receivedAt: 1_795_000_000_000_000, source: { topic: 't', partition: 0, offset: 1 }, reference: {} };

function order(over: Partial<CanonicalOrder> = {}): CanonicalOrder {
  const base: CanonicalOrder = {
    orderKey: 'bsx|main|a01292c9', venue: 'bsx', account: 'main', orderId: 'a01292c9', clientOrderId: 'cli-1', venueSymbol: 'BTC-PERP',
    symbol: 'BTC/USDC:USDC', instrumentKind: 'PERPETUAL', side: 'BUY', positionSide: null, orderType: 'LIMIT', venueOrderType: 'LIMIT',
    timeInForce: 'GTC', status: 'NEW', venueStatus: 'OPEN', price: '55000', triggerPrice: null, quantity: '0.018', venueQuantity: '0.018',
    quoteQuantity: null, filledQuantity: '0', venueFilledQuantity: '0', filledQuoteQuantity: '0', averagePrice: null, fee: '-0.0385',
    feeAsset: 'USDC', lastFillQuantity: null, lastFillPrice: null, lastFillFee: null, lastFillId: null, reduceOnly: false, postOnly: false,
    createdAt: 1_719_319_688_307_036, updatedAt: 1_719_319_688_307_036, receivedAt: ctx.receivedAt, source: ctx.source, extras: { sender: '0xa01f' },
  };
  const o = { ...base, ...over };
  if (over.orderId !== undefined && over.orderKey === undefined) o.orderKey = `bsx|main|${over.orderId}`;
  return o;
}

function codeOf(o: CanonicalOrder): string {
  try {
    guardCanonicalOrder(o, ctx, 0, 1);
    return 'ok';
  } catch (error) {
    expect(error).toBeInstanceOf(FrameError);
    return (error as FrameError).code;
  }
}

describe('guardCanonicalOrder: the input limits of every canonical order', () => {
  it.each<[string, Partial<CanonicalOrder>, string]>([
    ['a valid order', {}, 'ok'],
    ['an order id of 128 characters', { orderId: 'x'.repeat(MAX_ORDER_ID_CHARS) }, 'ok'],
    ['a UTF-8 symbol and an emoji client id', { venueSymbol: '币安人生-USDT', clientOrderId: 'a😀' }, 'ok'],
    ["'|' in a client order id (not part of any key)", { clientOrderId: 'a|b' }, 'ok'],
    ['an empty venue symbol (an answer that does not name it)', { venueSymbol: '' }, 'ok'],
    ['an order id of 129 characters', { orderId: 'x'.repeat(MAX_ORDER_ID_CHARS + 1) }, 'FRAME_ID_INVALID'],
    ['an empty order id', { orderId: '' }, 'FRAME_ID_INVALID'],
    ["'|' in the order id", { orderId: 'a|b' }, 'FRAME_ID_INVALID'],
    ['a newline in the order id', { orderId: 'a\nb' }, 'FRAME_ID_INVALID'],
    ['a C1 control character in the order id', { orderId: 'a\u0085b' }, 'FRAME_ID_INVALID'],
    ['a lone high surrogate in the order id', { orderId: 'a\ud800' }, 'FRAME_ID_INVALID'],
    ['a lone low surrogate in the client order id', { clientOrderId: '\udc00x' }, 'FRAME_ID_INVALID'],
    ["'|' in the venue symbol", { venueSymbol: 'BTC|PERP' }, 'FRAME_ID_INVALID'],
    ['a symbol of 65 characters', { symbol: 'S'.repeat(65) }, 'FRAME_ID_INVALID'],
    ['a tab in the venue status', { venueStatus: 'OPEN\t' }, 'FRAME_ID_INVALID'],
    ['a lone surrogate in an extras value', { extras: { note: 'x\ud800' } }, 'FRAME_ID_INVALID'],
    ['an extras value of 1025 characters', { extras: { note: 'n'.repeat(1025) } }, 'FRAME_VALUE_OUT_OF_RANGE'],
    ['65 extras', { extras: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'])) }, 'FRAME_VALUE_OUT_OF_RANGE'],
    ['a negative quantity', { quantity: '-0.018' }, 'FRAME_VALUE_OUT_OF_RANGE'],
    ['a negative price', { price: '-1' }, 'FRAME_VALUE_OUT_OF_RANGE'],
    ['a negative fee (a rebate)', { fee: '-1', lastFillFee: '-0.5' }, 'ok'],
    ['a quantity of 41 integer digits', { venueQuantity: '1'.repeat(41) }, 'FRAME_VALUE_OUT_OF_RANGE'],
    ['a price of 41 decimals', { averagePrice: `0.${'1'.repeat(41)}` }, 'FRAME_VALUE_OUT_OF_RANGE'],
    ['a price of 40.40 digits', { averagePrice: `${'9'.repeat(40)}.${'1'.repeat(40)}` }, 'ok'],
    ['created in 1999', { createdAt: Date.UTC(1999, 11, 31) * 1000 }, 'FRAME_VALUE_OUT_OF_RANGE'],
    ['updated in 2100', { updatedAt: Date.UTC(2100, 0, 1) * 1000 }, 'FRAME_VALUE_OUT_OF_RANGE'],
    ['a fractional time', { createdAt: 1_719_319_688_307_036.5 }, 'FRAME_VALUE_OUT_OF_RANGE'],
    ['a decimal not in normal form (mapper bug)', { price: '1.50' }, 'FRAME_UNMAPPABLE'],
    ['an order key that is not venue|account|orderId (mapper bug)', { orderKey: 'bsx|main|other' }, 'FRAME_UNMAPPABLE'],
    ["another account than the record's (mapper bug)", { account: 'other', orderKey: 'bsx|other|a01292c9' }, 'FRAME_UNMAPPABLE'],
    ['a status the schema does not have (mapper bug)', { status: 'LIVE' as never }, 'FRAME_UNMAPPABLE'],
  ])('%s → %s', (_what, over, expected) => {
    expect(codeOf(order(over))).toBe(expected);
  });

  it('names the field and the order in a short, escaped message', () => {
    try {
      guardCanonicalOrder(order({ clientOrderId: `x\n${'y'.repeat(5000)}` }), ctx, 1, 3);
      expect.unreachable();
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toMatch(/^canonical order \(order 2 of 3\): clientOrderId is 5002 characters long, at most 128 allowed, got "x\\ny+\.\.\." \(5002 characters\) \[orderId "a01292c9"\]$/);
    }
  });
});
