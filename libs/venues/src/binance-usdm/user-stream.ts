import { z } from 'zod';
import { errorMessage, VenueError, type Logger } from '@orderstream/kit';
import type { ConnectTarget, SessionIO, TrackRef, VenueClient, VenueReconciler } from '../types.js';
import { exactIntegerAt } from './exact-json.js';
import { BINANCE_USDM_TERMINAL_STATUSES } from './frames.js';
import { BINANCE_USDM_API_VERSION } from './mapper.js';

/**
 * The user data stream of one Binance USDⓈ-M account (issue 8): a second socket beside the WebSocket API poller.
 * Listen key by REST (`POST /fapi/v1/listenKey`, kept alive with `PUT`), then `<streamUrl>/ws/<listenKey>`; every
 * frame is an event (`{"e":…}`) the session hands on raw and the venue's one mapper maps. Sources: ./README.md
 * ("User data stream").
 */

const HOUR = 60 * 60 * 1000;
export const BINANCE_USDM_LISTEN_KEY_PATH = '/fapi/v1/listenKey';
/** Listen keys live 60 minutes after creation or the last keepalive (DOC-UDS-CONNECT). */
export const BINANCE_USDM_LISTEN_KEY_VALIDITY_MS = HOUR;
/** The 2025 base URL of private streams (DOC-UDS-CONNECT); `/ws/<listenKey>` is appended. */
export const BINANCE_USDM_USER_STREAM_URL = 'wss://fstream.binance.com/private';

/** The private stream base that goes with a WebSocket API URL: production, testnet, else the same origin (a simulator). */
export function binanceUsdmUserStreamUrlFor(wsUrl: string): string {
  const u = new URL(wsUrl);
  if (u.hostname === 'ws-fapi.binance.com') return BINANCE_USDM_USER_STREAM_URL;
  // UNCONFIRMED: testnet's private route (its market streams are at fstream.binancefuture.com)
  if (u.hostname === 'testnet.binancefuture.com') return 'wss://fstream.binancefuture.com/private';
  return `${u.protocol}//${u.host}/private`;
}

const int = (min: number, max: number) =>
  z.coerce.number({ error: 'must be a number' }).int({ error: 'must be an integer' }).min(min, { error: `must be at least ${min}` }).max(max, { error: `must be at most ${max}` });

const streamOptions = z
  .object({
    /** private stream base (ws/wss), `/ws/<listenKey>` appended; default from wsUrl */
    streamUrl: z.string().refine((v) => { try { return ['ws:', 'wss:'].includes(new URL(v).protocol); } catch { return false; } }, { error: 'must be a ws(s) URL' }).transform((u) => u.replace(/\/+$/, '')).optional(),
    /** PUT the listen key this often (it dies 60 min after the last keepalive) */
    keepaliveIntervalMs: int(1_000, 59 * 60_000).default(30 * 60_000),
    /** reconnect the stream once it is this old: Binance cuts connections at 24 h */
    reconnectBeforeMs: int(100, 24 * HOUR - 1).default(23 * HOUR),
    /** while the stream is on, the poller re-polls a tracked order this often (push is the source; order.status confirms) */
    pollIntervalMs: int(10, 24 * HOUR).default(5 * 60_000),
    /** silence (no frame, no server ping) after which the stream is presumed dead; 0 disables */
    idleTimeoutMs: int(0, 24 * HOUR).default(7 * 60_000),
    /** the client's timer (keepalive, age) */
    tickMs: int(5, 60_000).default(1_000),
  })
  .strict();

/** `userDataStream` in the account config: `true` (defaults), an options object, or `false`/absent (poll only). */
export const binanceUsdmUserStreamConfigSchema = z
  .union([z.boolean(), streamOptions], { error: 'must be true, false or an options object' })
  .transform((v) => (v === false ? undefined : streamOptions.parse(v === true ? {} : v)));

export type BinanceUsdmUserStreamConfig = z.output<typeof streamOptions>;

/** What the user data stream needs of the account's poller. */
export interface BinanceUsdmUserStreamHost {
  restUrl: string;
  apiKey(): string;
  reconciler: VenueReconciler;
  /** every tracked order due now (after a (re)connect of the stream, pushes may have been lost) */
  confirmAll(): void;
  /** poll this order once more now (a push said it is finished: order.status gives its cumulative quote and creation time) */
  confirm(ref: TrackRef): void;
}

export interface BinanceUsdmUserStreamStats {
  listenKeysCreated: number;
  keepalives: number;
  keepaliveFailures: number;
  listenKeyExpiredEvents: number;
  frames: number;
  confirmsAsked: number;
}

/**
 * The user data stream half of a Binance USDⓈ-M account: a VenueClient the collector runs as a second session
 * (`companions` of BinanceUsdmClient), same venue, api-version and raw key. Reconciliation (REST + order.status
 * confirmation of every tracked order) runs after every (re)connect of this stream.
 */
export class BinanceUsdmUserStreamClient implements VenueClient {
  readonly venue = 'binance-usdm' as const;
  readonly apiVersion = BINANCE_USDM_API_VERSION;
  readonly reconciler: VenueReconciler;
  /** No subscription: once open, the stream pushes. */
  readonly readyEvent = 'connected' as const;
  readonly idleTimeoutMs: number;
  readonly heartbeat: { intervalMs: number; beat(io: SessionIO): void };

  readonly #cfg: BinanceUsdmUserStreamConfig;
  readonly #streamUrl: string;
  readonly #host: BinanceUsdmUserStreamHost;
  readonly #fetch: typeof globalThis.fetch;
  readonly #now: () => number;
  readonly #log: Logger | undefined;
  #listenKey: string | undefined;
  #connectedAt = 0;
  #lastKeepalive = 0;
  #keepaliveInFlight = false;
  #open = false;
  readonly #stats: BinanceUsdmUserStreamStats = { listenKeysCreated: 0, keepalives: 0, keepaliveFailures: 0, listenKeyExpiredEvents: 0, frames: 0, confirmsAsked: 0 };

  constructor(
    cfg: BinanceUsdmUserStreamConfig,
    wsUrl: string,
    host: BinanceUsdmUserStreamHost,
    deps: { fetch?: typeof globalThis.fetch; now?: () => number; logger?: Logger | undefined } = {},
  ) {
    this.#cfg = cfg;
    this.#streamUrl = cfg.streamUrl ?? binanceUsdmUserStreamUrlFor(wsUrl);
    this.#host = host;
    this.#fetch = deps.fetch ?? globalThis.fetch;
    this.#now = deps.now ?? Date.now;
    this.#log = deps.logger;
    this.reconciler = host.reconciler;
    this.idleTimeoutMs = cfg.idleTimeoutMs;
    this.heartbeat = { intervalMs: cfg.tickMs, beat: (io) => this.#beat(io) };
  }

  stats(): BinanceUsdmUserStreamStats {
    return { ...this.#stats };
  }

  /** The stream base `/ws/<listenKey>` is appended to. */
  get streamUrl(): string {
    return this.#streamUrl;
  }

  /** A listen key (POST: the account's active key, extended, or a new one), then the stream URL. */
  async prepare(signal: AbortSignal): Promise<ConnectTarget> {
    this.#open = false;
    const body = await this.#listenKeyCall('POST', signal);
    let key: unknown;
    try {
      key = (JSON.parse(body) as { listenKey?: unknown }).listenKey;
    } catch {
      key = undefined;
    }
    if (typeof key !== 'string' || !/^[A-Za-z0-9_-]{1,200}$/.test(key)) {
      throw new VenueError('VENUE_LISTEN_KEY_INVALID', `Binance POST ${BINANCE_USDM_LISTEN_KEY_PATH} answered without a usable listenKey: ${body.slice(0, 120)}`);
    }
    this.#listenKey = key;
    this.#stats.listenKeysCreated++;
    this.#lastKeepalive = this.#now();
    return { url: `${this.#streamUrl}/ws/${key}` };
  }

  onOpen(io: SessionIO): void {
    this.#open = true;
    this.#connectedAt = this.#now();
    io.event({ event: 'subscribed', details: { stream: 'user data', listenKey: maskKey(this.#listenKey) } });
    // Pushes sent while the stream was down are lost: every tracked order is confirmed by order.status again (the
    // session's REST reconciliation runs too, readyEvent 'connected').
    this.#host.confirmAll();
  }

  onFrame(text: string, io: SessionIO): void {
    this.#stats.frames++;
    // Only two events matter to the connection itself; the normalizer maps everything from the raw record.
    if (text.includes('"listenKeyExpired"')) {
      if (eventType(text) === 'listenKeyExpired') {
        this.#stats.listenKeyExpiredEvents++;
        this.#open = false;
        io.event({ event: 'error', reason: 'listen key expired: no more events on this connection; getting a new key', code: 'listenKeyExpired' });
        io.reconnect('listen key expired', 'listenKeyExpired');
      }
      return;
    }
    if (text.includes('"ORDER_TRADE_UPDATE"')) this.#confirmIfFinished(text);
  }

  #confirmIfFinished(text: string): void {
    let v: { e?: unknown; o?: { X?: unknown; s?: unknown } };
    try {
      v = JSON.parse(text) as typeof v;
    } catch {
      return;
    }
    if (v.e !== 'ORDER_TRADE_UPDATE' || typeof v.o?.X !== 'string' || typeof v.o.s !== 'string') return;
    if (!BINANCE_USDM_TERMINAL_STATUSES.has(v.o.X)) return;
    let orderId: string | undefined;
    try {
      orderId = exactIntegerAt(text, ['o', 'i']);
    } catch {
      orderId = undefined;
    }
    if (orderId === undefined) return;
    this.#stats.confirmsAsked++;
    try {
      this.#host.confirm({ symbol: v.o.s, orderId, origin: 'push' });
    } catch (error) {
      this.#log?.warn({ err: errorMessage(error), orderId }, 'binance-usdm user stream: confirm refused');
    }
  }

  #beat(io: SessionIO): void {
    if (!this.#open) return;
    const now = this.#now();
    if (now - this.#connectedAt >= this.#cfg.reconnectBeforeMs) {
      this.#open = false;
      io.reconnect(`user data stream is ${now - this.#connectedAt} ms old (reconnectBeforeMs ${this.#cfg.reconnectBeforeMs}); Binance cuts connections at 24 h`);
      return;
    }
    if (this.#keepaliveInFlight || now - this.#lastKeepalive < this.#cfg.keepaliveIntervalMs) return;
    this.#keepaliveInFlight = true;
    this.#lastKeepalive = now;
    const abort = AbortSignal.timeout(10_000);
    this.#listenKeyCall('PUT', abort)
      .then(() => {
        this.#stats.keepalives++;
      })
      .catch((error: unknown) => {
        this.#stats.keepaliveFailures++;
        const code = error instanceof VenueError ? error.details.venueCode : undefined;
        io.event({ event: 'error', reason: `listen key keepalive failed: ${errorMessage(error)}`, ...(code !== undefined ? { code: code as number } : {}) });
        // -1125 "This listenKey does not exist.": the stream is dead; a new key and a new connection.
        if (code === -1125 && this.#open) {
          this.#open = false;
          io.reconnect('listen key does not exist (-1125)', -1125);
        } else {
          this.#lastKeepalive = this.#now() - this.#cfg.keepaliveIntervalMs + Math.min(60_000, this.#cfg.keepaliveIntervalMs); // retry within a minute
        }
      })
      .finally(() => {
        this.#keepaliveInFlight = false;
      });
  }

  async #listenKeyCall(method: 'POST' | 'PUT', signal: AbortSignal): Promise<string> {
    const url = `${this.#host.restUrl}${BINANCE_USDM_LISTEN_KEY_PATH}`;
    let res: Response;
    try {
      res = await this.#fetch(url, { method, headers: { 'X-MBX-APIKEY': this.#host.apiKey() }, signal });
    } catch (error) {
      throw new VenueError('VENUE_HTTP_ERROR', `Binance ${method} ${BINANCE_USDM_LISTEN_KEY_PATH} failed: ${errorMessage(error)}`, { cause: error });
    }
    const body = await res.text();
    if (res.ok) return body;
    let code: number | undefined;
    try {
      const c = (JSON.parse(body) as { code?: unknown }).code;
      code = typeof c === 'number' ? c : undefined;
    } catch {
      code = undefined;
    }
    const errCode = res.status === 429 || res.status === 418 ? 'VENUE_RATE_LIMITED' : res.status === 401 || code === -2015 || code === -2014 ? 'VENUE_AUTH_FAILED' : 'VENUE_HTTP_ERROR';
    throw new VenueError(errCode, `Binance ${method} ${BINANCE_USDM_LISTEN_KEY_PATH} answered HTTP ${res.status}: ${body.slice(0, 160)}`, {
      details: { httpStatus: res.status, ...(code !== undefined ? { venueCode: code } : {}) },
    });
  }
}

function eventType(text: string): string | undefined {
  try {
    const e = (JSON.parse(text) as { e?: unknown }).e;
    return typeof e === 'string' ? e : undefined;
  } catch {
    return undefined;
  }
}

/** First and last 4 characters: enough to tell keys apart in session events, useless to anyone reading them. */
function maskKey(key: string | undefined): string {
  if (!key) return '';
  return key.length <= 8 ? '****' : `${key.slice(0, 4)}…${key.slice(-4)}`;
}
