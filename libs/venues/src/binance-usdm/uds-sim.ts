import { compareDecimals, mulDecimals, normalizeDecimal } from '@orderstream/kit';
import type { BinanceUsdmFill, BinanceUsdmOrderTruth } from './lifecycles.js';

/**
 * The simulator's user data stream events (./README.md "User data stream", simulator): ORDER_TRADE_UPDATE built from
 * the same truth order.status answers with, in DOC-UDS-ORDER's key order. Pure text builders.
 */

/** Commission the simulator charges per fill: 0.04 % of the fill's notional (a taker rate), in USDT. */
export const BINANCE_USDM_SIM_FEE_RATE = '0.0004';

/** x of the event that moves an order from `prevExecutedQty` to truth `t` (placement: prevExecutedQty null). */
export function binanceUsdmExecutionType(t: BinanceUsdmOrderTruth, prevExecutedQty: string | null): string {
  if (t.status === 'REJECTED') return 'REJECTED'; // simulator's choice: the doc lists no REJECTED (README)
  if (prevExecutedQty === null) return 'NEW';
  if (compareDecimals(normalizeDecimal(t.executedQty), normalizeDecimal(prevExecutedQty)) > 0) return 'TRADE';
  if (t.status === 'CANCELED') return 'CANCELED';
  if (t.status === 'EXPIRED' || t.status === 'EXPIRED_IN_MATCH') return 'EXPIRED';
  return 'AMENDMENT';
}

/**
 * One ORDER_TRADE_UPDATE. `fill` is the execution of a TRADE event (its quantity and price), `tradeId` its id;
 * `eventTime` the event's E (ms), the order's update time its T.
 */
export function binanceUsdmOrderTradeUpdateText(
  t: BinanceUsdmOrderTruth,
  x: string,
  options: { eventTime: number; fill?: BinanceUsdmFill; tradeId?: bigint },
): string {
  const s = JSON.stringify;
  const fill = x === 'TRADE' ? options.fill : undefined;
  const fee = fill ? mulDecimals(mulDecimals(fill.qty, fill.price), BINANCE_USDM_SIM_FEE_RATE) : undefined;
  const members: Array<[string, string]> = [
    ['s', s(t.symbol)],
    ['c', s(t.clientOrderId)],
    ['S', s(t.side)],
    ['o', s(t.type)],
    ['f', s(t.timeInForce)],
    ['q', s(t.origQty)],
    ['p', s(t.price)],
    ['ap', s(t.avgPrice)],
    ['sp', s(t.stopPrice)],
    ['x', s(x)],
    ['X', s(t.status)],
    ['i', t.orderId],
    ['l', s(fill ? fill.qty : '0')],
    ['z', s(t.executedQty)],
    ['L', s(fill ? fill.price : '0')],
    // "will not push if no commission"
    ...(fee !== undefined ? ([['N', s('USDT')], ['n', s(fee)]] as Array<[string, string]>) : []),
    ['T', String(t.updateTime)],
    ['t', fill && options.tradeId !== undefined ? options.tradeId.toString() : '0'],
    ['b', s('0')],
    ['a', s('0')],
    ['m', 'false'],
    ['R', s(t.reduceOnly)],
    ['wt', s('CONTRACT_PRICE')],
    ['ot', s(t.type)],
    ['ps', s(t.positionSide)],
    ['cp', 'false'],
    ['rp', s('0')],
    ['pP', 'false'],
    ['si', '0'],
    ['ss', '0'],
    ['V', s('EXPIRE_MAKER')],
    ['pm', s('NONE')],
    ['gtd', String(t.goodTillDate)],
  ];
  return `{"e":"ORDER_TRADE_UPDATE","E":${options.eventTime},"T":${t.updateTime},"o":{${members.map(([k, v]) => `${s(k)}:${v}`).join(',')}}}`;
}

/** A TRADE_LITE for a fill (DOC-UDS-TRADELITE's keys): pushed before the ORDER_TRADE_UPDATE, carries no order state. */
export function binanceUsdmTradeLiteText(t: BinanceUsdmOrderTruth, fill: BinanceUsdmFill, tradeId: bigint, eventTime: number): string {
  const s = JSON.stringify;
  return `{"e":"TRADE_LITE","E":${eventTime},"T":${t.updateTime},"s":${s(t.symbol)},"q":${s(t.origQty)},"p":${s(t.price)},"m":false,"c":${s(t.clientOrderId)},"S":${s(t.side)},"L":${s(fill.price)},"l":${s(fill.qty)},"t":${tradeId.toString()},"i":${t.orderId}}`;
}

/** listenKeyExpired as DOC-UDS-EXPIRED shows it (E as a string there; the simulator sends a number). */
export function binanceUsdmListenKeyExpiredText(listenKey: string, eventTime: number): string {
  return `{"e":"listenKeyExpired","E":${eventTime},"listenKey":${JSON.stringify(listenKey)}}`;
}
