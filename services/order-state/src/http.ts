import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { AppError, errorMessage, type Logger } from '@orderstream/kit';

/** A failed listen as one clear AppError (HTTP_LISTEN_FAILED, exit 71): which address, and why in words. */
function listenError(error: NodeJS.ErrnoException, host: string, port: number): AppError {
  const why =
    error.code === 'EADDRINUSE' ? 'the port is already in use (another process listens on it)'
    : error.code === 'EADDRNOTAVAIL' ? 'the address is not one of this machine\'s'
    : error.code === 'EACCES' ? 'no permission to listen on this port'
    : error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN' ? 'the host name does not resolve'
    : errorMessage(error);
  return new AppError('HTTP_LISTEN_FAILED', `query API cannot listen on ${host}:${port}: ${why} (${error.code ?? 'error'}); set ORDER_STATE_HTTP_HOST / ORDER_STATE_HTTP_PORT`, { cause: error });
}
import { LIVE_STATUSES, ORDER_STATUSES, TERMINAL_STATUSES, type OrderState, type OrderStatus } from '@orderstream/schemas';
import { PROMETHEUS_CONTENT_TYPE, type QueryRoute } from './metrics.js';
import { createBlotterRoutes, type BlotterRoutes } from './blotter/routes.js';
import type { FeedStore } from './blotter/feed.js';

/**
 * The order-state query API (docs/query-api.md): one order, a filtered page of orders, health, readiness and
 * metrics, over node:http. Every handler is synchronous and reads the in-memory store; nothing here writes.
 */

/** The `error` field of every JSON error response; each is documented in docs/query-api.md. */
export const QUERY_ERROR_CODES = ['BAD_REQUEST', 'NOT_FOUND', 'ORDER_NOT_FOUND', 'METHOD_NOT_ALLOWED', 'NOT_READY', 'INTERNAL'] as const;
export type QueryErrorCode = (typeof QUERY_ERROR_CODES)[number];

/** What the API reads orders from (OrderStore fits). */
export interface QueryStore {
  get(key: string): OrderState | undefined;
  values(): Iterable<OrderState>;
}

export interface QueryServerDeps {
  store: QueryStore;
  /** restored from orders.state.v1 and consuming: /readyz is 200 and /orders answers */
  isReady(): boolean;
  /** the process works (else /healthz is 503 and an orchestrator should restart it) */
  isHealthy(): boolean;
  /** the Prometheus exposition text */
  metrics(): string;
  logger: Logger;
  /** called once per answered request, e.g. with OrderStateMetrics.observeRequest */
  onRequest?(route: QueryRoute, status: number, seconds: number): void;
}

export interface QueryServerOptions {
  /** interface to listen on; default 127.0.0.1 */
  host?: string;
  /** 0 picks a free port */
  port: number;
  /**
   * The web blotter at `/` (docs/blotter.md); default on when the store can be followed (OrderStore can).
   * `flushMs`: how often live changes are sent to the page.
   */
  blotter?: boolean | { flushMs?: number };
}

export interface QueryServer {
  start(): Promise<{ url: string; port: number }>;
  stop(): Promise<void>;
}

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

const JSON_TYPE = 'application/json; charset=utf-8';
const STATUS_WORDS = ['live', 'terminal', ...ORDER_STATUSES] as const;
type StatusWord = (typeof STATUS_WORDS)[number];
const STATUS_BY_WORD = new Map<string, StatusWord>(STATUS_WORDS.map((w) => [w.toLowerCase(), w]));

/** A cursor is the last orderKey of a page, tagged and base64url-encoded; the next page starts after it. */
const CURSOR_TAG = 'o1:';

export function encodeCursor(afterKey: string): string {
  return Buffer.from(CURSOR_TAG + afterKey, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): string | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  // Re-encoding must give the same text back: rejects bytes that were not UTF-8 and non-canonical padding bits.
  if (!text.startsWith(CURSOR_TAG) || encodeCursor(text.slice(CURSOR_TAG.length)) !== cursor) return undefined;
  return text.slice(CURSOR_TAG.length);
}

/** One value per parameter, so a repeated one is a problem, not a silent pick. */
const single = () =>
  z
    .array(z.string())
    .max(1, { error: 'must be given at most once' })
    .transform((values) => values[0] as string);
const nonEmpty = () => single().pipe(z.string().min(1, { error: 'must not be empty' }));

const ordersQuerySchema = z.strictObject({
  venue: nonEmpty().optional(),
  account: nonEmpty().optional(),
  status: z
    .array(z.string())
    .transform((values) => values.flatMap((v) => v.split(',')))
    .pipe(
      z.array(
        z.string().transform((word, ctx) => {
          const known = STATUS_BY_WORD.get(word.toLowerCase());
          if (known) return known;
          ctx.issues.push({
            code: 'custom',
            input: word,
            message: word === '' ? 'empty status word' : `unknown status "${word}" (expected live, terminal or one of ${ORDER_STATUSES.join(', ')})`,
          });
          return z.NEVER;
        }),
      ),
    )
    .optional(),
  limit: single()
    .pipe(
      z
        .string()
        .regex(/^\d{1,7}$/, { error: `must be a whole number from 1 to ${MAX_LIMIT}` })
        .transform(Number)
        .pipe(z.number().min(1, { error: `must be from 1 to ${MAX_LIMIT}` }).max(MAX_LIMIT, { error: `must be from 1 to ${MAX_LIMIT}` })),
    )
    .default(DEFAULT_LIMIT),
  cursor: nonEmpty()
    .transform((cursor, ctx) => {
      const after = decodeCursor(cursor);
      if (after !== undefined) return after;
      ctx.issues.push({ code: 'custom', input: cursor, message: 'is not a cursor this API returned' });
      return z.NEVER;
    })
    .optional(),
});

/** A validated /orders query: which orders, and which page. */
export interface OrdersQuery {
  venue?: string;
  account?: string;
  /** undefined: every status */
  statuses?: ReadonlySet<OrderStatus>;
  limit: number;
  /** the page starts after this orderKey */
  after?: string;
}

/** Problems as `name: message`, one per issue; unknown parameters one each. */
function problemsOf(error: z.ZodError): string[] {
  const problems: string[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') for (const key of issue.keys) problems.push(`${key}: unknown parameter`);
    else problems.push(`${String(issue.path[0] ?? 'query')}: ${issue.message}`);
  }
  return problems;
}

/** Parses the /orders query parameters; `problems` lists every one that is wrong. */
export function parseOrdersQuery(params: Map<string, string[]>): { query: OrdersQuery } | { problems: string[] } {
  const result = ordersQuerySchema.safeParse(Object.fromEntries(params));
  if (!result.success) return { problems: problemsOf(result.error) };
  const { venue, account, status, limit, cursor } = result.data;
  let statuses: Set<OrderStatus> | undefined;
  if (status) {
    statuses = new Set();
    for (const word of status) {
      if (word === 'live') for (const s of LIVE_STATUSES) statuses.add(s);
      else if (word === 'terminal') for (const s of TERMINAL_STATUSES) statuses.add(s);
      else statuses.add(word);
    }
  }
  return { query: { venue, account, statuses, limit, after: cursor } };
}

export interface OrdersPage {
  orders: OrderState[];
  /** orders on this page */
  count: number;
  /** orders matching the filters in the whole store (every page) */
  total: number;
  nextCursor: string | null;
}

const keyOf = (s: OrderState) => s.order.orderKey;

/**
 * One page of the orders matching `query`, in orderKey order. One pass over the store: O(n log limit) time and
 * at most limit + 1 references kept (a max-heap of the smallest keys after the cursor), whatever the store size.
 */
export function selectOrders(states: Iterable<OrderState>, query: OrdersQuery): OrdersPage {
  const { venue, account, statuses, limit, after } = query;
  const cap = limit + 1; // one more than the page, to know whether another page follows
  const heap: OrderState[] = [];
  let total = 0;
  for (const state of states) {
    const o = state.order;
    if ((venue !== undefined && o.venue !== venue) || (account !== undefined && o.account !== account) || (statuses && !statuses.has(o.status))) continue;
    total++;
    const key = o.orderKey;
    if (after !== undefined && key <= after) continue;
    if (heap.length < cap) {
      heap.push(state);
      siftUp(heap, heap.length - 1);
    } else if (key < keyOf(heap[0] as OrderState)) {
      heap[0] = state;
      siftDown(heap, 0);
    }
  }
  heap.sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
  const more = heap.length > limit;
  if (more) heap.length = limit;
  const last = heap[heap.length - 1];
  return { orders: heap, count: heap.length, total, nextCursor: more && last ? encodeCursor(keyOf(last)) : null };
}

/** Max-heap on orderKey: the root is the largest key kept. */
function siftUp(heap: OrderState[], i: number): void {
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (keyOf(heap[parent] as OrderState) >= keyOf(heap[i] as OrderState)) return;
    [heap[parent], heap[i]] = [heap[i] as OrderState, heap[parent] as OrderState];
    i = parent;
  }
}

function siftDown(heap: OrderState[], i: number): void {
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let largest = i;
    if (l < heap.length && keyOf(heap[l] as OrderState) > keyOf(heap[largest] as OrderState)) largest = l;
    if (r < heap.length && keyOf(heap[r] as OrderState) > keyOf(heap[largest] as OrderState)) largest = r;
    if (largest === i) return;
    [heap[largest], heap[i]] = [heap[i] as OrderState, heap[largest] as OrderState];
    i = largest;
  }
}

/** Query parameters, every value percent-decoded (`+` is a space); undefined when the encoding is malformed. */
function parseQueryString(qs: string): Map<string, string[]> | undefined {
  const params = new Map<string, string[]>();
  if (qs === '') return params;
  for (const pair of qs.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decode(eq < 0 ? pair : pair.slice(0, eq));
    const value = decode(eq < 0 ? '' : pair.slice(eq + 1));
    if (name === undefined || value === undefined) return undefined;
    const list = params.get(name);
    if (list) list.push(value);
    else params.set(name, [value]);
  }
  return params;
}

function decode(text: string, plusIsSpace = true): string | undefined {
  try {
    return decodeURIComponent(plusIsSpace ? text.replaceAll('+', ' ') : text);
  } catch {
    return undefined;
  }
}

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: QueryErrorCode,
    message: string,
    readonly problems?: string[],
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, JSON_TYPE, JSON.stringify(body));
}

function sendProblem(res: ServerResponse, p: HttpProblem): void {
  sendJson(res, p.status, p.problems ? { error: p.code, message: p.message, problems: p.problems } : { error: p.code, message: p.message });
}

export function createQueryServer(deps: QueryServerDeps, options: QueryServerOptions): QueryServer {
  const host = options.host ?? '127.0.0.1';
  const logger = deps.logger.child({ component: 'query-api' });
  let server: Server | undefined;
  const blotterWanted = options.blotter ?? true;
  const followable = typeof (deps.store as Partial<FeedStore>).subscribe === 'function';
  let blotter: BlotterRoutes | undefined;

  function requireReady(): void {
    if (!deps.isReady()) throw new HttpProblem(503, 'NOT_READY', 'the store is still being restored from orders.state.v1; retry shortly');
  }

  function routeOf(path: string): QueryRoute {
    if (path === '/orders') return 'orders';
    if (path.startsWith('/orders/') && path.length > '/orders/'.length) return 'order';
    if (path === '/healthz' || path === '/readyz' || path === '/metrics') return path.slice(1) as QueryRoute;
    return 'unknown';
  }

  /** Answers a GET on a known route; throws HttpProblem for an error answer. */
  function answer(name: QueryRoute, path: string, query: string, res: ServerResponse): void {
    switch (name) {
      case 'order': {
        const key = decode(path.slice('/orders/'.length), false);
        if (key === undefined) throw new HttpProblem(400, 'BAD_REQUEST', 'malformed percent-encoding in the order key');
        requireReady();
        const state = deps.store.get(key);
        if (!state) throw new HttpProblem(404, 'ORDER_NOT_FOUND', `no order with key ${JSON.stringify(key)}`);
        return sendJson(res, 200, state);
      }
      case 'orders': {
        const params = parseQueryString(query);
        if (!params) throw new HttpProblem(400, 'BAD_REQUEST', 'malformed percent-encoding in the query string');
        const parsed = parseOrdersQuery(params);
        if ('problems' in parsed) throw new HttpProblem(400, 'BAD_REQUEST', 'invalid query parameters', parsed.problems);
        requireReady();
        return sendJson(res, 200, selectOrders(deps.store.values(), parsed.query));
      }
      case 'healthz':
        return deps.isHealthy() ? sendJson(res, 200, { status: 'ok' }) : sendJson(res, 503, { status: 'unhealthy' });
      case 'readyz':
        return deps.isReady() ? sendJson(res, 200, { status: 'ready' }) : sendJson(res, 503, { status: 'restoring' });
      case 'metrics':
        return send(res, 200, PROMETHEUS_CONTENT_TYPE, deps.metrics());
      case 'unknown':
        throw new HttpProblem(404, 'NOT_FOUND', `no such path: ${path}`);
    }
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now();
    // Bodies are never read (GET only); drain any so a keep-alive connection stays usable.
    req.resume();
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const path = q < 0 ? target : target.slice(0, q);
    const page = blotter?.route(path);
    const name = page ?? routeOf(path);
    let failure: unknown;
    try {
      if (name !== 'unknown' && req.method !== 'GET') {
        res.setHeader('allow', 'GET');
        throw new HttpProblem(405, 'METHOD_NOT_ALLOWED', `${req.method ?? '?'} is not allowed on ${path}; use GET`);
      }
      if (page && blotter) blotter.answer(path, new URLSearchParams(q < 0 ? '' : target.slice(q + 1)), req, res);
      else answer(name, path, q < 0 ? '' : target.slice(q + 1), res);
    } catch (error) {
      if (error instanceof HttpProblem) sendProblem(res, error);
      else {
        failure = error;
        if (!res.headersSent) sendJson(res, 500, { error: 'INTERNAL', message: 'internal error' });
        else res.destroy();
      }
    }
    const seconds = (performance.now() - started) / 1000;
    const line = { method: req.method, url: target, status: res.statusCode, ms: Math.round(seconds * 1e6) / 1e3 };
    if (failure !== undefined) logger.warn({ ...line, err: failure }, `query api request failed: ${errorMessage(failure)}`);
    else logger.debug(line, 'query api request');
    deps.onRequest?.(name, res.statusCode, seconds);
  }

  return {
    async start() {
      if (server) throw new Error('query server already started');
      const s = createServer(handle);
      // A request Node cannot parse (bad request line, oversized headers): answer 400 if the socket allows it.
      s.on('clientError', (error: NodeJS.ErrnoException, socket) => {
        logger.debug({ code: error.code, err: error }, 'query api: unparsable request');
        if (error.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
        const status = error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
        socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      });
      await new Promise<void>((resolve, reject) => {
        const fail = (error: NodeJS.ErrnoException) => reject(listenError(error, host, options.port));
        s.once('error', fail);
        s.listen(options.port, host, () => {
          s.off('error', fail);
          resolve();
        });
      });
      server = s;
      if (blotterWanted !== false && followable) {
        blotter = createBlotterRoutes({
          store: deps.store as QueryStore & FeedStore,
          isReady: deps.isReady,
          ...(typeof blotterWanted === 'object' && blotterWanted.flushMs !== undefined ? { flushMs: blotterWanted.flushMs } : {}),
        });
      }
      const { port } = s.address() as AddressInfo;
      const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
      logger.info({ url }, 'query api listening');
      return { url, port };
    },
    async stop() {
      const s = server;
      if (!s) return;
      server = undefined;
      // Event streams never end by themselves: end them, or close() would wait for them forever.
      blotter?.close();
      blotter = undefined;
      await new Promise<void>((resolve, reject) => {
        s.close((error) => (error ? reject(error) : resolve()));
        s.closeIdleConnections();
      });
    },
  };
}
