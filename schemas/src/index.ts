import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The `.avsc` files in schemas/avro are the source of truth. The TypeScript types below mirror them; a test
 * (schemas/src/schemas.test.ts) checks that every field and enum symbol here exists there and vice versa.
 */
export const SCHEMA_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'avro');

export const SCHEMA_FILES = {
  canonicalOrder: 'canonical-order.avsc',
  orderState: 'order-state.avsc',
  snapshotMarker: 'snapshot-marker.avsc',
} as const;

export type SchemaName = keyof typeof SCHEMA_FILES;

/** The parsed JSON of one schema file. */
export function readSchema(name: SchemaName): Record<string, unknown> {
  return JSON.parse(readFileSync(join(SCHEMA_DIR, SCHEMA_FILES[name]), 'utf8')) as Record<string, unknown>;
}

export const ORDER_STATUSES = [
  'PENDING_NEW', 'UNTRIGGERED', 'NEW', 'PARTIALLY_FILLED', 'PENDING_CANCEL',
  'FILLED', 'CANCELED', 'REJECTED', 'EXPIRED', 'CLOSED_UNKNOWN',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const LIVE_STATUSES: ReadonlySet<OrderStatus> = new Set([
  'PENDING_NEW', 'UNTRIGGERED', 'NEW', 'PARTIALLY_FILLED', 'PENDING_CANCEL',
]);
/**
 * CLOSED_UNKNOWN is order-state's own: the order vanished from the venue's complete snapshot of open orders while
 * the stream was down (BSX), so it is no longer live, but its final status is unknown.
 */
export const TERMINAL_STATUSES: ReadonlySet<OrderStatus> = new Set(['FILLED', 'CANCELED', 'REJECTED', 'EXPIRED', 'CLOSED_UNKNOWN']);

export function isTerminal(status: OrderStatus): boolean {
  return TERMINAL_STATUSES.has(status);
}

export const INSTRUMENT_KINDS = ['SPOT', 'PERPETUAL', 'FUTURE', 'OTHER'] as const;
export type InstrumentKind = (typeof INSTRUMENT_KINDS)[number];
export const SIDES = ['BUY', 'SELL'] as const;
export type Side = (typeof SIDES)[number];
export const POSITION_SIDES = ['LONG', 'SHORT', 'BOTH'] as const;
export type PositionSide = (typeof POSITION_SIDES)[number];
export const ORDER_TYPES = [
  'LIMIT', 'MARKET', 'STOP_LIMIT', 'STOP_MARKET', 'TAKE_PROFIT_LIMIT', 'TAKE_PROFIT_MARKET',
  'TRAILING_STOP_MARKET', 'OTHER',
] as const;
export type OrderType = (typeof ORDER_TYPES)[number];
export const TIMES_IN_FORCE = ['GTC', 'IOC', 'FOK', 'GTX', 'GTD', 'OTHER'] as const;
export type TimeInForce = (typeof TIMES_IN_FORCE)[number];

export interface Source {
  topic: string;
  partition: number;
  offset: number;
}

/** orderstream.v1.CanonicalOrder: one order update from one venue. Decimals are exact strings. */
export interface CanonicalOrder {
  orderKey: string;
  venue: string;
  account: string;
  orderId: string;
  clientOrderId: string | null;
  venueSymbol: string;
  symbol: string | null;
  instrumentKind: InstrumentKind;
  side: Side;
  positionSide: PositionSide | null;
  orderType: OrderType;
  venueOrderType: string | null;
  timeInForce: TimeInForce | null;
  status: OrderStatus;
  venueStatus: string;
  price: string | null;
  triggerPrice: string | null;
  quantity: string | null;
  venueQuantity: string | null;
  quoteQuantity: string | null;
  filledQuantity: string | null;
  venueFilledQuantity: string | null;
  filledQuoteQuantity: string | null;
  averagePrice: string | null;
  fee: string | null;
  feeAsset: string | null;
  lastFillQuantity: string | null;
  lastFillPrice: string | null;
  lastFillFee: string | null;
  /** execution identity (venue trade id, or derived); per-execution venues are summed by distinct id */
  lastFillId: string | null;
  reduceOnly: boolean | null;
  postOnly: boolean | null;
  /** epoch microseconds */
  createdAt: number | null;
  /** epoch microseconds */
  updatedAt: number | null;
  /** epoch microseconds */
  receivedAt: number;
  source: Source;
  extras: Record<string, string>;
}

export interface Execution {
  id: string;
  quantity: string;
  price: string;
  fee: string | null;
}

/** orderstream.v1.OrderState: the merged current state of one order (value of orders.state.v1). */
export interface OrderState {
  order: CanonicalOrder;
  updateCount: number;
  /** epoch microseconds */
  stateUpdatedAt: number;
  executions: Execution[];
  note: string | null;
}

/** orderstream.v1.SnapshotMarker: on every canonical partition after a complete snapshot's orders. */
export interface SnapshotMarker {
  venue: string;
  account: string;
  orderKeys: string[];
  /** epoch microseconds */
  receivedAt: number;
  source: Source;
}

/** Builds the Kafka key of an order. */
export function orderKeyOf(venue: string, account: string, orderId: string): string {
  return `${venue}|${account}|${orderId}`;
}
