import { randomBytes, type KeyObject } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { sleep } from '@orderstream/kit';
import type { ReferenceData } from '../reference.js';
import { RestFaults } from '../sim/rest-faults.js';
import { SimServer, type SimHttpRequest, type SimHttpResponse, type SimLogSink, type SimSocket } from '../sim/server.js';
import { exactIntegerAt, rawJsonValueAt } from './exact-json.js';
import { BINANCE_USDM_REST_PATHS, type BinanceUsdmRateLimit } from './frames.js';
import {
  BINANCE_USDM_SIM_INSTRUMENTS,
  binanceUsdmEffectiveFills,
  binanceUsdmErrorText,
  binanceUsdmLifecycleSteps,
  binanceUsdmRandomLifecycles,
  binanceUsdmResultText,
  binanceUsdmSuccessText,
  binanceUsdmTruthOf,
  type BinanceUsdmFill,
  type BinanceUsdmLifecycle,
  type BinanceUsdmOrderTruth,
  type BinanceUsdmSimInstrument,
  type BinanceUsdmStep,
} from './lifecycles.js';
import { isInt64Digits } from './exact-json.js';
import { binanceUsdmExecutionType, binanceUsdmListenKeyExpiredText, binanceUsdmOrderTradeUpdateText, binanceUsdmTradeLiteText } from './uds-sim.js';
import { BINANCE_USDM_LISTEN_KEY_PATH } from './user-stream.js';
import { binanceUsdmSignaturePayload, ed25519PublicKey, verifyEd25519Base64, verifyHmacSha256Hex, type BinanceUsdmParam } from './sign.js';

/** Path of the WebSocket API (wss://ws-fapi.binance.com/ws-fapi/v1). */
export const BINANCE_USDM_WS_PATH = '/ws-fapi/v1';

const DAY = 24 * 60 * 60 * 1000;

export interface BinanceUsdmSimulatorOptions {
  host?: string;
  port?: number;
  /** HMAC keys the simulator accepts; default one: 'sim-api-key' / 'sim-api-secret' */
  hmacKeys?: ReadonlyArray<{ apiKey: string; apiSecret: string }>;
  /** Ed25519 keys (public half, SPKI PEM) the simulator accepts */
  ed25519Keys?: ReadonlyArray<{ apiKey: string; publicKeyPem: string }>;
  /** server ping frames every this many ms; Binance: 3 min */
  pingIntervalMs?: number;
  /** no pong (with the ping's payload) this long after a ping → the socket is dropped; Binance: 10 min */
  pongTimeoutMs?: number;
  /** connections are dropped at this age; Binance: 24 h */
  maxConnectionAgeMs?: number;
  /** REQUEST_WEIGHT limit per window (per simulator = per IP); Binance: 2400 per minute */
  weightLimit?: number;
  /** window of the weight limit, a whole number of seconds; default 60000 (reported as MINUTE/1) */
  rateWindowMs?: number;
  /** answer 429 (-1003) to a request over the limit; default true */
  rejectOverLimit?: boolean;
  /** after this many 429s in one window, ban the IP (418) for banMs; 0 (default) never bans */
  banAfter429s?: number;
  banMs?: number;
  /** add `rateLimits` to answers (requests may say `returnRateLimits:false`); default true */
  includeRateLimits?: boolean;
  /** the simulator's clock = Date.now() + clockOffsetMs (negative: the server is behind the client) */
  clockOffsetMs?: number;
  /** a CANCELED/EXPIRED order without fills is not found this long after creation; Binance: 3 days */
  unfilledTerminalRetentionMs?: number;
  /** any order is not found this long after creation; Binance: 90 days */
  retentionMs?: number;
  /** instruments (decimals) for frames and randomLifecycles() */
  instruments?: readonly BinanceUsdmSimInstrument[];
  /** the frame log: every frame in and out, every termination */
  log?: SimLogSink;
  /** user data stream: a listen key dies this long after its creation or last keepalive (PUT); Binance: 60 min */
  listenKeyLifetimeMs?: number;
  /** user data stream: listen keys the simulator can hand out in its life (its socket paths are fixed at start); default 64 */
  listenKeyPool?: number;
  /** user data stream: push a TRADE_LITE before each fill's ORDER_TRADE_UPDATE; default true */
  tradeLite?: boolean;
  /** user data stream: send listenKeyExpired when a key dies (default true); false: it dies silently (the next PUT gets -1125) */
  announceListenKeyExpiry?: boolean;
}

export interface BinanceUsdmPlayOptions {
  /** pause between consecutive state changes (all orders interleaved round-robin); default 0 */
  intervalMs?: number;
}

export interface BinanceUsdmPlayReport {
  orders: number;
  /** state changes applied after placement */
  changes: number;
}

export interface BinanceUsdmSimStats {
  openSockets: number;
  connectionsAccepted: number;
  framesReceived: number;
  /** order.status requests that counted weight */
  orderStatusRequests: number;
  /** answers by outcome: "200", or the error code ("-2013", "-1022", …) */
  answers: Record<string, number>;
  /** 429 answers */
  rateLimited: number;
  /** 418 answers */
  banned: number;
  pingsSent: number;
  pongsReceived: number;
  /** pongs whose payload matched no outstanding ping (unsolicited: allowed, but they do not keep the socket) */
  pongsUnmatched: number;
  heartbeatTimeouts: number;
  connectionsExpired: number;
  malformedSent: number;
  weightLimit: number;
  rateWindowMs: number;
  /** weight counted in the current window */
  weightInWindow: number;
  /** the most weight counted in any one window so far */
  maxWeightInWindow: number;
  /** REST calls that counted weight, by path */
  restRequests: Record<string, number>;
  /** REST answers by outcome: "200", or the error code */
  restAnswers: Record<string, number>;
  /** user data stream: listen keys handed out (POST of a new one), keepalives (PUT), keys expired */
  listenKeysCreated: number;
  listenKeyKeepalives: number;
  listenKeysExpired: number;
  /** user data stream connections accepted, open now, and events pushed (ORDER_TRADE_UPDATE and others) */
  userStreamConnections: number;
  userStreamSockets: number;
  userStreamEventsPushed: number;
}

export type BinanceUsdmMalformedKind = 'invalid-json' | 'wrong-types' | 'unknown-status' | 'float-order-id';

interface SimOrder {
  lc: BinanceUsdmLifecycle;
  steps: BinanceUsdmStep[];
  /** the fills of the lifecycle, in order; fillsDone of them pushed */
  fills: BinanceUsdmFill[];
  fillsDone: number;
  index: number;
  time: number;
  updateTime: number;
}

interface SocketState {
  /** payloads of pings not answered yet */
  outstanding: Set<string>;
}

interface Refusal {
  status: number;
  code: number;
  msg: string;
  data?: Record<string, unknown>;
}

/** Binance error texts (USDⓈ-M error code page). */
const MSG = {
  '-1021-late': 'Timestamp for this request is outside of the recvWindow.',
  '-1021-ahead': "Timestamp for this request was 1000ms ahead of the server's time.",
  '-1022': 'Signature for this request is not valid.',
  '-2013': 'Order does not exist.',
  '-2014': 'API-key format invalid.',
  '-2015': 'Invalid API-key, IP, or permissions for action.',
} as const;

const KNOWN_PARAMS = new Set(['apiKey', 'symbol', 'orderId', 'origClientOrderId', 'timestamp', 'recvWindow', 'signature', 'returnRateLimits']);

const WEEK = 7 * DAY;
const LIVE: ReadonlySet<string> = new Set(['NEW', 'PARTIALLY_FILLED']);
const SIGNED_PARAMS: ReadonlySet<string> = new Set(['timestamp', 'recvWindow', 'signature']);
/** The REST endpoints served: their weight (openOrders: 40 without `symbol`) and the params each reads. */
const REST_ENDPOINTS: ReadonlyMap<string, { weight: number; params: ReadonlySet<string> }> = new Map([
  [BINANCE_USDM_REST_PATHS.openOrders, { weight: 1, params: new Set(['symbol']) }],
  [BINANCE_USDM_REST_PATHS.order, { weight: 1, params: new Set(['symbol', 'orderId', 'origClientOrderId']) }],
  [BINANCE_USDM_REST_PATHS.allOrders, { weight: 5, params: new Set(['symbol', 'orderId', 'startTime', 'endTime', 'limit']) }],
]);

/**
 * A local Binance USDⓈ-M WebSocket API for `order.status`: per-request signatures (HMAC-SHA256 and Ed25519),
 * timestamp/recvWindow (-1021), unknown key (-2015), bad signature (-1022), an order book that scripted lifecycles
 * move on the simulator's clock, -2013 for unknown (or expired-from-history) orders, REQUEST_WEIGHT accounting with
 * `rateLimits` and 429/418, server ping frames with a pong deadline, the 24 h connection limit, and malformed
 * answers on demand. See ./README.md ("BinanceUsdmSimulator").
 */
export class BinanceUsdmSimulator extends SimServer {
  readonly #hmac = new Map<string, string>();
  readonly #ed25519 = new Map<string, KeyObject>();
  readonly #pingIntervalMs: number;
  readonly #pongTimeoutMs: number;
  readonly #maxAgeMs: number;
  readonly #weightLimit: number;
  readonly #windowMs: number;
  readonly #windowInterval: { interval: string; intervalNum: number };
  readonly #rejectOverLimit: boolean;
  readonly #banAfter: number;
  readonly #banMs: number;
  readonly #includeRateLimits: boolean;
  readonly #clockOffsetMs: number;
  readonly #unfilledRetentionMs: number;
  readonly #retentionMs: number;
  readonly #instruments: readonly BinanceUsdmSimInstrument[];
  readonly #orders = new Map<string, SimOrder>();
  readonly #byClientId = new Map<string, string>();
  readonly #state = new WeakMap<SimSocket, SocketState>();
  readonly #requestTimes: number[] = [];
  readonly #polls = new Map<string, number>();
  readonly #malformed: Array<{ kind: BinanceUsdmMalformedKind; resolve: (text: string) => void }> = [];
  #window = { start: 0, count: 0, rejected: 0 };
  // user data stream
  readonly #listenKeyLifetimeMs: number;
  readonly #tradeLite: boolean;
  readonly #announceExpiry: boolean;
  readonly #pool: string[];
  #poolNext = 0;
  readonly #listenKeys = new Map<string, { apiKey: string; expiresAt: number; expired: boolean; timer: NodeJS.Timeout | undefined }>();
  readonly #activeKey = new Map<string, string>();
  readonly #userSockets = new Map<SimSocket, string>();
  #tradeSeq = 9_007_199_254_900_000n;
  #bannedUntil = 0;
  #pingSeq = 0;
  readonly #stats = {
    connectionsAccepted: 0,
    framesReceived: 0,
    orderStatusRequests: 0,
    answers: {} as Record<string, number>,
    rateLimited: 0,
    banned: 0,
    pingsSent: 0,
    pongsReceived: 0,
    pongsUnmatched: 0,
    heartbeatTimeouts: 0,
    connectionsExpired: 0,
    malformedSent: 0,
    maxWeightInWindow: 0,
    restRequests: {} as Record<string, number>,
    restAnswers: {} as Record<string, number>,
    listenKeysCreated: 0,
    listenKeyKeepalives: 0,
    listenKeysExpired: 0,
    userStreamConnections: 0,
    userStreamEventsPushed: 0,
  };
  /**
   * Faults of the REST reconciliation endpoints (open orders, order, all orders), checked before anything else. Orders
   * in `knobs.failDetailFor` are ones the venue can no longer tell about: their order lookups fail, history leaves them
   * out, and order.status answers -2013 for them.
   */
  readonly restFaults = new RestFaults({
    rateLimited: () =>
      JSON.stringify({ code: -1003, msg: `Too many requests; current limit is ${this.#weightLimit} requests per minute. Please use the websocket for live updates to avoid polling the API.` }),
    error: () => JSON.stringify({ code: -1000, msg: 'An unknown error occured while processing the request.' }),
  });

  private constructor(options: BinanceUsdmSimulatorOptions) {
    // The user data stream's path carries the listen key (/private/ws/<key>) and SimServer serves fixed paths: the keys
    // come from a pool made now, each with its two paths (the 2025 /private route and the older /ws).
    const pool = Array.from({ length: options.listenKeyPool ?? 64 }, () => randomBytes(30).toString('base64url'));
    super({ wsPaths: [BINANCE_USDM_WS_PATH, ...pool.flatMap((k) => [`/private/ws/${k}`, `/ws/${k}`])], ...(options.host ? { host: options.host } : {}), ...(options.port ? { port: options.port } : {}), ...(options.log ? { log: options.log } : {}) });
    for (const k of options.hmacKeys ?? [{ apiKey: 'sim-api-key', apiSecret: 'sim-api-secret' }]) this.#hmac.set(k.apiKey, k.apiSecret);
    for (const k of options.ed25519Keys ?? []) this.#ed25519.set(k.apiKey, ed25519PublicKey(k.publicKeyPem));
    this.#pingIntervalMs = options.pingIntervalMs ?? 3 * 60_000;
    this.#pongTimeoutMs = options.pongTimeoutMs ?? 10 * 60_000;
    this.#maxAgeMs = options.maxConnectionAgeMs ?? DAY;
    this.#weightLimit = options.weightLimit ?? 2400;
    this.#windowMs = options.rateWindowMs ?? 60_000;
    if (!Number.isInteger(this.#windowMs) || this.#windowMs <= 0 || this.#windowMs % 1000 !== 0) {
      throw new RangeError(`rateWindowMs must be a positive whole number of seconds, got ${this.#windowMs}`);
    }
    this.#windowInterval =
      this.#windowMs % 60_000 === 0 ? { interval: 'MINUTE', intervalNum: this.#windowMs / 60_000 } : { interval: 'SECOND', intervalNum: this.#windowMs / 1000 };
    this.#rejectOverLimit = options.rejectOverLimit ?? true;
    this.#banAfter = options.banAfter429s ?? 0;
    this.#banMs = options.banMs ?? 120_000;
    this.#includeRateLimits = options.includeRateLimits ?? true;
    this.#clockOffsetMs = options.clockOffsetMs ?? 0;
    this.#unfilledRetentionMs = options.unfilledTerminalRetentionMs ?? 3 * DAY;
    this.#retentionMs = options.retentionMs ?? 90 * DAY;
    this.#instruments = options.instruments ?? BINANCE_USDM_SIM_INSTRUMENTS;
    this.#pool = pool;
    this.#listenKeyLifetimeMs = options.listenKeyLifetimeMs ?? 60 * 60_000;
    this.#tradeLite = options.tradeLite ?? true;
    this.#announceExpiry = options.announceListenKeyExpiry ?? true;
  }

  /** `ws://127.0.0.1:<port>/private`: the user data stream base (`/ws/<listenKey>` appended) */
  get userStreamUrl(): string {
    return this.wsUrlFor('/private');
  }

  /** Expires every live listen key now: listenKeyExpired on its sockets, which then get nothing more. Returns how many. */
  expireListenKeys(): number {
    let n = 0;
    for (const [key, k] of this.#listenKeys) {
      if (k.expired) continue;
      this.#expire(key);
      n++;
    }
    return n;
  }

  override async stop(): Promise<void> {
    for (const k of this.#listenKeys.values()) clearTimeout(k.timer);
    await super.stop();
  }

  /** Starts a simulator on 127.0.0.1 and a free port. */
  static async start(options: BinanceUsdmSimulatorOptions = {}): Promise<BinanceUsdmSimulator> {
    const sim = new BinanceUsdmSimulator(options);
    await sim.listen();
    return sim;
  }

  /** `ws://127.0.0.1:<port>/ws-fapi/v1` */
  get wsUrl(): string {
    return this.wsUrlFor(BINANCE_USDM_WS_PATH);
  }

  /** The simulator's clock (epoch ms): Date.now() + clockOffsetMs. */
  now(): number {
    return Date.now() + this.#clockOffsetMs;
  }

  /** Resolves once at least n connections have been accepted in total. */
  waitForConnections(n: number, timeoutMs: number): Promise<void> {
    return this.waitUntil(() => this.#stats.connectionsAccepted >= n, timeoutMs, `${n} connection(s)`);
  }

  /** Reference data for the normalizer: none needed (USDⓈ-M quantities are already in base units). */
  referenceData(): ReferenceData {
    return {};
  }

  /** Deterministic lifecycles over this simulator's instruments; ids above 2^53, unique per seed. */
  randomLifecycles(count: number, seed: number): BinanceUsdmLifecycle[] {
    return binanceUsdmRandomLifecycles(count, seed, this.#instruments);
  }

  /**
   * Puts orders in the book at their first state (NEW; REJECTED for a reject), created now. They stay there until
   * play() moves them on. Throws RangeError for an impossible script or an id already in the book.
   */
  place(lifecycles: readonly BinanceUsdmLifecycle[]): void {
    const steps = lifecycles.map((lc) => binanceUsdmLifecycleSteps(lc, this.#instruments));
    for (const lc of lifecycles) if (this.#orders.has(lc.orderId)) throw new RangeError(`order ${lc.orderId} is already in the book`);
    const now = this.now();
    lifecycles.forEach((lc, i) => {
      this.#orders.set(lc.orderId, { lc, steps: steps[i] as BinanceUsdmStep[], fills: binanceUsdmEffectiveFills(lc, this.#instruments), fillsDone: 0, index: 0, time: now, updateTime: now });
      const cid = binanceUsdmTruthOf(lc, steps[i]?.[0] as BinanceUsdmStep, { time: now, updateTime: now }).clientOrderId;
      this.#byClientId.set(`${lc.symbol}|${cid}`, lc.orderId);
    });
    for (const lc of lifecycles) this.#push(this.#orders.get(lc.orderId) as SimOrder, null);
    this.changed();
  }

  /**
   * Moves orders through their lifecycles on the simulator's clock: orders not yet in the book are placed, then every
   * remaining state change is applied, orders interleaved round-robin, `intervalMs` apart. Clients see the states by
   * polling. Resolves when the last change is applied.
   */
  async play(lifecycles: readonly BinanceUsdmLifecycle[], options: BinanceUsdmPlayOptions = {}): Promise<BinanceUsdmPlayReport> {
    const fresh = lifecycles.filter((lc) => !this.#orders.has(lc.orderId));
    this.place(fresh);
    const orders = lifecycles.map((lc) => this.#orders.get(lc.orderId) as SimOrder);
    const intervalMs = options.intervalMs ?? 0;
    let changes = 0;
    for (let more = true; more; ) {
      more = false;
      for (const o of orders) {
        if (o.index + 1 >= o.steps.length) continue;
        if (intervalMs > 0) await sleep(intervalMs);
        const before = this.#step(o).executedQty;
        o.index++;
        o.updateTime = Math.max(this.now(), o.updateTime + 1);
        this.#push(o, before);
        changes++;
        more = true;
        this.changed();
      }
    }
    return { orders: orders.length, changes };
  }

  /** Per orderId, the current venue-side state of every order in the book (what order.status answers). */
  truth(): Map<string, BinanceUsdmOrderTruth> {
    return new Map([...this.#orders].map(([id, o]) => [id, this.#truthOf(o)]));
  }

  /**
   * The next successful order.status answer (on any socket) is replaced by a malformed one; resolves with the exact
   * text sent.
   * - `invalid-json`: the answer cut off mid-object → FRAME_NOT_JSON
   * - `wrong-types`: origQty "ten", executedQty true → FRAME_INVALID
   * - `unknown-status`: result.status "NEW_ADL" (a liquidation status of the user-data stream) → FRAME_UNKNOWN_STATUS
   * - `float-order-id`: orderId written with an exponent (digits lost) → FRAME_INVALID
   */
  injectMalformed(kind: BinanceUsdmMalformedKind): Promise<string> {
    if (!['invalid-json', 'wrong-types', 'unknown-status', 'float-order-id'].includes(kind)) {
      throw new RangeError(`injectMalformed: unknown kind ${String(kind)}`);
    }
    return new Promise((resolve) => this.#malformed.push({ kind, resolve }));
  }

  /** Server time of every request that counted weight, in arrival order. */
  requestTimes(): number[] {
    return [...this.#requestTimes];
  }

  /** The most weighted requests seen in any sliding window of `windowMs`. */
  maxRequestsIn(windowMs: number): number {
    const t = this.#requestTimes;
    let max = 0;
    for (let i = 0, j = 0; j < t.length; j++) {
      while ((t[j] as number) - (t[i] as number) >= windowMs) i++;
      max = Math.max(max, j - i + 1);
    }
    return max;
  }

  /** Requests per sliding minute at most so far. */
  requestsPerMinute(): number {
    return this.maxRequestsIn(60_000);
  }

  /** order.status requests per order (by orderId; unresolved client ids as `<symbol>|c:<id>`). */
  pollCounts(): Map<string, number> {
    return new Map(this.#polls);
  }

  /** Ids of the orders live at the venue now (NEW or PARTIALLY_FILLED). */
  liveOrderIds(): string[] {
    return [...this.#orders].filter(([, o]) => LIVE.has((o.steps[o.index] as BinanceUsdmStep).status)).map(([id]) => id);
  }

  /** `http://127.0.0.1:<port>`: the REST API (`restUrl`) */
  get restUrl(): string {
    return this.httpUrl;
  }

  stats(): BinanceUsdmSimStats {
    this.#rollWindow(this.now());
    return {
      openSockets: this.sockets.length,
      ...this.#stats,
      answers: { ...this.#stats.answers },
      restRequests: { ...this.#stats.restRequests },
      restAnswers: { ...this.#stats.restAnswers },
      userStreamSockets: this.#userSockets.size,
      weightLimit: this.#weightLimit,
      rateWindowMs: this.#windowMs,
      weightInWindow: this.#window.count,
    };
  }

  // -------------------------------------------------------------------------------------------------------------
  // HTTP: the REST endpoints of the reconciliation (GET /fapi/v1/openOrders, /fapi/v1/order, /fapi/v1/allOrders).

  protected onHttp(req: SimHttpRequest): SimHttpResponse {
    if (req.path === BINANCE_USDM_LISTEN_KEY_PATH) return this.#listenKeyHttp(req);
    const endpoint = REST_ENDPOINTS.get(req.path);
    if (!endpoint || req.method !== 'GET') {
      return { status: 404, body: JSON.stringify({ code: -1000, msg: `no HTTP endpoint ${req.method} ${req.path} on the simulator` }) };
    }
    const q = req.query;
    const detailOf = req.path === BINANCE_USDM_REST_PATHS.order ? (q.get('orderId') ?? undefined) : undefined;
    const faulted = this.restFaults.check(detailOf);
    if (faulted) {
      this.#countRest(String(faulted.status));
      return faulted;
    }
    const now = this.now();
    // Weight first (Binance counts refused requests too), shared with the WebSocket API: one IP, one budget.
    const weight = req.path === BINANCE_USDM_REST_PATHS.openOrders && !q.get('symbol') ? 40 : endpoint.weight;
    this.#rollWindow(now);
    if (now < this.#bannedUntil) {
      this.#stats.banned++;
      return this.#restError(418, -1003, `Way too much request weight used; IP banned until ${this.#bannedUntil}. Please use WebSocket Streams for live updates to avoid bans.`, {
        'retry-after': String(Math.ceil((this.#bannedUntil - now) / 1000)),
      });
    }
    if (this.#rejectOverLimit && this.#window.count + weight > this.#weightLimit) {
      this.#stats.rateLimited++;
      return this.#restError(
        429,
        -1003,
        `Too many requests; current limit is ${this.#weightLimit} requests per ${this.#windowInterval.intervalNum} ${this.#windowInterval.interval}. Please use the websocket for live updates to avoid polling the API.`,
        { 'retry-after': String(Math.max(1, Math.ceil((this.#window.start + this.#windowMs - now) / 1000))) },
      );
    }
    this.#window.count += weight;
    this.#stats.maxWeightInWindow = Math.max(this.#stats.maxWeightInWindow, this.#window.count);
    this.#stats.restRequests[req.path] = (this.#stats.restRequests[req.path] ?? 0) + 1;
    const refusal = this.#checkRest(req, endpoint.params, now);
    if (refusal) return this.#restError(refusal.status, refusal.code, refusal.msg);
    const symbol = q.get('symbol') ?? undefined;
    if (req.path === BINANCE_USDM_REST_PATHS.openOrders) {
      const live = this.#sorted([...this.#orders.values()].filter((o) => LIVE.has(this.#step(o).status) && (symbol === undefined || o.lc.symbol === symbol)));
      return this.#restOk(`[${live.map((o) => binanceUsdmResultText(this.#truthOf(o))).join(',')}]`);
    }
    if (symbol === undefined) return this.#restError(400, -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.");
    if (req.path === BINANCE_USDM_REST_PATHS.order) {
      const orderId = q.get('orderId') ?? undefined;
      const clientId = q.get('origClientOrderId') || undefined;
      if (orderId === undefined && clientId === undefined) {
        return this.#restError(400, -1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!");
      }
      if (orderId !== undefined && !isInt64Digits(orderId)) return this.#restError(400, -1130, "Data sent for parameter 'orderId' is not valid.");
      const resolved = orderId ?? this.#byClientId.get(`${symbol}|${clientId}`);
      const o = resolved === undefined ? undefined : this.#orders.get(resolved);
      const known = o && o.lc.symbol === symbol && (clientId === undefined || this.#truthOf(o).clientOrderId === clientId) && this.#findable(o, now);
      if (!o || !known) return this.#restError(400, -2013, MSG['-2013']);
      return this.#restOk(binanceUsdmResultText(this.#truthOf(o)));
    }
    // allOrders: "The query time period must be less then 7 days (default as the recent 7 days)."
    const num = (name: string) => {
      const v = q.get(name);
      return v === null ? undefined : /^\d{1,16}$/.test(v) ? Number(v) : NaN;
    };
    const start = num('startTime');
    const end = num('endTime');
    const limit = num('limit') ?? 500;
    const fromId = q.get('orderId') ?? undefined;
    for (const [name, v] of [['startTime', start], ['endTime', end], ['limit', limit]] as const) {
      if (v !== undefined && Number.isNaN(v)) return this.#restError(400, -1130, `Data sent for parameter '${name}' is not valid.`);
    }
    if (limit < 1 || limit > 1000) return this.#restError(400, -1130, "Data sent for parameter 'limit' is not valid.");
    if (fromId !== undefined && !isInt64Digits(fromId)) return this.#restError(400, -1130, "Data sent for parameter 'orderId' is not valid.");
    if (start !== undefined && end !== undefined && end - start >= WEEK) return this.#restError(400, -1127, 'Lookup interval is too big.');
    const to = end ?? (start !== undefined ? start + WEEK - 1 : now);
    const from = start ?? to - WEEK + 1;
    const hidden = this.restFaults.knobs.failDetailFor;
    const found = this.#sorted(
      [...this.#orders.entries()]
        .filter(([id, o]) => o.lc.symbol === symbol && !hidden.has(id) && this.#findable(o, now))
        .filter(([id, o]) => (fromId !== undefined ? BigInt(id) >= BigInt(fromId) : o.time >= from && o.time <= to))
        .map(([, o]) => o),
    ).slice(0, limit);
    return this.#restOk(`[${found.map((o) => binanceUsdmResultText(this.#truthOf(o))).join(',')}]`);
  }

  /** Key (X-MBX-APIKEY), params, timing and signature of a signed REST call, as for WebSocket API requests. */
  #checkRest(req: SimHttpRequest, allowed: ReadonlySet<string>, now: number): Refusal | undefined {
    const q = req.query;
    const names = [...q.keys()];
    const unknown = names.filter((k) => !allowed.has(k) && !SIGNED_PARAMS.has(k));
    if (unknown.length > 0) {
      return { status: 400, code: -1104, msg: `Not all sent parameters were read; read '${names.length - unknown.length}' parameter(s) but was sent '${names.length}'.` };
    }
    const header = req.headers['x-mbx-apikey'];
    const apiKey = Array.isArray(header) ? header[0] : header;
    if (!apiKey) return { status: 401, code: -2014, msg: MSG['-2014'] };
    const secret = this.#hmac.get(apiKey);
    const edKey = this.#ed25519.get(apiKey);
    if (secret === undefined && edKey === undefined) return { status: 401, code: -2015, msg: MSG['-2015'] };
    const ts = q.get('timestamp');
    if (ts === null || !/^\d{1,16}$/.test(ts)) return { status: 400, code: -1102, msg: "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed." };
    const rw = q.get('recvWindow');
    const recvWindow = rw === null ? 5_000 : /^\d{1,6}$/.test(rw) ? Number(rw) : NaN;
    if (!(recvWindow > 0 && recvWindow <= 60_000)) return { status: 400, code: -1130, msg: "Data sent for parameter 'recvWindow' is not valid." };
    if (Number(ts) >= now + 1_000) return { status: 400, code: -1021, msg: MSG['-1021-ahead'] };
    if (now - Number(ts) > recvWindow) return { status: 400, code: -1021, msg: MSG['-1021-late'] };
    const signature = q.get('signature');
    if (!signature) return { status: 400, code: -1102, msg: "Mandatory parameter 'signature' was not sent, was empty/null, or malformed." };
    // totalParams: the query string as sent, before `signature` (our URLSearchParams rebuilds it byte for byte).
    const payload = new URLSearchParams([...q.entries()].filter(([k]) => k !== 'signature')).toString();
    const ok = secret !== undefined ? verifyHmacSha256Hex(secret, payload, signature) : verifyEd25519Base64(edKey as KeyObject, payload, signature);
    if (!ok) return { status: 400, code: -1022, msg: MSG['-1022'] };
    return undefined;
  }

  #restOk(body: string): SimHttpResponse {
    this.#countRest('200');
    return { status: 200, body, headers: this.#usedWeightHeader() };
  }

  #restError(status: number, code: number, msg: string, headers: Record<string, string> = {}): SimHttpResponse {
    this.#countRest(String(code));
    return { status, body: JSON.stringify({ code, msg }), headers: { ...this.#usedWeightHeader(), ...headers } };
  }

  #usedWeightHeader(): Record<string, string> {
    const letter = this.#windowInterval.interval === 'MINUTE' ? 'm' : 's';
    return { [`x-mbx-used-weight-${this.#windowInterval.intervalNum}${letter}`]: String(this.#window.count) };
  }

  #countRest(outcome: string): void {
    this.#stats.restAnswers[outcome] = (this.#stats.restAnswers[outcome] ?? 0) + 1;
    this.changed();
  }

  #step(o: SimOrder): BinanceUsdmStep {
    return o.steps[o.index] as BinanceUsdmStep;
  }

  /** Oldest first (the general info page: "Data is returned in ascending order"), ties by order id. */
  #sorted(orders: SimOrder[]): SimOrder[] {
    return orders.sort((a, b) => a.time - b.time || (BigInt(a.lc.orderId) < BigInt(b.lc.orderId) ? -1 : 1));
  }

  // -------------------------------------------------------------------------------------------------------------
  // WebSocket

  protected onConnection(socket: SimSocket, _req?: IncomingMessage): void {
    if (socket.path !== BINANCE_USDM_WS_PATH) {
      // user data stream: /private/ws/<listenKey> or /ws/<listenKey>
      const key = socket.path.slice(socket.path.lastIndexOf('/') + 1);
      const k = this.#listenKeys.get(key);
      if (!k || k.expired) {
        this.terminate(socket, `user data stream with an unknown or expired listen key`);
        return;
      }
      this.#userSockets.set(socket, key);
      this.#stats.userStreamConnections++;
    }
    this.#stats.connectionsAccepted++;
    const state: SocketState = { outstanding: new Set() };
    this.#state.set(socket, state);
    socket.ws.on('pong', (data: Buffer) => {
      this.#stats.pongsReceived++;
      const payload = data.toString('utf8');
      if (state.outstanding.delete(payload)) {
        if (state.outstanding.size === 0) socket.clearTimer('pong-deadline');
      } else {
        this.#stats.pongsUnmatched++;
      }
      this.log({ direction: 'in', channel: 'ws', socketId: socket.id, text: payload, note: 'pong' });
      this.changed();
    });
    this.#schedulePing(socket, state);
    socket.setTimer('max-age', this.#maxAgeMs, () => {
      this.#stats.connectionsExpired++;
      this.terminate(socket, `connection older than ${this.#maxAgeMs} ms`);
      this.changed();
    });
  }

  #schedulePing(socket: SimSocket, state: SocketState): void {
    socket.setTimer('ping', this.#pingIntervalMs, () => {
      if (!socket.isOpen) return;
      const payload = `sim-ping-${++this.#pingSeq}`;
      state.outstanding.add(payload);
      socket.ws.ping(payload);
      this.#stats.pingsSent++;
      this.log({ direction: 'out', channel: 'ws', socketId: socket.id, text: payload, note: 'ping' });
      if (state.outstanding.size === 1) {
        socket.setTimer('pong-deadline', this.#pongTimeoutMs, () => {
          this.#stats.heartbeatTimeouts++;
          this.terminate(socket, `no pong within ${this.#pongTimeoutMs} ms of a ping`);
          this.changed();
        });
      }
      this.changed();
      this.#schedulePing(socket, state);
    });
  }

  protected override onClosed(socket: SimSocket): void {
    this.#userSockets.delete(socket);
  }

  protected onText(socket: SimSocket, text: string): void {
    this.#stats.framesReceived++;
    if (this.#userSockets.has(socket)) return; // the user data stream reads nothing from the client
    const now = this.now();
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      this.#answerError(socket, null, { status: 400, code: -1013, msg: 'Invalid JSON request.' }, undefined);
      return;
    }
    const m = msg !== null && typeof msg === 'object' && !Array.isArray(msg) ? (msg as Record<string, unknown>) : {};
    const id = typeof m.id === 'string' || typeof m.id === 'number' ? m.id : null;
    if (m.method !== 'order.status') {
      this.#answerError(socket, id, { status: 400, code: -1020, msg: `Unsupported method ${JSON.stringify(m.method ?? null)} (the simulator answers order.status only).` }, undefined);
      return;
    }
    const params = m.params !== null && typeof m.params === 'object' && !Array.isArray(m.params) ? (m.params as Record<string, unknown>) : {};
    const wantLimits = this.#includeRateLimits && params.returnRateLimits !== false;

    // Weight first: Binance counts refused requests too.
    this.#rollWindow(now);
    if (now < this.#bannedUntil) {
      this.#stats.banned++;
      this.#answerError(socket, id, this.#banRefusal(now), wantLimits);
      return;
    }
    if (this.#rejectOverLimit && this.#window.count + 1 > this.#weightLimit) {
      this.#window.rejected++;
      if (this.#banAfter > 0 && this.#window.rejected > this.#banAfter) {
        this.#bannedUntil = now + this.#banMs;
        this.#stats.banned++;
        this.#answerError(socket, id, this.#banRefusal(now), wantLimits);
        return;
      }
      this.#stats.rateLimited++;
      const retryAfter = this.#window.start + this.#windowMs;
      this.#answerError(
        socket,
        id,
        {
          status: 429,
          code: -1003,
          msg: `Too many requests; current limit is ${this.#weightLimit} requests per ${this.#windowInterval.intervalNum} ${this.#windowInterval.interval}. Please use the websocket for live updates to avoid polling the API.`,
          data: { serverTime: now, retryAfter },
        },
        wantLimits,
      );
      return;
    }
    this.#window.count++;
    this.#stats.maxWeightInWindow = Math.max(this.#stats.maxWeightInWindow, this.#window.count);
    this.#stats.orderStatusRequests++;
    this.#requestTimes.push(now);

    const refusal = this.#check(params, text, now);
    if ('status' in refusal) {
      this.#answerError(socket, id, refusal, wantLimits);
      return;
    }
    const order = refusal.order;
    if (!order) {
      this.#answerError(socket, id, { status: 400, code: -2013, msg: MSG['-2013'] }, wantLimits);
      return;
    }
    let answer = binanceUsdmSuccessText(id, binanceUsdmResultText(this.#truthOf(order)), wantLimits ? this.#rateLimits() : undefined);
    const fault = this.#malformed.shift();
    if (fault) {
      answer = malform(answer, fault.kind);
      this.#stats.malformedSent++;
      this.#count('malformed');
      this.sendText(socket, answer, `malformed:${fault.kind}`);
      fault.resolve(answer);
      return;
    }
    this.#count('200');
    this.sendText(socket, answer, 'answer');
  }

  /** Validates params, key, time and signature; finds the order (undefined = -2013). */
  #check(params: Record<string, unknown>, text: string, now: number): Refusal | { order: SimOrder | undefined } {
    const missing = (name: string): Refusal => ({ status: 400, code: -1102, msg: `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.` });
    const names = Object.keys(params);
    const unknown = names.filter((k) => !KNOWN_PARAMS.has(k));
    if (unknown.length > 0) {
      return { status: 400, code: -1104, msg: `Not all sent parameters were read; read '${names.length - unknown.length}' parameter(s) but was sent '${names.length}'.` };
    }
    const apiKey = params.apiKey;
    if (typeof apiKey !== 'string' || apiKey.length === 0) return { status: 400, code: -2014, msg: MSG['-2014'] };
    const secret = this.#hmac.get(apiKey);
    const edKey = this.#ed25519.get(apiKey);
    if (secret === undefined && edKey === undefined) return { status: 401, code: -2015, msg: MSG['-2015'] };

    const timestamp = typeof params.timestamp === 'number' ? exactIntegerAt(text, ['params', 'timestamp']) : undefined;
    if (timestamp === undefined) return missing('timestamp');
    let recvWindow = 5_000;
    if (params.recvWindow !== undefined) {
      const rw = typeof params.recvWindow === 'number' ? exactIntegerAt(text, ['params', 'recvWindow']) : undefined;
      if (rw === undefined || Number(rw) <= 0 || Number(rw) > 60_000) {
        return { status: 400, code: -1130, msg: "Data sent for parameter 'recvWindow' is not valid." };
      }
      recvWindow = Number(rw);
    }
    const ts = Number(timestamp);
    if (ts >= now + 1_000) return { status: 400, code: -1021, msg: MSG['-1021-ahead'] };
    if (now - ts > recvWindow) return { status: 400, code: -1021, msg: MSG['-1021-late'] };

    const signature = params.signature;
    if (typeof signature !== 'string' || signature.length === 0) return missing('signature');
    const signed: Record<string, BinanceUsdmParam> = {};
    for (const k of names) {
      if (k === 'signature') continue;
      const v = params[k];
      if (typeof v === 'string' || typeof v === 'boolean') signed[k] = v;
      else if (typeof v === 'number') signed[k] = { int: rawJsonValueAt(text, ['params', k]) ?? String(v) };
      else return { status: 400, code: -1100, msg: `Illegal characters found in parameter '${k}'.` };
    }
    const payload = binanceUsdmSignaturePayload(signed);
    const ok = secret !== undefined ? verifyHmacSha256Hex(secret, payload, signature) : verifyEd25519Base64(edKey as KeyObject, payload, signature);
    if (!ok) return { status: 400, code: -1022, msg: MSG['-1022'] };

    const symbol = params.symbol;
    if (typeof symbol !== 'string' || symbol.length === 0) return missing('symbol');
    let orderId: string | undefined;
    if (params.orderId !== undefined) {
      orderId = typeof params.orderId === 'number' ? exactIntegerAt(text, ['params', 'orderId']) : undefined;
      if (orderId === undefined) return { status: 400, code: -1130, msg: "Data sent for parameter 'orderId' is not valid." };
    }
    const clientId = typeof params.origClientOrderId === 'string' && params.origClientOrderId.length > 0 ? params.origClientOrderId : undefined;
    if (orderId === undefined && clientId === undefined) {
      return { status: 400, code: -1102, msg: "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!" };
    }
    const resolved = orderId ?? this.#byClientId.get(`${symbol}|${clientId}`);
    const pollKey = resolved ?? `${symbol}|c:${clientId}`;
    this.#polls.set(pollKey, (this.#polls.get(pollKey) ?? 0) + 1);
    const order = resolved === undefined ? undefined : this.#orders.get(resolved);
    if (!order || order.lc.symbol !== symbol) return { order: undefined };
    if (clientId !== undefined && this.#truthOf(order).clientOrderId !== clientId) return { order: undefined };
    if (!this.#findable(order, now)) return { order: undefined };
    if (this.restFaults.knobs.failDetailFor.has(order.lc.orderId)) return { order: undefined }; // the venue cannot tell
    return { order };
  }

  /** Official doc: CANCELED/EXPIRED without fills after 3 days, and anything after 90 days, "will not be found". */
  #findable(o: SimOrder, now: number): boolean {
    const age = now - o.time;
    if (age > this.#retentionMs) return false;
    const step = o.steps[o.index] as BinanceUsdmStep;
    const unfilledGone = (step.status === 'CANCELED' || step.status === 'EXPIRED' || step.status === 'EXPIRED_IN_MATCH') && step.executedQty === '0';
    return !(unfilledGone && age > this.#unfilledRetentionMs);
  }

  #banRefusal(now: number): Refusal {
    return {
      status: 418,
      code: -1003,
      msg: `Way too many requests; IP banned until ${this.#bannedUntil}. Please use the websocket for live updates to avoid bans.`,
      data: { serverTime: now, retryAfter: this.#bannedUntil },
    };
  }

  #answerError(socket: SimSocket, id: string | number | null, r: Refusal, wantLimits: boolean | undefined): void {
    const text = binanceUsdmErrorText(id, r.status, r.code, r.msg, {
      ...(r.data ? { data: r.data } : {}),
      ...(wantLimits ? { rateLimits: this.#rateLimits() } : {}),
    });
    this.#count(String(r.code));
    this.sendText(socket, text, `error ${r.code}`);
  }

  #rateLimits(): BinanceUsdmRateLimit[] {
    return [{ rateLimitType: 'REQUEST_WEIGHT', ...this.#windowInterval, limit: this.#weightLimit, count: this.#window.count }];
  }

  #rollWindow(now: number): void {
    const start = Math.floor(now / this.#windowMs) * this.#windowMs;
    if (start !== this.#window.start) this.#window = { start, count: 0, rejected: 0 };
  }

  #count(outcome: string): void {
    this.#stats.answers[outcome] = (this.#stats.answers[outcome] ?? 0) + 1;
  }

  // -------------------------------------------------------------------------------------------------------------
  // User data stream: listen keys (POST/PUT/DELETE /fapi/v1/listenKey, X-MBX-APIKEY only) and pushes.

  #listenKeyHttp(req: SimHttpRequest): SimHttpResponse {
    if (!['POST', 'PUT', 'DELETE'].includes(req.method)) return { status: 404, body: JSON.stringify({ code: -1000, msg: `no HTTP endpoint ${req.method} ${req.path}` }) };
    const now = this.now();
    this.#rollWindow(now);
    this.#window.count += 1; // weight 1 (DOC-UDS-CONNECT endpoints)
    this.#stats.restRequests[`${req.method} ${req.path}`] = (this.#stats.restRequests[`${req.method} ${req.path}`] ?? 0) + 1;
    const header = req.headers['x-mbx-apikey'];
    const apiKey = Array.isArray(header) ? header[0] : header;
    if (!apiKey) return this.#restError(401, -2014, MSG['-2014']);
    if (!this.#hmac.has(apiKey) && !this.#ed25519.has(apiKey)) return this.#restError(401, -2015, MSG['-2015']);
    const active = this.#activeKey.get(apiKey);
    const live = active !== undefined && !(this.#listenKeys.get(active)?.expired ?? true) ? active : undefined;
    if (req.method === 'DELETE') {
      if (live !== undefined) {
        const k = this.#listenKeys.get(live);
        if (k) {
          clearTimeout(k.timer);
          k.expired = true;
        }
        for (const [s, key] of this.#userSockets) if (key === live) this.terminate(s, 'listen key deleted');
      }
      return this.#restOk('{}');
    }
    if (req.method === 'PUT') {
      if (live === undefined) return this.#restError(400, -1125, 'This listenKey does not exist.');
      this.#extend(live);
      this.#stats.listenKeyKeepalives++;
      return this.#restOk('{}');
    }
    // POST: the active key, extended, or a new one
    if (live !== undefined) {
      this.#extend(live);
      return this.#restOk(JSON.stringify({ listenKey: live }));
    }
    const key = this.#pool[this.#poolNext++];
    if (key === undefined) return this.#restError(500, -1000, `the simulator's pool of ${this.#pool.length} listen keys is used up (option listenKeyPool)`);
    this.#listenKeys.set(key, { apiKey, expiresAt: 0, expired: false, timer: undefined });
    this.#activeKey.set(apiKey, key);
    this.#extend(key);
    this.#stats.listenKeysCreated++;
    return this.#restOk(JSON.stringify({ listenKey: key }));
  }

  #extend(key: string): void {
    const k = this.#listenKeys.get(key);
    if (!k) return;
    clearTimeout(k.timer);
    k.expiresAt = this.now() + this.#listenKeyLifetimeMs;
    k.timer = setTimeout(() => this.#expire(key), this.#listenKeyLifetimeMs);
    k.timer.unref();
  }

  #expire(key: string): void {
    const k = this.#listenKeys.get(key);
    if (!k || k.expired) return;
    clearTimeout(k.timer);
    k.expired = true;
    this.#stats.listenKeysExpired++;
    const text = binanceUsdmListenKeyExpiredText(key, this.now());
    if (this.#announceExpiry) for (const [s, sk] of this.#userSockets) if (sk === key) this.sendText(s, text, 'listenKeyExpired');
    this.changed();
  }

  /** Pushes the order's current state to every user data stream with a live key (`before`: executedQty before the change; null at placement). */
  #push(o: SimOrder, before: string | null): void {
    const t = this.#truthOf(o);
    const x = binanceUsdmExecutionType(t, before);
    let fill: BinanceUsdmFill | undefined;
    let tradeId: bigint | undefined;
    if (x === 'TRADE') {
      fill = o.fills[o.fillsDone++];
      tradeId = ++this.#tradeSeq;
    }
    const targets = [...this.#userSockets].filter(([, key]) => !(this.#listenKeys.get(key)?.expired ?? true)).map(([s]) => s);
    if (targets.length === 0) return;
    const eventTime = this.now();
    const texts: string[] = [];
    if (fill && tradeId !== undefined && this.#tradeLite) texts.push(binanceUsdmTradeLiteText(t, fill, tradeId, eventTime));
    texts.push(binanceUsdmOrderTradeUpdateText(t, x, { eventTime, ...(fill ? { fill } : {}), ...(tradeId !== undefined ? { tradeId } : {}) }));
    for (const s of targets) {
      for (const text of texts) {
        if (this.sendText(s, text, 'push')) this.#stats.userStreamEventsPushed++;
      }
    }
  }

  #truthOf(o: SimOrder): BinanceUsdmOrderTruth {
    return binanceUsdmTruthOf(o.lc, o.steps[o.index] as BinanceUsdmStep, { time: o.time, updateTime: o.updateTime }, this.#instruments);
  }
}

function malform(answer: string, kind: BinanceUsdmMalformedKind): string {
  switch (kind) {
    case 'invalid-json':
      return answer.slice(0, answer.indexOf('"price"'));
    case 'wrong-types':
      return answer.replace(/"origQty":"[^"]*"/, '"origQty":"ten"').replace(/"executedQty":"[^"]*"/, '"executedQty":true');
    case 'unknown-status':
      return answer.replace(/"status":"[A-Z_]+"/, '"status":"NEW_ADL"');
    case 'float-order-id':
      return answer.replace(/"orderId":(\d)(\d+)/, (_m, first: string, rest: string) => `"orderId":${first}.${rest}e${rest.length}`);
  }
}
