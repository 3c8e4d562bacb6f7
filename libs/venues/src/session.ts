import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { AppError, backoffDelay, DEFAULT_BACKOFF, errorMessage, nowEpochNanos, sleep, type BackoffPolicy, type Logger } from '@orderstream/kit';
import type { SessionEvent, SessionIO, VenueClient } from './types.js';

/** One frame as the collector publishes it to orders.raw.v1. */
export interface RawFrame {
  /** exact inbound bytes (data), or the JSON of a session event (session) */
  value: Buffer;
  kind: 'data' | 'session';
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

  constructor(options: VenueSessionOptions) {
    this.#client = options.client;
    this.#sink = options.sink;
    this.#log = options.logger;
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.#healthyAfterMs = options.healthyAfterMs ?? 10_000;
  }

  /** Number of connections opened so far (for health and tests). */
  get connections(): number {
    return this.#connections;
  }

  start(): void {
    this.#running ??= this.#loop();
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    this.#ws?.close(1000, 'collector stopping');
    await this.#running;
  }

  async #loop(): Promise<void> {
    const signal = this.#abort.signal;
    let attempt = 0;
    while (!signal.aborted) {
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
        idleTimer = setTimeout(() => io.reconnect(`no frame for ${idleMs} ms`), idleMs);
      };

      const io: SessionIO = {
        send: (text) => {
          if (ws.readyState === WebSocket.OPEN) ws.send(text);
        },
        ping: () => {
          if (ws.readyState === WebSocket.OPEN) ws.ping();
        },
        event: (e) => this.#event(e),
        reconnect: (reason, code) => {
          endReason ??= reason;
          endCode ??= code;
          ws.terminate();
        },
      };

      ws.on('open', () => {
        this.#connections++;
        this.#event({ event: 'connected' });
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
        clearInterval(heartbeat);
        clearTimeout(idleTimer);
        this.#ws = undefined;
        const reason = endReason ?? (signal.aborted ? 'stopped' : `closed by venue (${code}${reasonBuf.length ? ` ${reasonBuf.toString()}` : ''})`);
        this.#event({ event: 'disconnected', reason, details: { closeCode: code }, ...(endCode !== undefined ? { code: endCode } : {}) });
        resolve(reason);
      });
    });
  }

  #event(e: SessionEvent): void {
    this.#emit(Buffer.from(JSON.stringify({ ...e, venue: this.#client.venue })), 'session');
  }

  #emit(value: Buffer, kind: RawFrame['kind']): void {
    this.#sink({ value, kind, connId: this.#connId, connSeq: ++this.#connSeq, receivedAt: nowEpochNanos() });
  }
}
