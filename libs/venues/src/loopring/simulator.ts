import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { sleep } from '@orderstream/kit';
import type { ReferenceData } from '../reference.js';
import { applyFaults, checkFaultKnobs, NO_FAULTS, type FaultKnobs, type PlannedFrame } from '../sim/faults.js';
import { seededRng, type Rng } from '../sim/random.js';
import { RestFaults } from '../sim/rest-faults.js';
import { SimServer, type SimHttpRequest, type SimHttpResponse, type SimLogSink, type SimSocket } from '../sim/server.js';
import { LOOPRING_REST_CODES, LOOPRING_REST_PATHS, type LoopringRestApi } from './rest.js';
import { LOOPRING_MAX_TOPICS, LOOPRING_WS_KEY_PATH } from './client.js';
import { LOOPRING_PING, LOOPRING_PONG, LOOPRING_TOPICS } from './frames.js';
import {
  LOOPRING_NO_QUIRKS,
  LOOPRING_SIM_MARKETS,
  loopringLifecycleSteps,
  loopringOrderFrameText,
  loopringRandomLifecycles,
  loopringTruthOf,
  type LoopringFrameQuirks,
  type LoopringLifecycle,
  type LoopringOrderTruth,
  type LoopringSimMarket,
  type LoopringStep,
} from './lifecycles.js';

/** Path of the relayer socket (LRV2 overview.md: wss://ws.loopring.io/v2/ws). */
export const LOOPRING_WS_PATH = '/v2/ws';
/** WebSocket close code the simulator uses to refuse a connection without a valid one-time key (see README). */
export const LOOPRING_SIM_REFUSE_CLOSE_CODE = 1008;

/**
 * Subscription error codes: LRV2 overview.md "Status code" plus each topic page's own code (candlestick 104106,
 * orderbook 104107, trade 104109, order 104110, ticker 104111). Descriptions from the docs; the simulator only sends
 * the ones its checks can produce (README), with messages of its own.
 */
export const LOOPRING_SUB_ERRORS = {
  104100: 'Topic missing',
  104101: 'Invalid op code',
  104102: 'Invalid topic',
  104103: 'Duplicate topic configs',
  104104: 'Missing ApiKey',
  104105: 'ApiKey mismatched',
  104106: 'Invalid candlestick topic or parameters',
  104107: 'Invalid orderbook topic or parameters',
  104109: 'Invalid trade topic or parameters',
  104110: 'Invalid order topic or parameters',
  104111: 'Invalid ticker topic or parameters',
  104112: 'Invalid ApiKey',
  104113: 'Subscription not found',
  104114: 'Invalid ApiKey (user not found)',
  104115: 'Unrecognised message',
  104116: 'Exceed maximum subscriptions',
} as const;
export type LoopringSubErrorCode = keyof typeof LOOPRING_SUB_ERRORS;

export interface LoopringSimulatorOptions {
  host?: string;
  port?: number;
  /** the account's ApiKey that `sub` must carry for private topics; default 'sim-loopring-api-key' */
  apiKey?: string;
  /** code for an apiKey that is not the account's: 104112 Invalid ApiKey (default) or 104114 user not found */
  unknownApiKeyCode?: 104112 | 104114;
  /** server text `ping` period; Loopring: 30 s */
  pingIntervalMs?: number;
  /** no `pong` for this long → the socket is terminated (no close frame); Loopring: 2 min */
  pongTimeoutMs?: number;
  /** an issued wsApiKey not used within this long is refused; default 60 s (Loopring: undocumented) */
  wsApiKeyTtlMs?: number;
  /** the simulator's clock for key ages, epoch ms; default Date.now (tests move it instead of sleeping) */
  now?: () => number;
  /** acks say `"status":"OK"` (LRV3 blockgen.md) instead of `"ok"`; default false */
  ackStatusUpperCase?: boolean;
  /** acks echo topics with the typo key `"topic:"` (LRV2 @28a8446); default false */
  ackTopicTypoKey?: boolean;
  /** markets the relayer knows (decimals, typical prices); default LOOPRING_SIM_MARKETS */
  markets?: readonly LoopringSimMarket[];
  quirks?: Partial<LoopringFrameQuirks>;
  faults?: Partial<FaultKnobs>;
  /** seed of the fault generator (reorder, duplicate); default 1 */
  seed?: number;
  /** the frame log: every frame in and out, every HTTP exchange, every termination */
  log?: SimLogSink;
  /** the account's id, which the REST order queries must name (`accountId`); default 10010 */
  accountId?: number;
  /** REST API generations served (`/api/v2/orders`…, `/api/v3/orders`…); default both */
  restApis?: readonly LoopringRestApi[];
  /** refuse `waiting` in the orders `status` filter with 100001, as a relayer holding to the documented values might; default false */
  refuseWaitingFilter?: boolean;
}

export interface LoopringPlayOptions {
  /** pause between consecutive pushes; default 0 */
  intervalMs?: number;
  /**
   * When no socket is subscribed at the moment a push is due, wait up to this long for one (reject after).
   * Default 0: the push reaches nobody, as on the real relayer (no replay), and counts in `undelivered`.
   */
  waitForSubscriberMs?: number;
}

export interface LoopringPlayReport {
  /** pushes the lifecycles produced */
  planned: number;
  /** pushes sent after faults (duplicates included) */
  sent: number;
  duplicates: number;
  /** socket deliveries (sent × subscribers of the market at the time) */
  deliveries: number;
  /** pushes that found no subscriber for their market */
  undelivered: number;
}

export interface LoopringSimStats {
  openSockets: number;
  subscribers: number;
  connectionsAccepted: number;
  /** connections closed at once for a missing, unknown, expired or already used wsApiKey */
  connectionsRefused: number;
  wsKeysIssued: number;
  /** REST key requests answered with an injected failure (failWsKeyRequests) */
  wsKeyFailures: number;
  pingsSent: number;
  pongsReceived: number;
  /** sockets dropped for no pong within pongTimeoutMs */
  pongTimeouts: number;
  /** sockets dropped for sending more pongs than they got pings */
  unsolicitedPongs: number;
  /** sub/unSub failures by code */
  subErrors: Record<string, number>;
  pushesSent: number;
  /** order list queries answered (faulted ones excluded) */
  restOrderQueries: number;
}

export type LoopringMalformedKind = 'invalid-json' | 'wrong-types' | 'unknown-status';

interface WsKeyState {
  issuedAt: number;
  used: boolean;
  /** expired by expireWsKeys() */
  expired: boolean;
}

interface SocketState {
  wsApiKey: string;
  /** the apiKey of the first accepted private subscription (104105 compares with it) */
  apiKey: string | undefined;
  /** subscribed topic configs: `order&LRC-ETH`, `account`, … */
  subs: Set<string>;
  pings: number;
  pongs: number;
}

interface PlannedPush extends PlannedFrame {
  lc: LoopringLifecycle;
  step: LoopringStep;
  index: number;
  createdAt: number;
}

class SubRefusal extends Error {
  constructor(
    readonly code: LoopringSubErrorCode,
    readonly detail: string,
  ) {
    super(detail);
  }
}

/** Topics whose subscription needs the ApiKey (LRV2 websocket/*.md "ApiKey required: Yes"). */
const PRIVATE_TOPICS: ReadonlySet<string> = new Set(['order', 'account']);
const KNOWN_TOPICS: ReadonlySet<string> = new Set(LOOPRING_TOPICS);

/**
 * A local Loopring v2 relayer for the `order` topic: REST one-time connection keys (`GET /v2/ws/key`), the socket at
 * /v2/ws (key checked on connect, `sub`/`unSub` with the ApiKey and the documented error codes, server `ping` with
 * the pong rules), and scripted order lifecycles pushed to subscribers with fault knobs. See ./README.md.
 */
export class LoopringSimulator extends SimServer {
  /** Fault knobs for order pushes; change them at any time. */
  readonly faults: FaultKnobs;
  /** Frame quirks for order pushes; change them at any time. */
  readonly quirks: LoopringFrameQuirks;

  readonly #apiKey: string;
  readonly #unknownApiKeyCode: 104112 | 104114;
  readonly #pingIntervalMs: number;
  readonly #pongTimeoutMs: number;
  readonly #wsKeyTtlMs: number;
  readonly #now: () => number;
  readonly #ackUpper: boolean;
  readonly #ackTypo: boolean;
  readonly #markets: readonly LoopringSimMarket[];
  readonly #rng: Rng;
  readonly #wsKeys = new Map<string, WsKeyState>();
  readonly #state = new WeakMap<SimSocket, SocketState>();
  readonly #truth = new Map<string, { index: number; truth: LoopringOrderTruth }>();
  readonly #accountId: number;
  readonly #restApis: ReadonlySet<LoopringRestApi>;
  readonly #filterStatuses: ReadonlySet<string>;
  /**
   * Fault knobs of the REST order endpoints (rate limit, server error, orders it cannot tell about), checked first in
   * each of them. Loopring documents HTTP 429 for a rate limit (REST_APIS.md) but no body; the bodies are ours.
   */
  readonly restFaults = new RestFaults({
    rateLimited: () => JSON.stringify({ resultInfo: { code: 100000, message: 'rate limit exceeded' } }),
    error: () => JSON.stringify({ resultInfo: { code: 100000, message: LOOPRING_REST_CODES[100000] } }),
  });
  #failKeyRequests: { remaining: number; status: number } = { remaining: 0, status: 502 };
  #malformedSeq = 0;
  readonly #stats = {
    connectionsAccepted: 0,
    connectionsRefused: 0,
    wsKeysIssued: 0,
    wsKeyFailures: 0,
    pingsSent: 0,
    pongsReceived: 0,
    pongTimeouts: 0,
    unsolicitedPongs: 0,
    subErrors: {} as Record<string, number>,
    pushesSent: 0,
    restOrderQueries: 0,
  };

  private constructor(options: LoopringSimulatorOptions) {
    super({
      wsPaths: [LOOPRING_WS_PATH],
      ...(options.host ? { host: options.host } : {}),
      ...(options.port ? { port: options.port } : {}),
      ...(options.log ? { log: options.log } : {}),
    });
    this.#apiKey = options.apiKey ?? 'sim-loopring-api-key';
    this.#unknownApiKeyCode = options.unknownApiKeyCode ?? 104112;
    this.#pingIntervalMs = options.pingIntervalMs ?? 30_000;
    this.#pongTimeoutMs = options.pongTimeoutMs ?? 120_000;
    this.#wsKeyTtlMs = options.wsApiKeyTtlMs ?? 60_000;
    this.#now = options.now ?? Date.now;
    this.#ackUpper = options.ackStatusUpperCase ?? false;
    this.#ackTypo = options.ackTopicTypoKey ?? false;
    this.#markets = options.markets ?? LOOPRING_SIM_MARKETS;
    this.#rng = seededRng(options.seed ?? 1);
    this.#accountId = options.accountId ?? 10010;
    this.#restApis = new Set(options.restApis ?? ['v2', 'v3']);
    this.#filterStatuses = new Set([...FILTER_STATUSES, ...(options.refuseWaitingFilter ? [] : ['waiting'])]);
    this.faults = { ...NO_FAULTS, ...options.faults };
    checkFaultKnobs(this.faults);
    this.quirks = { ...LOOPRING_NO_QUIRKS, ...options.quirks };
    for (const [name, v] of [['pingIntervalMs', this.#pingIntervalMs], ['pongTimeoutMs', this.#pongTimeoutMs], ['wsApiKeyTtlMs', this.#wsKeyTtlMs]] as const) {
      if (!(Number.isFinite(v) && v > 0)) throw new RangeError(`${name} must be a positive number of ms, got ${v}`);
    }
  }

  /** Starts a simulator on 127.0.0.1 and a free port. */
  static async start(options: LoopringSimulatorOptions = {}): Promise<LoopringSimulator> {
    const sim = new LoopringSimulator(options);
    await sim.listen();
    return sim;
  }

  /** REST base URL (the key endpoint is `${restUrl}/v2/ws/key`). */
  get restUrl(): string {
    return this.httpUrl;
  }

  /** The relayer socket: `ws://127.0.0.1:<port>/v2/ws` (connect with `?wsApiKey=<key>`). */
  get wsUrl(): string {
    return this.wsUrlFor(LOOPRING_WS_PATH);
  }

  /** The account ApiKey this relayer accepts. */
  get apiKey(): string {
    return this.#apiKey;
  }

  /** Sockets with at least one `order` subscription. */
  get subscriberCount(): number {
    return this.sockets.filter((s) => [...(this.#state.get(s)?.subs ?? [])].some((t) => t.startsWith('order&'))).length;
  }

  /** Resolves once at least n sockets are subscribed to the order topic (any market). */
  waitForSubscribers(n: number, timeoutMs: number): Promise<void> {
    return this.waitUntil(() => this.subscriberCount >= n, timeoutMs, `${n} subscriber(s) on the order topic`);
  }

  /** Token decimals of this simulator's markets, in the shape the normalizer takes. */
  referenceData(): ReferenceData {
    return { loopring: Object.fromEntries(this.#markets.map((m) => [m.market, { baseDecimals: m.baseDecimals, quoteDecimals: m.quoteDecimals }])) };
  }

  /** This simulator's markets (for a client's `markets` configuration). */
  get markets(): string[] {
    return this.#markets.map((m) => m.market);
  }

  /** Deterministic lifecycles over this simulator's markets (same seed → same orders; hashes unique per seed). */
  randomLifecycles(count: number, seed: number): LoopringLifecycle[] {
    return loopringRandomLifecycles(count, seed, this.#markets);
  }

  /** Per order hash, the final relayer-side state of every order played so far (faults never change it). */
  truth(): Map<string, LoopringOrderTruth> {
    return new Map([...this.#truth].map(([hash, t]) => [hash, { ...t.truth }]));
  }

  /** The account id the REST order queries must name. */
  get accountId(): number {
    return this.#accountId;
  }

  /** Hashes of the orders live at the relayer now (waiting, processing, cancelling). */
  liveOrderIds(): string[] {
    return [...this.#truth.values()].filter((t) => LIVE_STATUSES.has(t.truth.status)).map((t) => t.truth.hash);
  }

  /** The one-time keys issued so far, in order (for tests: every connection must use a new one). */
  issuedWsKeys(): string[] {
    return [...this.#wsKeys.keys()];
  }

  stats(): LoopringSimStats {
    return { openSockets: this.sockets.length, subscribers: this.subscriberCount, ...this.#stats, subErrors: { ...this.#stats.subErrors } };
  }

  /** The next `count` key requests fail with HTTP `status` (default 502, as seen in the wild: hummingbot #2620). */
  failWsKeyRequests(count: number, status = 502): void {
    if (!Number.isInteger(count) || count < 0) throw new RangeError(`count must be a non-negative integer, got ${count}`);
    this.#failKeyRequests = { remaining: count, status };
  }

  /** Expires every issued key not used (nor aged out) yet: a connection with one is then refused. Returns how many. */
  expireWsKeys(): number {
    let n = 0;
    for (const ks of this.#wsKeys.values()) {
      if (!ks.used && !ks.expired && this.#now() - ks.issuedAt <= this.#wsKeyTtlMs) {
        ks.expired = true;
        n++;
      }
    }
    return n;
  }

  /** Sends a text `ping` to every open socket now (outside the timer), counting it as a ping. */
  pingNow(): number {
    const open = this.sockets;
    for (const s of open) this.#ping(s);
    return open.length;
  }

  /**
   * Brings each lifecycle to its step `step` (default 0: `processing` or `waiting`, nothing filled) at once, without
   * going further: orders that stay live until a later play() of the same lifecycle finishes them. Each order's
   * pushes up to that step go to the market's subscribers. Returns the hashes.
   */
  placeOrders(lifecycles: readonly LoopringLifecycle[], step = 0): string[] {
    const createdAt = Date.now();
    for (const lc of lifecycles) {
      const steps = loopringLifecycleSteps(lc, this.#markets);
      const upTo = Math.min(step, steps.length - 1);
      for (let index = 0; index <= upTo; index++) {
        const truth = this.#recordTruth({ key: lc.hash, lc, step: steps[index] as LoopringStep, index, createdAt: lc.createdAt ?? createdAt });
        const text = loopringOrderFrameText(truth, this.quirks);
        for (const socket of this.#subscribersOf(lc.market)) if (this.sendText(socket, text, 'push')) this.#stats.pushesSent++;
      }
    }
    this.changed();
    return lifecycles.map((lc) => lc.hash);
  }

  /**
   * Pushes the lifecycles' frames to every socket subscribed to the order topic of the lifecycle's market.
   * Lifecycles are interleaved round-robin (each order's frames stay in order), then the fault knobs apply.
   * Resolves when every frame was sent.
   */
  async play(lifecycles: readonly LoopringLifecycle[], options: LoopringPlayOptions = {}): Promise<LoopringPlayReport> {
    checkFaultKnobs(this.faults);
    const intervalMs = options.intervalMs ?? 0;
    const createdBase = Date.now();
    const perOrder = lifecycles.map((lc) =>
      // throws a RangeError for an impossible script or an unknown market before anything is sent
      loopringLifecycleSteps(lc, this.#markets).map<PlannedPush>((step, index) => ({ key: lc.hash, lc, step, index, createdAt: lc.createdAt ?? createdBase })),
    );
    const planned: PlannedPush[] = [];
    for (let round = 0; perOrder.some((steps) => round < steps.length); round++) {
      for (const steps of perOrder) if (round < steps.length) planned.push(steps[round] as PlannedPush);
    }
    const faulted = applyFaults(planned, this.faults, this.#rng);
    const report: LoopringPlayReport = { planned: planned.length, sent: faulted.length, duplicates: 0, deliveries: 0, undelivered: 0 };
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < faulted.length; i++) {
      const { frame, duplicate } = faulted[i] as (typeof faulted)[number];
      if (i > 0 && intervalMs > 0) await sleep(intervalMs);
      if (duplicate) report.duplicates++;
      const deliver = () => {
        const truth = this.#recordTruth(frame);
        const subscribers = this.#subscribersOf(frame.lc.market);
        if (subscribers.length === 0) report.undelivered++;
        const text = loopringOrderFrameText(truth, this.quirks);
        for (const socket of subscribers) {
          if (this.sendText(socket, text, duplicate ? 'duplicate' : 'push')) {
            report.deliveries++;
            this.#stats.pushesSent++;
          }
        }
      };
      if ((options.waitForSubscriberMs ?? 0) > 0 && this.#subscribersOf(frame.lc.market).length === 0) {
        await this.waitUntil(() => this.#subscribersOf(frame.lc.market).length > 0, options.waitForSubscriberMs as number, `a subscriber of order&${frame.lc.market}`);
      }
      const delay = this.faults.delayMs;
      if (delay > 0) inFlight.push(new Promise<void>((resolve) => setTimeout(() => (deliver(), resolve()), delay)));
      else deliver();
    }
    await Promise.all(inFlight);
    return report;
  }

  /**
   * Sends one malformed order frame to every order subscriber and returns its exact text. Throws if nobody is
   * subscribed.
   * - `invalid-json`: a push cut off mid-object → FRAME_NOT_JSON
   * - `wrong-types`: size "ten", filledSize true → FRAME_INVALID
   * - `unknown-status`: status "pending" (not a Loopring status) → FRAME_UNKNOWN_STATUS
   */
  injectMalformed(kind: LoopringMalformedKind): string {
    const targets = this.sockets.filter((s) => [...(this.#state.get(s)?.subs ?? [])].some((t) => t.startsWith('order&')));
    if (targets.length === 0) throw new Error('injectMalformed: no socket is subscribed to the order topic');
    const market = this.#markets[0] as LoopringSimMarket;
    const lc: LoopringLifecycle = { hash: `0xbad${String(++this.#malformedSeq).padStart(61, '0')}`, market: market.market, kind: 'cancel', side: 'BUY', price: market.price, size: (10n ** BigInt(market.baseDecimals)).toString() };
    const step = loopringLifecycleSteps(lc, this.#markets)[0] as LoopringStep;
    const good = loopringOrderFrameText(loopringTruthOf(lc, step, { createdAt: Date.now(), index: 0 }, this.#markets));
    let text: string;
    if (kind === 'invalid-json') text = good.slice(0, good.indexOf('"price"'));
    else if (kind === 'wrong-types') text = good.replace(`"size":"${lc.size}"`, '"size":"ten"').replace('"filledSize":"0"', '"filledSize":true');
    else if (kind === 'unknown-status') text = good.replace('"status":"processing"', '"status":"pending"');
    else throw new RangeError(`injectMalformed: unknown kind ${String(kind)}`);
    for (const s of targets) this.sendText(s, text, `malformed:${kind}`);
    return text;
  }

  // -------------------------------------------------------------------------------------------------------------
  // REST

  protected onHttp(req: SimHttpRequest): SimHttpResponse {
    const rest = REST_ROUTES.get(req.path);
    if (rest && this.#restApis.has(rest.api)) return this.#serveOrders(req, rest.api, rest.endpoint);
    if (req.path !== LOOPRING_WS_KEY_PATH) {
      return { status: 404, body: JSON.stringify({ resultInfo: { code: 404, message: `no such path: ${req.path}` } }) };
    }
    if (req.method !== 'GET') {
      return { status: 405, body: JSON.stringify({ resultInfo: { code: 405, message: 'method not allowed' } }) };
    }
    if (this.#failKeyRequests.remaining > 0) {
      this.#failKeyRequests.remaining--;
      this.#stats.wsKeyFailures++;
      this.changed();
      const status = this.#failKeyRequests.status;
      return { status, body: `<html><body><h1>${status}</h1></body></html>`, headers: { 'content-type': 'text/html' } };
    }
    // Like the v3 doc's example key "fx2xW5hoVFbcaanWS": 17 characters of [A-Za-z0-9].
    const key = base62(17);
    this.#wsKeys.set(key, { issuedAt: this.#now(), used: false, expired: false });
    this.#stats.wsKeysIssued++;
    this.changed();
    // v2 envelope (LRV2 REST: resultInfo + data; LRWEB and hummingbot read the key from `data`).
    return { status: 200, body: JSON.stringify({ resultInfo: { code: 0, message: 'SUCCESS' }, data: key }) };
  }

  /**
   * `GET /api/v2|v3/orders` and `/api/v2|v3/order` (LRV2/LRV3 getOrders, getOrderDetail): faults first, then the
   * checks in this order: method, X-API-KEY (104001 empty, 104002 invalid), accountId (107001 missing, 104003 not
   * this account), parameters (100001), orderHash (107002 missing, 107003 unknown). v2 answers every outcome with
   * HTTP 200 and `resultInfo` (REST_APIS.md); v3 answers success bare and errors with HTTP 400 and `resultInfo`.
   */
  #serveOrders(req: SimHttpRequest, api: LoopringRestApi, endpoint: 'orders' | 'order'): SimHttpResponse {
    const hashAsked = endpoint === 'order' ? (req.query.get('orderHash') ?? undefined) : undefined;
    const faulted = this.restFaults.check(hashAsked);
    if (faulted) {
      this.changed();
      return faulted;
    }
    const fail = (code: keyof typeof LOOPRING_REST_CODES, status = api === 'v2' ? 200 : 400): SimHttpResponse => ({
      status,
      body: JSON.stringify({ resultInfo: { code, message: LOOPRING_REST_CODES[code] } }),
    });
    if (req.method !== 'GET') return { status: 405, body: JSON.stringify({ resultInfo: { code: 405, message: 'method not allowed' } }) };
    const key = req.headers['x-api-key'];
    if (typeof key !== 'string' || key.length === 0) return fail(104001);
    if (key !== this.#apiKey) return fail(104002);
    const accountId = req.query.get('accountId');
    if (accountId === null || accountId === '') return fail(107001);
    if (!/^\d+$/.test(accountId) || Number(accountId) !== this.#accountId) return fail(104003);
    const ok = (data: unknown): SimHttpResponse => ({
      status: 200,
      body: JSON.stringify(api === 'v2' ? { resultInfo: { code: 0, message: 'SUCCESS' }, data } : data),
    });
    const shape = (t: LoopringOrderTruth) => (api === 'v2' ? restOrderV2(t) : restOrderV3(t, this.#accountId));
    if (endpoint === 'order') {
      if (hashAsked === undefined || hashAsked === '') return fail(107002);
      const t = this.#truth.get(hashAsked);
      if (!t) return fail(107003);
      return ok(shape(t.truth));
    }
    const num = (name: string, dflt: number): number | undefined => {
      const v = req.query.get(name);
      if (v === null || v === '') return dflt;
      return /^\d+$/.test(v) ? Number(v) : undefined;
    };
    const limit = num('limit', 50);
    const offset = num('offset', 0);
    const start = num('start', 0);
    const end = num('end', 0);
    const statusFilter = req.query.get('status');
    const statuses = statusFilter ? new Set(statusFilter.split(',').map((x) => x.trim())) : undefined;
    const side = req.query.get('side');
    if (limit === undefined || offset === undefined || start === undefined || end === undefined || (side && side !== 'BUY' && side !== 'SELL') || (statuses && [...statuses].some((x) => !this.#filterStatuses.has(x)))) {
      return fail(100001);
    }
    const market = req.query.get('market');
    const cannotTell = this.restFaults.knobs.failDetailFor;
    const matching = [...this.#truth.values()]
      .map((x) => x.truth)
      .filter((t) =>
        (!market || t.market === market) &&
        (!statuses || statuses.has(t.status)) &&
        (!side || t.side === side) &&
        t.createdAt >= start &&
        (end === 0 || t.createdAt <= end) &&
        // the relayer "cannot tell" about these: left out unless still live
        (!cannotTell.has(t.hash) || LIVE_STATUSES.has(t.status)))
      .sort((a, b) => b.createdAt - a.createdAt || (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
    this.#stats.restOrderQueries++;
    return ok({ totalNum: matching.length, orders: matching.slice(offset, offset + limit).map(shape) });
  }

  // -------------------------------------------------------------------------------------------------------------
  // WebSocket

  protected onConnection(socket: SimSocket, req: IncomingMessage): void {
    const key = new URL(req.url ?? '/', 'http://sim').searchParams.get('wsApiKey');
    const ks = key === null ? undefined : this.#wsKeys.get(key);
    const why =
      key === null || key === ''
        ? 'wsApiKey missing'
        : !ks
          ? 'wsApiKey unknown'
          : ks.used
            ? 'wsApiKey already used'
            : ks.expired || this.#now() - ks.issuedAt > this.#wsKeyTtlMs
              ? 'wsApiKey expired'
              : undefined;
    if (why !== undefined || key === null || !ks) {
      // The relayer "refuses" such a connection (LRV3 overview.md); how is undocumented: see README.
      this.#stats.connectionsRefused++;
      this.log({ direction: 'event', channel: 'ws', socketId: socket.id, text: why ?? 'refused', note: 'refused' });
      socket.ws.close(LOOPRING_SIM_REFUSE_CLOSE_CODE, why);
      return;
    }
    ks.used = true;
    this.#stats.connectionsAccepted++;
    this.#state.set(socket, { wsApiKey: key, apiKey: undefined, subs: new Set(), pings: 0, pongs: 0 });
    this.#armPing(socket);
    this.#armPongWatchdog(socket);
  }

  protected onText(socket: SimSocket, text: string): void {
    const state = this.#state.get(socket);
    if (!state) return;
    if (text === LOOPRING_PONG) {
      state.pongs++;
      this.#stats.pongsReceived++;
      if (state.pongs > state.pings) {
        // "If the number of pong messages exceeds the number of ping messages, the relay will also disconnect."
        this.#stats.unsolicitedPongs++;
        this.terminate(socket, `pong #${state.pongs} after ${state.pings} ping(s): more pongs than pings`);
        return;
      }
      this.#armPongWatchdog(socket);
      return;
    }
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      this.#reply(socket, { op: '', topics: [] }, new SubRefusal(104115, `unexpected msg:${text.slice(0, 50)}`));
      return;
    }
    if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) {
      this.#reply(socket, { op: '', topics: [] }, new SubRefusal(104115, `unexpected msg:${text.slice(0, 50)}`));
      return;
    }
    const m = msg as Record<string, unknown>;
    const echo: Record<string, unknown> = { op: typeof m.op === 'string' ? m.op : '' };
    if (typeof m.sequence === 'number' || typeof m.sequence === 'string') echo.sequence = m.sequence;
    echo.topics = Array.isArray(m.topics) ? m.topics : [];
    try {
      this.#handleRequest(state, m);
      this.#reply(socket, echo);
    } catch (error) {
      if (!(error instanceof SubRefusal)) throw error;
      this.#reply(socket, echo, error);
    }
    this.changed();
  }

  /** Applies a sub/unSub request to the socket's subscriptions, or throws a SubRefusal (nothing changes then). */
  #handleRequest(state: SocketState, m: Record<string, unknown>): void {
    const op = typeof m.op === 'string' ? m.op.toLowerCase() : '';
    if (op !== 'sub' && op !== 'unsub') throw new SubRefusal(104101, `unsupported op: ${typeof m.op === 'string' ? m.op : JSON.stringify(m.op)}`);
    const topics = m.topics;
    const unsubscribeAll = m.unsubscribeAll === true;
    if (!Array.isArray(topics) || (topics.length === 0 && !(op === 'unsub' && unsubscribeAll))) throw new SubRefusal(104100, 'empty topics');
    const configs: string[] = [];
    const names = new Set<string>();
    for (const t of topics as unknown[]) {
      const o = t !== null && typeof t === 'object' && !Array.isArray(t) ? (t as Record<string, unknown>) : undefined;
      const raw = o ? (o.topic ?? o['topic:']) : undefined;
      if (typeof raw !== 'string' || !KNOWN_TOPICS.has(raw)) throw new SubRefusal(104102, `unsupported topic: ${typeof raw === 'string' ? raw : JSON.stringify(t)}`);
      let config = raw;
      if (raw === 'order') {
        const market = o?.market;
        const whole = op === 'unsub' && o?.unsubscribeAll === true;
        if (!whole && (typeof market !== 'string' || !this.#markets.some((x) => x.market === market))) {
          throw new SubRefusal(104110, `invalid order topic config: ${JSON.stringify(t)}`);
        }
        config = whole ? 'order&*' : `order&${market as string}`;
      } else if (typeof o?.market === 'string') config = `${raw}&${o.market}`;
      if (configs.includes(config)) throw new SubRefusal(104103, `duplicate topic config: ${config}`);
      configs.push(config);
      names.add(raw);
    }
    if ([...names].some((n) => PRIVATE_TOPICS.has(n))) {
      const apiKey = m.apiKey;
      if (typeof apiKey !== 'string' || apiKey.length === 0) throw new SubRefusal(104104, 'apiKey is required');
      if (state.apiKey !== undefined && apiKey !== state.apiKey) throw new SubRefusal(104105, 'apiKey differs from the one of earlier subscriptions');
      if (apiKey !== this.#apiKey) {
        throw new SubRefusal(this.#unknownApiKeyCode, this.#unknownApiKeyCode === 104114 ? 'no user for apiKey' : 'invalid apiKey');
      }
      state.apiKey = apiKey;
    }
    if (op === 'sub') {
      const next = new Set(unsubscribeAll ? [] : state.subs);
      for (const c of configs) next.add(c);
      if (next.size > LOOPRING_MAX_TOPICS) throw new SubRefusal(104116, `exceed maximum subscriptions (${LOOPRING_MAX_TOPICS})`);
      state.subs = next;
      return;
    }
    if (unsubscribeAll) {
      state.subs.clear();
      return;
    }
    for (const c of configs) {
      const whole = c.endsWith('&*');
      const prefix = c.slice(0, -1);
      const present = whole ? [...state.subs].some((s) => s.startsWith(prefix)) : state.subs.has(c);
      if (!present) throw new SubRefusal(104113, `not subscribed: ${c}`);
    }
    for (const c of configs) {
      if (c.endsWith('&*')) for (const s of [...state.subs]) if (s.startsWith(c.slice(0, -1))) state.subs.delete(s);
      state.subs.delete(c);
    }
  }

  #reply(socket: SimSocket, echo: Record<string, unknown>, refusal?: SubRefusal): void {
    const topics = Array.isArray(echo.topics) && this.#ackTypo
      ? (echo.topics as unknown[]).map((t) => {
          if (t === null || typeof t !== 'object' || Array.isArray(t) || !('topic' in t)) return t;
          const { topic, ...rest } = t as Record<string, unknown>;
          return { 'topic:': topic, ...rest };
        })
      : echo.topics;
    const result = refusal
      ? { status: 'failed', error: { code: refusal.code, message: refusal.detail } }
      : { status: this.#ackUpper ? 'OK' : 'ok' };
    if (refusal) this.#stats.subErrors[refusal.code] = (this.#stats.subErrors[refusal.code] ?? 0) + 1;
    this.sendText(socket, JSON.stringify({ ...echo, topics, result }), refusal ? `error:${refusal.code}` : 'ack');
  }

  #ping(socket: SimSocket): void {
    const state = this.#state.get(socket);
    if (!state || !socket.isOpen) return;
    state.pings++;
    this.#stats.pingsSent++;
    this.sendText(socket, LOOPRING_PING, 'ping');
    this.changed();
  }

  #armPing(socket: SimSocket): void {
    socket.setTimer('ping', this.#pingIntervalMs, () => {
      this.#ping(socket);
      this.#armPing(socket);
    });
  }

  #armPongWatchdog(socket: SimSocket): void {
    socket.setTimer('pong-deadline', this.#pongTimeoutMs, () => {
      this.#stats.pongTimeouts++;
      this.terminate(socket, `no pong for ${this.#pongTimeoutMs} ms`);
    });
  }

  #subscribersOf(market: string): SimSocket[] {
    const topic = `order&${market}`;
    return this.sockets.filter((s) => this.#state.get(s)?.subs.has(topic) === true);
  }

  #recordTruth(p: PlannedPush): LoopringOrderTruth {
    const truth = loopringTruthOf(p.lc, p.step, { createdAt: p.createdAt, index: p.index, wholeSeconds: this.quirks.secondsTimes }, this.#markets);
    const known = this.#truth.get(p.lc.hash);
    if (!known || known.index < p.index) this.#truth.set(p.lc.hash, { index: p.index, truth });
    return truth;
  }
}

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function base62(length: number): string {
  const bytes = randomBytes(length * 2);
  let out = '';
  for (let i = 0; out.length < length && i < bytes.length; i++) {
    const b = bytes[i] as number;
    if (b < 248) out += BASE62[b % 62];
  }
  while (out.length < length) out += 'A';
  return out;
}

/** Statuses of an order still alive at the relayer. */
const LIVE_STATUSES: ReadonlySet<string> = new Set(['waiting', 'processing', 'cancelling']);
/** Allowable values of the `status` filter (LRV2/LRV3 getOrders); `waiting` is accepted too unless refuseWaitingFilter. */
const FILTER_STATUSES: ReadonlySet<string> = new Set(['processing', 'processed', 'failed', 'cancelled', 'cancelling', 'expired']);

const REST_ROUTES = new Map<string, { api: LoopringRestApi; endpoint: 'orders' | 'order' }>(
  (Object.entries(LOOPRING_REST_PATHS) as [LoopringRestApi, { orders: string; order: string }][]).flatMap(([api, p]) => [
    [p.orders, { api, endpoint: 'orders' as const }],
    [p.order, { api, endpoint: 'order' as const }],
  ]),
);

/** An order as LRV2 getOrders / getOrderDetail print it (same key order as the doc example; createdAt in ms). */
function restOrderV2(t: LoopringOrderTruth): Record<string, unknown> {
  return {
    hash: t.hash,
    clientOrderId: t.clientOrderId,
    size: t.size,
    volume: t.volume,
    price: t.price,
    filledSize: t.filledSize,
    filledVolume: t.filledVolume,
    filledFee: t.filledFee,
    status: t.status,
    validSince: t.validSince,
    validUntil: t.validUntil,
    createdAt: t.createdAt,
    side: t.side,
    market: t.market,
    orderType: 'LIMIT_ORDER',
  };
}

/** An order as LRV3 prints it (swag.json OrderDetailV3): volumes and validity objects, no times. */
function restOrderV3(t: LoopringOrderTruth, accountId: number): Record<string, unknown> {
  return {
    hash: t.hash,
    clientOrderId: t.clientOrderId,
    side: t.side,
    market: t.market,
    price: t.price,
    volumes: { baseAmount: t.size, quoteAmount: t.volume, baseFilled: t.filledSize, quoteFilled: t.filledVolume, fee: t.filledFee },
    validity: { start: t.validSince, end: t.validUntil },
    orderType: 'LIMIT_ORDER',
    tradeChannel: 'ORDER_BOOK',
    status: t.status,
    storageInfo: { accountId, tokenId: 0, storageId: Number.parseInt(t.hash.slice(2, 8), 16) || 0 },
  };
}
