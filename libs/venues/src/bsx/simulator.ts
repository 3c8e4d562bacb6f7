import { randomUUID, timingSafeEqual } from 'node:crypto';
import { nowEpochNanos } from '@orderstream/kit';
import type { ReferenceData } from '../reference.js';
import { applyFaults, checkFaultKnobs, NO_FAULTS, type FaultKnobs, type PlannedFrame } from '../sim/faults.js';
import { paceFor, roundRobin, sendPaced } from '../sim/play.js';
import { seededRng, type Rng } from '../sim/random.js';
import { RestFaults } from '../sim/rest-faults.js';
import { SimServer, type SimHttpRequest, type SimHttpResponse, type SimLogSink, type SimSocket } from '../sim/server.js';
import {
  BSX_SIM_FEES,
  BSX_SIM_INSTRUMENTS,
  BSX_SIM_SENDER,
  BsxVenueOrder,
  bsxEffectiveFills,
  bsxFinishSteps,
  bsxLifecycleSteps,
  bsxOrdersFrameText,
  bsxRandomLifecycles,
  bsxRestOrdersText,
  isLiveBsxStatus,
  type BsxFeeModel,
  type BsxFinishOutcome,
  type BsxLifecycle,
  type BsxOrderTruth,
  type BsxSimInstrument,
  type BsxSimOrder,
  type BsxSimTrade,
  type BsxStep,
} from './lifecycles.js';
import { bsxAuthSignature } from './sign.js';
import { BSX_REST_CODES, BSX_REST_PATHS } from './rest.js';

/** Path of the socket (BSXDOC wscat examples: wss://ws.testnet.bsx.exchange/ws). */
export const BSX_WS_PATH = '/ws';

/** Public channels the simulator acknowledges (and feeds nothing): BSXDOC ws-connection (book), ws-trades. */
const PUBLIC_CHANNELS: ReadonlySet<string> = new Set(['book', 'trades']);

/** BSX's error texts (BSXDOC ws-auth, official orders doc, ws-trades); `ours:` marks texts BSX does not document. */
export const BSX_SIM_ERRORS = Object.freeze({
  keyNotFound: 'api key not found',
  /** followed by ` (<drift>s)`; "closed" sic (BSXDOC ws-auth) */
  timestampDrift: 'timestamp should be closed to current timestamp',
  notAuthenticated: 'not authenticated',
  unsupported: 'given channel/product is unsupported',
  /** ours: BSX documents no text for a wrong signature */
  badSignature: 'invalid signature',
  /** ours: an auth frame without key/timestamp/signature strings */
  badAuthRequest: 'invalid auth request',
  /** ours: a frame that is not JSON or has no known op */
  badRequest: 'invalid request',
  shutdown: 'bye - service is shutting down',
});

/**
 * REST error envelopes (BSXSDK py: `{"code","message","detail"}`; code 16 = Unauthenticated). Codes follow the gRPC
 * table (UNCONFIRMED beyond 16); texts other than "Unauthenticated" are ours.
 */
export const BSX_SIM_REST_ERRORS = Object.freeze({
  unauthenticated: { status: 401, code: BSX_REST_CODES.unauthenticated, message: 'Unauthenticated' },
  notFound: { status: 404, code: BSX_REST_CODES.notFound, message: 'order not found' },
  rateLimited: { status: 429, code: BSX_REST_CODES.rateLimited, message: 'too many requests' },
  internal: { status: 500, code: BSX_REST_CODES.internal, message: 'internal error' },
  badRequest: { status: 400, code: 3, message: 'invalid argument' },
});

/** The body of a BSX REST error: `{"code":<int>,"message":"…","details":[]}`. */
export function bsxRestErrorBody(e: { code: number; message: string }, detail?: string): string {
  return JSON.stringify({ code: e.code, message: detail ? `${e.message}: ${detail}` : e.message, details: [] });
}

/** Largest `limit` the simulator's history accepts (BSX documents none; the SDKs ask for 100). */
export const BSX_SIM_HISTORY_MAX_LIMIT = 500;

export interface BsxSimulatorOptions {
  host?: string;
  port?: number;
  /** the account's credentials; defaults 'sim-api-key' / 'sim-api-secret' */
  apiKey?: string;
  apiSecret?: string;
  /** how far the auth timestamp may be from the simulator's clock; default 60000 (BSX refused 100.85 s; limit undocumented) */
  timestampWindowMs?: number;
  /** the simulator's clock offset from the host's, in ms (to provoke drift errors); default 0; mutable later */
  clockOffsetMs?: number;
  /** a socket that sends nothing for this long is closed; BSX: 10 min */
  idleTimeoutMs?: number;
  /** answer `sub orders` with `{"channel":"orders","type":"subscribed"}` before the snapshot; default true (shape UNCONFIRMED) */
  subscribeAck?: boolean;
  /** 0..1: chance that the next update of another order joins the same frame; default 0.3 */
  multiOrderRate?: number;
  /** most orders in one update frame; default 3 */
  maxOrdersPerFrame?: number;
  /** send `last_trades[].time` as a string; default false (a JSON number, as BSXSDK types it) */
  tradeTimeAsString?: boolean;
  instruments?: readonly BsxSimInstrument[];
  fees?: BsxFeeModel;
  /** the account's address in `sender` */
  sender?: string;
  faults?: Partial<FaultKnobs>;
  /** seed of the fault and frame-grouping generator; default 1 */
  seed?: number;
  log?: SimLogSink;
}

export interface BsxPlayOptions {
  /** pause between consecutive update frames; default 0 */
  intervalMs?: number;
  /**
   * When no socket is subscribed when a frame is due, wait up to this long for one (reject after). Default 0: the
   * frame reaches nobody, as on the real venue (no replay), and counts in `undelivered`; the venue state moves on.
   */
  waitForSubscriberMs?: number;
}

export interface BsxPlayReport {
  /** order updates the lifecycles produced */
  planned: number;
  /** update frames sent after faults and grouping (duplicates included) */
  sent: number;
  /** frames carrying more than one order */
  multiOrderFrames: number;
  duplicates: number;
  /** socket deliveries (frames × subscribers at the time) */
  deliveries: number;
  /** frames that found no subscriber */
  undelivered: number;
}

export interface BsxSimStats {
  openSockets: number;
  subscribers: number;
  connectionsAccepted: number;
  connectionsRefused: number;
  authenticated: number;
  /** auth refusals by message (drift messages counted under their stem) */
  authRejections: Record<string, number>;
  notAuthenticated: number;
  pingsReceived: number;
  snapshotsSent: number;
  updateFramesSent: number;
  idleCloses: number;
  shutdownNotices: number;
  /** REST calls answered (faults and refusals included) */
  restCalls: number;
  /** REST calls refused for missing or wrong bsx-key / bsx-secret */
  restUnauthenticated: number;
}

export type BsxMalformedKind = 'invalid-json' | 'wrong-types' | 'unknown-status';

interface SocketState {
  connectionId: string;
  authenticated: boolean;
  subscribed: boolean;
}

interface VenueEntry {
  seq: number;
  order: BsxVenueOrder;
  steps: BsxStep[];
  /** index of the last step applied at the venue (-1: none yet) */
  applied: number;
  /** index of the last step a subscriber received (-1: none) */
  seenIndex: number;
  seen: BsxSimOrder | null;
  seenLastTrade: BsxSimTrade | null;
}

interface PlannedStep extends PlannedFrame {
  entry: VenueEntry;
  index: number;
}

const latestTrade = (a: BsxSimTrade | null, trades: readonly BsxSimTrade[]): BsxSimTrade | null => {
  let best = a;
  for (const t of trades) if (best === null || BigInt(t.time) >= BigInt(best.time)) best = t;
  return best;
};

/**
 * A local BSX: the WebSocket at `/ws` speaking the documented protocol (connection id first, `op:auth` with the
 * signature and timestamp checked, `sub orders` → snapshot of the account's live orders then updates, ping/pong,
 * idle close, shutdown notice), an account whose orders follow scripted lifecycles, fault knobs, and the venue-side
 * truth of every order. See ./README.md ("BsxSimulator").
 */
export class BsxSimulator extends SimServer {
  /** Fault knobs for update frames; change them at any time. */
  readonly faults: FaultKnobs;
  /** The simulator clock's offset from the host clock, in ms (drift errors). */
  clockOffsetMs: number;
  /** Faults of the REST endpoints reconciliation reads (GET /orders, /orders/{id}, /order-history). */
  readonly restFaults = new RestFaults({
    rateLimited: () => bsxRestErrorBody(BSX_SIM_REST_ERRORS.rateLimited),
    error: () => bsxRestErrorBody(BSX_SIM_REST_ERRORS.internal),
  });
  /** 0..1: chance that adjacent updates of different orders share a frame. */
  multiOrderRate: number;

  readonly #apiKey: string;
  readonly #apiSecret: string;
  readonly #windowNs: bigint;
  readonly #idleTimeoutMs: number;
  readonly #subscribeAck: boolean;
  readonly #maxPerFrame: number;
  readonly #tradeTimeAsString: boolean;
  readonly #instruments: readonly BsxSimInstrument[];
  readonly #fees: BsxFeeModel;
  readonly #sender: string;
  readonly #rng: Rng;
  readonly #state = new WeakMap<SimSocket, SocketState>();
  readonly #orders = new Map<string, VenueEntry>();
  #refusing = false;
  #seq = 0;
  #malformedSeq = 0;
  readonly #stats = {
    connectionsAccepted: 0,
    connectionsRefused: 0,
    authenticated: 0,
    authRejections: {} as Record<string, number>,
    notAuthenticated: 0,
    pingsReceived: 0,
    snapshotsSent: 0,
    updateFramesSent: 0,
    idleCloses: 0,
    shutdownNotices: 0,
    restCalls: 0,
    restUnauthenticated: 0,
  };

  private constructor(options: BsxSimulatorOptions) {
    super({ wsPaths: [BSX_WS_PATH], ...(options.host ? { host: options.host } : {}), ...(options.port ? { port: options.port } : {}), ...(options.log ? { log: options.log } : {}) });
    this.#apiKey = options.apiKey ?? 'sim-api-key';
    this.#apiSecret = options.apiSecret ?? 'sim-api-secret';
    this.#windowNs = BigInt(options.timestampWindowMs ?? 60_000) * 1_000_000n;
    this.clockOffsetMs = options.clockOffsetMs ?? 0;
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 10 * 60_000;
    this.#subscribeAck = options.subscribeAck ?? true;
    this.multiOrderRate = options.multiOrderRate ?? 0.3;
    this.#maxPerFrame = options.maxOrdersPerFrame ?? 3;
    this.#tradeTimeAsString = options.tradeTimeAsString ?? false;
    this.#instruments = options.instruments ?? BSX_SIM_INSTRUMENTS;
    this.#fees = options.fees ?? BSX_SIM_FEES;
    this.#sender = options.sender ?? BSX_SIM_SENDER;
    this.#rng = seededRng(options.seed ?? 1);
    this.faults = { ...NO_FAULTS, ...options.faults };
    checkFaultKnobs(this.faults);
    if (!(this.multiOrderRate >= 0 && this.multiOrderRate <= 1)) throw new RangeError(`multiOrderRate must be between 0 and 1, got ${this.multiOrderRate}`);
    if (!(Number.isInteger(this.#maxPerFrame) && this.#maxPerFrame >= 1)) throw new RangeError(`maxOrdersPerFrame must be a positive integer`);
  }

  /** Starts a simulator on 127.0.0.1 and a free port. */
  static async start(options: BsxSimulatorOptions = {}): Promise<BsxSimulator> {
    const sim = new BsxSimulator(options);
    await sim.listen();
    return sim;
  }

  /** `ws://127.0.0.1:<port>/ws` */
  get wsUrl(): string {
    return this.wsUrlFor(BSX_WS_PATH);
  }

  /** Sockets authenticated and subscribed to `orders`. */
  get subscriberCount(): number {
    return this.#subscribers().length;
  }

  /** Resolves once at least n sockets are authenticated and subscribed to `orders`. */
  waitForSubscribers(n: number, timeoutMs: number): Promise<void> {
    return this.waitUntil(() => this.subscriberCount >= n, timeoutMs, `${n} subscriber(s) on orders`);
  }

  /** Deterministic lifecycles over this simulator's instruments (same seed → same orders; ids unique per seed). */
  randomLifecycles(count: number, seed: number): BsxLifecycle[] {
    return bsxRandomLifecycles(count, seed, this.#instruments);
  }

  /** Instrument reference data for the normalizer: none needed, BSX sizes are already base units. */
  referenceData(): ReferenceData {
    return {};
  }

  /** Ids of the account's orders that are live at the venue now (what a snapshot would list), oldest first. */
  liveOrderIds(): string[] {
    return this.#entries().filter((e) => e.applied >= 0 && isLiveBsxStatus(this.#current(e).status)).map((e) => e.order.state.id);
  }

  /** Per order id, what the venue knows and what reached a client (see BsxOrderTruth). Orders not yet created are absent. */
  truth(): Map<string, BsxOrderTruth> {
    const out = new Map<string, BsxOrderTruth>();
    for (const e of this.#entries()) {
      if (e.applied < 0) continue;
      const order = this.#current(e);
      let lastTrade: BsxSimTrade | null = null;
      for (let i = 0; i <= e.applied; i++) lastTrade = latestTrade(lastTrade, (e.steps[i] as BsxStep).trades);
      out.set(order.id, {
        order,
        lastTrade,
        seen: e.seen ? { ...e.seen } : null,
        seenLastTrade: e.seenLastTrade ? { ...e.seenLastTrade } : null,
        finishedUnseen: !isLiveBsxStatus(order.status) && (e.seen === null || isLiveBsxStatus(e.seen.status)),
      });
    }
    return out;
  }

  stats(): BsxSimStats {
    return { openSockets: this.sockets.length, subscribers: this.subscriberCount, ...this.#stats, authRejections: { ...this.#stats.authRejections } };
  }

  /**
   * Plays lifecycles: every order's updates in order, orders interleaved round-robin, then the fault knobs, then
   * adjacent updates of different orders grouped into one frame (multiOrderRate). The venue state moves on whether
   * or not anyone is subscribed. Resolves when every frame was sent.
   */
  async play(lifecycles: readonly BsxLifecycle[], options: BsxPlayOptions = {}): Promise<BsxPlayReport> {
    checkFaultKnobs(this.faults);
    const intervalMs = options.intervalMs ?? 0;
    const ids = new Set<string>();
    for (const lc of lifecycles) {
      bsxEffectiveFills(lc); // a RangeError for an impossible script, before anything is sent
      if (this.#orders.has(lc.id) || ids.has(lc.id)) throw new RangeError(`play: order id ${lc.id} was already played`);
      ids.add(lc.id);
    }
    // Times: order i's j-th clock reading ≈ when its j-th update goes out in the round-robin (+ sub-ms digits).
    const n = BigInt(Math.max(1, lifecycles.length));
    // 1 µs apart when frames go out back to back; the sub-step digits (< 100 ns) keep every ns digit meaningful
    const stepNs = intervalMs > 0 ? BigInt(intervalMs) * 1_000_000n : 1_000n;
    const base = this.#nowNs();
    const perOrder = lifecycles.map((lc, i) => {
      let j = 0n;
      const clock = () => {
        const t = base + (j * n + BigInt(i)) * stepNs + ((BigInt(i) * 7919n + j * 104_729n) % 97n) + 1n;
        j++;
        return t;
      };
      const { steps, order } = bsxLifecycleSteps(lc, clock, { sender: this.#sender, fees: this.#fees });
      const entry: VenueEntry = { seq: ++this.#seq, order, steps, applied: -1, seenIndex: -1, seen: null, seenLastTrade: null };
      this.#orders.set(lc.id, entry);
      return steps.map<PlannedStep>((_, index) => ({ key: lc.id, entry, index }));
    });
    const planned = roundRobin(perOrder);
    const frames = this.#group(applyFaults(planned, this.faults, this.#rng));
    const report: BsxPlayReport = { planned: planned.length, sent: frames.length, multiOrderFrames: 0, duplicates: 0, deliveries: 0, undelivered: 0 };
    await sendPaced(frames, paceFor(this, intervalMs, options.waitForSubscriberMs), ({ steps, duplicate }) => {
      if (duplicate) report.duplicates++;
      if (steps.length > 1) report.multiOrderFrames++;
      return () => {
        const reached = this.#sendUpdate(steps, duplicate);
        if (reached === 0) report.undelivered++;
        report.deliveries += reached;
      };
    });
    return report;
  }

  /**
   * Ends live orders now (`'all-live'`: every live order): `cancel` (user; stops: TPSL position closed) or `fill`
   * (the remaining size in one trade). Each update goes to the subscribers of the moment, if any; the venue state
   * changes either way. Returns the ids finished. Throws for an unknown, finished, or still-playing order.
   */
  finishOrders(ids: readonly string[] | 'all-live', outcome: BsxFinishOutcome): string[] {
    const list = ids === 'all-live' ? this.liveOrderIds() : [...ids];
    const entries = list.map((id) => {
      const e = this.#orders.get(id);
      if (!e) throw new RangeError(`finishOrders: unknown order ${id}`);
      if (e.applied !== e.steps.length - 1) throw new RangeError(`finishOrders: order ${id} is still being played`);
      if (!isLiveBsxStatus(this.#current(e).status)) throw new RangeError(`finishOrders: order ${id} is already ${this.#current(e).status}`);
      return e;
    });
    for (const e of entries) {
      // now, but never before the order's last event (planned times may run slightly ahead of the wall clock)
      const s = this.#current(e);
      let floor = (BigInt(s.updated_at) > BigInt(s.created_at_ts) ? BigInt(s.updated_at) : BigInt(s.created_at_ts)) + 1_000n;
      for (const t of e.order.trades) if (BigInt(t.time) >= floor) floor = BigInt(t.time) + 1_000n;
      const clock = () => {
        const now = this.#nowNs();
        floor = now > floor ? now : floor + 1n;
        return floor;
      };
      const steps = bsxFinishSteps(e.order, outcome, clock);
      const from = e.steps.length;
      e.steps.push(...steps);
      this.#sendUpdate(steps.map((_, k) => ({ key: e.order.state.id, entry: e, index: from + k })), false);
    }
    this.changed();
    return list;
  }

  /**
   * Orders finish while no client is connected: drops every connection (no close frame), ends the orders at once
   * (their updates reach nobody), and returns their ids. A reconnecting client gets a snapshot without them: their
   * truth has `finishedUnseen: true`. For a longer outage, bracket with refuseConnections(true/false).
   */
  finishWhileDisconnected(ids: readonly string[] | 'all-live', outcome: BsxFinishOutcome): string[] {
    this.dropConnections();
    // terminate() makes sockets non-open at once, and a reconnect needs the event loop: nobody can see these updates.
    return this.finishOrders(ids, outcome);
  }

  /** While on, every new connection is terminated right after the upgrade (client sees connect + 1006). */
  refuseConnections(on: boolean): void {
    this.#refusing = on;
    this.changed();
  }

  /** Sends the documented shutdown notice to every socket, then closes each (1001). */
  announceShutdown(): number {
    const open = this.sockets;
    for (const s of open) {
      this.sendText(s, JSON.stringify({ type: 'message', message: BSX_SIM_ERRORS.shutdown }), 'shutdown');
      this.#stats.shutdownNotices++;
      s.ws.close(1001, 'service is shutting down');
    }
    return open.length;
  }

  /**
   * Sends one malformed `orders` update to every subscriber and returns its exact text. Throws if nobody is subscribed.
   * - `invalid-json`: cut off mid-object → FRAME_NOT_JSON
   * - `wrong-types`: size "ten", filled_size true → FRAME_INVALID
   * - `unknown-status`: status "CANCELLED" → FRAME_UNKNOWN_STATUS
   */
  injectMalformed(kind: BsxMalformedKind): string {
    const subscribers = this.#subscribers();
    if (subscribers.length === 0) throw new Error('injectMalformed: no socket is subscribed to orders');
    const id = `ffffffff-0000-4000-8000-${String(++this.#malformedSeq).padStart(12, '0')}`;
    const now = this.#nowNs();
    const order = new BsxVenueOrder({ id, productId: 'BTC-PERP', kind: 'cancel', side: 'BUY', price: '64000', size: '0.01' }, now, { sender: this.#sender });
    order.pending();
    const good = bsxOrdersFrameText('update', [order.open(now + 1n)], (now + 1n).toString());
    let text: string;
    if (kind === 'invalid-json') text = good.slice(0, good.indexOf('"price"'));
    else if (kind === 'wrong-types') text = good.replace('"size":"0.01"', '"size":"ten"').replace('"filled_size":"0"', '"filled_size":true');
    else if (kind === 'unknown-status') text = good.replace('"status":"OPEN"', '"status":"CANCELLED"');
    else throw new RangeError(`injectMalformed: unknown kind ${String(kind)}`);
    for (const s of subscribers) this.sendText(s, text, `malformed:${kind}`);
    return text;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Protocol

  protected onHttp(req: SimHttpRequest): SimHttpResponse {
    const isDetail = req.path.startsWith(BSX_REST_PATHS.orderPrefix) && req.path.length > BSX_REST_PATHS.orderPrefix.length;
    if (req.method !== 'GET' || !(req.path === BSX_REST_PATHS.openOrders || req.path === BSX_REST_PATHS.history || isDetail)) {
      return { status: 404, body: JSON.stringify({ error: 'not found' }) };
    }
    this.#stats.restCalls++;
    const detailId = isDetail ? decodeURIComponent(req.path.slice(BSX_REST_PATHS.orderPrefix.length)) : undefined;
    const fault = this.restFaults.check(detailId);
    if (fault) return fault;
    if (!this.#restAuthorized(req)) {
      this.#stats.restUnauthenticated++;
      return this.#restError(BSX_SIM_REST_ERRORS.unauthenticated);
    }
    if (detailId !== undefined) return this.#restOrder(detailId);
    if (req.path === BSX_REST_PATHS.openOrders) return this.#restOpenOrders(req.query);
    return this.#restHistory(req.query);
  }

  protected onConnection(socket: SimSocket): void {
    if (this.#refusing) {
      this.#stats.connectionsRefused++;
      this.terminate(socket, 'refuseConnections(true)');
      return;
    }
    this.#stats.connectionsAccepted++;
    const st: SocketState = { connectionId: randomUUID(), authenticated: false, subscribed: false };
    this.#state.set(socket, st);
    this.#armIdle(socket);
    this.sendText(socket, JSON.stringify({ type: 'message', connection_id: st.connectionId }), 'connection-id');
  }

  protected onText(socket: SimSocket, text: string): void {
    const st = this.#state.get(socket);
    if (!st) return;
    this.#armIdle(socket);
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      this.#error(socket, null, BSX_SIM_ERRORS.badRequest, 400);
      return;
    }
    const m = (msg && typeof msg === 'object' && !Array.isArray(msg) ? msg : {}) as Record<string, unknown>;
    switch (m.op) {
      case 'ping':
        this.#stats.pingsReceived++;
        this.sendText(socket, JSON.stringify({ type: 'pong' }), 'pong');
        return;
      case 'auth':
        this.#auth(socket, st, m.data);
        return;
      case 'sub':
        this.#sub(socket, st, m.channel, m.product);
        return;
      case 'unsub':
        if (m.channel === 'orders') st.subscribed = false;
        this.sendText(socket, JSON.stringify({ type: 'unsubscribed', channel: m.channel, ...(typeof m.product === 'string' ? { product: m.product } : {}) }), 'ack');
        this.changed();
        return;
      default:
        this.#error(socket, null, BSX_SIM_ERRORS.badRequest, 400);
    }
  }

  #auth(socket: SimSocket, st: SocketState, data: unknown): void {
    // "If the connection is already authenticated, further attempts to log in will result nothing" (BSXDOC ws-auth).
    if (st.authenticated) return;
    const d = (data && typeof data === 'object' ? data : {}) as Record<string, unknown>;
    const { key, timestamp, signature } = d;
    if (typeof key !== 'string' || typeof timestamp !== 'string' || typeof signature !== 'string') {
      this.#refuseAuth(socket, BSX_SIM_ERRORS.badAuthRequest, BSX_SIM_ERRORS.badAuthRequest);
      return;
    }
    // The ws-auth transcript answers an unknown key with a bad timestamp by the timestamp error: time is checked first.
    const drift = /^\d{1,30}$/.test(timestamp) ? this.#nowNs() - BigInt(timestamp) : undefined;
    if (drift === undefined || drift > this.#windowNs || -drift > this.#windowNs) {
      const text = drift === undefined ? BSX_SIM_ERRORS.timestampDrift : `${BSX_SIM_ERRORS.timestampDrift} (${seconds(drift)}s)`;
      this.#refuseAuth(socket, text, BSX_SIM_ERRORS.timestampDrift);
      return;
    }
    if (key !== this.#apiKey) {
      this.#refuseAuth(socket, BSX_SIM_ERRORS.keyNotFound, BSX_SIM_ERRORS.keyNotFound);
      return;
    }
    const expected = Buffer.from(bsxAuthSignature(this.#apiSecret, key, timestamp));
    const got = Buffer.from(signature.toLowerCase());
    if (expected.length !== got.length || !timingSafeEqual(expected, got)) {
      this.#refuseAuth(socket, BSX_SIM_ERRORS.badSignature, BSX_SIM_ERRORS.badSignature);
      return;
    }
    st.authenticated = true;
    this.#stats.authenticated++;
    this.sendText(socket, JSON.stringify({ channel: 'auth', type: 'authenticated' }), 'authenticated');
    this.changed();
  }

  #refuseAuth(socket: SimSocket, message: string, stem: string): void {
    this.#stats.authRejections[stem] = (this.#stats.authRejections[stem] ?? 0) + 1;
    this.#error(socket, 'auth', message, 400);
    this.changed();
  }

  #sub(socket: SimSocket, st: SocketState, channel: unknown, product: unknown): void {
    if (channel === 'orders') {
      if (!st.authenticated) {
        this.#stats.notAuthenticated++;
        this.#error(socket, 'orders', BSX_SIM_ERRORS.notAuthenticated, 401);
        this.changed();
        return;
      }
      st.subscribed = true;
      if (this.#subscribeAck) this.sendText(socket, JSON.stringify({ channel: 'orders', type: 'subscribed' }), 'ack');
      this.#sendSnapshot(socket);
      this.changed();
      return;
    }
    if (typeof channel === 'string' && PUBLIC_CHANNELS.has(channel) && typeof product === 'string') {
      this.sendText(socket, JSON.stringify({ channel, product, type: 'subscribed' }), 'ack');
      return;
    }
    this.#error(socket, typeof channel === 'string' ? channel : null, BSX_SIM_ERRORS.unsupported, 400);
  }

  #error(socket: SimSocket, channel: string | null, message: string, code: number): void {
    this.sendText(socket, JSON.stringify({ ...(channel ? { channel } : {}), type: 'error', message, code }), 'error');
  }

  // -------------------------------------------------------------------------------------------------------------
  // REST (reconciliation)

  /** `bsx-key` + `bsx-secret` headers, the secret compared in constant time (BSXSDK: REST sends the key pair). */
  #restAuthorized(req: SimHttpRequest): boolean {
    const key = req.headers['bsx-key'];
    const secret = req.headers['bsx-secret'];
    if (typeof key !== 'string' || typeof secret !== 'string' || key !== this.#apiKey) return false;
    const want = Buffer.from(this.#apiSecret);
    const got = Buffer.from(secret);
    return want.length === got.length && timingSafeEqual(want, got);
  }

  #restError(e: { status: number; code: number; message: string }, detail?: string): SimHttpResponse {
    return { status: e.status, body: bsxRestErrorBody(e, detail) };
  }

  /** The REST object input of one order: its current state and the trades of its latest matching event. */
  #restEntry(e: VenueEntry): { order: BsxSimOrder; lastTrades: BsxSimTrade[] } {
    let lastTrades: BsxSimTrade[] = [];
    for (let i = 0; i <= e.applied; i++) {
      const t = (e.steps[i] as BsxStep).trades;
      if (t.length > 0) lastTrades = t;
    }
    return { order: this.#current(e), lastTrades };
  }

  #restText(orders: { order: BsxSimOrder; lastTrades: BsxSimTrade[] }[] | { order: BsxSimOrder; lastTrades: BsxSimTrade[] }): string {
    return bsxRestOrdersText(orders, { tradeTimeAsString: this.#tradeTimeAsString });
  }

  /** GET /orders[?product_id=]: every live order of the account, oldest first (one answer: BSX pages nothing here). */
  #restOpenOrders(query: URLSearchParams): SimHttpResponse {
    const product = query.get('product_id');
    const live = this.#entries().filter((e) => e.applied >= 0 && isLiveBsxStatus(this.#current(e).status) && (!product || e.order.state.product_id === product));
    return { status: 200, body: this.#restText(live.map((e) => this.#restEntry(e))) };
  }

  /** GET /orders/{id}: the order, live or finished; 404 (code 5) for an order this account does not have. */
  #restOrder(id: string): SimHttpResponse {
    const e = this.#orders.get(id);
    if (!e || e.applied < 0) return this.#restError(BSX_SIM_REST_ERRORS.notFound);
    return { status: 200, body: this.#restText(this.#restEntry(e)) };
  }

  /**
   * GET /order-history: orders created within [start_time, end_time] (ns, both inclusive, either optional), any
   * status (or `statuses`), `product_id`, sorted by `sorted_by` (CREATED_AT default, or UPDATED_AT) `sorting`
   * (DESC default, or ASC), at most `limit` (default 100). Orders the venue "cannot tell" about
   * (restFaults.knobs.failDetailFor) are left out.
   */
  #restHistory(query: URLSearchParams): SimHttpResponse {
    const ns = (name: string): bigint | undefined | null => {
      const v = query.get(name);
      if (v === null || v === '') return undefined;
      return /^\d{1,20}$/.test(v) ? BigInt(v) : null;
    };
    const start = ns('start_time');
    const end = ns('end_time');
    if (start === null || end === null) return this.#restError(BSX_SIM_REST_ERRORS.badRequest, 'start_time/end_time must be unix nanoseconds');
    const limitText = query.get('limit') ?? '100';
    const limit = Number(limitText);
    if (!/^\d+$/.test(limitText) || limit < 1 || limit > BSX_SIM_HISTORY_MAX_LIMIT) {
      return this.#restError(BSX_SIM_REST_ERRORS.badRequest, `limit must be 1..${BSX_SIM_HISTORY_MAX_LIMIT}`);
    }
    const sortedBy = query.get('sorted_by') ?? 'CREATED_AT';
    const sorting = query.get('sorting') ?? 'DESC';
    if (!['CREATED_AT', 'UPDATED_AT'].includes(sortedBy) || !['ASC', 'DESC'].includes(sorting)) {
      return this.#restError(BSX_SIM_REST_ERRORS.badRequest, 'sorted_by must be CREATED_AT or UPDATED_AT, sorting ASC or DESC');
    }
    const product = query.get('product_id');
    const statuses = new Set(query.getAll('statuses'));
    const hidden = this.restFaults.knobs.failDetailFor;
    const key = (o: BsxSimOrder) => BigInt(sortedBy === 'UPDATED_AT' && o.updated_at !== '0' ? o.updated_at : o.created_at_ts);
    const rows = this.#entries()
      .filter((e) => e.applied >= 0 && !hidden.has(e.order.state.id))
      .map((e) => this.#restEntry(e))
      .filter(({ order: o }) => {
        const created = BigInt(o.created_at_ts);
        return (start === undefined || created >= start) && (end === undefined || created <= end) && (!product || o.product_id === product) && (statuses.size === 0 || statuses.has(o.status));
      })
      .sort((a, b) => {
        const d = key(a.order) - key(b.order);
        const c = d < 0n ? -1 : d > 0n ? 1 : a.order.id < b.order.id ? -1 : a.order.id > b.order.id ? 1 : 0;
        return sorting === 'DESC' ? -c : c;
      })
      .slice(0, limit);
    return { status: 200, body: this.#restText(rows) };
  }

  #armIdle(socket: SimSocket): void {
    socket.setTimer('idle', this.#idleTimeoutMs, () => {
      this.#stats.idleCloses++;
      this.log({ direction: 'event', channel: 'ws', socketId: socket.id, text: `idle for ${this.#idleTimeoutMs} ms`, note: 'idle-close' });
      socket.ws.close(1000, 'idle timeout');
    });
  }

  // -------------------------------------------------------------------------------------------------------------
  // Orders

  /** A snapshot of every live order of the account (oldest first) to one socket; marks them seen. */
  #sendSnapshot(socket: SimSocket): void {
    const live = this.#entries().filter((e) => e.applied >= 0 && isLiveBsxStatus(this.#current(e).status));
    const steps = live.map<BsxStep>((e) => ({ order: this.#current(e), trades: [], includeLastTrades: true }));
    const text = bsxOrdersFrameText('snapshot', steps, this.#nowNs().toString(), { tradeTimeAsString: this.#tradeTimeAsString });
    if (this.sendText(socket, text, 'snapshot')) {
      this.#stats.snapshotsSent++;
      for (const e of live) this.#markSeen(e, e.applied, []);
    }
  }

  /** Applies the steps at the venue, sends one update frame to every subscriber; returns the number of sockets reached. */
  #sendUpdate(planned: readonly PlannedStep[], duplicate: boolean): number {
    for (const p of planned) p.entry.applied = Math.max(p.entry.applied, p.index);
    const steps = planned.map((p) => p.entry.steps[p.index] as BsxStep);
    // "timestamp … should be the same with order's updated_at": the latest of the frame's orders.
    let ts = 0n;
    for (const s of steps) if (BigInt(s.order.updated_at) > ts) ts = BigInt(s.order.updated_at);
    const text = bsxOrdersFrameText('update', steps, (ts > 0n ? ts : this.#nowNs()).toString(), { tradeTimeAsString: this.#tradeTimeAsString });
    let reached = 0;
    for (const s of this.#subscribers()) if (this.sendText(s, text, duplicate ? 'duplicate' : 'update')) reached++;
    if (reached > 0) {
      this.#stats.updateFramesSent++;
      for (const p of planned) this.#markSeen(p.entry, p.index, (p.entry.steps[p.index] as BsxStep).trades);
    }
    this.changed();
    return reached;
  }

  #markSeen(e: VenueEntry, index: number, trades: readonly BsxSimTrade[]): void {
    e.seenLastTrade = latestTrade(e.seenLastTrade, trades);
    if (index < e.seenIndex) return;
    e.seenIndex = index;
    e.seen = { ...(e.steps[index] as BsxStep).order };
  }

  /** Adjacent non-duplicate updates of different orders share a frame with probability multiOrderRate. */
  #group(faulted: { frame: PlannedStep; duplicate: boolean }[]): { steps: PlannedStep[]; duplicate: boolean }[] {
    const out: { steps: PlannedStep[]; duplicate: boolean }[] = [];
    for (let i = 0; i < faulted.length; i++) {
      const f = faulted[i] as { frame: PlannedStep; duplicate: boolean };
      const group = [f.frame];
      if (!f.duplicate) {
        while (group.length < this.#maxPerFrame) {
          const next = faulted[i + 1];
          if (!next || next.duplicate || group.some((g) => g.key === next.frame.key) || !this.#rng.chance(this.multiOrderRate)) break;
          group.push(next.frame);
          i++;
        }
      }
      out.push({ steps: group, duplicate: f.duplicate });
    }
    return out;
  }

  #current(e: VenueEntry): BsxSimOrder {
    return { ...(e.steps[Math.max(0, e.applied)] as BsxStep).order };
  }

  #entries(): VenueEntry[] {
    return [...this.#orders.values()].sort((a, b) => a.seq - b.seq);
  }

  #subscribers(): SimSocket[] {
    return this.sockets.filter((s) => {
      const st = this.#state.get(s);
      return st !== undefined && st.authenticated && st.subscribed;
    });
  }

  #nowNs(): bigint {
    return BigInt(nowEpochNanos()) + BigInt(Math.round(this.clockOffsetMs)) * 1_000_000n;
  }
}

/** |ns| as seconds with 6 decimals, like BSX's "(100.854776s)". */
function seconds(ns: bigint): string {
  const us = (ns < 0n ? -ns : ns) / 1000n;
  return `${us / 1_000_000n}.${(us % 1_000_000n).toString().padStart(6, '0')}`;
}
