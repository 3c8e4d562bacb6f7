import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VenueError } from '@orderstream/kit';
import {
  createRestIO, formatRestRequest, parseRestRequest, reconciledEvent, reconciledSnapshotOf, runReconciliation, TokenBucket,
} from './reconcile.js';
import type { LiveOrderRef, ReconcileIO, VenueReconciler } from './types.js';

describe('rest-request header', () => {
  it('names method, path and parameters, and reads back the same', () => {
    const info = { method: 'GET', path: '/future/trade/v1/order/list', params: { state: 'UNFINISHED', page: '2', symbol: 'btc_usdt' } };
    const text = formatRestRequest(info);
    expect(text).toBe('GET /future/trade/v1/order/list?state=UNFINISHED&page=2&symbol=btc_usdt');
    expect(parseRestRequest(text)).toEqual(info);
    expect(parseRestRequest('GET /api/v3/orders')).toEqual({ method: 'GET', path: '/api/v3/orders', params: {} });
    expect(() => parseRestRequest('/no-method')).toThrow(RangeError);
  });
});

describe('TokenBucket', () => {
  it('lets a burst of `capacity` through, then spaces calls at the refill rate', async () => {
    let now = 0;
    const bucket = new TokenBucket(3, 10, () => now);
    for (let i = 0; i < 3; i++) await bucket.take(1);
    expect(bucket.waits).toBe(0);
    const started = Date.now();
    const taking = bucket.take(1); // needs 100 ms of refill at 10/s
    now += 100;
    await taking;
    expect(bucket.waits).toBe(1);
    expect(bucket.waitedMs).toBe(100);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
  });

  it('refuses a bucket that could never refill', () => {
    expect(() => new TokenBucket(0, 1)).toThrow(RangeError);
    expect(() => new TokenBucket(1, 0)).toThrow(RangeError);
  });
});

/** A venue reconciler over a fixed book: what each call returns is what the venue knows. */
function bookReconciler(book: { open: string[]; history?: string[]; detail: Record<string, 'found' | 'unknown' | 'fail'> }) {
  const asked: string[] = [];
  const r: VenueReconciler = {
    rateLimit: { capacity: 10, refillPerSec: 10 },
    openOrders: async () => {
      asked.push('open');
      return book.open;
    },
    orderDetail: async (_io, ref) => {
      asked.push(`detail:${ref.orderId}`);
      const d = book.detail[ref.orderId] ?? 'unknown';
      if (d === 'fail') throw new VenueError('VENUE_HTTP_ERROR', 'HTTP 500', { retriable: true });
      return d;
    },
    ...(book.history ? { history: async (_io: ReconcileIO, since: number) => (asked.push(`history:${since}`), book.history as string[]) } : {}),
  };
  return { r, asked };
}

const io: ReconcileIO = { signal: new AbortController().signal, rest: () => Promise.reject(new Error('unused')), event: () => undefined };
const live = (orderId: string, status = 'NEW'): LiveOrderRef => ({ orderId, symbol: 'BTCUSDT', status });

describe('runReconciliation', () => {
  it('asks detail only for suspects neither open orders nor history named; unknown and failed ones are not kept open', async () => {
    const { r, asked } = bookReconciler({ open: ['1', '2'], history: ['3'], detail: { '4': 'found', '5': 'unknown', '6': 'fail' } });
    const report = await runReconciliation(r, io, {
      suspects: [live('1'), live('3'), live('4'), live('5'), live('6')], sinceMs: 10_000, maxDetailLookups: 10, historyMarginMs: 1_000, now: () => 50_000,
    });
    expect(asked).toEqual(['open', 'history:9000', 'detail:4', 'detail:5', 'detail:6']);
    expect(report).toMatchObject({ asOfMs: 50_000, openOrders: 2, history: 1, historySinceMs: 9_000, lookups: 3, unknown: ['5'], failed: ['6'], deferred: [] });
    // Everything the venue answered about is listed (an answer that changed nothing must not get an order closed).
    expect(report.snapshotOrderIds).toEqual(['1', '2', '3', '4']);
  });

  it('bounds detail lookups: live suspects first, the rest deferred and kept open in the snapshot', async () => {
    const { r, asked } = bookReconciler({ open: [], detail: { a: 'found', b: 'found', c: 'found' } });
    const report = await runReconciliation(r, io, {
      suspects: [live('c', 'CLOSED_UNKNOWN'), live('a'), live('b')], maxDetailLookups: 2, historyMarginMs: 0,
    });
    expect(asked).toEqual(['open', 'detail:a', 'detail:b']); // no history: the gap start is unknown
    expect(report.deferred).toEqual(['c']);
    expect(report.snapshotOrderIds).toEqual(['a', 'b', 'c']);
    expect(report.history).toBeNull();
    const event = reconciledEvent('reconnect', report);
    expect(event.reason).toMatch(/detail lookup bound hit: 1 order\(s\) deferred/);
    expect(event.details).toMatchObject({ boundHit: true, deferred: ['c'] });
  });

  it('fails as a whole when the open-orders list cannot be read completely', async () => {
    const r: VenueReconciler = {
      rateLimit: { capacity: 1, refillPerSec: 1 },
      openOrders: () => Promise.reject(new VenueError('VENUE_RATE_LIMITED', 'HTTP 429', { retriable: true })),
      orderDetail: () => Promise.resolve('found'),
    };
    await expect(runReconciliation(r, io, { suspects: [live('1')], maxDetailLookups: 5, historyMarginMs: 0 })).rejects.toThrow(/429/);
  });

  it('a programming error in a detail lookup is not taken for the venue\'s answer', async () => {
    const r: VenueReconciler = {
      rateLimit: { capacity: 1, refillPerSec: 1 },
      openOrders: () => Promise.resolve([]),
      orderDetail: () => Promise.reject(new TypeError('x is undefined')),
    };
    await expect(runReconciliation(r, io, { suspects: [live('1')], maxDetailLookups: 5, historyMarginMs: 0 })).rejects.toThrow(TypeError);
  });
});

describe('reconciled event → snapshot', () => {
  it('carries the open orders as of the request time in µs, which the normalizer reads back', async () => {
    const { r } = bookReconciler({ open: ['7', '8'], detail: {} });
    const report = await runReconciliation(r, io, { suspects: [], maxDetailLookups: 5, historyMarginMs: 0, now: () => 1_700_000_000_123 });
    const text = JSON.stringify({ ...reconciledEvent('start', report), venue: 'xt' });
    expect(reconciledSnapshotOf(text)).toEqual({ asOf: 1_700_000_000_123_000, orderIds: ['7', '8'] });
    expect(reconciledSnapshotOf(JSON.stringify({ event: 'subscribed', venue: 'xt' }))).toBeUndefined();
    expect(reconciledSnapshotOf('{"event":"reconciled"')).toBeUndefined();
  });
});

describe('createRestIO against a real HTTP server', () => {
  let server: Server;
  let base: string;
  const script: { status: number; body: string; headers?: Record<string, string>; delayMs?: number }[] = [];
  let hits = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      hits++;
      const next = script.shift() ?? { status: 200, body: '{"ok":true}' };
      setTimeout(() => {
        res.writeHead(next.status, { 'content-type': 'application/json', ...next.headers });
        res.end(next.body);
      }, next.delayMs ?? 0);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  function makeIO(maxAttempts = 3, timeoutMs = 2_000) {
    const published: { body: string; request: string; status: number }[] = [];
    const stats = { calls: 0, retried: 0, failures: 0 };
    const restIO = createRestIO({
      bucket: new TokenBucket(100, 100),
      publish: (body, request, status) => published.push({ body: body.toString('utf8'), request, status }),
      event: () => undefined,
      signal: new AbortController().signal,
      timeoutMs,
      maxAttempts,
      stats,
      backoff: { initialMs: 10, maxMs: 50, jitter: 0 },
    });
    return { restIO, published, stats };
  }
  const call = { request: { method: 'GET', path: '/orders', params: { page: '1' } }, url: '', init: { headers: { 'x-api-key': 'secret-key' } } };

  it('publishes every answer, retries 429 after Retry-After and 5xx, and returns the first good answer', async () => {
    script.push({ status: 429, body: '{"code":-1003}', headers: { 'retry-after': '0' } }, { status: 503, body: 'busy' }, { status: 200, body: '{"orders":[]}' });
    const { restIO, published, stats } = makeIO();
    const answer = await restIO.rest({ ...call, url: `${base}/orders?page=1&signature=abc` });
    expect(answer.status).toBe(200);
    expect(answer.text).toBe('{"orders":[]}');
    expect(published.map((p) => [p.status, p.body, p.request])).toEqual([
      [429, '{"code":-1003}', 'GET /orders?page=1'],
      [503, 'busy', 'GET /orders?page=1'],
      [200, '{"orders":[]}', 'GET /orders?page=1'],
    ]);
    expect(stats).toEqual({ calls: 3, retried: 2, failures: 0 });
  });

  it('gives up after maxAttempts with VENUE_RATE_LIMITED, retriable, naming no secret', async () => {
    script.push(...Array.from({ length: 3 }, () => ({ status: 429, body: 'slow down', headers: { 'retry-after': '0' } })));
    const { restIO, stats } = makeIO(3);
    const error = await restIO.rest({ ...call, url: `${base}/orders?page=1&signature=abc` }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VenueError);
    expect(error).toMatchObject({ code: 'VENUE_RATE_LIMITED', retriable: true });
    expect(String((error as Error).message)).not.toMatch(/signature|abc|secret/);
    expect(stats.failures).toBe(1);
  });

  it('hands a 4xx answer back to the venue code (it knows what its error bodies mean)', async () => {
    script.push({ status: 400, body: '{"code":-1022,"msg":"Signature for this request is not valid."}' });
    const { restIO, published } = makeIO();
    const answer = await restIO.rest({ ...call, url: `${base}/orders` });
    expect(answer.status).toBe(400);
    expect(published).toHaveLength(1);
  });

  it('times out a silent venue and says so without the URL', async () => {
    script.push({ status: 200, body: 'late', delayMs: 1_000 }, { status: 200, body: 'late', delayMs: 1_000 });
    const { restIO, published } = makeIO(2, 200);
    const error = await restIO.rest({ ...call, url: `${base}/orders?signature=abc` }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'VENUE_HTTP_ERROR', message: 'GET /orders?page=1: no answer within 200 ms (2 attempts)' });
    expect(published).toEqual([]);
    expect(hits).toBeGreaterThan(0);
  });
});
