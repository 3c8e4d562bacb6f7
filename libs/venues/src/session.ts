import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { AppError, backoffDelay, DEFAULT_BACKOFF, errorMessage, nowEpochNanos, sleep, type BackoffPolicy, type Logger } from '@orderstream/kit';
import {
  createRestIO, DEFAULT_RECONCILE_OPTIONS, RECONCILE_BACKOFF, reconcileFailedEvent, reconciledEvent, runReconciliation, TokenBucket,
  type ReconcileOptions, type ReconcileReport, type RestStats,
} from './reconcile.js';
import type { LiveOrderRef, SessionEvent, SessionIO, VenueClient } from './types.js';

/** One frame as the collector publishes it to orders.raw.v1. */
export interface RawFrame {
  /** exact inbound bytes (data, rest), or the JSON of a session event (session) */
  value: Buffer;
  kind: 'data' | 'session' | 'rest';
  /** rest frames: the request they answer (rest-request header, no secrets) and the HTTP status */
  rest?: { request: string; status: number };
  connId: string;
  /** 1, 2, 3… per connection, over data and session records alike */
  connSeq: number;
  /** epoch nanoseconds, decimal string */
  receivedAt: string;
}

/** Must not block: the collector queues frames in arrival order. */
export type FrameSink = (frame: RawFrame) => void;

export interface VenueSessionOptions {
  client: VenueClient;
  sink: FrameSink;
  logger: Logger;
  backoff?: BackoffPolicy;
  /** a connection that stayed up this long resets the backoff */
  healthyAfterMs?: number;
  /** what reconciliation needs from the state (omit to never reconcile) */
  reconcile?: SessionReconcileSource;
}

/** The account's view of orders.state.v1 that reconciliation starts from, and its options. */
export interface SessionReconcileSource {
  /** orders the state holds as live or CLOSED_UNKNOWN for this account, now */
  suspects(): LiveOrderRef[];
  /** epoch ms of the latest update the state holds for this account: where the gap before a start began */
  lastSeenMs(): number | undefined;
  options?: ReconcileOptions;
  fetch?: typeof globalThis.fetch;
}

/** Reconciliation figures of one session, for logs and metrics. */
export interface ReconcileStats extends RestStats {
  runs: number;
  runFailures: number;
  rateLimitWaits: number;
  rateLimitWaitedMs: number;
  lastReport: ReconcileReport | undefined;
}

/**
 * The shared half of every venue connection: connect, hand every inbound frame on raw, keep the venue's
 * heartbeat, notice silence, and reconnect with capped jittered backoff, re-running the client's prepare()
 * (new listen key, new one-time key, new nonce) every time. Session events are sunk in order with the data.
 */
export class VenueSession {
  readonly #client: VenueClient;
  readonly #sink: FrameSink;
  readonly #log: Logger;
  readonly #backoff: BackoffPolicy;
  readonly #healthyAfterMs: number;
  readonly #abort = new AbortController();
  #ws: WebSocket | undefined;
  #connId = '';
  #connSeq = 0;
  #running: Promise<void> | undefined;
  #connections = 0;
  /** epoch ms of the last data frame (the start of the next gap) */
  #lastDataAt: number | undefined;
  readonly #reconcile: SessionReconcileSource | undefined;
  readonly #reconcileOptions: ReconcileOptions;
  readonly #bucket: TokenBucket | undefined;
  #reconcileRun: { abort: AbortController; done: Promise<ReconcileReport | undefined> } | undefined;
  #reconcileTimer: NodeJS.Timeout | undefined;
  readonly #reconcileStats: ReconcileStats = { calls: 0, retried: 0, failures: 0, runs: 0, runFailures: 0, rateLimitWaits: 0, rateLimitWaitedMs: 0, lastReport: undefined };
  /** set while the sink asked to stop reading (collector spool full, issue 10); resolves on resume() */
  #paused: { resumed: Promise<void>; resume: () => void } | undefined;

  constructor(options: VenueSessionOptions) {
    this.#client = options.client;
    this.#sink = options.sink;
    this.#log = options.logger;
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.#healthyAfterMs = options.healthyAfterMs ?? 10_000;
    this.#reconcileOptions = options.reconcile?.options ?? DEFAULT_RECONCILE_OPTIONS;
    const reconciler = this.#client.reconciler;
    if (options.reconcile && reconciler && this.#reconcileOptions.enabled) {
      this.#reconcile = options.reconcile;
      const limit = this.#reconcileOptions.rateLimit ?? reconciler.rateLimit;
      this.#bucket = new TokenBucket(limit.capacity, limit.refillPerSec);
    }
  }

  /** Reconciliation figures so far. */
  get reconcileStats(): ReconcileStats {
    return { ...this.#reconcileStats, rateLimitWaits: this.#bucket?.waits ?? 0, rateLimitWaitedMs: this.#bucket?.waitedMs ?? 0 };
  }

  /** Number of connections opened so far (for health and tests). */
  get connections(): number {
    return this.#connections;
  }

  start(): void {
    this.#running ??= this.#loop();
  }

  /**
   * Reconciles now (the CLI's and tests' "on demand"), while a connection is up or not. Resolves with the report,
   * or undefined when this session does not reconcile. A run already going is replaced.
   */
  reconcileNow(trigger = 'manual'): Promise<ReconcileReport | undefined> {
    return this.#startReconcile(trigger, this.#lastDataAt ?? this.#reconcile?.lastSeenMs(), { retry: false });
  }

  // --- flow control (issue 10, collector outage spool): additive; nothing changes until pause() is called ---

  /** true between pause() and resume() */
  get paused(): boolean {
    return this.#paused !== undefined;
  }

  /**
   * Stops reading the venue socket (ws pause(): TCP back-pressure to the venue) and opening new connections, and
   * records a `paused` session event with the reason. Frames ws already parsed still reach the sink; heartbeats go
   * on; the idle timeout does not fire while paused.
   */
  pause(reason: string): void {
    if (this.#paused) return;
    let resume!: () => void;
    const resumed = new Promise<void>((r) => (resume = r));
    this.#paused = { resumed, resume };
    this.#ws?.pause();
    this.#event({ event: 'paused', reason });
  }

  /** Reads again after pause(); records a `resumed` session event. */
  resume(): void {
    const paused = this.#paused;
    if (!paused) return;
    this.#paused = undefined;
    this.#event({ event: 'resumed' });
    this.#ws?.resume();
    paused.resume();
  }

  async stop(): Promise<void> {
    this.#paused?.resume();
    this.#abort.abort();
    this.#stopReconcile();
    this.#ws?.close(1000, 'collector stopping');
    await this.#running;
  }

  async #loop(): Promise<void> {
    const signal = this.#abort.signal;
    let attempt = 0;
    while (!signal.aborted) {
      if (this.#paused) await this.#paused.resumed; // flow control: no new connection while paused
      if (signal.aborted) break;
      this.#connId = randomUUID();
      this.#connSeq = 0;
      const startedAt = Date.now();
      const outcome = await this.#connectOnce(signal);
      if (signal.aborted) break;
      if (Date.now() - startedAt >= this.#healthyAfterMs) attempt = 0;
      const delay = backoffDelay(attempt++, this.#backoff);
      this.#log.warn({ reason: outcome, delayMs: delay }, 'venue connection ended; reconnecting');
      await sleep(delay, signal);
    }
  }

  /** Runs one connection to its end; resolves with the reason it ended. */
  async #connectOnce(signal: AbortSignal): Promise<string> {
    // Where this connection's gap began: the last frame of the previous connection, or (first connection of this
    // process) the latest update the state holds for the account.
    const gapStart = this.#lastDataAt ?? this.#reconcile?.lastSeenMs();
    const trigger = this.#connections === 0 ? 'start' : 'reconnect';
    let reconcileStarted = false;
    this.#event({ event: 'connecting' });
    let target;
    try {
      target = await this.#client.prepare(signal);
    } catch (error) {
      // The venue's own code (XT AUTH_103, …) is what an operator looks up; ours goes in details.
      const appCode = error instanceof AppError ? error.code : undefined;
      const venueCode = error instanceof AppError ? (error.details.venueCode as string | number | undefined) : undefined;
      const code = venueCode ?? appCode;
      this.#event({
        event: 'error',
        reason: `prepare failed: ${errorMessage(error)}`,
        ...(code !== undefined ? { code } : {}),
        ...(appCode ? { details: { errorCode: appCode } } : {}),
      });
      return `prepare failed: ${errorMessage(error)}`;
    }
    if (signal.aborted) return 'stopped';

    return new Promise<string>((resolve) => {
      const ws = new WebSocket(target.url, { headers: target.headers, handshakeTimeout: 10_000 });
      this.#ws = ws;
      let endReason: string | undefined;
      let endCode: string | number | undefined;
      let heartbeat: NodeJS.Timeout | undefined;
      let idleTimer: NodeJS.Timeout | undefined;
      const idleMs = this.#client.idleTimeoutMs ?? 0;

      const armIdle = () => {
        if (idleMs <= 0) return;
        clearTimeout(idleTimer);
        // While paused (flow control) silence is ours, not the venue's: check again later.
        idleTimer = setTimeout(() => (this.#paused ? armIdle() : io.reconnect(`no frame for ${idleMs} ms`)), idleMs);
      };

      const io: SessionIO = {
        send: (text) => {
          if (ws.readyState === WebSocket.OPEN) ws.send(text);
        },
        ping: () => {
          if (ws.readyState === WebSocket.OPEN) ws.ping();
        },
        event: (e) => {
          this.#event(e);
          // Once the new session is ready (subscribed), nothing falls between the REST answers and the stream.
          if (!reconcileStarted && e.event === (this.#client.readyEvent ?? 'subscribed') && this.#reconcile) {
            reconcileStarted = true;
            void this.#startReconcile(trigger, gapStart, { retry: true });
          }
        },
        reconnect: (reason, code) => {
          endReason ??= reason;
          endCode ??= code;
          ws.terminate();
        },
      };

      ws.on('open', () => {
        if (this.#paused) ws.pause(); // flow control: paused while this connection was being prepared
        this.#connections++;
        // Through io.event, so that a client whose readyEvent is 'connected' (Binance's WebSocket API) reconciles.
        io.event({ event: 'connected' });
        armIdle();
        if (this.#client.heartbeat) {
          const { intervalMs, beat } = this.#client.heartbeat;
          heartbeat = setInterval(() => beat(io), intervalMs);
        }
        try {
          this.#client.onOpen(io);
        } catch (error) {
          io.reconnect(`onOpen failed: ${errorMessage(error)}`);
        }
      });

      ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
        const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
        this.#lastDataAt = Date.now();
        this.#emit(bytes, 'data');
        armIdle();
        try {
          this.#client.onFrame(bytes.toString('utf8'), io);
        } catch (error) {
          this.#log.error({ err: error, isBinary }, 'venue client failed on a frame');
        }
      });
      ws.on('ping', armIdle);
      ws.on('pong', armIdle);

      ws.on('error', (error) => {
        endReason ??= `socket error: ${errorMessage(error)}`;
      });

      ws.on('close', (code, reasonBuf) => {
        this.#stopReconcile();
        clearInterval(heartbeat);
        clearTimeout(idleTimer);
        this.#ws = undefined;
        const reason = endReason ?? (signal.aborted ? 'stopped' : `closed by venue (${code}${reasonBuf.length ? ` ${reasonBuf.toString()}` : ''})`);
        this.#event({ event: 'disconnected', reason, details: { closeCode: code }, ...(endCode !== undefined ? { code: endCode } : {}) });
        resolve(reason);
      });
    });
  }

  #stopReconcile(): void {
    clearTimeout(this.#reconcileTimer);
    this.#reconcileTimer = undefined;
    this.#reconcileRun?.abort.abort();
    this.#reconcileRun = undefined;
  }

  /**
   * Runs the account's reconciliation without blocking the stream. With `retry`, a failed run is recorded as a
   * session event and tried again with backoff until it completes or the connection ends. After a completed run,
   * the optional timer schedules the next one (the gap it covers starts where this run's snapshot was taken).
   */
  #startReconcile(trigger: string, sinceMs: number | undefined, { retry }: { retry: boolean }): Promise<ReconcileReport | undefined> {
    const source = this.#reconcile;
    const reconciler = this.#client.reconciler;
    const bucket = this.#bucket;
    if (!source || !reconciler || !bucket) return Promise.resolve(undefined);
    this.#stopReconcile();
    const abort = new AbortController();
    const options = this.#reconcileOptions;
    const io = createRestIO({
      bucket,
      signal: abort.signal,
      timeoutMs: options.requestTimeoutMs,
      maxAttempts: options.maxAttempts,
      stats: this.#reconcileStats,
      event: (e) => this.#event(e),
      publish: (body, request, status) => this.#emit(body, 'rest', { request, status }),
      ...(source.fetch ? { fetch: source.fetch } : {}),
    });
    const done = (async () => {
      for (let attempt = 0; !abort.signal.aborted; attempt++) {
        try {
          const report = await runReconciliation(reconciler, io, {
            suspects: source.suspects(),
            ...(sinceMs !== undefined ? { sinceMs } : {}),
            maxDetailLookups: options.maxDetailLookups,
            historyMarginMs: options.historyMarginMs,
          });
          if (abort.signal.aborted) return undefined;
          this.#reconcileStats.runs++;
          this.#reconcileStats.lastReport = report;
          this.#event(reconciledEvent(trigger, report));
          this.#log.info({ trigger, openOrders: report.openOrders, history: report.history, lookups: report.lookups, failed: report.failed.length, deferred: report.deferred.length }, 'reconciled');
          if (options.intervalMs > 0 && this.#ws) {
            this.#reconcileTimer = setTimeout(() => void this.#startReconcile('timer', report.asOfMs, { retry: true }), options.intervalMs);
            this.#reconcileTimer.unref();
          }
          return report;
        } catch (error) {
          if (abort.signal.aborted) return undefined;
          this.#reconcileStats.runFailures++;
          const delay = backoffDelay(attempt, RECONCILE_BACKOFF);
          this.#event(reconcileFailedEvent(error, attempt + 1, retry ? delay : 0));
          this.#log.warn({ trigger, attempt: attempt + 1, err: errorMessage(error), retryInMs: retry ? delay : undefined }, 'reconciliation failed');
          if (!retry) throw error;
          await sleep(delay, abort.signal);
        }
      }
      return undefined;
    })();
    this.#reconcileRun = { abort, done };
    return done;
  }

  #event(e: SessionEvent): void {
    this.#emit(Buffer.from(JSON.stringify({ ...e, venue: this.#client.venue })), 'session');
  }

  #emit(value: Buffer, kind: RawFrame['kind'], rest?: RawFrame['rest']): void {
    this.#sink({ value, kind, connId: this.#connId, connSeq: ++this.#connSeq, receivedAt: nowEpochNanos(), ...(rest ? { rest } : {}) });
  }
}
