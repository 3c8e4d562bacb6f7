import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { BlotterFeed, MAX_WINDOW, parseStatuses, SORT_FIELDS, type BlotterBatch, type BlotterQuery, type FeedStore, type SortField } from './feed.js';
import { BLOTTER_HTML } from './page.js';

/**
 * The web blotter's routes on the query API's server (docs/blotter.md):
 *
 * | path | what |
 * |---|---|
 * | `/` | the page (HTML and CSS inline) |
 * | `/blotter/app.js` | the page's script, compiled from `src/blotter/web/app.ts` to `dist/web/app.js` |
 * | `/blotter/api/window?venue&account&status&symbol&sort&dir&offset&limit` | one window of the table + counts |
 * | `/blotter/api/order/<orderKey>` | one order's every field and its history |
 * | `/blotter/events` | Server-Sent Events: `hello` (counts) then `changes` batches from the store |
 *
 * Everything is served from this process: no CDN, no framework, nothing fetched from the internet.
 */

export type BlotterRoute = 'blotter' | 'events';

/** Where `tsc -b` writes the page's script: services/order-state/dist/web/app.js, from src/ and from dist/ alike. */
const SCRIPT_FILE = fileURLToPath(new URL('../../dist/web/app.js', import.meta.url));

export interface BlotterRoutes {
  /** the route name when `path` is the blotter's, else undefined */
  route(path: string): BlotterRoute | undefined;
  /** answers a GET on one of the blotter's paths (route() said so) */
  answer(path: string, query: URLSearchParams, req: IncomingMessage, res: ServerResponse): void;
  /** open event streams */
  readonly streams: number;
  /** ends every event stream and stops following the store */
  close(): void;
}

export interface BlotterDeps {
  store: FeedStore;
  isReady(): boolean;
  flushMs?: number;
  heartbeatMs?: number;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

/** Parses a window request; `problems` lists what is wrong (the page never sends a wrong one). */
export function parseWindowQuery(params: URLSearchParams): { query: BlotterQuery } | { problems: string[] } {
  const problems: string[] = [];
  const text = (name: string) => {
    const v = params.get(name);
    return v === null || v.trim() === '' ? undefined : v.trim();
  };
  const int = (name: string, dflt: number, max: number) => {
    const v = text(name);
    if (v === undefined) return dflt;
    if (!/^\d{1,9}$/.test(v) || Number(v) > max) {
      problems.push(`${name}: must be a whole number from 0 to ${max}`);
      return dflt;
    }
    return Number(v);
  };
  const statusText = text('status');
  const statuses = statusText === undefined ? undefined : parseStatuses(statusText);
  if (statusText !== undefined && !statuses) problems.push(`status: unknown status in "${statusText}"`);
  const sort = text('sort') ?? 'updatedAt';
  if (!(SORT_FIELDS as readonly string[]).includes(sort)) problems.push(`sort: must be one of ${SORT_FIELDS.join(', ')}`);
  const dir = text('dir') ?? (sort === 'updatedAt' ? 'desc' : 'asc');
  if (dir !== 'asc' && dir !== 'desc') problems.push('dir: must be asc or desc');
  const query: BlotterQuery = {
    venue: text('venue'),
    account: text('account'),
    statuses: statuses && statuses.size > 0 ? statuses : undefined,
    symbol: text('symbol'),
    sort: sort as SortField,
    desc: dir === 'desc',
    offset: int('offset', 0, 100_000_000),
    limit: int('limit', 100, MAX_WINDOW),
  };
  return problems.length > 0 ? { problems } : { query };
}

export function createBlotterRoutes(deps: BlotterDeps): BlotterRoutes {
  const feed = new BlotterFeed(deps.store, deps.flushMs === undefined ? {} : { flushMs: deps.flushMs });
  const streams = new Set<ServerResponse>();
  let script: string | undefined;

  function events(res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const write = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    res.write('retry: 2000\n\n');
    write('hello', { ready: deps.isReady(), counts: feed.counts() });
    const unsubscribe = feed.subscribe((batch: BlotterBatch) => write('changes', { ready: deps.isReady(), ...batch }));
    // A comment now and then keeps proxies from closing an idle stream and lets the client see a dead server.
    const heartbeat = setInterval(() => res.write(': ping\n\n'), deps.heartbeatMs ?? 15_000);
    heartbeat.unref();
    streams.add(res);
    const end = () => {
      clearInterval(heartbeat);
      unsubscribe();
      streams.delete(res);
    };
    // (not req's 'close': an IncomingMessage closes as soon as its empty body has been read)
    res.on('close', end);
  }

  return {
    get streams() {
      return streams.size;
    },
    route(path) {
      if (path === '/' || path === '/index.html' || path === '/blotter/app.js' || path === '/blotter/api/window') return 'blotter';
      if (path.startsWith('/blotter/api/order/') && path.length > '/blotter/api/order/'.length) return 'blotter';
      if (path === '/blotter/events') return 'events';
      if (path === '/favicon.ico') return 'blotter';
      return undefined;
    },
    answer(path, params, req, res) {
      if (path === '/' || path === '/index.html') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        return void res.end(BLOTTER_HTML);
      }
      if (path === '/favicon.ico') {
        res.writeHead(204, { 'cache-control': 'max-age=86400' });
        return void res.end();
      }
      if (path === '/blotter/app.js') {
        try {
          script ??= readFileSync(SCRIPT_FILE, 'utf8');
        } catch {
          return json(res, 503, { error: 'NOT_READY', message: `the blotter's script is not built (${SCRIPT_FILE}); run npm run build` });
        }
        res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' });
        return void res.end(script);
      }
      if (path === '/blotter/events') return events(res);
      if (path === '/blotter/api/window') {
        const parsed = parseWindowQuery(params);
        if ('problems' in parsed) return json(res, 400, { error: 'BAD_REQUEST', message: 'invalid window parameters', problems: parsed.problems });
        return json(res, 200, { ready: deps.isReady(), ...feed.window(parsed.query) });
      }
      let key: string;
      try {
        key = decodeURIComponent(path.slice('/blotter/api/order/'.length));
      } catch {
        return json(res, 400, { error: 'BAD_REQUEST', message: 'malformed percent-encoding in the order key' });
      }
      const detail = feed.detail(key);
      if (!detail) return json(res, 404, { error: 'ORDER_NOT_FOUND', message: `no order with key ${JSON.stringify(key)}` });
      return json(res, 200, detail);
    },
    close() {
      feed.close();
      for (const res of streams) res.destroy();
      streams.clear();
    },
  };
}
