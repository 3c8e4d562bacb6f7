import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ReferenceData } from '../reference.js';
import { applyFaults, checkFaultKnobs, NO_FAULTS, type FaultKnobs, type PlannedFrame } from '../sim/faults.js';
import { paceFor, roundRobin, sendPaced } from '../sim/play.js';
import { seededRng, type Rng } from '../sim/random.js';
import { RestFaults } from '../sim/rest-faults.js';
import { SimServer, type SimHttpRequest, type SimHttpResponse, type SimLogSink, type SimSocket } from '../sim/server.js';
import { XT_USER_TOPICS } from './frames.js';
import {
  NO_QUIRKS,
  XT_SIM_AVG_PRICE_SCALE,
  XT_SIM_INSTRUMENTS,
  xtEffectiveFills,
  xtLifecycleSteps,
  xtOrderFrameText,
  xtRandomLifecycles,
  xtRestOrderObject,
  xtTruthOf,
  type XtFrameQuirks,
  type XtLifecycle,
  type XtOrderTruth,
  type XtSimInstrument,
  type XtStep,
} from './lifecycles.js';
import { XT_OPEN_ORDERS_PATH, XT_ORDER_DETAIL_PATH, XT_ORDER_HISTORY_PATH, XT_ORDER_LIST_PATH } from './rest.js';
import { XT_LISTEN_KEY_PATH, xtStringToSign } from './sign.js';

/** Path of the private user socket (XTDOC: wss://fstream.xt.com/ws/user). */
export const XT_USER_WS_PATH = '/ws/user';

export interface XtSimulatorOptions {
  host?: string;
  port?: number;
  /** credentials the REST endpoint accepts; defaults 'sim-api-key' / 'sim-api-secret' */
  apiKey?: string;
  apiSecret?: string;
  /** listen key lifetime; XT: 8 h */
  listenKeyTtlMs?: number;
  /** a socket that sends no text `ping` for this long is terminated without a close frame; XT: 30 s */
  pingTimeoutMs?: number;
  /** spelling of the invalid-key text: XTDOC `invalid_listenkey`, seen in the wild (default) `invalid_listen_key` */
  invalidKeyText?: 'invalid_listen_key' | 'invalid_listenkey';
  /** how a SUBSCRIBE with an unknown/expired key is answered: text `order@invalid_listen_key` (default) or `{"code":2}` */
  invalidKeyReply?: 'text' | 'code2';
  /** add `"sessionId":"rs-<n>"` to acks, as the live venue does (NEMA); default false (doc form) */
  ackSessionId?: boolean;
  /** decimals of avgPrice (half-even); default 8 */
  avgPriceScale?: number;
  /** instruments (contract sizes) for marginFrozen, referenceData() and randomLifecycles() */
  instruments?: readonly XtSimInstrument[];
  quirks?: Partial<XtFrameQuirks>;
  faults?: Partial<FaultKnobs>;
  /** seed of the fault generator (reorder, duplicate); default 1 */
  seed?: number;
  /** the frame log: every frame in and out, every HTTP exchange, every termination */
  log?: SimLogSink;
}

export interface XtPlayOptions {
  /** pause between consecutive pushes; default 0 */
  intervalMs?: number;
  /**
   * When no socket is subscribed at the moment a push is due, wait up to this long for one (reject after).
   * Default 0: the push reaches nobody, as on the real venue (no replay), and counts in `undelivered`.
   */
  waitForSubscriberMs?: number;
}

export interface XtPlayReport {
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

export interface XtSimStats {
  openSockets: number;
  connectionsAccepted: number;
  subscribers: number;
  listenKeysIssued: number;
  listenKeysActive: number;
  /** REST rejections by XT error code (AUTH_103, AUTH_105, …) */
  restRejections: Record<string, number>;
  heartbeatTimeouts: number;
  pingsReceived: number;
  pushesSent: number;
  invalidKeyNotices: number;
}

export type XtMalformedKind = 'invalid-json' | 'wrong-types' | 'unknown-state';

interface ListenKeyState {
  issuedAt: number;
  expired: boolean;
  timer: NodeJS.Timeout;
}

interface SocketState {
  sessionId: string;
  /** topic → listen key */
  subs: Map<string, string>;
}

interface PlannedPush extends PlannedFrame {
  lc: XtLifecycle;
  step: XtStep;
  index: number;
  createdTime: number;
}

const HMAC_ALGORITHMS: Readonly<Record<string, string>> = {
  HmacMD5: 'md5',
  HmacSHA1: 'sha1',
  HmacSHA224: 'sha224',
  HmacSHA256: 'sha256',
  HmacSHA384: 'sha384',
  HmacSHA512: 'sha512',
};

/** The venue-side record of one order: what its REST answers say. */
interface OrderRecord {
  lc: XtLifecycle;
  step: XtStep;
  index: number;
  /** epoch ms */
  createdTime: number;
  /** epoch ms of the last change */
  updatedTime: number;
}

const LIVE: ReadonlySet<string> = new Set(['NEW', 'PARTIALLY_FILLED']);
/** order/list `state` filter values (XTREPO getOrders.md): one state, UNFINISHED (NEW + PARTIALLY_FILLED), HISTORY (terminal). */
const LIST_STATES: ReadonlySet<string> = new Set([
  'NEW', 'PARTIALLY_FILLED', 'PARTIALLY_CANCELED', 'FILLED', 'CANCELED', 'REJECTED', 'EXPIRED', 'UNFINISHED', 'HISTORY',
]);
/** Largest `size` / `limit` the simulator serves (XT's maximum is undocumented); larger asks get this many, `ps` says so. */
export const XT_SIM_MAX_PAGE_SIZE = 100;

/** XT's futures envelope around an application error (CCXT / NEMA shape). */
function xtFailure(code: string, msg: string): string {
  return JSON.stringify({ returnCode: 1, msgInfo: 'failure', error: { code, msg }, result: null });
}

function xtSuccess(result: unknown): string {
  return JSON.stringify({ returnCode: 0, msgInfo: 'success', error: null, result });
}

/** XT REST auth errors (codes and texts from XT's error table, XTREPO `_documentation/errorCode.md`). */
const AUTH_ERRORS = {
  AUTH_001: 'missing request header validate-appkey',
  AUTH_002: 'missing request header validate-timestamp',
  AUTH_004: 'bad request header validate-recvwindow',
  AUTH_006: 'bad request header validate-algorithms',
  AUTH_007: 'missing request header validate-signature',
  AUTH_101: 'ApiKey does not exist',
  AUTH_103: 'Signature error',
  AUTH_105: 'outdated message',
} as const;
type AuthCode = keyof typeof AUTH_ERRORS;

/**
 * A local XT USDT-M futures venue for the user order stream: REST listen keys (signature and timestamp verified),
 * the user socket at /ws/user (subscribe, ping/pong, 30 s ping rule, invalid-key texts), and scripted order
 * lifecycles pushed to subscribers with fault knobs. See ./README.md ("Simulator").
 */
export class XtSimulator extends SimServer {
  /** Fault knobs for order pushes; change them at any time. */
  readonly faults: FaultKnobs;
  /** Frame quirks for order pushes; change them at any time. */
  readonly quirks: XtFrameQuirks;
  /**
   * Faults of the reconciliation endpoints (order/list, order/detail, order/list-history, order/list-open-order):
   * HTTP 429 / 500 with XT's envelope (code "429" / "500"), orders whose detail lookup always fails.
   */
  readonly restFaults = new RestFaults({
    rateLimited: () => xtFailure('429', 'The request is too frequent, please control the request rate according to the speed limit requirement'),
    error: () => xtFailure('500', 'Service exception'),
  });

  readonly #apiKey: string;
  readonly #apiSecret: string;
  readonly #ttlMs: number;
  readonly #pingTimeoutMs: number;
  readonly #invalidKeyText: string;
  readonly #invalidKeyReply: 'text' | 'code2';
  readonly #ackSessionId: boolean;
  readonly #avgScale: number;
  readonly #instruments: readonly XtSimInstrument[];
  readonly #rng: Rng;
  readonly #keys = new Map<string, ListenKeyState>();
  readonly #state = new WeakMap<SimSocket, SocketState>();
  readonly #truth = new Map<string, { index: number; truth: XtOrderTruth }>();
  readonly #orders = new Map<string, OrderRecord>();
  #sessionSeq = 40_000;
  #malformedSeq = 0;
  readonly #stats = {
    connectionsAccepted: 0,
    listenKeysIssued: 0,
    restRejections: {} as Record<string, number>,
    heartbeatTimeouts: 0,
    pingsReceived: 0,
    pushesSent: 0,
    invalidKeyNotices: 0,
  };

  private constructor(options: XtSimulatorOptions) {
    super({ wsPaths: [XT_USER_WS_PATH], ...(options.host ? { host: options.host } : {}), ...(options.port ? { port: options.port } : {}), ...(options.log ? { log: options.log } : {}) });
    this.#apiKey = options.apiKey ?? 'sim-api-key';
    this.#apiSecret = options.apiSecret ?? 'sim-api-secret';
    this.#ttlMs = options.listenKeyTtlMs ?? 8 * 60 * 60 * 1000;
    this.#pingTimeoutMs = options.pingTimeoutMs ?? 30_000;
    this.#invalidKeyText = options.invalidKeyText ?? 'invalid_listen_key';
    this.#invalidKeyReply = options.invalidKeyReply ?? 'text';
    this.#ackSessionId = options.ackSessionId ?? false;
    this.#avgScale = options.avgPriceScale ?? XT_SIM_AVG_PRICE_SCALE;
    this.#instruments = options.instruments ?? XT_SIM_INSTRUMENTS;
    this.#rng = seededRng(options.seed ?? 1);
    this.faults = { ...NO_FAULTS, ...options.faults };
    checkFaultKnobs(this.faults);
    this.quirks = { ...NO_QUIRKS, ...options.quirks };
  }

  /** Starts a simulator on 127.0.0.1 and a free port. */
  static async start(options: XtSimulatorOptions = {}): Promise<XtSimulator> {
    const sim = new XtSimulator(options);
    await sim.listen();
    return sim;
  }

  /** REST base URL (the listen-key endpoint is `${restUrl}/future/user/v1/user/listen-key`). */
  get restUrl(): string {
    return this.httpUrl;
  }

  /** The user socket: `ws://127.0.0.1:<port>/ws/user`. */
  get wsUrl(): string {
    return this.wsUrlFor(XT_USER_WS_PATH);
  }

  /** Sockets subscribed to `order@<valid key>`. */
  get subscriberCount(): number {
    return this.#subscribers().length;
  }

  /** Resolves once at least n sockets are subscribed to the order topic with a valid key. */
  waitForSubscribers(n: number, timeoutMs: number): Promise<void> {
    return this.waitUntil(() => this.subscriberCount >= n, timeoutMs, `${n} subscriber(s) on order@<listenKey>`);
  }

  /** Instrument reference data matching this simulator's contract sizes, in the shape the normalizer takes. */
  referenceData(): ReferenceData {
    return { xt: Object.fromEntries(this.#instruments.map((i) => [i.symbol, { contractSize: i.contractSize }])) };
  }

  /** Deterministic lifecycles over this simulator's instruments (same seed → same orders). */
  randomLifecycles(count: number, seed: number): XtLifecycle[] {
    return xtRandomLifecycles(count, seed, this.#instruments);
  }

  /** Per orderId, the final venue-side state of every order played so far (faults never change it). */
  truth(): Map<string, XtOrderTruth> {
    return new Map([...this.#truth].map(([id, t]) => [id, { ...t.truth }]));
  }

  /** Ids of the orders live at the venue now (last state NEW or PARTIALLY_FILLED), whoever is connected. */
  liveOrderIds(): string[] {
    return [...this.#orders.values()].filter((o) => LIVE.has(o.step.state)).map((o) => o.lc.orderId);
  }

  stats(): XtSimStats {
    return {
      openSockets: this.sockets.length,
      subscribers: this.subscriberCount,
      listenKeysActive: [...this.#keys.values()].filter((k) => !k.expired).length,
      ...this.#stats,
      restRejections: { ...this.#stats.restRejections },
    };
  }

  /**
   * Pushes the lifecycles' frames to every subscribed socket. Lifecycles are interleaved round-robin (each order's
   * frames stay in order), then the fault knobs apply. Resolves when every frame was sent.
   */
  async play(lifecycles: readonly XtLifecycle[], options: XtPlayOptions = {}): Promise<XtPlayReport> {
    checkFaultKnobs(this.faults);
    const intervalMs = options.intervalMs ?? 0;
    const createdBase = Date.now();
    const perOrder = lifecycles.map((lc) => {
      xtEffectiveFills(lc); // throws a RangeError for an impossible script before anything is sent
      const createdTime = this.quirks.secondsCreatedTime
        ? Math.floor((lc.createdTime ?? createdBase) / 1000) * 1000
        : (lc.createdTime ?? createdBase);
      return xtLifecycleSteps(lc, this.#avgScale).map<PlannedPush>((step, index) => ({ key: lc.orderId, lc, step, index, createdTime }));
    });
    const planned = roundRobin(perOrder);
    const faulted = applyFaults(planned, this.faults, this.#rng);
    const report: XtPlayReport = { planned: planned.length, sent: faulted.length, duplicates: 0, deliveries: 0, undelivered: 0 };
    await sendPaced(faulted, paceFor(this, intervalMs, options.waitForSubscriberMs), ({ frame, duplicate }) => {
      if (duplicate) report.duplicates++;
      return () => {
        this.#recordTruth(frame);
        const subscribers = this.#subscribers();
        if (subscribers.length === 0) report.undelivered++;
        for (const { socket, key } of subscribers) {
          const text = xtOrderFrameText(frame.lc, frame.step, {
            event: `order@${key}`,
            createdTime: frame.createdTime,
            ...(this.#contractSize(frame.lc.symbol) ? { contractSize: this.#contractSize(frame.lc.symbol) as string } : {}),
            quirks: this.quirks,
          });
          if (this.sendText(socket, text, duplicate ? 'duplicate' : 'push')) {
            report.deliveries++;
            this.#stats.pushesSent++;
          }
        }
      };
    });
    return report;
  }

  /**
   * Places orders that stay open: records (and pushes to subscribers) only the first step (NEW) of each lifecycle.
   * A later play() of the same lifecycle carries on from there. Returns the ids placed.
   */
  placeOrders(lifecycles: readonly XtLifecycle[]): string[] {
    const createdTime = Date.now();
    for (const lc of lifecycles) {
      const step = xtLifecycleSteps(lc, this.#avgScale)[0] as XtStep;
      const p: PlannedPush = { key: lc.orderId, lc, step, index: 0, createdTime: lc.createdTime ?? createdTime };
      this.#recordTruth(p);
      for (const { socket, key } of this.#subscribers()) {
        const contractSize = this.#contractSize(lc.symbol);
        const text = xtOrderFrameText(lc, step, { event: `order@${key}`, createdTime: p.createdTime, ...(contractSize ? { contractSize } : {}), quirks: this.quirks });
        if (this.sendText(socket, text, 'push')) this.#stats.pushesSent++;
      }
    }
    return lifecycles.map((lc) => lc.orderId);
  }

  /**
   * Sends one malformed order frame to every subscriber and returns its exact text (the same on every socket:
   * these frames carry the bare `"event":"order"`). Throws if nobody is subscribed.
   * - `invalid-json`: a push cut off mid-object → FRAME_NOT_JSON
   * - `wrong-types`: origQty "ten", executedQty true → FRAME_INVALID
   * - `unknown-state`: state "UNFINISHED" (a REST-only plan state) → FRAME_UNKNOWN_STATUS
   */
  injectMalformed(kind: XtMalformedKind): string {
    const subscribers = this.#subscribers();
    if (subscribers.length === 0) throw new Error('injectMalformed: no socket is subscribed to order@<listenKey>');
    const orderId = `99${String(++this.#malformedSeq).padStart(16, '0')}`;
    const lc: XtLifecycle = { orderId, symbol: 'btc_usdt', kind: 'cancel', side: 'BUY', price: '64000', quantity: '10' };
    const good = xtOrderFrameText(lc, { state: 'NEW', executedQty: '0', avgPrice: '0' }, { event: 'order', createdTime: Date.now() });
    let text: string;
    if (kind === 'invalid-json') text = good.slice(0, good.indexOf('"price"'));
    else if (kind === 'wrong-types') text = good.replace('"origQty":"10"', '"origQty":"ten"').replace('"executedQty":"0"', '"executedQty":true');
    else if (kind === 'unknown-state') text = good.replace('"state":"NEW"', '"state":"UNFINISHED"');
    else throw new RangeError(`injectMalformed: unknown kind ${String(kind)}`);
    for (const { socket } of subscribers) this.sendText(socket, text, `malformed:${kind}`);
    return text;
  }

  /**
   * Expires every listen key now. Each socket subscribed with one gets `<topic>@invalid_listen_key` per topic and
   * stops receiving pushes (the socket stays open: the client must reconnect with a new key). Returns the count.
   */
  expireListenKeys(): number {
    let n = 0;
    for (const [key, state] of this.#keys) {
      if (!state.expired) {
        this.#expire(key);
        n++;
      }
    }
    return n;
  }

  override async stop(): Promise<void> {
    for (const k of this.#keys.values()) clearTimeout(k.timer);
    await super.stop();
  }

  // -------------------------------------------------------------------------------------------------------------
  // REST

  protected onHttp(req: SimHttpRequest): SimHttpResponse {
    const reconcile = req.path === XT_ORDER_LIST_PATH || req.path === XT_ORDER_DETAIL_PATH || req.path === XT_ORDER_HISTORY_PATH || req.path === XT_OPEN_ORDERS_PATH;
    if (req.path !== XT_LISTEN_KEY_PATH && !reconcile) {
      return { status: 404, body: JSON.stringify({ timestamp: new Date().toISOString(), status: 404, error: 'Not Found', path: req.path }) };
    }
    if (req.method !== 'GET') {
      return { status: 405, body: JSON.stringify({ timestamp: new Date().toISOString(), status: 405, error: 'Method Not Allowed', path: req.path }) };
    }
    if (reconcile) {
      const faulted = this.restFaults.check(req.path === XT_ORDER_DETAIL_PATH ? (req.query.get('orderId') ?? undefined) : undefined);
      if (faulted) {
        this.changed();
        return faulted;
      }
    }
    const refused = this.#verify(req);
    if (refused) {
      this.#stats.restRejections[refused] = (this.#stats.restRejections[refused] ?? 0) + 1;
      this.changed();
      return { status: 401, body: xtFailure(refused, AUTH_ERRORS[refused]) };
    }
    if (reconcile) return this.#reconcileEndpoint(req);
    const key = `${randomBytes(16).toString('hex').toUpperCase()}${Date.now()}`;
    const timer = setTimeout(() => this.#expire(key), this.#ttlMs);
    timer.unref();
    this.#keys.set(key, { issuedAt: Date.now(), expired: false, timer });
    this.#stats.listenKeysIssued++;
    this.changed();
    return { status: 200, body: JSON.stringify({ returnCode: 0, msgInfo: 'success', error: null, result: key }) };
  }

  /** order/list, order/detail, order/list-history, order/list-open-order: the venue's book as it stands now. */
  #reconcileEndpoint(req: SimHttpRequest): SimHttpResponse {
    const q = req.query;
    const symbol = q.get('symbol') ?? undefined;
    const bySymbol = (o: OrderRecord) => symbol === undefined || symbol === '' || o.lc.symbol === symbol;
    const newestFirst = (a: OrderRecord, b: OrderRecord) => (BigInt(a.lc.orderId) < BigInt(b.lc.orderId) ? 1 : BigInt(a.lc.orderId) > BigInt(b.lc.orderId) ? -1 : 0);
    const int = (name: string, dflt: number, min: number): number | undefined => {
      const v = q.get(name);
      if (v === null || v === '') return dflt;
      return /^\d+$/.test(v) && Number(v) >= min ? Number(v) : undefined;
    };
    const invalid = (name: string) => ({ status: 200, body: xtFailure('invalid_params', `invalid parameter ${name}`) });
    let answer: SimHttpResponse;
    switch (req.path) {
      case XT_ORDER_DETAIL_PATH: {
        const id = q.get('orderId');
        if (!id || !/^\d+$/.test(id)) return invalid('orderId');
        const o = this.#orders.get(id);
        answer = { status: 200, body: xtSuccess(o ? this.#restOrder(o) : null) };
        break;
      }
      case XT_ORDER_LIST_PATH: {
        // XTREPO getOrders.md: state defaults to NEW; page from 1, size default 10.
        const state = q.get('state') || 'NEW';
        const page = int('page', 1, 1);
        const size = int('size', 10, 1);
        if (!LIST_STATES.has(state)) return invalid('state');
        if (page === undefined) return invalid('page');
        if (size === undefined) return invalid('size');
        const ps = Math.min(size, XT_SIM_MAX_PAGE_SIZE);
        const match = (o: OrderRecord) =>
          state === 'UNFINISHED' ? LIVE.has(o.step.state) : state === 'HISTORY' ? !LIVE.has(o.step.state) : o.step.state === state;
        const start = q.get('startTime');
        const end = q.get('endTime');
        const all = [...this.#orders.values()]
          .filter((o) => bySymbol(o) && match(o) && (!start || o.createdTime >= Number(start)) && (!end || o.createdTime <= Number(end)))
          .sort(newestFirst);
        const items = all.slice((page - 1) * ps, page * ps).map((o) => this.#restOrder(o));
        answer = { status: 200, body: xtSuccess({ page, ps, total: all.length, items }) };
        break;
      }
      case XT_ORDER_HISTORY_PATH: {
        // XTREPO getHistory.md: finished orders, newest first; `id` + direction NEXT (older) / PREV (newer), limit default 10.
        const limit = int('limit', 10, 1);
        if (limit === undefined) return invalid('limit');
        const direction = (q.get('direction') || 'NEXT').toUpperCase();
        if (direction !== 'NEXT' && direction !== 'PREV') return invalid('direction');
        const id = q.get('id');
        if (id && !/^\d+$/.test(id)) return invalid('id');
        const start = q.get('startTime');
        const end = q.get('endTime');
        if ((start && !/^\d+$/.test(start)) || (end && !/^\d+$/.test(end))) return invalid(start && !/^\d+$/.test(start) ? 'startTime' : 'endTime');
        const n = Math.min(limit, XT_SIM_MAX_PAGE_SIZE);
        const all = [...this.#orders.values()]
          .filter((o) => !LIVE.has(o.step.state) && bySymbol(o) && !this.restFaults.knobs.failDetailFor.has(o.lc.orderId))
          .filter((o) => (!start || o.createdTime >= Number(start)) && (!end || o.createdTime <= Number(end)))
          .sort(newestFirst);
        let from = 0;
        let to = all.length;
        if (id) {
          const at = BigInt(id);
          if (direction === 'NEXT') from = all.findIndex((o) => BigInt(o.lc.orderId) < at);
          else to = all.findIndex((o) => BigInt(o.lc.orderId) <= at);
          if (from < 0) from = all.length;
          if (to < 0) to = all.length;
        }
        const window = direction === 'PREV' && id ? all.slice(Math.max(0, to - n), to) : all.slice(from, from + n);
        const first = window.length > 0 ? all.indexOf(window[0] as OrderRecord) : from;
        const last = first + window.length;
        answer = { status: 200, body: xtSuccess({ hasPrev: first > 0, hasNext: last < all.length, items: window.map((o) => this.#restOrder(o)) }) };
        break;
      }
      default: {
        // list-open-order (getOpenOrders.md): every live order, no paging, `result` an array (JKXT).
        const items = [...this.#orders.values()].filter((o) => LIVE.has(o.step.state) && bySymbol(o)).sort(newestFirst).map((o) => this.#restOrder(o));
        answer = { status: 200, body: xtSuccess(items) };
      }
    }
    this.changed();
    return answer;
  }

  #restOrder(o: OrderRecord): Record<string, unknown> {
    const contractSize = this.#contractSize(o.lc.symbol);
    return xtRestOrderObject(o.lc, o.step, { createdTime: o.createdTime, updatedTime: o.updatedTime, ...(contractSize ? { contractSize } : {}) });
  }

  /** Checks the validate-* headers (also accepted with the `xt-` prefix) → an XT AUTH code, or undefined if fine. */
  #verify(req: SimHttpRequest): AuthCode | undefined {
    const header = (name: string): string | undefined => {
      const v = req.headers[`validate-${name}`] ?? req.headers[`xt-validate-${name}`];
      return Array.isArray(v) ? v[0] : v;
    };
    const appKey = header('appkey');
    const timestamp = header('timestamp');
    const signature = header('signature');
    const recvHeader = header('recvwindow');
    const algorithm = header('algorithms') ?? 'HmacSHA256';
    if (!appKey) return 'AUTH_001';
    if (!timestamp || !/^\d{1,16}$/.test(timestamp)) return 'AUTH_002';
    let recvWindow = 5_000;
    if (recvHeader !== undefined) {
      if (!/^\d+$/.test(recvHeader) || Number(recvHeader) <= 0 || Number(recvHeader) > 60_000) return 'AUTH_004';
      recvWindow = Number(recvHeader);
    }
    const hash = HMAC_ALGORITHMS[algorithm];
    if (!hash) return 'AUTH_006';
    if (!signature) return 'AUTH_007';
    if (appKey !== this.#apiKey) return 'AUTH_101';
    const skew = Date.now() - Number(timestamp);
    if (skew > recvWindow || skew < -1_000) return 'AUTH_105';
    const query = [...req.query.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${v}`).join('&');
    const expected = createHmac(hash, this.#apiSecret)
      .update(xtStringToSign({ appKey, timestamp, path: req.path, ...(query ? { query } : {}), ...(req.body ? { body: req.body } : {}) }))
      .digest('hex');
    const a = Buffer.from(expected);
    const b = Buffer.from(signature.toLowerCase());
    if (a.length !== b.length || !timingSafeEqual(a, b)) return 'AUTH_103';
    return undefined;
  }

  // -------------------------------------------------------------------------------------------------------------
  // WebSocket

  protected onConnection(socket: SimSocket): void {
    this.#stats.connectionsAccepted++;
    this.#state.set(socket, { sessionId: `rs-${++this.#sessionSeq}`, subs: new Map() });
    this.#armPingWatchdog(socket);
  }

  protected onText(socket: SimSocket, text: string): void {
    const state = this.#state.get(socket);
    if (!state) return;
    if (text === 'ping') {
      this.#stats.pingsReceived++;
      this.#armPingWatchdog(socket);
      this.sendText(socket, 'pong', 'pong');
      return;
    }
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      this.sendText(socket, JSON.stringify({ code: 1, msg: 'Invalid parameter', sessionId: state.sessionId }), 'error');
      return;
    }
    const m = msg as { method?: unknown; params?: unknown; id?: unknown } | null;
    const id = m && (typeof m.id === 'string' || typeof m.id === 'number') ? m.id : undefined;
    const method = m && typeof m.method === 'string' ? m.method.toUpperCase() : undefined;
    const params = m && Array.isArray(m.params) && m.params.every((p) => typeof p === 'string') ? (m.params as string[]) : undefined;
    if (!m || typeof m !== 'object' || (method !== 'SUBSCRIBE' && method !== 'UNSUBSCRIBE') || !params) {
      this.sendText(socket, JSON.stringify({ ...(id !== undefined ? { id } : {}), code: 1, msg: 'Invalid parameter', sessionId: state.sessionId }), 'error');
      return;
    }
    if (method === 'UNSUBSCRIBE') {
      for (const p of params) state.subs.delete(p.split('@')[0] as string);
      this.sendText(socket, JSON.stringify({ id, code: 0, msg: 'SUCCESS', method: 'unsubscribe' }), 'ack');
      this.changed();
      return;
    }
    const invalidTopics: string[] = [];
    for (const p of params) {
      const at = p.indexOf('@');
      const topic = at < 0 ? p : p.slice(0, at);
      if (!(XT_USER_TOPICS as readonly string[]).includes(topic)) continue; // public topics: acked, nothing sent (NEMA)
      const key = p.slice(at + 1);
      const ks = at < 0 ? undefined : this.#keys.get(key);
      if (!ks || ks.expired) invalidTopics.push(topic);
      else state.subs.set(topic, key);
    }
    if (invalidTopics.length > 0) {
      this.#stats.invalidKeyNotices++;
      if (this.#invalidKeyReply === 'code2') {
        this.sendText(socket, JSON.stringify({ id, code: 2, msg: 'listenKey invalid' }), 'listen-key-invalid');
      } else {
        for (const t of invalidTopics) this.sendText(socket, `${t}@${this.#invalidKeyText}`, 'listen-key-invalid');
      }
    } else {
      const ack = this.#ackSessionId ? { id, code: 0, msg: 'success', sessionId: state.sessionId } : { id, code: 0, msg: 'success' };
      this.sendText(socket, JSON.stringify(ack), 'ack');
    }
    this.changed();
  }

  #armPingWatchdog(socket: SimSocket): void {
    socket.setTimer('ping', this.#pingTimeoutMs, () => {
      this.#stats.heartbeatTimeouts++;
      this.terminate(socket, `no ping for ${this.#pingTimeoutMs} ms`);
    });
  }

  #expire(key: string): void {
    const ks = this.#keys.get(key);
    if (!ks || ks.expired) return;
    ks.expired = true;
    clearTimeout(ks.timer);
    for (const socket of this.sockets) {
      const st = this.#state.get(socket);
      if (!st) continue;
      for (const [topic, k] of [...st.subs]) {
        if (k !== key) continue;
        st.subs.delete(topic);
        this.#stats.invalidKeyNotices++;
        this.sendText(socket, `${topic}@${this.#invalidKeyText}`, 'listen-key-expired');
      }
    }
    this.changed();
  }

  #subscribers(): { socket: SimSocket; key: string }[] {
    const out: { socket: SimSocket; key: string }[] = [];
    for (const socket of this.sockets) {
      const key = this.#state.get(socket)?.subs.get('order');
      if (key !== undefined && this.#keys.get(key)?.expired === false) out.push({ socket, key });
    }
    return out;
  }

  #contractSize(symbol: string): string | undefined {
    return this.#instruments.find((i) => i.symbol === symbol)?.contractSize;
  }

  #recordTruth(p: PlannedPush): void {
    const known = this.#truth.get(p.lc.orderId);
    if (known && known.index >= p.index) return;
    this.#truth.set(p.lc.orderId, { index: p.index, truth: xtTruthOf(p.lc, p.step, p.createdTime) });
    const updatedTime = Math.max(Date.now(), this.#orders.get(p.lc.orderId)?.updatedTime ?? 0, p.createdTime);
    this.#orders.set(p.lc.orderId, { lc: p.lc, step: p.step, index: p.index, createdTime: p.createdTime, updatedTime });
    this.changed();
  }
}
