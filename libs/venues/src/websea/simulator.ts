import { timingSafeEqual } from 'node:crypto';
import { divDecimals, isZeroDecimal, mulDecimals } from '@orderstream/kit';
import { RestFaults } from '../sim/rest-faults.js';
import { applyFaults, checkFaultKnobs, NO_FAULTS, type FaultKnobs, type PlannedFrame } from '../sim/faults.js';
import { paceFor, roundRobin, sendPaced } from '../sim/play.js';
import { seededRng, type Rng } from '../sim/random.js';
import { SimServer, type SimHttpRequest, type SimHttpResponse, type SimLogSink, type SimSocket } from '../sim/server.js';
import { WEBSEA_ERRNO, WEBSEA_IDLE_CLOSE_MS, WEBSEA_NONCE_WINDOW_MS, WEBSEA_SPOT_ORDER_PATH } from './client.js';
import {
  WEBSEA_AVERAGE_PRICE_SCALE,
  WEBSEA_NO_QUIRKS,
  WEBSEA_SIM_FEE_RATE,
  WEBSEA_SIM_INSTRUMENTS,
  webseaEffectiveExecutions,
  webseaLifecycleSteps,
  webseaOrderFrameText,
  webseaRandomLifecycles,
  webseaTruthOf,
  type WebseaFrameQuirks,
  type WebseaLifecycle,
  type WebseaOrderTruth,
  type WebseaSimInstrument,
  type WebseaStep,
} from './lifecycles.js';
import { webseaNonceSeconds, webseaParam, webseaSignature, webseaSubscribeSignature, type WebseaSortOrder } from './sign.js';
import { WEBSEA_REST_PATHS, WEBSEA_REST_UNKNOWN_ORDER_ERRNO, webseaSecondsToCtime } from './rest.js';

export interface WebseaSimulatorOptions {
  host?: string;
  port?: number;
  /** credentials the socket accepts; defaults 'sim-websea-token' / 'sim-websea-secret' */
  token?: string;
  secretKey?: string;
  /** how far a nonce's seconds may be from the simulator's clock; WebSea: 60 s */
  nonceWindowMs?: number;
  /**
   * A socket that neither subscribes nor sends anything (frame or RFC 6455 ping) for this long is terminated
   * without a close frame (1006). NEMA observed ~30.7 s on WebSea's public sockets. Default 30000.
   */
  idleTimeoutMs?: number;
  /** also apply the idle rule to subscribed sockets (stricter than observed: NEMA saw subscribed sockets kept) */
  idleAppliesToSubscribed?: boolean;
  /** sort order(s) of the signed strings the simulator accepts; default 'bytewise' */
  signatureSort?: WebseaSortOrder | 'either';
  /** signed strings: token+secret+nonce (documented, default) or also op=sub, channel=order */
  signatureIncludesOpChannel?: boolean;
  /** send every frame (pushes and replies) as a binary WebSocket message (UTF-8 JSON); can be changed later */
  binaryFrames?: boolean;
  /** decimals of the truth's average price (half-even); default WEBSEA_AVERAGE_PRICE_SCALE (12) */
  averagePriceScale?: number;
  /** fee of simulated executions without a scripted fee: qty × price × rate (8 decimals); default 0.002 */
  feeRate?: string;
  /** instruments for randomLifecycles() */
  instruments?: readonly WebseaSimInstrument[];
  quirks?: Partial<WebseaFrameQuirks>;
  faults?: Partial<FaultKnobs>;
  /** seed of the fault generator (reorder, duplicate); default 1 */
  seed?: number;
  /** the frame log: every frame in and out, every termination */
  log?: SimLogSink;
  /** epoch ms; defaults to Date.now (the nonce window is checked against it) */
  now?: () => number;
}

export interface WebseaPlayOptions {
  /** pause between consecutive pushes; default 0 */
  intervalMs?: number;
  /**
   * When no socket is subscribed at the moment a push is due, wait up to this long for one (reject after).
   * Default 0: the push reaches nobody, as on the real venue (no replay), and counts in `undelivered`.
   */
  waitForSubscriberMs?: number;
}

export interface WebseaPlayReport {
  /** pushes the lifecycles produced */
  planned: number;
  /** pushes sent after faults (duplicates included) */
  sent: number;
  duplicates: number;
  /** socket deliveries (sent × subscribers at the time) */
  deliveries: number;
  /** pushes that found no subscriber */
  undelivered: number;
}

export interface WebseaSimStats {
  openSockets: number;
  connectionsAccepted: number;
  subscribers: number;
  /** subscribe refusals by errno */
  rejections: Record<string, number>;
  idleTimeouts: number;
  pingsReceived: number;
  pushesSent: number;
  noncesSeen: number;
  /** sockets closed for sending non-JSON text */
  nonJsonClosures: number;
}

export type WebseaMalformedKind = 'invalid-json' | 'wrong-types' | 'unknown-status' | 'trade-without-execution';

interface SocketState {
  subscribed: boolean;
}

interface PlannedPush extends PlannedFrame {
  lc: WebseaLifecycle;
  steps: WebseaStep[];
  step: WebseaStep;
  index: number;
  entrustTime: number;
}

/**
 * A local WebSea spot venue for the private order channel: the socket at /ws/v1/spot/order (token / nonce /
 * SHA1-signature check with the documented errnos, ±60 s and single-use nonces, the ~30 s idle rule, binary or text
 * frames) and scripted order lifecycles pushed to subscribers with fault knobs. See ./README.md ("WebseaSimulator").
 */
export class WebseaSimulator extends SimServer {
  /** Fault knobs for order pushes; change them at any time. */
  readonly faults: FaultKnobs;
  /** Frame quirks for order pushes; change them at any time. */
  readonly quirks: WebseaFrameQuirks;
  /** Send frames as binary messages (UTF-8 JSON); change it at any time. */
  binaryFrames: boolean;
  /**
   * Faults of the reconciliation endpoints (rate limits, server errors, orders the venue cannot tell about).
   * Bodies in WebSea's envelope; WebSea documents its rate-limit answer as HTTP 503 "Exceeded the access frequency
   * limit" with no body, so both bodies are ours.
   */
  readonly restFaults = new RestFaults({
    rateLimited: () => JSON.stringify({ errno: 503, errmsg: 'Exceeded the access frequency limit.', result: null }),
    error: () => JSON.stringify({ errno: 20500, errmsg: 'system error', result: null }),
  });

  readonly #token: string;
  readonly #secretKey: string;
  readonly #nonceWindowMs: number;
  readonly #idleTimeoutMs: number;
  readonly #idleAppliesToSubscribed: boolean;
  readonly #sorts: readonly WebseaSortOrder[];
  readonly #signOpChannel: boolean;
  readonly #avgScale: number;
  readonly #feeRate: string;
  readonly #instruments: readonly WebseaSimInstrument[];
  readonly #now: () => number;
  readonly #rng: Rng;
  readonly #state = new WeakMap<SimSocket, SocketState>();
  /** nonce → epoch ms first seen (pruned once outside twice the window) */
  readonly #nonces = new Map<string, number>();
  readonly #forced: number[] = [];
  readonly #truth = new Map<string, { index: number; truth: WebseaOrderTruth }>();
  /** REST integer `order_id` per order (creation order) and trade `id` per execution */
  readonly #restIds = new Map<string, number>();
  readonly #tradeIds = new Map<string, number>();
  #nextRestId = 1000;
  #nextTradeId = 50_000;
  readonly #restStats = { restCalls: 0, restRefused: {} as Record<string, number> };
  #malformedSeq = 0;
  readonly #stats = {
    connectionsAccepted: 0,
    rejections: {} as Record<string, number>,
    idleTimeouts: 0,
    pingsReceived: 0,
    pushesSent: 0,
    noncesSeen: 0,
    nonJsonClosures: 0,
  };

  private constructor(options: WebseaSimulatorOptions) {
    super({
      wsPaths: [WEBSEA_SPOT_ORDER_PATH],
      ...(options.host ? { host: options.host } : {}),
      ...(options.port ? { port: options.port } : {}),
      ...(options.log ? { log: options.log } : {}),
    });
    this.#token = options.token ?? 'sim-websea-token';
    this.#secretKey = options.secretKey ?? 'sim-websea-secret';
    this.#nonceWindowMs = options.nonceWindowMs ?? WEBSEA_NONCE_WINDOW_MS;
    this.#idleTimeoutMs = options.idleTimeoutMs ?? WEBSEA_IDLE_CLOSE_MS;
    this.#idleAppliesToSubscribed = options.idleAppliesToSubscribed ?? false;
    const sort = options.signatureSort ?? 'bytewise';
    this.#sorts = sort === 'either' ? ['bytewise', 'case-insensitive'] : [sort];
    this.#signOpChannel = options.signatureIncludesOpChannel ?? false;
    this.#avgScale = options.averagePriceScale ?? WEBSEA_AVERAGE_PRICE_SCALE;
    this.#feeRate = options.feeRate ?? WEBSEA_SIM_FEE_RATE;
    this.#instruments = options.instruments ?? WEBSEA_SIM_INSTRUMENTS;
    this.#now = options.now ?? Date.now;
    this.#rng = seededRng(options.seed ?? 1);
    this.binaryFrames = options.binaryFrames ?? false;
    this.faults = { ...NO_FAULTS, ...options.faults };
    checkFaultKnobs(this.faults);
    this.quirks = { ...WEBSEA_NO_QUIRKS, ...options.quirks };
  }

  /** Starts a simulator on 127.0.0.1 and a free port. */
  static async start(options: WebseaSimulatorOptions = {}): Promise<WebseaSimulator> {
    const sim = new WebseaSimulator(options);
    await sim.listen();
    return sim;
  }

  /** The order socket: `ws://127.0.0.1:<port>/ws/v1/spot/order`. */
  get wsUrl(): string {
    return this.wsUrlFor(WEBSEA_SPOT_ORDER_PATH);
  }

  /** Sockets subscribed to the order channel. */
  get subscriberCount(): number {
    return this.#subscribers().length;
  }

  /** Resolves once at least n sockets are subscribed to the order channel. */
  waitForSubscribers(n: number, timeoutMs: number): Promise<void> {
    return this.waitUntil(() => this.subscriberCount >= n, timeoutMs, `${n} subscriber(s) on channel order`);
  }

  /** Deterministic lifecycles over this simulator's instruments (same seed → same orders, ids unique per seed). */
  randomLifecycles(count: number, seed: number): WebseaLifecycle[] {
    return webseaRandomLifecycles(count, seed, this.#instruments);
  }

  /** Per order id, the venue-side state after the last step played, with exact cumulative figures. */
  truth(): Map<string, WebseaOrderTruth> {
    return new Map([...this.#truth].map(([id, t]) => [id, { ...t.truth, executions: t.truth.executions.map((e) => ({ ...e })) }]));
  }

  /** Ids of the orders live at the venue now (NEW or PARTIALLY_FILLED). */
  liveOrderIds(): string[] {
    return [...this.#truth].filter(([, t]) => t.truth.status === 'NEW' || t.truth.status === 'PARTIALLY_FILLED').map(([id]) => id);
  }

  /** REST calls served and refusals by errno (signature, nonce, token). */
  restStats(): { restCalls: number; restRefused: Record<string, number> } {
    return { restCalls: this.#restStats.restCalls, restRefused: { ...this.#restStats.restRefused } };
  }

  stats(): WebseaSimStats {
    return {
      openSockets: this.sockets.length,
      subscribers: this.subscriberCount,
      ...this.#stats,
      rejections: { ...this.#stats.rejections },
    };
  }

  /**
   * The next `count` subscribe requests (after their signature passed) are refused with `errno` (e.g. 20530 no
   * permission, 20529 API key expired, 50009 channel unavailable), the documented errmsg attached.
   */
  rejectNextSubscribes(errno: keyof typeof WEBSEA_ERRNO, count = 1): void {
    for (let i = 0; i < count; i++) this.#forced.push(Number(errno));
  }

  /**
   * Pushes the lifecycles' frames to every subscribed socket. Lifecycles are interleaved round-robin (each order's
   * frames stay in order), then the fault knobs apply. Resolves when every frame was sent.
   */
  async play(lifecycles: readonly WebseaLifecycle[], options: WebseaPlayOptions = {}): Promise<WebseaPlayReport> {
    checkFaultKnobs(this.faults);
    const intervalMs = options.intervalMs ?? 0;
    const startSeconds = Math.floor(this.#now() / 1000);
    const perOrder = lifecycles.map((lc) => {
      const entrustTime = lc.entrustTime ?? startSeconds;
      webseaEffectiveExecutions(lc, entrustTime, this.#feeRate); // throws a RangeError for an impossible script first
      const steps = webseaLifecycleSteps(lc, entrustTime, this.#feeRate);
      return steps.map<PlannedPush>((step, index) => ({ key: lc.orderId, lc, steps, step, index, entrustTime }));
    });
    const planned = roundRobin(perOrder);
    const faulted = applyFaults(planned, this.faults, this.#rng);
    const report: WebseaPlayReport = { planned: planned.length, sent: faulted.length, duplicates: 0, deliveries: 0, undelivered: 0 };
    await sendPaced(faulted, paceFor(this, intervalMs, options.waitForSubscriberMs), ({ frame, duplicate }) => {
      if (duplicate) report.duplicates++;
      return () => {
        this.#recordTruth(frame);
        const text = webseaOrderFrameText(frame.lc, frame.step, { entrustTime: frame.entrustTime, quirks: this.quirks });
        const subscribers = this.#subscribers();
        if (subscribers.length === 0) report.undelivered++;
        for (const socket of subscribers) {
          if (this.#send(socket, text, duplicate ? 'duplicate' : 'push')) {
            report.deliveries++;
            this.#stats.pushesSent++;
          }
        }
      };
    });
    return report;
  }

  /**
   * Sends one malformed order frame to every subscriber (binary when `binaryFrames`) and returns its text.
   * Throws if nobody is subscribed.
   * - `invalid-json`: a push cut off mid-object → FRAME_NOT_JSON
   * - `wrong-types`: amount "ten", last_amount true → FRAME_INVALID
   * - `unknown-status`: status "3" (a REST status integer) → FRAME_UNKNOWN_STATUS
   * - `trade-without-execution`: event TRADE with empty last_amount → FRAME_INVALID
   */
  injectMalformed(kind: WebseaMalformedKind): string {
    const subscribers = this.#subscribers();
    if (subscribers.length === 0) throw new Error('injectMalformed: no socket is subscribed to channel order');
    const orderId = `BLMALFORMED${String(++this.#malformedSeq).padStart(8, '0')}`;
    const lc: WebseaLifecycle = { orderId, symbol: 'BTC-USDT', kind: 'cancel', side: 'BUY', price: '64000', amount: '0.1' };
    const entrustTime = Math.floor(this.#now() / 1000);
    const step: WebseaStep = { event: 'NEW', status: 'NEW', execution: null, latest: null, pushTs: entrustTime, executed: 0 };
    const good = webseaOrderFrameText(lc, step, { entrustTime, quirks: WEBSEA_NO_QUIRKS });
    let text: string;
    if (kind === 'invalid-json') text = good.slice(0, good.indexOf('"price"'));
    else if (kind === 'wrong-types') text = good.replace('"amount":"0.1"', '"amount":"ten"').replace('"last_amount":""', '"last_amount":true');
    else if (kind === 'unknown-status') text = good.replace('"status":"NEW"', '"status":"3"');
    else if (kind === 'trade-without-execution') text = good.replace('"event":"NEW"', '"event":"TRADE"').replace('"status":"NEW"', '"status":"PARTIALLY_FILLED"');
    else throw new RangeError(`injectMalformed: unknown kind ${String(kind)}`);
    for (const socket of subscribers) this.#send(socket, text, `malformed:${kind}`);
    return text;
  }

  // -------------------------------------------------------------------------------------------------------------
  // HTTP: the spot REST endpoints reconciliation reads (./README.md "Reconciliation"), signed like the socket.

  protected onHttp(req: SimHttpRequest): SimHttpResponse {
    const path = req.path;
    const known = Object.values(WEBSEA_REST_PATHS) as string[];
    if (!known.includes(path)) return { status: 404, body: JSON.stringify({ errno: 404, errmsg: 'Not Found', path }) };
    if (req.method !== 'GET') return this.#restError(20505);
    this.#restStats.restCalls++;
    const orderSn = req.query.get('order_sn') ?? req.query.get('orderSn') ?? undefined;
    const detailOf = path === WEBSEA_REST_PATHS.detail || path === WEBSEA_REST_PATHS.trades ? (orderSn ?? '') : undefined;
    const fault = this.restFaults.check(detailOf);
    if (fault) return fault;
    const refused = this.#verifyRest(req);
    if (refused !== 0) {
      this.#restStats.restRefused[refused] = (this.#restStats.restRefused[refused] ?? 0) + 1;
      return this.#restError(refused);
    }
    if (path === WEBSEA_REST_PATHS.openOrders || path === WEBSEA_REST_PATHS.history) {
      const open = path === WEBSEA_REST_PATHS.openOrders;
      const limitText = req.query.get('limit') ?? '20';
      const fromText = req.query.get('from');
      const direct = req.query.get('direct') ?? 'prev';
      if (!/^\d+$/.test(limitText) || Number(limitText) < 1 || (fromText !== null && fromText !== '' && !/^\d+$/.test(fromText) && !this.#restIds.has(fromText)) || (direct !== 'prev' && direct !== 'next')) {
        return this.#restError(20505);
      }
      const limit = Math.min(100, Number(limitText));
      const from = fromText === null || fromText === '' ? undefined : /^\d+$/.test(fromText) ? Number(fromText) : (this.#restIds.get(fromText) as number);
      const symbol = req.query.get('symbol');
      let rows = [...this.#truth.values()]
        .map((t) => t.truth)
        .filter((t) => (open ? t.status === 'NEW' || t.status === 'PARTIALLY_FILLED' : t.status === 'FILLED' || t.status === 'CANCELED' || t.status === 'PARTIALLY_CANCELED'))
        // The venue cannot tell about these (RestFaults.failDetailFor): history leaves them out too.
        .filter((t) => open || !this.restFaults.knobs.failDetailFor.has(t.orderId))
        .filter((t) => !symbol || t.symbol === symbol)
        .map((t) => ({ id: this.#restIdOf(t.orderId), t }));
      rows.sort((a, b) => (direct === 'prev' ? b.id - a.id : a.id - b.id));
      if (from !== undefined) rows = rows.filter((r) => (direct === 'prev' ? r.id < from : r.id > from));
      const result = rows.slice(0, limit).map((r) => this.#restOrder(r.t, true));
      return this.#restOk(result);
    }
    if (orderSn === undefined || orderSn === '') return this.#restError(20505);
    const t = this.#truth.get(orderSn)?.truth;
    if (!t) return this.#restError(WEBSEA_REST_UNKNOWN_ORDER_ERRNO);
    if (path === WEBSEA_REST_PATHS.detail) return this.#restOk(this.#restOrder(t, false));
    // en/spot-trade/order-trade: {order_sn, trades: [{id, ctime, price, number, total_price, fee}]}
    const trades = t.executions.map((e) => ({
      id: this.#tradeIdOf(e.id),
      ctime: webseaSecondsToCtime(e.ts),
      price: e.price,
      number: e.qty,
      total_price: mulDecimals(e.qty, e.price),
      fee: e.fee,
    }));
    return this.#restOk({ order_sn: t.orderId, trades });
  }

  #restIdOf(orderId: string): number {
    let id = this.#restIds.get(orderId);
    if (id === undefined) {
      id = this.#nextRestId++;
      this.#restIds.set(orderId, id);
    }
    return id;
  }

  #tradeIdOf(executionId: string): number {
    let id = this.#tradeIds.get(executionId);
    if (id === undefined) {
      id = this.#nextTradeId++;
      this.#tradeIds.set(executionId, id);
    }
    return id;
  }

  /** An order as the REST list / detail endpoints print it (field order of the doc examples). */
  #restOrder(t: WebseaOrderTruth, withId: boolean): Record<string, unknown> {
    const market = t.orderType === 'MARKET';
    const notional = market && t.side === 'BUY';
    const STATUS: Record<string, number> = { NEW: 1, PARTIALLY_FILLED: 2, FILLED: 3, PARTIALLY_CANCELED: 5, CANCELED: 6 };
    const filled = t.filledQuantity;
    return {
      ...(withId ? { order_id: this.#restIdOf(t.orderId) } : {}),
      order_sn: t.orderId,
      symbol: t.symbol,
      ctime: webseaSecondsToCtime(t.entrustTime ?? Math.floor(this.#now() / 1000)),
      type: market ? '1' : '2',
      side: t.side.toLowerCase(),
      price: market ? '0' : t.price,
      number: notional ? '0' : t.amount,
      total_price: notional ? t.amount : market ? '0' : mulDecimals(t.amount, t.price),
      deal_number: filled,
      deal_price: isZeroDecimal(filled) ? '0' : divDecimals(t.filledQuoteQuantity, filled, 8),
      status: STATUS[t.status] as number,
    };
  }

  #restOk(result: unknown): SimHttpResponse {
    return { status: 200, body: JSON.stringify({ errno: 0, errmsg: 'success', result }) };
  }

  #restError(errno: number): SimHttpResponse {
    const errmsg = (WEBSEA_ERRNO as Record<number, string>)[errno] ?? (errno === WEBSEA_REST_UNKNOWN_ORDER_ERRNO ? 'order queryorder invalid' : 'request failure');
    return { status: 200, body: JSON.stringify({ errno, errmsg, result: null }) };
  }

  /** Headers Token, Nonce, Signature over token, secret, nonce and every query parameter → 0 or the errno. */
  #verifyRest(req: SimHttpRequest): number {
    const header = (name: string) => {
      const v = req.headers[name.toLowerCase()];
      return Array.isArray(v) ? v[0] : v;
    };
    const token = header('token');
    const nonce = header('nonce');
    const signature = header('signature');
    if (!token || !nonce || !signature) return 20521;
    const seconds = webseaNonceSeconds(nonce);
    if (seconds === undefined) return 20521;
    const now = this.#now();
    if (Math.abs(now - seconds * 1000) > this.#nonceWindowMs) return 20520;
    if (token !== this.#token) return 20522;
    const params = [...req.query.entries()].map(([k, v]) => webseaParam(k, v));
    const given = Buffer.from(signature.toLowerCase());
    const ok = this.#sorts.some((order) => {
      const expected = Buffer.from(webseaSignature({ token, secretKey: this.#secretKey, nonce, params, order }));
      return expected.length === given.length && timingSafeEqual(expected, given);
    });
    if (!ok) return 20506;
    this.#pruneNonces(now);
    const key = `${token}\u0000${nonce}`;
    if (this.#nonces.has(key)) return 20519;
    this.#nonces.set(key, now);
    this.#stats.noncesSeen++;
    return 0;
  }

  // -------------------------------------------------------------------------------------------------------------
  // WebSocket

  protected onConnection(socket: SimSocket): void {
    this.#stats.connectionsAccepted++;
    this.#state.set(socket, { subscribed: false });
    socket.ws.on('ping', () => {
      this.#stats.pingsReceived++;
      this.log({ direction: 'in', channel: 'ws', socketId: socket.id, text: '(ping control frame)', note: 'ping' });
      this.#armIdle(socket);
      this.changed();
    });
    this.#armIdle(socket);
  }

  protected onText(socket: SimSocket, text: string): void {
    const state = this.#state.get(socket);
    if (!state) return;
    this.#armIdle(socket);
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      // NEMA: a non-JSON text frame closes the socket (1006).
      this.#stats.nonJsonClosures++;
      this.terminate(socket, 'non-JSON text frame');
      return;
    }
    const m = (msg !== null && typeof msg === 'object' && !Array.isArray(msg) ? msg : {}) as Record<string, unknown>;
    const op = typeof m.op === 'string' ? m.op : '';
    const channel = typeof m.channel === 'string' ? m.channel : '';
    if (op !== 'sub' && op !== 'unsub') {
      this.#reply(socket, 51000, op, channel);
      return;
    }
    if (channel !== 'order') {
      this.#reply(socket, 50009, op, channel);
      return;
    }
    if (op === 'unsub') {
      state.subscribed = false;
      this.#reply(socket, 0, op, channel);
      this.#armIdle(socket);
      this.changed();
      return;
    }
    const errno = this.#verify(m);
    if (errno !== 0) {
      this.#stats.rejections[errno] = (this.#stats.rejections[errno] ?? 0) + 1;
      this.#reply(socket, errno, op, channel);
      this.changed();
      return;
    }
    state.subscribed = true;
    this.#reply(socket, 0, op, channel);
    this.#armIdle(socket);
    this.changed();
  }

  /** Checks token, Nonce and Signature of a subscribe → 0 or the errno WebSea documents for the problem. */
  #verify(m: Record<string, unknown>): number {
    const token = m.token;
    const nonce = m.Nonce;
    const signature = m.Signature;
    // A missing field, or a nonce not shaped `<seconds>_<5 alphanumerics>`: "incomplete header parameters".
    if (typeof token !== 'string' || token === '' || typeof nonce !== 'string' || typeof signature !== 'string' || signature === '') return 20521;
    const seconds = webseaNonceSeconds(nonce);
    if (seconds === undefined) return 20521;
    const now = this.#now();
    if (Math.abs(now - seconds * 1000) > this.#nonceWindowMs) return 20520;
    if (token !== this.#token) return 20522;
    const given = Buffer.from(signature.toLowerCase());
    const ok = this.#sorts.some((order) => {
      const expected = Buffer.from(
        webseaSubscribeSignature({ token, secretKey: this.#secretKey, nonce, op: 'sub', channel: 'order', includeOpChannel: this.#signOpChannel, order }),
      );
      return expected.length === given.length && timingSafeEqual(expected, given);
    });
    if (!ok) return 20506;
    // Single use: a correctly signed request burns its nonce; a replay gets 20519.
    this.#pruneNonces(now);
    const key = `${token}\u0000${nonce}`;
    if (this.#nonces.has(key)) return 20519;
    this.#nonces.set(key, now);
    this.#stats.noncesSeen++;
    const forced = this.#forced.shift();
    return forced ?? 0;
  }

  #pruneNonces(now: number): void {
    for (const [k, at] of this.#nonces) {
      if (now - at <= 2 * this.#nonceWindowMs) break; // insertion order = time order
      this.#nonces.delete(k);
    }
  }

  /** Reply in the envelope WebSea uses: `{"errno":0,"errmsg":"success","op","channel"}` (ack, documented order) or
   *  `{"channel","errmsg","errno","op"}` (errors, key order of NEMA's 50009 capture). */
  #reply(socket: SimSocket, errno: number, op: string, channel: string): void {
    const errmsg = (WEBSEA_ERRNO as Record<number, string>)[errno] ?? 'request failure';
    const text =
      errno === 0 ? JSON.stringify({ errno, errmsg, op, channel }) : JSON.stringify({ channel, errmsg, errno, op });
    this.#send(socket, text, errno === 0 ? 'ack' : `error:${errno}`);
  }

  /** Sends text or binary (knob); false if the socket is closed. */
  #send(socket: SimSocket, text: string, note: string): boolean {
    if (!this.binaryFrames) return this.sendText(socket, text, note);
    if (!socket.isOpen) return false;
    socket.ws.send(Buffer.from(text, 'utf8'), { binary: true });
    this.log({ direction: 'out', channel: 'ws', socketId: socket.id, text, note: `${note} (binary)` });
    return true;
  }

  /** (Re)arms the idle rule; subscribed sockets are exempt unless idleAppliesToSubscribed. */
  #armIdle(socket: SimSocket): void {
    const state = this.#state.get(socket);
    if (state?.subscribed && !this.#idleAppliesToSubscribed) {
      socket.clearTimer('idle');
      return;
    }
    socket.setTimer('idle', this.#idleTimeoutMs, () => {
      this.#stats.idleTimeouts++;
      this.terminate(socket, `idle for ${this.#idleTimeoutMs} ms (${state?.subscribed ? 'subscribed' : 'not subscribed'}, nothing received)`);
    });
  }

  #subscribers(): SimSocket[] {
    return this.sockets.filter((s) => this.#state.get(s)?.subscribed === true);
  }

  #recordTruth(p: PlannedPush): void {
    const known = this.#truth.get(p.lc.orderId);
    if (known && known.index >= p.index) return;
    // WebSea numbers orders (`order_id`) as they are placed; history pages newest first by it.
    this.#restIdOf(p.lc.orderId);
    this.#truth.set(p.lc.orderId, {
      index: p.index,
      truth: webseaTruthOf(p.lc, p.steps, p.index, { entrustTime: p.entrustTime, quirks: this.quirks, averagePriceScale: this.#avgScale }),
    });
    this.changed();
  }
}
