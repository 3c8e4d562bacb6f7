import { z } from 'zod';
import { nowEpochNanos, parseConfig, secretString, type Logger } from '@orderstream/kit';
import type { ConnectTarget, SessionIO, VenueClient, VenueReconciler } from '../types.js';
import { BsxReconciler } from './reconciler.js';
import { bsxAckSchema, bsxErrorSchema, bsxMessageSchema, BSX_ORDERS_CHANNEL, routeBsxFrame } from './frames.js';
import { BSX_API_VERSION } from './mapper.js';
import { BSX_PING, BSX_SUBSCRIBE_ORDERS, bsxAuthFrame } from './sign.js';

/** "send ping messages at regular intervals (every 15 seconds)" (BSXDOC ws-connection). */
export const BSX_PING_INTERVAL_MS = 15_000;
/** "The server will close an idle connection after 10 minutes" (BSXDOC ws-connection). */
export const BSX_SERVER_IDLE_CLOSE_MS = 10 * 60_000;

const urlWithScheme = (schemes: readonly string[], what: string) =>
  z.string({ error: 'is required' }).refine(
    (v) => {
      try {
        return schemes.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { error: `must be an ${what} URL` },
  );

const int = (min: number, max: number, tooBig?: string) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int({ error: 'must be an integer' })
    .min(min, { error: `must be at least ${min}` })
    .max(max, { error: tooBig ?? `must be at most ${max}` });

/** Configuration of one BSX `orders` connection (one account). Numbers may come as strings (env). */
export const bsxClientConfigSchema = z
  .object({
    /** socket, e.g. wss://ws.bsx.exchange/ws (testnet wss://ws.testnet.bsx.exchange/ws) */
    wsUrl: urlWithScheme(['ws:', 'wss:'], 'ws(s)'),
    /**
     * REST base for reconciliation after every gap, e.g. https://api.bsx.exchange (testnet
     * https://api.testnet.bsx.exchange). Without it the client has no reconciler (orders that finish during a gap
     * then end CLOSED_UNKNOWN through the next snapshot).
     */
    restUrl: urlWithScheme(['http:', 'https:'], 'http(s)').optional(),
    apiKey: secretString(),
    apiSecret: secretString(),
    /** `{"op":"ping"}` period; BSX asks for 15 s and closes a connection idle for 10 min */
    pingIntervalMs: int(10, BSX_SERVER_IDLE_CLOSE_MS - 1, `must be below ${BSX_SERVER_IDLE_CLOSE_MS} (BSX closes a connection idle for 10 min)`).default(
      BSX_PING_INTERVAL_MS,
    ),
    /** silence (no frame at all, pongs included) after which the connection is considered dead; default 2 × ping + 5 s */
    idleTimeoutMs: int(0, 30 * 60_000).optional(),
    /** no subscription (ack or snapshot) this long after the socket opened → reconnect; 0 disables */
    subscribeTimeoutMs: int(0, 120_000).default(10_000),
  })
  .strict();

export type BsxClientConfigInput = z.input<typeof bsxClientConfigSchema>;
export type BsxClientConfig = z.output<typeof bsxClientConfigSchema>;

export interface BsxClientDeps {
  /** unix nanoseconds as digits, for the auth timestamp; defaults to the kit's nowEpochNanos */
  nowNs?: () => string;
  logger?: Logger;
}

type Phase = 'idle' | 'authenticating' | 'subscribing' | 'subscribed';

/** API keys are sensitive: events and logs carry the first 4 characters only. */
export function maskBsxKey(key: string): string {
  return key.length <= 4 ? '…' : `${key.slice(0, 4)}…`;
}

/**
 * The BSX half of a collector session (private channel `orders`):
 * - prepare(): nothing to fetch; resets the per-connection state (every connection authenticates afresh);
 * - onOpen(): `{"op":"auth","data":{key,timestamp,signature}}` with a fresh nanosecond timestamp;
 * - onFrame(): `authenticated` → session event + `{"op":"sub","channel":"orders"}`; the orders ack or the snapshot
 *   (whichever comes first) → `subscribed`; an auth or subscription error → `error` event with BSX's code and a
 *   reconnect (new timestamp, new signature); the shutdown notice (`{"type":"message","message":"bye - …"}`) →
 *   reconnect; pongs and order data are left alone (already handed on raw);
 * - heartbeat: `{"op":"ping"}` every pingIntervalMs; no subscription within subscribeTimeoutMs → reconnect.
 * The API key appears masked in events; the secret and signatures never leave this object.
 */
export class BsxClient implements VenueClient {
  readonly venue = 'bsx' as const;
  readonly apiVersion = BSX_API_VERSION;
  readonly heartbeat: { intervalMs: number; beat(io: SessionIO): void };
  readonly idleTimeoutMs: number;
  /**
   * REST reconciliation (open orders, order by id, history), present when `restUrl` is configured. It starts at
   * `subscribed` (the orders ack or the snapshot), the default ready event.
   */
  readonly reconciler: VenueReconciler | undefined;
  /** Reconciliation starts once the orders subscription is confirmed (ack or snapshot): nothing falls between. */
  readonly readyEvent = 'subscribed' as const;

  readonly #config: BsxClientConfig;
  readonly #nowNs: () => string;
  readonly #log: Logger | undefined;
  /** bumped by every prepare() and onOpen(): timers of an older connection see a different value and do nothing */
  #generation = 0;
  #phase: Phase = 'idle';
  #connectionId: string | undefined;
  #lastTimestamp = 0n;

  constructor(config: BsxClientConfig, deps: BsxClientDeps = {}) {
    this.#config = config;
    this.#nowNs = deps.nowNs ?? nowEpochNanos;
    this.#log = deps.logger;
    this.idleTimeoutMs = config.idleTimeoutMs ?? config.pingIntervalMs * 2 + 5_000;
    this.heartbeat = { intervalMs: config.pingIntervalMs, beat: (io) => io.send(BSX_PING) };
    this.reconciler = config.restUrl ? new BsxReconciler({ restUrl: config.restUrl, apiKey: config.apiKey, apiSecret: config.apiSecret }) : undefined;
  }

  /** Validates raw configuration (throws ConfigError listing every problem) and builds a client. */
  static fromConfig(input: unknown, deps?: BsxClientDeps): BsxClient {
    return new BsxClient(parseConfig(bsxClientConfigSchema, input), deps);
  }

  /** Where the current connection is: idle, authenticating, subscribing, subscribed (for health output and tests). */
  get phase(): Phase {
    return this.#phase;
  }

  /** The connection id BSX announced on the current connection, if any. */
  get connectionId(): string | undefined {
    return this.#connectionId;
  }

  async prepare(_signal: AbortSignal): Promise<ConnectTarget> {
    this.#generation++;
    this.#phase = 'idle';
    this.#connectionId = undefined;
    return { url: this.#config.wsUrl };
  }

  onOpen(io: SessionIO): void {
    const generation = ++this.#generation;
    this.#phase = 'authenticating';
    this.#connectionId = undefined;
    const timestamp = this.#freshTimestamp();
    io.send(bsxAuthFrame(this.#config.apiKey.reveal(), this.#config.apiSecret.reveal(), timestamp));
    this.#log?.debug({ timestamp, apiKey: maskBsxKey(this.#config.apiKey.reveal()) }, 'bsx auth sent');
    const limit = this.#config.subscribeTimeoutMs;
    if (limit > 0) {
      const timer = setTimeout(() => {
        if (this.#generation !== generation || this.#phase === 'subscribed') return;
        io.reconnect(`no orders subscription ${limit} ms after connecting (still ${this.#phase})`, 'subscribe_timeout');
      }, limit);
      timer.unref();
    }
  }

  onFrame(text: string, io: SessionIO): void {
    // Order data is the bulk of the traffic and already handed on raw: no parsing once subscribed.
    if (this.#phase === 'subscribed' && text.includes('"data"')) return;
    let routed;
    try {
      routed = routeBsxFrame(text);
    } catch {
      return; // not for the client to judge; the normalizer dead-letters what it cannot read
    }
    switch (routed.kind) {
      case 'pong':
      case 'push':
        return;
      case 'message': {
        const m = bsxMessageSchema.safeParse(routed.value);
        if (!m.success) return;
        if (m.data.connection_id) {
          this.#connectionId = m.data.connection_id;
          return;
        }
        if (m.data.message) io.reconnect(`BSX is closing the connection: ${this.#scrub(m.data.message)}`);
        return;
      }
      case 'authenticated':
        if (this.#phase !== 'authenticating') return;
        this.#phase = 'subscribing';
        io.event({ event: 'authenticated', details: this.#details({ apiKey: maskBsxKey(this.#config.apiKey.reveal()) }) });
        io.send(BSX_SUBSCRIBE_ORDERS);
        return;
      case 'ack': {
        const a = bsxAckSchema.safeParse(routed.value);
        if (!a.success || a.data.channel !== BSX_ORDERS_CHANNEL) return;
        if (a.data.type === 'subscribed') this.#subscribed(io, 'ack');
        else io.reconnect('BSX ended the orders subscription (unsubscribed)');
        return;
      }
      case 'orders':
        if (routed.value.type === 'snapshot') this.#subscribed(io, 'snapshot');
        return;
      case 'error': {
        const e = bsxErrorSchema.safeParse(routed.value);
        if (!e.success) return;
        this.#onError(e.data.channel ?? null, e.data.message ?? '', e.data.code ?? undefined, io);
        return;
      }
    }
  }

  #onError(channel: string | null, message: string, code: number | string | undefined, io: SessionIO): void {
    const said = `${this.#scrub(message) || 'no message'}${code !== undefined ? ` (code ${code})` : ''}`;
    const ofCode = code !== undefined ? { code } : {};
    // The ws-auth transcript shows a channel-less error answering an auth attempt: while authenticating, it is one.
    const isAuth = channel === 'auth' || (channel === null && this.#phase === 'authenticating');
    if (isAuth) {
      io.event({ event: 'error', reason: `BSX refused authentication: ${said}`, ...ofCode, details: this.#details({ channel: 'auth' }) });
      io.reconnect(`authentication refused: ${said}`, code);
      return;
    }
    if (channel === BSX_ORDERS_CHANNEL) {
      io.event({ event: 'error', reason: `BSX refused the orders subscription: ${said}`, ...ofCode, details: this.#details({ channel }) });
      // Not subscribed means no data while pongs keep the socket looking healthy: start over (re-auth included).
      io.reconnect(`orders subscription refused: ${said}`, code);
      return;
    }
    io.event({ event: 'error', reason: `BSX error${channel ? ` on channel ${channel}` : ''}: ${said}`, ...ofCode, details: this.#details(channel ? { channel } : {}) });
    if (this.#phase !== 'subscribed' && channel === null) io.reconnect(`BSX error before the subscription: ${said}`, code);
  }

  #subscribed(io: SessionIO, via: 'ack' | 'snapshot'): void {
    if (this.#phase === 'subscribed') return;
    this.#phase = 'subscribed';
    io.event({ event: 'subscribed', details: this.#details({ channel: BSX_ORDERS_CHANNEL, via }) });
  }

  #details(extra: Record<string, unknown>): Record<string, unknown> {
    return this.#connectionId ? { ...extra, connectionId: this.#connectionId } : extra;
  }

  /** Now in ns, strictly after the previous auth timestamp (two connections never sign the same message). */
  #freshTimestamp(): string {
    let ts = BigInt(this.#nowNs());
    if (ts <= this.#lastTimestamp) ts = this.#lastTimestamp + 1n;
    this.#lastTimestamp = ts;
    return ts.toString();
  }

  /** Venue messages are copied into events: never let the API key ride along, and keep them short. */
  #scrub(text: string): string {
    let s = text.length > 200 ? `${text.slice(0, 197)}...` : text;
    const key = this.#config.apiKey.reveal();
    if (key.length > 0) s = s.split(key).join(maskBsxKey(key));
    return s;
  }
}
