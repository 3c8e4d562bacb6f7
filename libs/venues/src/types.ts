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
  /** a polled venue (Binance) stopped tracking an order; reason says why (terminal, -2013 after retries) */
  | 'untracked';

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
  /** where the request came from: config, orders.track.v1, state (a live order in orders.state.v1) */
  origin: 'config' | 'track-topic' | 'state';
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
}
