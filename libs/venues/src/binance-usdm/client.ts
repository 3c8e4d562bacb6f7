import { z } from 'zod';
import { backoffDelay, errorMessage, parseConfig, secretString, type Logger } from '@orderstream/kit';
import type { ConnectTarget, SessionEvent, SessionIO, TrackRef, VenueClient, VenueReconciler } from '../types.js';
import { isInt64Digits } from './exact-json.js';
import {
  BINANCE_USDM_TERMINAL_STATUSES,
  parseBinanceUsdmFrame,
  type BinanceUsdmErrorReply,
  type BinanceUsdmFrame,
  type BinanceUsdmOrder,
  type BinanceUsdmRateLimit,
} from './frames.js';
import { BINANCE_USDM_API_VERSION } from './mapper.js';
import { rateLimitWindowMs, WeightPacer, windowEnd } from './pacer.js';
import { BinanceUsdmReconciler } from './reconciler.js';
import { BINANCE_USDM_ALGO_ID_PREFIX } from './mapper-uds.js';
import { BinanceUsdmUserStreamClient, binanceUsdmUserStreamConfigSchema } from './user-stream.js';
import { binanceUsdmOrderStatusRequest, createBinanceUsdmSigner, ed25519PrivateKey, type BinanceUsdmSigner } from './sign.js';

/** Production REST API (USDⓈ-M general info): the reconciliation's open orders, order and history calls. */
export const BINANCE_USDM_REST_URL = 'https://fapi.binance.com';
/**
 * The REST API that goes with a WebSocket API URL, when `restUrl` is not configured: Binance's production and testnet
 * hosts map to their REST hosts (PROTOCOLS.md 5.1); any other host (a simulator, a proxy) serves REST on the same
 * origin, ws → http, wss → https.
 */
export function binanceUsdmRestUrlFor(wsUrl: string): string {
  const u = new URL(wsUrl);
  if (u.hostname === 'ws-fapi.binance.com') return BINANCE_USDM_REST_URL;
  if (u.hostname === 'testnet.binancefuture.com') return 'https://testnet.binancefuture.com';
  return `${u.protocol === 'wss:' ? 'https:' : 'http:'}//${u.host}`;
}

/** Production WebSocket API endpoint (USDⓈ-M WebSocket API General Info). */
export const BINANCE_USDM_WS_URL = 'wss://ws-fapi.binance.com/ws-fapi/v1';
/** "A single connection to the API is only valid for 24 hours" (WebSocket API General Info). */
export const BINANCE_USDM_CONNECTION_LIFETIME_MS = 24 * 60 * 60 * 1000;
/** "Websocket server will send a ping frame every 3 minutes" (same page). */
export const BINANCE_USDM_SERVER_PING_INTERVAL_MS = 3 * 60 * 1000;
/** "…does not receive a pong frame back from the connection within a 10 minute period…" (same page). */
export const BINANCE_USDM_PONG_DEADLINE_MS = 10 * 60 * 1000;
/** Request weight of order.status (official doc). */
export const BINANCE_USDM_ORDER_STATUS_WEIGHT = 1;
/** REQUEST_WEIGHT limit per minute of ws-fapi (JKBN PlaceOrder.txt, BNTEST mocks; per IP). */
export const BINANCE_USDM_REQUEST_WEIGHT_PER_MINUTE = 2400;
/** Maximum recvWindow Binance accepts. */
export const BINANCE_USDM_MAX_RECV_WINDOW_MS = 60_000;

const HOUR = 60 * 60 * 1000;

/** Error codes that say this order's request itself is wrong (bad symbol, malformed id): retrying cannot help. */
const INVALID_REQUEST_CODES: ReadonlySet<number> = new Set([-1100, -1102, -1104, -1105, -1106, -1121, -1122, -1128, -1130]);
/** Codes that say the credentials or the signature are refused: every request will fail the same way. */
const AUTH_CODES: ReadonlySet<number> = new Set([-1002, -1022, -2014, -2015]);
/** Codes of transient trouble on Binance's side: retry the same order later. */
const TRANSIENT_CODES: ReadonlySet<number> = new Set([-1000, -1001, -1006, -1007, -1008, -1016]);

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

/** An order to track from configuration. `orderId` is int64: write it as a string (JSON numbers above 2^53 lose digits). */
export const binanceUsdmTrackEntrySchema = z
  .object({
    symbol: z.string({ error: 'is required' }).regex(/^[A-Z0-9_]{2,40}$/, { error: 'must be a Binance symbol such as BTCUSDT' }),
    orderId: z
      .union([z.string(), z.number()], { error: 'must be a string of digits' })
      .transform((v, ctx) => {
        if (typeof v === 'number') {
          if (!Number.isSafeInteger(v) || v < 0) {
            ctx.addIssue({ code: 'custom', message: 'must be a string of digits: a JSON number above 2^53 has already lost digits' });
            return z.NEVER;
          }
          return String(v);
        }
        if (!isInt64Digits(v)) {
          ctx.addIssue({ code: 'custom', message: 'must be an int64 written in digits' });
          return z.NEVER;
        }
        return v;
      })
      .optional(),
    clientOrderId: z.string().min(1, { error: 'must not be empty' }).max(36, { error: 'must be at most 36 characters' }).optional(),
  })
  .strict()
  .refine((t) => t.orderId !== undefined || t.clientOrderId !== undefined, { error: 'needs orderId or clientOrderId' });

/**
 * Configuration of one Binance USDⓈ-M `order.status` polling connection (one account). Numbers may come as strings.
 * Exactly one of apiSecret (HMAC-SHA256 key) and ed25519PrivateKeyPem (Ed25519 key) is required.
 */
export const binanceUsdmClientConfigSchema = z
  .object({
    /** WebSocket API, e.g. wss://ws-fapi.binance.com/ws-fapi/v1 (testnet: wss://testnet.binancefuture.com/ws-fapi/v1) */
    wsUrl: urlWithScheme(['ws:', 'wss:'], 'ws(s)'),
    /** REST API for reconciliation (open orders, order, history), e.g. https://fapi.binance.com (testnet: https://testnet.binancefuture.com) */
    restUrl: urlWithScheme(['http:', 'https:'], 'http(s)').transform((u) => u.replace(/\/+$/, '')).optional(),
    apiKey: secretString(),
    /** HMAC-SHA256 key's secret */
    apiSecret: secretString().optional(),
    /** Ed25519 key: the PKCS#8 PEM private key (its public half registered with Binance) */
    ed25519PrivateKeyPem: secretString().optional(),
    /** how long after `timestamp` Binance may still accept a request; Binance: default 5000, max 60000 */
    recvWindowMs: int(1, BINANCE_USDM_MAX_RECV_WINDOW_MS).default(5_000),
    /** added to the local clock for `timestamp` (a known skew against Binance; normally 0: keep the host on NTP) */
    clockOffsetMs: int(-BINANCE_USDM_MAX_RECV_WINDOW_MS, BINANCE_USDM_MAX_RECV_WINDOW_MS).default(0),
    /** poll each tracked order this often at most (stretched when the budget does not allow it) */
    pollIntervalMs: int(10, HOUR).default(2_000),
    /** REQUEST_WEIGHT per minute this connection may use; Binance's limit is 2400 per IP (shared by every process on it) */
    weightBudgetPerMinute: int(1, 1_000_000).default(BINANCE_USDM_REQUEST_WEIGHT_PER_MINUTE),
    /** 0..0.9: share of the budget and of any venue-reported limit never used */
    safetyMargin: z.coerce.number({ error: 'must be a number' }).min(0).max(0.9).default(0.25),
    /** hard cap on requests per second on the connection */
    maxRequestsPerSecond: int(1, 1_000).default(10),
    /** requests that may leave back to back (token bucket capacity) */
    burst: int(1, 100).default(5),
    /** requests awaiting an answer at most */
    maxInFlight: int(1, 1_000).default(20),
    /** a request without an answer after this long is given up (the order is polled again) */
    requestTimeoutMs: int(100, 120_000).default(10_000),
    /** this many timeouts in a row with no answer in between → reconnect */
    maxConsecutiveTimeouts: int(1, 1_000).default(3),
    /** -2013 answers tolerated per order before it is given up (untracked with code -2013) */
    maxNotFoundRetries: int(0, 1_000).default(5),
    /** first retry delay after -2013; doubles per retry up to notFoundRetryMaxMs */
    notFoundRetryDelayMs: int(1, HOUR).default(1_000),
    notFoundRetryMaxMs: int(1, HOUR).default(30_000),
    /** other per-order refusals tolerated before the order is given up (transient 5xx-type errors never count) */
    maxOrderErrorRetries: int(0, 1_000).default(5),
    /** backoff after auth (-1022, -2015), clock (-1021) and transient errors: first delay, doubling up to the max */
    errorBackoffInitialMs: int(1, HOUR).default(1_000),
    errorBackoffMaxMs: int(1, 24 * HOUR).default(60_000),
    /** at most one 'error' session event per error code per this period (the rest are counted in details.suppressed) */
    errorEventIntervalMs: int(0, 24 * HOUR).default(60_000),
    /** reconnect once the connection is this old: Binance closes it at 24 h */
    reconnectBeforeMs: int(100, BINANCE_USDM_CONNECTION_LIFETIME_MS - 1, 'must be below 24 h (86400000 ms), the connection lifetime').default(23 * HOUR),
    /** the client's timer: how often it checks what is due */
    tickMs: int(5, 10_000).default(100),
    /** silence (no frame, no ping) after which the connection is presumed dead; default 2 server pings + 1 min; 0 disables */
    idleTimeoutMs: int(0, 24 * HOUR).default(2 * BINANCE_USDM_SERVER_PING_INTERVAL_MS + 60_000),
    /** recvWindow of the reconciliation's REST calls: read-only, and the same signed URL is retried after Retry-After */
    restRecvWindowMs: int(1, BINANCE_USDM_MAX_RECV_WINDOW_MS).default(BINANCE_USDM_MAX_RECV_WINDOW_MS),
    /** symbols whose order history (allOrders) reconciliation reads after a gap, besides those of tracked and open orders */
    symbols: z.array(z.string().regex(/^[A-Z0-9_]{2,40}$/, { error: 'must be a Binance symbol such as BTCUSDT' })).default([]),
    /** `limit` of one allOrders page (Binance: max 1000); a full page is split by time and asked again */
    allOrdersLimit: int(1, 1000).default(1000),
    /** orders to track from the start */
    track: z.array(binanceUsdmTrackEntrySchema).default([]),
    /** finished orders remembered so that a late track() of one is ignored */
    finishedMemory: int(0, 10_000_000).default(100_000),
    /**
     * The account's user data stream (issue 8): `true` or options (./user-stream.ts). Every order of the account is then
     * pushed; order.status and the REST reconciliation confirm after every (re)connect of the stream. Default off.
     */
    userDataStream: binanceUsdmUserStreamConfigSchema.optional(),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const hmac = cfg.apiSecret !== undefined;
    const ed = cfg.ed25519PrivateKeyPem !== undefined;
    if (hmac === ed) {
      ctx.addIssue({ code: 'custom', path: ['apiSecret'], message: 'exactly one of apiSecret (HMAC key) and ed25519PrivateKeyPem (Ed25519 key) is required' });
    }
    if (ed && cfg.ed25519PrivateKeyPem) {
      try {
        ed25519PrivateKey(cfg.ed25519PrivateKeyPem.reveal());
      } catch (error) {
        ctx.addIssue({ code: 'custom', path: ['ed25519PrivateKeyPem'], message: errorMessage(error) });
      }
    }
    if (cfg.notFoundRetryMaxMs < cfg.notFoundRetryDelayMs) {
      ctx.addIssue({ code: 'custom', path: ['notFoundRetryMaxMs'], message: 'must be at least notFoundRetryDelayMs' });
    }
    if (cfg.errorBackoffMaxMs < cfg.errorBackoffInitialMs) {
      ctx.addIssue({ code: 'custom', path: ['errorBackoffMaxMs'], message: 'must be at least errorBackoffInitialMs' });
    }
  });

export type BinanceUsdmClientConfigInput = z.input<typeof binanceUsdmClientConfigSchema>;
export type BinanceUsdmClientConfig = z.output<typeof binanceUsdmClientConfigSchema>;

export interface BinanceUsdmClientDeps {
  /** epoch ms; defaults to Date.now */
  now?: () => number;
  /** 0..1 for backoff jitter; defaults to Math.random */
  random?: () => number;
  logger?: Logger;
}

/** What the client knows about one tracked order (health output, tests). */
export interface BinanceUsdmTrackedOrder {
  symbol: string;
  orderId: string | null;
  clientOrderId: string | null;
  origin: TrackRef['origin'];
  /** venue status of the last answer, null before the first */
  lastStatus: string | null;
  polls: number;
  /** -2013 answers in a row */
  notFound: number;
  /** epoch ms of the next poll */
  dueAt: number;
  inFlight: boolean;
}

export interface BinanceUsdmClientStats {
  tracked: number;
  inFlight: number;
  requestsSent: number;
  answers: number;
  /** answers that could not be read (the normalizer dead-letters them) */
  unreadable: number;
  timeouts: number;
  untrackedTerminal: number;
  untrackedNotFound: number;
  untrackedOther: number;
  /** error answers by Binance code */
  errorsByCode: Record<string, number>;
  /** pacing holds applied (venue windows, 429/418, backoffs) */
  holds: number;
  /** requests per minute the token bucket allows in steady state */
  steadyRatePerMinute: number;
}

interface Tracked {
  key: string;
  symbol: string;
  orderId: string | undefined;
  clientOrderId: string | undefined;
  origin: TrackRef['origin'];
  dueAt: number;
  lastSentAt: number;
  polls: number;
  notFound: number;
  errors: number;
  inFlight: string | undefined;
  lastStatus: string | undefined;
  /** confirm() while a request was in flight: that answer may predate what the push said; ask once more after it */
  recheck?: boolean;
}

interface Pending {
  key: string;
  sentAt: number;
}

type UntrackReason = 'terminal' | 'not-found' | 'invalid-request' | 'error';

const idKey = (symbol: string, orderId: string) => `${symbol}|id:${orderId}`;
const clientKey = (symbol: string, clientOrderId: string) => `${symbol}|c:${clientOrderId}`;

/**
 * The Binance USDⓈ-M half of a collector session: polls `order.status` over the WebSocket API for every tracked
 * order until it is terminal.
 * - track(ref): start watching an order (orderId, or clientOrderId, + symbol); idempotent; before or while connected;
 * - prepare(): the socket URL (nothing to fetch: every request is signed on its own); in-flight requests are dropped;
 * - heartbeat (every tickMs): give up unanswered requests, reconnect before 24 h, send what is due within the budget;
 * - onFrame(): route the answer by request id; terminal → 'untracked'; -2013 → retry with backoff, then
 *   'untracked' (code -2013); -1021/-1022/-2015 → 'error' + backoff for every order; 429/418 → 'error' + hold;
 * - WebSocket pings are answered by the `ws` library (autoPong, payload copied); see README.
 * Secrets (API key, secret, private key, signatures) never go into errors, logs or session events.
 */
export class BinanceUsdmClient implements VenueClient {
  readonly venue = 'binance-usdm' as const;
  readonly apiVersion = BINANCE_USDM_API_VERSION;
  readonly heartbeat: { intervalMs: number; beat(io: SessionIO): void };
  readonly idleTimeoutMs: number;
  /** REST reconciliation after every (re)connect (./reconciler.ts) */
  readonly reconciler: VenueReconciler;
  /**
   * The WebSocket API needs no subscription: a connection is usable once open (every request is signed). With the user
   * data stream on, that stream's (re)connects start the reconciliation instead ('manual' here).
   */
  readonly readyEvent: 'connected' | 'manual';
  /** the user data stream, when configured: the collector runs it as a second session of the account */
  readonly companions?: readonly VenueClient[];
  /** the user data stream client, when configured */
  readonly userStream: BinanceUsdmUserStreamClient | undefined;

  readonly #cfg: BinanceUsdmClientConfig;
  readonly #signer: BinanceUsdmSigner;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #log: Logger | undefined;
  readonly #pacer: WeightPacer;
  readonly #orders = new Map<string, Tracked>();
  readonly #aliases = new Map<string, string>();
  readonly #pending = new Map<string, Pending>();
  readonly #finished = new Map<string, UntrackReason>();
  readonly #errorEvents = new Map<number, { at: number; suppressed: number }>();
  /** symbols whose history reconciliation reads: configured, tracked, seen in open orders */
  readonly #symbols = new Set<string>();
  #connTag = 0;
  #requestSeq = 0;
  #connected = false;
  #connectedAt = 0;
  #authenticated = false;
  #globalFailures = 0;
  #consecutiveTimeouts = 0;
  #bans = 0;
  readonly #stats = {
    requestsSent: 0,
    answers: 0,
    unreadable: 0,
    timeouts: 0,
    untrackedTerminal: 0,
    untrackedNotFound: 0,
    untrackedOther: 0,
    errorsByCode: {} as Record<string, number>,
  };

  constructor(config: BinanceUsdmClientConfig, deps: BinanceUsdmClientDeps = {}) {
    this.#cfg = config;
    this.#now = deps.now ?? Date.now;
    this.#random = deps.random ?? Math.random;
    this.#log = deps.logger;
    this.#signer = config.ed25519PrivateKeyPem
      ? createBinanceUsdmSigner({ ed25519PrivateKeyPem: config.ed25519PrivateKeyPem.reveal() })
      : createBinanceUsdmSigner({ apiSecret: (config.apiSecret as NonNullable<typeof config.apiSecret>).reveal() });
    this.#pacer = new WeightPacer(
      {
        budgetPerMinute: config.weightBudgetPerMinute,
        safetyMargin: config.safetyMargin,
        maxRequestsPerSecond: config.maxRequestsPerSecond,
        burst: config.burst,
      },
      this.#now,
    );
    this.idleTimeoutMs = config.idleTimeoutMs;
    this.heartbeat = { intervalMs: config.tickMs, beat: (io) => this.#beat(io) };
    for (const s of config.symbols) this.#symbols.add(s);
    this.reconciler = new BinanceUsdmReconciler({
      restUrl: config.restUrl ?? binanceUsdmRestUrlFor(config.wsUrl),
      apiKey: () => config.apiKey.reveal(),
      signer: this.#signer,
      recvWindowMs: config.restRecvWindowMs,
      clockOffsetMs: config.clockOffsetMs,
      now: this.#now,
      allOrdersLimit: config.allOrdersLimit,
      symbols: () => this.#symbols,
      noteSymbol: (symbol) => this.#symbols.add(symbol),
      // An open order the poller did not know (placed during a gap, or elsewhere): follow it to its end.
      noteOpen: (o) => {
        this.track({ symbol: o.symbol, orderId: o.orderId, ...(o.clientOrderId ? { clientOrderId: o.clientOrderId } : {}), origin: 'state' });
      },
      // REST and the WebSocket API share the IP's REQUEST_WEIGHT: the poller paces on what Binance reports.
      onUsedWeight: (count) =>
        this.#pacer.noteRateLimits(
          [{ rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: BINANCE_USDM_REQUEST_WEIGHT_PER_MINUTE, count }],
          this.#pending.size,
        ),
    });
    const uds = config.userDataStream;
    this.readyEvent = uds ? 'manual' : 'connected';
    this.userStream = uds
      ? new BinanceUsdmUserStreamClient(uds, config.wsUrl, {
          restUrl: config.restUrl ?? binanceUsdmRestUrlFor(config.wsUrl),
          apiKey: () => config.apiKey.reveal(),
          reconciler: this.reconciler,
          confirmAll: () => this.confirmAll(),
          confirm: (ref) => this.confirm(ref),
        }, { now: this.#now, logger: this.#log })
      : undefined;
    if (this.userStream) this.companions = [this.userStream];
    for (const t of config.track) {
      this.track({ symbol: t.symbol, ...(t.orderId ? { orderId: t.orderId } : {}), ...(t.clientOrderId ? { clientOrderId: t.clientOrderId } : {}), origin: 'config' });
    }
  }

  /** Validates raw configuration (throws ConfigError listing every problem) and builds a client. */
  static fromConfig(input: unknown, deps?: BinanceUsdmClientDeps): BinanceUsdmClient {
    return new BinanceUsdmClient(parseConfig(binanceUsdmClientConfigSchema, input), deps);
  }

  /** HMAC_SHA256 or ED25519. */
  get keyType(): BinanceUsdmSigner['keyType'] {
    return this.#signer.keyType;
  }

  /**
   * Starts watching an order until it is terminal. Returns true when the order is new to the client; false when it
   * is already tracked (the ref's other id is remembered) or finished recently (terminal / given up).
   * Throws RangeError for a ref without a symbol, without ids, or with an orderId that is not int64 digits.
   */
  track(ref: TrackRef): boolean {
    // Algo Service orders (ALGO_UPDATE, key algo-<algoId>) are not orders order.status can query.
    if (ref.orderId?.startsWith(BINANCE_USDM_ALGO_ID_PREFIX)) return false;
    const symbol = ref.symbol?.trim();
    if (!symbol) throw new RangeError('track(): symbol is required');
    if (ref.orderId === undefined && ref.clientOrderId === undefined) throw new RangeError('track(): orderId or clientOrderId is required');
    if (ref.orderId !== undefined && !isInt64Digits(ref.orderId)) {
      throw new RangeError(`track(): orderId must be an int64 in digits, got ${JSON.stringify(ref.orderId)}`);
    }
    if (ref.clientOrderId !== undefined && ref.clientOrderId.length === 0) throw new RangeError('track(): clientOrderId must not be empty');
    this.#symbols.add(symbol);
    const keys = [
      ...(ref.orderId !== undefined ? [idKey(symbol, ref.orderId)] : []),
      ...(ref.clientOrderId !== undefined ? [clientKey(symbol, ref.clientOrderId)] : []),
    ];
    if (keys.some((k) => this.#finished.has(k))) {
      this.#log?.debug({ symbol, orderId: ref.orderId, origin: ref.origin }, 'binance-usdm: track() of a finished order ignored');
      return false;
    }
    const existing = keys.map((k) => this.#lookup(k)).find((t) => t !== undefined);
    if (existing) {
      if (existing.orderId === undefined && ref.orderId !== undefined) this.#learnOrderId(existing, ref.orderId);
      if (existing.clientOrderId === undefined && ref.clientOrderId !== undefined) this.#learnClientOrderId(existing, ref.clientOrderId);
      return false;
    }
    const key = keys[0] as string;
    const t: Tracked = {
      key,
      symbol,
      orderId: ref.orderId,
      clientOrderId: ref.clientOrderId,
      origin: ref.origin,
      dueAt: this.#now(),
      lastSentAt: 0,
      polls: 0,
      notFound: 0,
      errors: 0,
      inFlight: undefined,
      lastStatus: undefined,
    };
    this.#orders.set(key, t);
    for (const k of keys.slice(1)) this.#aliases.set(k, key);
    return true;
  }

  /** Every tracked order due now (the user data stream (re)connected: pushes may have been lost meanwhile). */
  confirmAll(): void {
    const now = this.#now();
    for (const t of this.#orders.values()) t.dueAt = Math.min(t.dueAt, now);
  }

  /**
   * One more order.status answer for this order now: tracks it (origin `push`) or makes it due. The user data stream
   * calls it when a push says an order finished, so the state gets the fields pushes lack (cumulative quote, creation
   * time). Returns false for an order finished here already.
   */
  confirm(ref: TrackRef): boolean {
    if (this.track(ref)) return true;
    const t = ref.orderId !== undefined ? this.#lookup(idKey(ref.symbol.trim(), ref.orderId)) : undefined;
    if (!t) return false;
    t.dueAt = Math.min(t.dueAt, this.#now());
    if (t.inFlight !== undefined) t.recheck = true;
    return true;
  }

  /** Stops watching an order without a session event (an operator's decision, not the venue's). */
  untrack(ref: Pick<TrackRef, 'symbol' | 'orderId' | 'clientOrderId'>): boolean {
    const keys = [
      ...(ref.orderId !== undefined ? [idKey(ref.symbol, ref.orderId)] : []),
      ...(ref.clientOrderId !== undefined ? [clientKey(ref.symbol, ref.clientOrderId)] : []),
    ];
    const t = keys.map((k) => this.#lookup(k)).find((x) => x !== undefined);
    if (!t) return false;
    this.#remove(t);
    return true;
  }

  /** The orders being tracked, oldest first. */
  tracked(): BinanceUsdmTrackedOrder[] {
    return [...this.#orders.values()].map((t) => ({
      symbol: t.symbol,
      orderId: t.orderId ?? null,
      clientOrderId: t.clientOrderId ?? null,
      origin: t.origin,
      lastStatus: t.lastStatus ?? null,
      polls: t.polls,
      notFound: t.notFound,
      dueAt: t.dueAt,
      inFlight: t.inFlight !== undefined,
    }));
  }

  /** With the user data stream on, pushes are the source: tracked orders are re-polled at its (longer) interval. */
  get #pollIntervalMs(): number {
    return this.#cfg.userDataStream?.pollIntervalMs ?? this.#cfg.pollIntervalMs;
  }

  stats(): BinanceUsdmClientStats {
    return {
      tracked: this.#orders.size,
      inFlight: this.#pending.size,
      ...this.#stats,
      errorsByCode: { ...this.#stats.errorsByCode },
      holds: this.#pacer.holds,
      steadyRatePerMinute: this.#pacer.steadyRatePerMinute,
    };
  }

  async prepare(_signal: AbortSignal): Promise<ConnectTarget> {
    // A new connection: answers to requests of the old one will never come; poll those orders again.
    const now = this.#now();
    for (const p of this.#pending.values()) {
      const t = this.#orders.get(p.key);
      if (t) {
        t.inFlight = undefined;
        t.dueAt = Math.min(t.dueAt, now);
      }
    }
    this.#pending.clear();
    this.#connected = false;
    this.#consecutiveTimeouts = 0;
    this.#connTag++;
    return { url: this.#cfg.wsUrl };
  }

  onOpen(io: SessionIO): void {
    this.#connected = true;
    this.#connectedAt = this.#now();
    this.#authenticated = false;
    // After a gap every tracked order may have changed: all are due at once; the pacer spreads them in the budget.
    for (const t of this.#orders.values()) t.dueAt = Math.min(t.dueAt, this.#connectedAt);
    this.#pump(io);
  }

  onFrame(text: string, io: SessionIO): void {
    let frame: BinanceUsdmFrame;
    try {
      frame = parseBinanceUsdmFrame(text);
    } catch (error) {
      this.#unreadable(text, error);
      this.#pump(io);
      return;
    }
    this.#consecutiveTimeouts = 0;
    const requestId = frame.kind === 'order' ? frame.id : frame.error.id;
    const pending = requestId === null ? undefined : this.#pending.get(requestId);
    if (pending) this.#pending.delete(requestId as string);
    this.#pacer.noteRateLimits(frame.rateLimits, this.#pending.size);
    const t = pending ? this.#orders.get(pending.key) : undefined;
    if (t && t.inFlight === requestId) t.inFlight = undefined;
    if (frame.kind === 'order') this.#onOrder(frame.order, t, io);
    else this.#onError(frame.error, frame.rateLimits, t, io);
    this.#pump(io);
  }

  // -------------------------------------------------------------------------------------------------------------

  #beat(io: SessionIO): void {
    if (!this.#connected) return;
    const now = this.#now();
    const age = now - this.#connectedAt;
    if (age >= this.#cfg.reconnectBeforeMs) {
      this.#connected = false;
      io.reconnect(`connection is ${age} ms old (reconnectBeforeMs ${this.#cfg.reconnectBeforeMs}); Binance closes WebSocket API connections at 24 h`);
      return;
    }
    for (const [id, p] of this.#pending) {
      if (now - p.sentAt < this.#cfg.requestTimeoutMs) continue;
      this.#pending.delete(id);
      this.#stats.timeouts++;
      this.#consecutiveTimeouts++;
      const t = this.#orders.get(p.key);
      if (t && t.inFlight === id) {
        t.inFlight = undefined;
        t.dueAt = now;
      }
    }
    if (this.#consecutiveTimeouts >= this.#cfg.maxConsecutiveTimeouts) {
      const n = this.#consecutiveTimeouts;
      this.#connected = false;
      io.reconnect(`no answer to ${n} order.status requests in a row (requestTimeoutMs ${this.#cfg.requestTimeoutMs})`, 'timeout');
      return;
    }
    this.#pump(io);
  }

  /** Sends due requests, oldest due first, while the pacer and maxInFlight allow. */
  #pump(io: SessionIO): void {
    if (!this.#connected) return;
    const now = this.#now();
    const room = Math.min(this.#cfg.maxInFlight - this.#pending.size, this.#pacer.available());
    if (room <= 0 || this.#pacer.hold) return;
    for (const t of this.#pickDue(now, room)) {
      if (!this.#pacer.tryTake(BINANCE_USDM_ORDER_STATUS_WEIGHT)) break;
      this.#send(t, io, now);
    }
  }

  /**
   * The `k` due orders that have waited longest (earliest dueAt, then least recently polled): one pass keeping a
   * small sorted list, O(tracked × k) with k ≤ burst, instead of sorting every tracked order on every tick.
   */
  #pickDue(now: number, k: number): Tracked[] {
    const before = (a: Tracked, b: Tracked) => a.dueAt < b.dueAt || (a.dueAt === b.dueAt && a.lastSentAt < b.lastSentAt);
    const best: Tracked[] = [];
    for (const t of this.#orders.values()) {
      if (t.inFlight !== undefined || t.dueAt > now) continue;
      if (best.length === k && !before(t, best[k - 1] as Tracked)) continue;
      let i = best.length === k ? k - 1 : best.length;
      best[i] = t;
      while (i > 0 && before(t, best[i - 1] as Tracked)) {
        best[i] = best[i - 1] as Tracked;
        best[--i] = t;
      }
    }
    return best;
  }

  #send(t: Tracked, io: SessionIO, now: number): void {
    const id = `os${this.#connTag}-${++this.#requestSeq}`;
    const req = binanceUsdmOrderStatusRequest(
      {
        id,
        apiKey: this.#cfg.apiKey.reveal(),
        symbol: t.symbol,
        ...(t.orderId !== undefined ? { orderId: t.orderId } : { origClientOrderId: t.clientOrderId as string }),
        timestamp: now + this.#cfg.clockOffsetMs,
        recvWindow: this.#cfg.recvWindowMs,
      },
      this.#signer,
    );
    io.send(req.text);
    this.#pending.set(id, { key: t.key, sentAt: now });
    t.inFlight = id;
    t.lastSentAt = now;
    t.polls++;
    this.#stats.requestsSent++;
  }

  #onOrder(order: BinanceUsdmOrder, t: Tracked | undefined, io: SessionIO): void {
    this.#stats.answers++;
    this.#markAuthenticated(io);
    if (!t) return;
    if (t.orderId === undefined) this.#learnOrderId(t, order.orderId);
    if (t.clientOrderId === undefined && order.clientOrderId) this.#learnClientOrderId(t, order.clientOrderId);
    t.lastStatus = order.status;
    t.notFound = 0;
    t.errors = 0;
    if (BINANCE_USDM_TERMINAL_STATUSES.has(order.status)) {
      this.#untrack(t, 'terminal', io, { status: order.status });
      return;
    }
    t.dueAt = t.recheck ? this.#now() : this.#now() + this.#pollIntervalMs;
    t.recheck = false;
  }

  /** First answer on a connection that proves the key and signature work → 'authenticated' (once per connection). */
  #markAuthenticated(io: SessionIO): void {
    this.#globalFailures = 0;
    if (this.#authenticated) return;
    this.#authenticated = true;
    io.event({ event: 'authenticated', details: { keyType: this.#signer.keyType, method: 'order.status' } });
  }

  #onError(e: BinanceUsdmErrorReply, rateLimits: readonly BinanceUsdmRateLimit[], t: Tracked | undefined, io: SessionIO): void {
    this.#stats.answers++;
    this.#stats.errorsByCode[String(e.code)] = (this.#stats.errorsByCode[String(e.code)] ?? 0) + 1;
    const now = this.#now();
    const about = t ? this.#describe(t) : {};
    const said = `${e.code}${e.msg ? ` ${e.msg}` : ''}`;
    const base = { ...about, ...(e.httpStatus !== null ? { httpStatus: e.httpStatus } : {}), ...(e.id !== null ? { requestId: e.id } : {}) };

    if (e.code === -2013) {
      this.#markAuthenticated(io); // Binance checks key and signature before it looks for the order
      if (!t) return;
      t.notFound++;
      if (t.notFound > this.#cfg.maxNotFoundRetries) {
        this.#untrack(t, 'not-found', io, { attempts: t.notFound, message: e.msg }, -2013);
        return;
      }
      const delay = Math.min(this.#cfg.notFoundRetryMaxMs, this.#cfg.notFoundRetryDelayMs * 2 ** (t.notFound - 1));
      t.dueAt = now + delay;
      return;
    }

    if (e.code === -1003 || e.httpStatus === 429 || e.httpStatus === 418) {
      const banned = e.httpStatus === 418;
      if (banned) this.#bans++;
      const fallback = banned ? now + 120_000 * 2 ** Math.min(this.#bans - 1, 10) : windowEnd(now, weightWindowMs(rateLimits) ?? 60_000);
      const until = Math.max(now + 1_000, e.retryAfter ?? fallback);
      this.#pacer.holdUntil(until, `${e.httpStatus ?? ''} ${said}`.trim());
      if (t) t.dueAt = Math.min(t.dueAt, now);
      this.#errorEvent(io, e.code, `Binance rate limit (${e.httpStatus ?? 'no status'}): ${said}; no requests until ${new Date(until).toISOString()}`, {
        ...base,
        holdUntil: until,
        ...(e.retryAfter !== null ? { retryAfter: e.retryAfter } : {}),
      });
      return;
    }

    if (e.code === -1021 || AUTH_CODES.has(e.code)) {
      const delay = backoffDelay(this.#globalFailures++, { initialMs: this.#cfg.errorBackoffInitialMs, maxMs: this.#cfg.errorBackoffMaxMs, jitter: 0.2 }, this.#random);
      this.#pacer.holdUntil(now + delay, said);
      if (t) t.dueAt = Math.min(t.dueAt, now);
      if (e.code === -1021) {
        const ahead = /ahead/i.test(e.msg);
        this.#errorEvent(
          io,
          e.code,
          `Binance refused the request timestamp (${said}): clock skew? The local clock${this.#cfg.clockOffsetMs ? ` (+ clockOffsetMs ${this.#cfg.clockOffsetMs})` : ''} ` +
            `is ${ahead ? 'more than 1 s ahead of' : `more than recvWindow ${this.#cfg.recvWindowMs} ms behind`} Binance's, or requests take that long to arrive; ` +
            `sync the host clock (NTP) or set clockOffsetMs. Retrying in ${delay} ms`,
          { ...base, clockSkew: ahead ? 'ahead' : 'behind-or-late', localTime: now, recvWindowMs: this.#cfg.recvWindowMs, retryInMs: delay },
        );
      } else {
        this.#errorEvent(io, e.code, `Binance refused the credentials (${said}); retrying every order in ${delay} ms`, {
          ...base,
          keyType: this.#signer.keyType,
          retryInMs: delay,
        });
      }
      return;
    }

    if (!t) {
      this.#errorEvent(io, e.code, `Binance error reply (${said})`, base);
      return;
    }
    if (INVALID_REQUEST_CODES.has(e.code)) {
      this.#errorEvent(io, e.code, `Binance refused order.status for ${t.symbol} (${said}): giving the order up`, base);
      this.#untrack(t, 'invalid-request', io, { message: e.msg }, e.code);
      return;
    }
    const transient = TRANSIENT_CODES.has(e.code) || (e.httpStatus !== null && e.httpStatus >= 500);
    if (!transient) t.errors++;
    if (!transient && t.errors > this.#cfg.maxOrderErrorRetries) {
      this.#errorEvent(io, e.code, `Binance keeps refusing order.status for ${t.symbol} (${said}): giving the order up after ${t.errors} attempts`, base);
      this.#untrack(t, 'error', io, { attempts: t.errors, message: e.msg }, e.code);
      return;
    }
    const delay = backoffDelay(Math.max(0, t.errors - 1), { initialMs: this.#cfg.errorBackoffInitialMs, maxMs: this.#cfg.errorBackoffMaxMs, jitter: 0.2 }, this.#random);
    t.dueAt = now + delay;
    this.#errorEvent(io, e.code, `Binance error reply for ${t.symbol} (${said}); retrying in ${delay} ms`, { ...base, retryInMs: delay });
  }

  #unreadable(text: string, error: unknown): void {
    this.#stats.unreadable++;
    // An answer we cannot read may still name its request: release it and poll that order again later.
    let id: unknown;
    try {
      id = (JSON.parse(text) as { id?: unknown } | null)?.id;
    } catch {
      id = undefined;
    }
    const requestId = typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
    const pending = requestId === undefined ? undefined : this.#pending.get(requestId);
    if (pending && requestId !== undefined) {
      this.#pending.delete(requestId);
      const t = this.#orders.get(pending.key);
      if (t && t.inFlight === requestId) {
        t.inFlight = undefined;
        t.dueAt = this.#now() + this.#pollIntervalMs;
      }
    }
    this.#log?.warn({ err: errorMessage(error), requestId }, 'binance-usdm: unreadable answer (the normalizer dead-letters it)');
  }

  #errorEvent(io: SessionIO, code: number, reason: string, details: Record<string, unknown>): void {
    const now = this.#now();
    const last = this.#errorEvents.get(code);
    if (last && now - last.at < this.#cfg.errorEventIntervalMs) {
      last.suppressed++;
      return;
    }
    const suppressed = last?.suppressed ?? 0;
    this.#errorEvents.set(code, { at: now, suppressed: 0 });
    const e: SessionEvent = { event: 'error', code, reason, details: suppressed > 0 ? { ...details, suppressed } : details };
    io.event(e);
  }

  #untrack(t: Tracked, reason: UntrackReason, io: SessionIO, extra: Record<string, unknown>, code?: number): void {
    this.#remove(t);
    this.#remember(t, reason);
    if (reason === 'terminal') this.#stats.untrackedTerminal++;
    else if (reason === 'not-found') this.#stats.untrackedNotFound++;
    else this.#stats.untrackedOther++;
    io.event({
      event: 'untracked',
      reason,
      ...(code !== undefined ? { code } : {}),
      details: { ...this.#describe(t), polls: t.polls, origin: t.origin, ...extra },
    });
  }

  #describe(t: Tracked): Record<string, unknown> {
    return { symbol: t.symbol, orderId: t.orderId ?? null, clientOrderId: t.clientOrderId ?? null };
  }

  #lookup(key: string): Tracked | undefined {
    return this.#orders.get(this.#aliases.get(key) ?? key);
  }

  #learnOrderId(t: Tracked, orderId: string): void {
    t.orderId = orderId;
    this.#alias(t, idKey(t.symbol, orderId));
  }

  #learnClientOrderId(t: Tracked, clientOrderId: string): void {
    t.clientOrderId = clientOrderId;
    this.#alias(t, clientKey(t.symbol, clientOrderId));
  }

  /** Points `key` at `t`. The same order tracked twice (once by id, once by client id) becomes one entry. */
  #alias(t: Tracked, key: string): void {
    if (key === t.key) return;
    const other = this.#lookup(key);
    if (other && other !== t) {
      t.polls += other.polls;
      this.#remove(other);
    }
    this.#aliases.set(key, t.key);
  }

  #remove(t: Tracked): void {
    this.#orders.delete(t.key);
    if (t.orderId !== undefined) this.#aliases.delete(idKey(t.symbol, t.orderId));
    if (t.clientOrderId !== undefined) this.#aliases.delete(clientKey(t.symbol, t.clientOrderId));
    if (t.inFlight !== undefined) this.#pending.delete(t.inFlight);
  }

  #remember(t: Tracked, reason: UntrackReason): void {
    const cap = this.#cfg.finishedMemory;
    if (cap === 0) return;
    if (t.orderId !== undefined) this.#finished.set(idKey(t.symbol, t.orderId), reason);
    if (t.clientOrderId !== undefined) this.#finished.set(clientKey(t.symbol, t.clientOrderId), reason);
    while (this.#finished.size > cap) {
      const oldest = this.#finished.keys().next().value as string;
      this.#finished.delete(oldest);
    }
  }
}

/** Window length of the REQUEST_WEIGHT entry of an answer's rateLimits, if it carries one. */
function weightWindowMs(rateLimits: readonly BinanceUsdmRateLimit[]): number | undefined {
  const rl = rateLimits.find((r) => r.rateLimitType === 'REQUEST_WEIGHT');
  return rl ? rateLimitWindowMs(rl) : undefined;
}
