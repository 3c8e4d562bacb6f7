import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { sleep } from '@orderstream/kit';
import type { ReferenceData } from '../reference.js';
import { applyFaults, checkFaultKnobs, NO_FAULTS, type FaultKnobs, type PlannedFrame } from '../sim/faults.js';
import { seededRng, type Rng } from '../sim/random.js';
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
  xtTruthOf,
  type XtFrameQuirks,
  type XtLifecycle,
  type XtOrderTruth,
  type XtSimInstrument,
  type XtStep,
} from './lifecycles.js';
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
    const planned: PlannedPush[] = [];
    for (let round = 0; perOrder.some((steps) => round < steps.length); round++) {
      for (const steps of perOrder) if (round < steps.length) planned.push(steps[round] as PlannedPush);
    }
    const faulted = applyFaults(planned, this.faults, this.#rng);
    const report: XtPlayReport = { planned: planned.length, sent: faulted.length, duplicates: 0, deliveries: 0, undelivered: 0 };
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < faulted.length; i++) {
      const { frame, duplicate } = faulted[i] as (typeof faulted)[number];
      if (i > 0 && intervalMs > 0) await sleep(intervalMs);
      if (duplicate) report.duplicates++;
      const deliver = () => {
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
      if ((options.waitForSubscriberMs ?? 0) > 0 && this.subscriberCount === 0) {
        await this.waitForSubscribers(1, options.waitForSubscriberMs as number);
      }
      const delay = this.faults.delayMs;
      if (delay > 0) inFlight.push(new Promise<void>((resolve) => setTimeout(() => (deliver(), resolve()), delay)));
      else deliver();
    }
    await Promise.all(inFlight);
    return report;
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
    if (req.path !== XT_LISTEN_KEY_PATH) {
      return { status: 404, body: JSON.stringify({ timestamp: new Date().toISOString(), status: 404, error: 'Not Found', path: req.path }) };
    }
    if (req.method !== 'GET') {
      return { status: 405, body: JSON.stringify({ timestamp: new Date().toISOString(), status: 405, error: 'Method Not Allowed', path: req.path }) };
    }
    const refused = this.#verify(req);
    if (refused) {
      this.#stats.restRejections[refused] = (this.#stats.restRejections[refused] ?? 0) + 1;
      this.changed();
      return {
        status: 401,
        body: JSON.stringify({ returnCode: 1, msgInfo: 'failure', error: { code: refused, msg: AUTH_ERRORS[refused] }, result: null }),
      };
    }
    const key = `${randomBytes(16).toString('hex').toUpperCase()}${Date.now()}`;
    const timer = setTimeout(() => this.#expire(key), this.#ttlMs);
    timer.unref();
    this.#keys.set(key, { issuedAt: Date.now(), expired: false, timer });
    this.#stats.listenKeysIssued++;
    this.changed();
    return { status: 200, body: JSON.stringify({ returnCode: 0, msgInfo: 'success', error: null, result: key }) };
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
  }
}
