import type { CanonicalOrder, Source } from '@orderstream/schemas';
import type { ReferenceData } from './reference.js';

export const VENUE_IDS = ['xt', 'loopring', 'websea', 'bsx', 'binance-usdm'] as const;
export type VenueId = (typeof VENUE_IDS)[number];

/** What a mapper needs besides the frame text. */
export interface MapContext {
  venue: VenueId;
  account: string;
  /** epoch microseconds: the raw record's received-at header */
  receivedAt: number;
  /** the raw record this frame came from */
  source: Source;
  /** instrument reference data for unit conversion; empty when not configured */
  reference: ReferenceData;
  /**
   * Set when the frame is a REST answer a reconciliation asked for (raw header frame-kind=rest): which request it
   * answers. Absent for frames of the venue's socket.
   */
  rest?: RestContext;
}

/** A REST call as the raw record's `rest-request` header names it: method, path and non-secret parameters. */
export interface RestRequestInfo {
  method: string;
  /** path without the query string, e.g. /future/trade/v1/order/list-open-order */
  path: string;
  /** the non-secret parameters only (never a signature, key, token or timestamp-bound nonce) */
  params: Record<string, string>;
}

/** What a mapper learns about a REST answer from the raw headers. */
export interface RestContext extends RestRequestInfo {
  /** HTTP status of the answer */
  status: number;
}

/**
 * A mapper's verdict on one inbound frame:
 * - `orders`: the frame is order data; one canonical record per order it carries (may be several);
 * - `skipped`: a frame the venue documents that carries no order (ack, pong, error reply, heartbeat), with a
 *   short word saying what it was.
 * Frames that cannot be parsed, validated or mapped make the mapper throw a FrameError (→ dead-letter topic).
 */
export type MapResult =
  | {
      kind: 'orders';
      orders: CanonicalOrder[];
      /**
       * Set when the frame is a complete list of the account's open orders (BSX's snapshot on subscribe): any
       * order still live in the state but absent from it closed while the stream was down.
       */
      snapshot?: { complete: true };
    }
  | { kind: 'skipped'; what: string };

/** Pure: frame text + context → canonical orders. Imports nothing from Kafka or the network. */
export interface VenueMapper {
  readonly venue: VenueId;
  /** the `api-version` header value this mapper reads */
  readonly apiVersion: string;
  map(text: string, ctx: MapContext): MapResult;
}

/** Session events are written to orders.raw.v1 with frame-kind=session, in order with the data. */
export type SessionEventType =
  | 'connecting'
  | 'connected'
  | 'authenticated'
  | 'subscribed'
  | 'disconnected'
  | 'error'
  | 'gap'
  /** a reconciliation finished; details carry what it asked and, when complete, the snapshot of open orders */
  | 'reconciled'
  /** a polled venue (Binance) stopped tracking an order; reason says why (terminal, -2013 after retries) */
  | 'untracked'
  /** the collector stopped reading this session's socket (its outage spool is full); reason says why */
  | 'paused'
  /** the collector reads the socket again after 'paused' */
  | 'resumed';

export interface SessionEvent {
  event: SessionEventType;
  /** why (disconnect reason, error text); never contains secrets */
  reason?: string;
  /** venue's error code, where it gave one */
  code?: string | number;
  /** anything else worth keeping (subscribed topic names with keys masked, close code) */
  details?: Record<string, unknown>;
}

/** What a venue client may do on the live connection. */
export interface SessionIO {
  /** send a text frame */
  send(text: string): void;
  /** send a WebSocket ping control frame */
  ping(): void;
  /** record a session event (goes to Kafka with frame-kind=session) */
  event(e: SessionEvent): void;
  /** close this connection and start a new one (new auth, new listen key); reason is recorded */
  reconnect(reason: string, code?: string | number): void;
}

/** An order a polled venue should watch (Binance order.status). At least one of orderId / clientOrderId. */
export interface TrackRef {
  symbol: string;
  orderId?: string;
  clientOrderId?: string;
  /** where the request came from: config, orders.track.v1, state (a live order in orders.state.v1), push (Binance's user data stream said it finished) */
  origin: 'config' | 'track-topic' | 'state' | 'push';
}

export interface ConnectTarget {
  url: string;
  headers?: Record<string, string>;
}

/**
 * The venue-specific half of a collector session. The shared half (VenueSession, session.ts) owns the socket,
 * reconnects with capped jittered backoff, runs the heartbeat timer, numbers frames and publishes them.
 */
export interface VenueClient {
  readonly venue: VenueId;
  readonly apiVersion: string;
  /** Before each (re)connect: fetch what the connection needs (XT listenKey, Loopring wsApiKey) → URL. */
  prepare(signal: AbortSignal): Promise<ConnectTarget>;
  /** Right after the socket opens: send auth / subscribe messages. */
  onOpen(io: SessionIO): void;
  /**
   * Every inbound frame, after it has been handed on raw. Answer pings, note acks as session events,
   * ask for a reconnect on an invalid key. Must not throw on frames it does not understand.
   */
  onFrame(text: string, io: SessionIO): void;
  /** Client-side heartbeat, if the venue wants one: called every intervalMs while connected. */
  readonly heartbeat?: { intervalMs: number; beat(io: SessionIO): void };
  /** Silence for this long (no frame of any kind) means the connection is dead; 0 disables. */
  readonly idleTimeoutMs?: number;
  /**
   * Polled venues only (Binance USDⓈ-M order.status): start watching an order until it is terminal. The collector
   * calls it for orders from configuration, from orders.track.v1 and for live orders of this venue in
   * orders.state.v1. Idempotent; may be called before the first connection.
   */
  track?(ref: TrackRef): void;
  /**
   * How this venue answers "what did I miss?" after a gap (DESIGN.md decision 10): open orders, one order's detail,
   * history. The shared half (reconcile.ts) decides when and in what order to ask. Absent: never reconciled.
   */
  readonly reconciler?: VenueReconciler;
  /**
   * The session event after which a new connection is ready for reconciliation; default 'subscribed'. 'manual': this
   * connection never starts one by itself (another socket of the account does, see `companions`; reconcileNow() still works).
   */
  readonly readyEvent?: 'connected' | 'subscribed' | 'authenticated' | 'manual';
  /**
   * Further sockets of the same account (Binance USDⓈ-M: the user data stream beside the WebSocket API). The collector
   * runs one more session per companion, publishing under the same raw key with the companion's venue/api-version.
   */
  readonly companions?: readonly VenueClient[];
}

/** An order the state holds as live (or CLOSED_UNKNOWN) for an account: a candidate for a detail lookup. */
export interface LiveOrderRef {
  orderId: string;
  clientOrderId?: string;
  /** the venue's own symbol (detail endpoints often need it) */
  symbol: string;
  /** unified status in orders.state.v1 */
  status: string;
  /** epoch ms of the order's creation at the venue, when known */
  createdAtMs?: number;
}

/** One REST call of a reconciliation. */
export interface RestCall {
  /** what the raw record's rest-request header will say: never a secret */
  request: RestRequestInfo;
  /** full URL as sent, signature included (never logged, never published) */
  url: string;
  /** method, headers (API key, signature) and body */
  init?: RequestInit;
  /** tokens this call costs in the account's REST rate limiter (the venue's documented weight); default 1 */
  weight?: number;
}

export interface RestAnswer {
  status: number;
  /** the exact body as text (its bytes are what went to orders.raw.v1) */
  text: string;
  headers: Headers;
}

/** What a venue reconciler may do. Every REST answer it gets through rest() is already published raw. */
export interface ReconcileIO {
  readonly signal: AbortSignal;
  /**
   * Performs the call through the account's token bucket, with a timeout, and publishes the answer's exact bytes
   * to orders.raw.v1 (frame-kind=rest, header rest-request) in order with the stream. A 429/418 or 5xx answer is
   * retried with backoff (honouring Retry-After); other answers are returned as they are (the venue decides what a
   * 4xx or an error envelope means). Throws a VenueError when the retries are spent or on network failure.
   */
  rest(call: RestCall): Promise<RestAnswer>;
  /** a session event (frame-kind=session), in order with the data */
  event(e: SessionEvent): void;
}

/**
 * The venue half of reconciliation (DESIGN.md decision 10). Each method publishes what it read through io.rest()
 * and returns ids; the venue's mapper maps the published answers like any frame (MapContext.rest says which call).
 */
export interface VenueReconciler {
  /** documented REST rate limit this account must keep under: token bucket size and refill per second */
  readonly rateLimit: { capacity: number; refillPerSec: number };
  /**
   * (1) Every page of the account's open orders. Returns the id of every open order. Throws when any page fails:
   * an incomplete list is no snapshot.
   */
  openOrders(io: ReconcileIO): Promise<string[]>;
  /** (2) One order's own state. 'unknown' when the venue answers that it has no such order. Throws on failure. */
  orderDetail(io: ReconcileIO, ref: LiveOrderRef): Promise<'found' | 'unknown'>;
  /**
   * (3) Orders of the account created or updated since `sinceMs` (epoch ms), terminal ones included, every page.
   * Returns their ids. Absent where the venue has no such endpoint (its README says so).
   */
  history?(io: ReconcileIO, sinceMs: number): Promise<string[]>;
}
