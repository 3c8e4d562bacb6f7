import WebSocket from 'ws';

/** How a venue's tests want a {@link TestSocket} to record what it receives. */
export interface TestSocketOptions {
  /**
   * Record the close reason too: `closed` is `{ code, reason }` (Loopring's simulator explains every close in the
   * reason), else just `{ code }`, so a test's `toEqual({ code })` stays exact.
   */
  closeReason?: boolean;
  /** Messages that are not answers (Loopring's text `ping` heartbeats): `replies()` and `nth()` skip them. */
  skip?: (text: string) => boolean;
  /** How many of the last messages a timed-out `until()` quotes. Default 5. */
  quoteLast?: number;
  /** Options for the `ws` client (headers, …). */
  ws?: WebSocket.ClientOptions;
  /** The open sockets of a test file: the socket is pushed here so that an `afterEach` can terminate it. */
  track?: WebSocket[];
}

/**
 * A bare WebSocket client for simulator tests: records every message as text (and whether it came as a binary
 * frame), the protocol pings it got and its close, and waits on conditions over those with a deadline (woken by
 * each event, no polling).
 */
export class TestSocket {
  readonly messages: string[] = [];
  /** Per message in `messages`: did it arrive as a binary frame? */
  readonly binary: boolean[] = [];
  /** WebSocket protocol pings received (not text `ping` messages). */
  pings = 0;
  closed: { code: number; reason?: string } | undefined;
  readonly #waiters = new Set<() => void>();

  constructor(
    readonly ws: WebSocket,
    readonly options: TestSocketOptions = {},
  ) {
    ws.on('message', (d: WebSocket.RawData, isBinary: boolean) => {
      this.messages.push(textOf(d));
      this.binary.push(isBinary);
      this.#wake();
    });
    ws.on('ping', () => {
      this.pings++;
      this.#wake();
    });
    ws.on('close', (code, reason) => {
      this.closed = options.closeReason ? { code, reason: reason.toString() } : { code };
      this.#wake();
    });
  }

  /** Opens a socket to `url` and resolves once it is open (rejects on a connection error). A subclass opens its own kind. */
  static async open<T extends TestSocket>(this: new (ws: WebSocket, options: TestSocketOptions) => T, url: string, options: TestSocketOptions = {}): Promise<T> {
    const ws = new WebSocket(url, options.ws ?? {});
    options.track?.push(ws);
    const socket = new this(ws, options);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return socket;
  }

  /** Sends a string as it is, anything else as JSON. */
  send(value: unknown): void {
    this.ws.send(typeof value === 'string' ? value : JSON.stringify(value));
  }

  /** The messages that are answers (all of them unless `skip` says otherwise). */
  replies(): string[] {
    const skip = this.options.skip;
    return skip ? this.messages.filter((m) => !skip(m)) : this.messages;
  }

  /** Resolves once `cond()` holds, checked now and after every message, ping and close; rejects after the deadline. */
  until(cond: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (cond()) {
          clearTimeout(timer);
          this.#waiters.delete(check);
          resolve();
        }
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        const last = this.messages.slice(-(this.options.quoteLast ?? 5));
        reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(last)}`));
      }, timeoutMs);
      this.#waiters.add(check);
    });
  }

  /** Waits for the n-th reply (1-based, see `skip`) and returns it. */
  async nth(n: number): Promise<string> {
    await this.until(() => this.replies().length >= n, `message #${n}`);
    return this.replies()[n - 1] as string;
  }

  /** Waits for the n-th reply (1-based) and returns it parsed as JSON. */
  async json(n: number): Promise<unknown> {
    return JSON.parse(await this.nth(n));
  }

  /** Sends a text frame and resolves with the next message received after it. */
  async ask(text: string): Promise<string> {
    const n = this.messages.length;
    this.ws.send(text);
    await this.until(() => this.messages.length > n, 'an answer');
    return this.messages[n] as string;
  }

  #wake() {
    for (const w of [...this.#waiters]) w();
  }
}

function textOf(d: WebSocket.RawData): string {
  if (Buffer.isBuffer(d)) return d.toString('utf8');
  if (Array.isArray(d)) return Buffer.concat(d).toString('utf8');
  return Buffer.from(d).toString('utf8');
}
