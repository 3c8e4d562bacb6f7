import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';

/** One line of a simulator's frame log: what went in and out, so tests can see exactly what was sent. */
export interface SimLogEntry {
  /** epoch ms */
  at: number;
  /** `in`: received from a client; `out`: sent to a client; `event`: something the simulator did (terminate, expire) */
  direction: 'in' | 'out' | 'event';
  channel: 'ws' | 'http';
  socketId?: number;
  /** exact text of the frame or HTTP body; for events a short description */
  text: string;
  /** what it was to the simulator: 'ack', 'pong', 'push', 'duplicate', 'malformed', 'terminated', … */
  note?: string;
}

export type SimLogSink = (entry: SimLogEntry) => void;

export interface SimHttpRequest {
  method: string;
  /** path without the query string */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface SimHttpResponse {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

export interface SimServerOptions {
  /** default 127.0.0.1 */
  host?: string;
  /** default 0: the OS picks a free port */
  port?: number;
  /** WebSocket upgrade paths this simulator answers; any other path gets HTTP 404 */
  wsPaths: readonly string[];
  /** frame log; called synchronously for every frame in and out */
  log?: SimLogSink;
}

/** One client connection as the simulator sees it. Timers set here die with the socket. */
export class SimSocket {
  readonly id: number;
  readonly path: string;
  readonly ws: WebSocket;
  readonly openedAt = Date.now();
  /** text frames received from the client */
  received = 0;
  readonly #timers = new Map<string, NodeJS.Timeout>();

  constructor(id: number, path: string, ws: WebSocket) {
    this.id = id;
    this.path = path;
    this.ws = ws;
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** (Re)arms a named one-shot timer, replacing one of the same name. */
  setTimer(name: string, ms: number, fn: () => void): void {
    this.clearTimer(name);
    const t = setTimeout(() => {
      this.#timers.delete(name);
      fn();
    }, ms);
    t.unref();
    this.#timers.set(name, t);
  }

  clearTimer(name: string): void {
    const t = this.#timers.get(name);
    if (t) clearTimeout(t);
    this.#timers.delete(name);
  }

  clearTimers(): void {
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
  }
}

/**
 * The generic half of a venue simulator: an HTTP server and a WebSocket server on one port of 127.0.0.1,
 * the list of connected sockets, a frame log, socket termination (no close frame, like a venue dropping a
 * connection), and condition waits that wake on state changes rather than polling on a timer.
 * A venue subclass answers HTTP requests and text frames with its own protocol.
 */
export abstract class SimServer {
  readonly #host: string;
  readonly #requestedPort: number;
  readonly #wsPaths: ReadonlySet<string>;
  readonly #http: Server;
  readonly #wss: WebSocketServer;
  readonly #sockets = new Map<number, SimSocket>();
  readonly #waiters = new Set<() => void>();
  #logSink: SimLogSink | undefined;
  #nextSocketId = 1;
  #port = 0;
  #stopped = false;
  #interrupted = false;

  protected constructor(options: SimServerOptions) {
    this.#host = options.host ?? '127.0.0.1';
    this.#requestedPort = options.port ?? 0;
    this.#wsPaths = new Set(options.wsPaths);
    this.#logSink = options.log;
    this.#http = createServer((req, res) => void this.#serveHttp(req, res));
    this.#wss = new WebSocketServer({ noServer: true });
    this.#http.on('upgrade', (req, socket, head) => this.#upgrade(req, socket, head));
  }

  /** Binds the port. Subclasses call it from their static `start`. */
  protected async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#http.once('error', reject);
      this.#http.listen(this.#requestedPort, this.#host, () => {
        this.#http.off('error', reject);
        resolve();
      });
    });
    this.#port = (this.#http.address() as AddressInfo).port;
  }

  get port(): number {
    return this.#port;
  }

  /** `http://127.0.0.1:<port>` */
  get httpUrl(): string {
    return `http://${this.#host}:${this.#port}`;
  }

  /** `ws://127.0.0.1:<port><path>` */
  protected wsUrlFor(path: string): string {
    return `ws://${this.#host}:${this.#port}${path}`;
  }

  /** Sockets currently open. */
  get sockets(): SimSocket[] {
    return [...this.#sockets.values()].filter((s) => s.isOpen);
  }

  /** Replaces the frame log sink (or removes it with undefined). */
  setLog(sink: SimLogSink | undefined): void {
    this.#logSink = sink;
  }

  protected abstract onHttp(req: SimHttpRequest): SimHttpResponse | Promise<SimHttpResponse>;
  protected abstract onConnection(socket: SimSocket, req: IncomingMessage): void;
  protected abstract onText(socket: SimSocket, text: string): void;
  protected onClosed(_socket: SimSocket): void {}

  protected log(entry: Omit<SimLogEntry, 'at'>): void {
    this.#logSink?.({ at: Date.now(), ...entry });
  }

  /** Sends a text frame; false if the socket is no longer open. */
  protected sendText(socket: SimSocket, text: string, note?: string): boolean {
    if (!socket.isOpen) return false;
    socket.ws.send(text);
    this.log({ direction: 'out', channel: 'ws', socketId: socket.id, text, ...(note ? { note } : {}) });
    return true;
  }

  /** Drops a connection the way a venue does: TCP gone, no close frame (the client sees 1006). */
  protected terminate(socket: SimSocket, why: string): void {
    if (socket.ws.readyState === WebSocket.CLOSED) return;
    this.log({ direction: 'event', channel: 'ws', socketId: socket.id, text: why, note: 'terminated' });
    socket.ws.terminate();
  }

  /** Terminates every open socket (no close frames). Returns how many were dropped. */
  dropConnections(): number {
    const open = this.sockets;
    for (const s of open) this.terminate(s, 'dropConnections()');
    return open.length;
  }

  /**
   * A network gap: drops every socket now and answers every WebSocket upgrade with HTTP 503 until resume(). The
   * venue keeps living meanwhile (lifecycles play on; their pushes reach nobody), and REST stays up, as when a
   * collector's socket path is cut. Returns how many sockets were dropped.
   */
  interrupt(): number {
    this.#interrupted = true;
    this.log({ direction: 'event', channel: 'ws', text: 'interrupt()', note: 'gap' });
    const n = this.dropConnections();
    this.changed();
    return n;
  }

  /** Ends a gap begun by interrupt(): upgrades are accepted again. */
  resume(): void {
    this.#interrupted = false;
    this.log({ direction: 'event', channel: 'ws', text: 'resume()', note: 'gap' });
    this.changed();
  }

  /** True between interrupt() and resume(). */
  get interrupted(): boolean {
    return this.#interrupted;
  }

  /** Wakes every waitUntil() to re-check its condition. Call after any state change a test may wait on. */
  protected changed(): void {
    for (const w of [...this.#waiters]) w();
  }

  /** Resolves once `predicate()` holds; rejects after timeoutMs with a message naming `what`. */
  waitUntil(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!predicate()) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`simulator: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
    });
  }

  /** Terminates every socket and closes both servers. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const s of this.#sockets.values()) {
      s.clearTimers();
      s.ws.terminate();
    }
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
    this.#http.closeAllConnections();
    await new Promise<void>((resolve) => this.#http.close(() => resolve()));
    this.changed();
  }

  async #serveHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://sim');
    const request: SimHttpRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
    };
    this.log({ direction: 'in', channel: 'http', text: `${request.method} ${req.url ?? '/'}` });
    let response: SimHttpResponse;
    try {
      response = await this.onHttp(request);
    } catch (error) {
      response = { status: 500, body: JSON.stringify({ error: String(error) }) };
    }
    this.log({ direction: 'out', channel: 'http', text: response.body, note: String(response.status) });
    res.writeHead(response.status, { 'content-type': 'application/json', ...response.headers });
    res.end(response.body);
  }

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = new URL(req.url ?? '/', 'http://sim').pathname;
    if (this.#stopped || !this.#wsPaths.has(path)) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (this.#interrupted) {
      this.log({ direction: 'event', channel: 'ws', text: `upgrade ${path} refused during interrupt()`, note: 'refused' });
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      const sim = new SimSocket(this.#nextSocketId++, path, ws);
      this.#sockets.set(sim.id, sim);
      ws.on('error', () => {
        /* the close event follows; nothing to do here */
      });
      ws.on('message', (data: WebSocket.RawData) => {
        const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
        sim.received++;
        this.log({ direction: 'in', channel: 'ws', socketId: sim.id, text });
        this.onText(sim, text);
        this.changed();
      });
      ws.on('close', () => {
        sim.clearTimers();
        this.#sockets.delete(sim.id);
        this.onClosed(sim);
        this.changed();
      });
      this.onConnection(sim, req);
      this.changed();
    });
  }
}
