import { afterEach, describe, expect, it } from 'vitest';
import { secretString, VenueError } from '@orderstream/kit';
import { createRestIO, parseRestRequest, TokenBucket, type ReconcileOptions } from '../reconcile.js';
import type { LiveOrderRef, ReconcileIO } from '../types.js';
import { RecordingSession, type RecordedEvent } from '../sim/recording-session.js';
import { testRestContext } from '../sim/test-context.js';
import { BsxClient } from './client.js';
import { bsxSimOrderId } from './lifecycles.js';
import { bsxMapper } from './mapper.js';
import { BSX_HISTORY_PAGE_LIMIT, BSX_REST_RATE_LIMIT, BsxReconciler } from './reconciler.js';
import { BsxSimulator } from './simulator.js';

const KEY = 'rec-api-key';
const SECRET = 'rec-api-secret';
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function sim(): Promise<BsxSimulator> {
  const s = await BsxSimulator.start({ apiKey: KEY, apiSecret: SECRET });
  cleanups.push(() => s.stop());
  return s;
}

const get = (s: BsxSimulator, path: string, headers: Record<string, string> = { 'bsx-key': KEY, 'bsx-secret': SECRET }) =>
  fetch(`${s.httpUrl}${path}`, { headers }).then(async (r) => ({ status: r.status, text: await r.text(), retryAfter: r.headers.get('retry-after') }));

/** A ReconcileIO over the real framework IO, with every published answer kept. */
function io(published: { body: string; request: string; status: number }[], options: Partial<{ maxAttempts: number }> = {}): ReconcileIO {
  return createRestIO({
    bucket: new TokenBucket(100, 100),
    publish: (body, request, status) => published.push({ body: body.toString('utf8'), request, status }),
    event: () => {},
    signal: new AbortController().signal,
    timeoutMs: 5_000,
    maxAttempts: options.maxAttempts ?? 3,
    backoff: { initialMs: 10, maxMs: 20, jitter: 0 },
  });
}

const reconciler = (s: BsxSimulator, secret = SECRET) =>
  new BsxReconciler({ restUrl: s.httpUrl, apiKey: secretString().parse(KEY), apiSecret: secretString().parse(secret) });

const ref = (orderId: string): LiveOrderRef => ({ orderId, symbol: 'BTC-PERP', status: 'NEW' });

describe('BsxSimulator REST endpoints', () => {
  it('refuses a missing or wrong key pair with 401 code 16, checked on every endpoint', async () => {
    const s = await sim();
    for (const path of ['/orders', '/orders/x', '/order-history']) {
      expect(await get(s, path, {})).toMatchObject({ status: 401, text: '{"code":16,"message":"Unauthenticated","details":[]}' });
      expect((await get(s, path, { 'bsx-key': KEY, 'bsx-secret': 'wrong' })).status).toBe(401);
      expect((await get(s, path, { 'bsx-key': 'other', 'bsx-secret': SECRET })).status).toBe(401);
    }
    expect(s.stats().restUnauthenticated).toBe(9);
    expect((await get(s, '/portfolio/detail')).status).toBe(404);
  });

  it('serves open orders, an order by id (404 code 5 when unknown) and history filtered by created time', async () => {
    const s = await sim();
    const lcs = s.randomLifecycles(30, 11);
    await s.play(lcs);
    const live = s.liveOrderIds();
    expect(live.length).toBeGreaterThan(0);
    const open = JSON.parse((await get(s, '/orders')).text) as { id: string; status: string }[];
    expect(open.map((o) => o.id)).toEqual(live);
    const done = [...s.truth().values()].find((t) => t.order.status === 'DONE');
    if (!done) throw new Error('no finished order');
    const one = await get(s, `/orders/${done.order.id}`);
    expect(one.status).toBe(200);
    expect(JSON.parse(one.text)).toMatchObject({ id: done.order.id, status: 'DONE', filled_size: done.order.filled_size });
    expect(await get(s, '/orders/00000000-0000-4000-8000-000000000000')).toMatchObject({ status: 404, text: '{"code":5,"message":"order not found","details":[]}' });

    const all = JSON.parse((await get(s, '/order-history?limit=100')).text) as { id: string; created_at_ts: string }[];
    expect(all).toHaveLength(30);
    const created = all.map((o) => BigInt(o.created_at_ts));
    expect(created).toEqual([...created].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0))); // newest first
    const mid = all[10]?.created_at_ts as string;
    const since = JSON.parse((await get(s, `/order-history?start_time=${mid}`)).text) as { id: string }[];
    expect(since.map((o) => o.id)).toEqual(all.slice(0, 11).map((o) => o.id));
    const until = JSON.parse((await get(s, `/order-history?end_time=${mid}&limit=5`)).text) as { id: string }[];
    expect(until.map((o) => o.id)).toEqual(all.slice(10, 15).map((o) => o.id));
    expect((await get(s, '/order-history?start_time=yesterday')).status).toBe(400);
    expect((await get(s, '/order-history?limit=0')).status).toBe(400);

    // an order the venue "cannot tell" about: its lookup fails, and history leaves it out
    s.restFaults.knobs.failDetailFor.add(done.order.id);
    expect((await get(s, `/orders/${done.order.id}`)).status).toBe(500);
    const hidden = JSON.parse((await get(s, '/order-history?limit=100')).text) as { id: string }[];
    expect(hidden.map((o) => o.id)).not.toContain(done.order.id);
    expect(hidden).toHaveLength(29);
  });

  it('answers faults first: 429 with Retry-After and a code 8 body, then 500 with code 13', async () => {
    const s = await sim();
    s.restFaults.knobs.rateLimitNext = 1;
    s.restFaults.knobs.retryAfterSec = 2;
    s.restFaults.knobs.errorNext = 1;
    expect(await get(s, '/orders', {})).toMatchObject({ status: 429, retryAfter: '2', text: '{"code":8,"message":"too many requests","details":[]}' });
    expect(await get(s, '/orders')).toMatchObject({ status: 500, text: '{"code":13,"message":"internal error","details":[]}' });
    expect((await get(s, '/orders')).status).toBe(200);
    expect(s.restFaults.stats).toMatchObject({ rateLimited: 1, errors: 1 });
  });

  it('keeps the venue moving with nobody connected: truth and REST see orders that no socket ever saw', async () => {
    const s = await sim();
    expect(s.subscriberCount).toBe(0);
    const report = await s.play(s.randomLifecycles(5, 12));
    expect(report.deliveries).toBe(0);
    expect(s.truth().size).toBe(5);
    const hist = JSON.parse((await get(s, '/order-history')).text) as { id: string; status: string }[];
    expect(hist.map((o) => o.id).sort()).toEqual([...s.truth().keys()].sort());
  });
});

describe('BsxClient reconciler option', () => {
  it('has a reconciler only with restUrl, and refuses a restUrl that is not http(s)', () => {
    expect(BsxClient.fromConfig({ wsUrl: 'ws://127.0.0.1:1/ws', apiKey: KEY, apiSecret: SECRET }).reconciler).toBeUndefined();
    const c = BsxClient.fromConfig({ wsUrl: 'ws://127.0.0.1:1/ws', restUrl: 'https://api.bsx.exchange', apiKey: KEY, apiSecret: SECRET });
    expect(c.reconciler).toBeInstanceOf(BsxReconciler);
    expect(c.readyEvent).toBe('subscribed'); // the orders ack or the snapshot
    expect(() => BsxClient.fromConfig({ wsUrl: 'ws://127.0.0.1:1/ws', restUrl: 'ftp://x', apiKey: KEY, apiSecret: SECRET })).toThrow(/restUrl/);
  });
});

describe('BsxReconciler against the simulator', () => {
  it('open orders, detail and history: signed with the key pair, no secret in the request info, every answer published', async () => {
    const s = await sim();
    await s.play(s.randomLifecycles(20, 21));
    const published: { body: string; request: string; status: number }[] = [];
    const r = reconciler(s);
    expect(r.rateLimit).toEqual(BSX_REST_RATE_LIMIT);
    const rio = io(published);
    expect(await r.openOrders(rio)).toEqual(s.liveOrderIds());
    const done = [...s.truth().values()].find((t) => t.order.status === 'DONE');
    expect(await r.orderDetail(rio, ref(done?.order.id as string))).toBe('found');
    expect(await r.orderDetail(rio, ref('00000000-0000-4000-8000-000000000000'))).toBe('unknown');
    const ids = await r.history(rio, 0);
    expect(ids.sort()).toEqual([...s.truth().keys()].sort());
    for (const p of published) {
      expect(p.request).not.toContain(KEY);
      expect(p.request).not.toContain(SECRET);
    }
    expect(published.map((p) => parseRestRequest(p.request).path)).toEqual(['/orders', `/orders/${done?.order.id}`, '/orders/00000000-0000-4000-8000-000000000000', '/order-history']);
    expect(parseRestRequest(published[3]?.request as string).params).toEqual({ start_time: '0', limit: '100', sorted_by: 'CREATED_AT', sorting: 'DESC' });
    // the mapper maps exactly what was published
    const history = published[3] as { body: string; request: string; status: number };
    const ctx = testRestContext('bsx', history.request, history.status, { account: 'a' });
    const mapped = bsxMapper.map(history.body, ctx);
    expect(mapped.kind === 'orders' ? mapped.orders.length : -1).toBe(20);
  });

  it('history reads every page: walks back with end_time until a page is short', async () => {
    const s = await sim();
    await s.play(s.randomLifecycles(BSX_HISTORY_PAGE_LIMIT * 2 + 30, 22));
    const published: { body: string; request: string; status: number }[] = [];
    const ids = await reconciler(s).history(io(published), 0);
    expect(new Set(ids).size).toBe(BSX_HISTORY_PAGE_LIMIT * 2 + 30);
    expect(published).toHaveLength(3);
    expect(parseRestRequest(published[1]?.request as string).params.end_time).toMatch(/^\d{19}$/);
  });

  it('refusals become VenueErrors with BSX code: 401 code 16 refused, code 8 in a 200 rate limited (retriable)', async () => {
    const s = await sim();
    const e1 = await reconciler(s, 'wrong-secret').openOrders(io([])).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(VenueError);
    expect(e1).toMatchObject({ code: 'VENUE_REST_REFUSED', details: { venueCode: 16, httpStatus: 401 } });
    // an error envelope inside a 2xx body (as a venue proxy may send it)
    const fake = (async () => new Response('{"code":8,"message":"too many requests","details":[]}', { status: 200 })) as unknown as typeof fetch;
    const rio = createRestIO({ bucket: new TokenBucket(10, 10), publish: () => {}, event: () => {}, signal: new AbortController().signal, timeoutMs: 1000, maxAttempts: 1, fetch: fake });
    const e2 = await reconciler(s).openOrders(rio).catch((e: unknown) => e);
    expect(e2).toMatchObject({ code: 'VENUE_RATE_LIMITED', retriable: true, details: { venueCode: 8 } });
    // detail lookup of an untellable order: 500 after the framework's retries → throws (the run counts it failed)
    await s.play(s.randomLifecycles(3, 23));
    const id = [...s.truth().keys()][0] as string;
    s.restFaults.knobs.failDetailFor.add(id);
    const e3 = await reconciler(s).orderDetail(io([], { maxAttempts: 2 }), ref(id)).catch((e: unknown) => e);
    expect(e3).toBeInstanceOf(VenueError);
  });
});

describe('VenueSession reconciles BSX after subscribing', () => {
  async function harness(options: Partial<ReconcileOptions>, before?: (s: BsxSimulator) => Promise<() => LiveOrderRef[]>) {
    const s = await sim();
    const suspects = before ? await before(s) : () => [];
    const client = BsxClient.fromConfig({ wsUrl: s.wsUrl, restUrl: s.httpUrl, apiKey: KEY, apiSecret: SECRET });
    const rec = new RecordingSession({ client, sim: s, timeoutMs: 15_000, reconcile: { suspects, lastSeenMs: () => Date.now() - 60_000, options } });
    rec.start();
    cleanups.push(rec.stop);
    return { s, ...rec };
  }

  it('the first reconciliation publishes rest frames and a reconciled event after subscribed; its snapshot is the open orders', async () => {
    let gone = '';
    const h2 = await harness({}, async (s) => {
      await s.play(s.randomLifecycles(12, 31));
      gone = [...s.truth().values()].find((t) => t.order.status === 'DONE')?.order.id as string;
      // a finished order the state still holds live, and one the venue never had
      return () => [ref(gone), ref('00000000-0000-4000-8000-000000000009')];
    });
    await h2.until(() => h2.events().some((e) => e.event === 'reconciled'), 'reconciled');
    const names = h2.events().map((e) => e.event);
    expect(names.indexOf('subscribed')).toBeLessThan(names.indexOf('reconciled'));
    const rest = h2.frames.filter((f) => f.kind === 'rest');
    expect(rest.map((f) => f.rest?.request.split('?')[0])).toEqual([
      'GET /orders',
      'GET /order-history',
      // the finished order is answered by the history (created within the gap window): no lookup for it
      'GET /orders/00000000-0000-4000-8000-000000000009',
    ]);
    expect(rest[1]?.value.toString()).toContain(gone);
    const reconciled = h2.events().find((e) => e.event === 'reconciled') as RecordedEvent;
    const open = h2.s.liveOrderIds();
    expect(reconciled.details).toMatchObject({ openOrders: open.length, lookups: 1, unknown: ['00000000-0000-4000-8000-000000000009'], failed: [] });
    // the snapshot lists every order the venue answered about (open ones and the history's), never the unknown one
    const listed = (reconciled.details as { snapshot: { orderIds: string[] } }).snapshot.orderIds;
    expect(listed).toEqual(expect.arrayContaining([...open, gone]));
    expect(listed).not.toContain('00000000-0000-4000-8000-000000000009');
    for (const f of rest) expect(f.rest?.request).not.toContain(SECRET);
  });

  it('rate limits and server errors: data keeps flowing, the failed run is an error event, a later run succeeds', async () => {
    const h = await harness({ maxAttempts: 2 });
    h.s.restFaults.knobs.rateLimitNext = 2; // the first run's open-orders call is refused twice: the run fails
    h.s.restFaults.knobs.retryAfterSec = 0;
    await h.until(() => h.s.subscriberCount === 1, 'subscribed');
    const play = h.s.play(h.s.randomLifecycles(20, 32), { intervalMs: 5 });
    await h.until(() => h.events().some((e) => e.event === 'error' && String(e.reason).startsWith('reconciliation failed')), 'a failed run');
    const failed = h.events().find((e) => e.event === 'error') as RecordedEvent;
    expect(failed.code).toBe('VENUE_RATE_LIMITED');
    h.s.restFaults.knobs.errorNext = 1; // the retry meets a 500 once, retried inside the call
    await h.until(() => h.events().some((e) => e.event === 'reconciled'), 'a later successful run');
    await play;
    await h.until(() => h.frames.filter((f) => f.kind === 'data' && f.value.toString().includes('"type":"update"')).length > 10, 'data frames');
    expect(h.s.restFaults.stats.rateLimited).toBe(2);
    expect(h.s.restFaults.stats.errors).toBe(1);
    expect(h.session.reconcileStats.runFailures).toBe(1);
    expect(h.session.reconcileStats.runs).toBe(1);
    expect(h.events().filter((e) => e.event === 'disconnected')).toEqual([]);
  });

  it('a gap (interrupt/resume): orders that finish meanwhile are answered by REST after the resubscribe', async () => {
    const h = await harness({});
    await h.until(() => h.events().some((e) => e.event === 'reconciled'), 'first run');
    const lcs = [0, 1, 2, 3, 4, 5].map((i) => ({ id: bsxSimOrderId(33, i), productId: 'BTC-PERP', kind: 'rest' as const, side: 'BUY' as const, price: '64000', size: '0.01' }));
    await h.s.play(lcs);
    await h.until(() => h.frames.filter((f) => f.kind === 'data').length > 6, 'pushes');
    h.s.interrupt();
    h.s.finishOrders(h.s.liveOrderIds().slice(0, 3), 'fill');
    h.s.resume();
    await h.until(() => h.events().filter((e) => e.event === 'reconciled').length >= 2, 'the reconnect reconciliation');
    const last = h.frames.filter((f) => f.kind === 'rest').map((f) => f.value.toString());
    // the history since the last frame before the gap (less the margin) carries the three filled orders
    expect(last.some((t) => (t.match(/"status":"DONE"/g) ?? []).length >= 3)).toBe(true);
  });
});
