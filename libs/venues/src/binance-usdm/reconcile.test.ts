import { generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger, VenueError } from '@orderstream/kit';
import { createRestIO, parseRestRequest, TokenBucket, type ReconcileOptions } from '../reconcile.js';
import { RecordingSession, type RecordedEvent } from '../sim/recording-session.js';
import { testRestContext } from '../sim/test-context.js';
import type { LiveOrderRef, MapContext, ReconcileIO } from '../types.js';
import { BinanceUsdmClient, type BinanceUsdmClientConfigInput } from './client.js';
import { binanceUsdmExpectedCanonical, type BinanceUsdmLifecycle } from './lifecycles.js';
import { binanceUsdmMapper } from './mapper.js';
import { BINANCE_USDM_REST_RATE_LIMIT, BINANCE_USDM_REST_WEIGHTS } from './reconciler.js';
import { hmacSha256Hex } from './sign.js';
import { BinanceUsdmSimulator } from './simulator.js';

const KEY = 'rec-bn-key';
const SECRET = 'rec-bn-secret';
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function sim(): Promise<BinanceUsdmSimulator> {
  const s = await BinanceUsdmSimulator.start({ hmacKeys: [{ apiKey: KEY, apiSecret: SECRET }] });
  cleanups.push(() => s.stop());
  return s;
}

/** A signed GET built by hand (params as given, then recvWindow, timestamp, signature), as the docs describe it. */
async function get(s: BinanceUsdmSimulator, path: string, params: Record<string, string> = {}, o: { key?: string | null; secret?: string; timestamp?: number } = {}) {
  const query = new URLSearchParams({ ...params, recvWindow: '5000', timestamp: String(o.timestamp ?? Date.now()) }).toString();
  const signature = hmacSha256Hex(o.secret ?? SECRET, query);
  const headers: Record<string, string> = o.key === null ? {} : { 'X-MBX-APIKEY': o.key ?? KEY };
  const r = await fetch(`${s.restUrl}${path}?${query}&signature=${signature}`, { headers });
  return { status: r.status, text: await r.text(), retryAfter: r.headers.get('retry-after'), usedWeight: r.headers.get('x-mbx-used-weight-1m') };
}

type Published = { body: string; request: string; status: number };

/** The framework's ReconcileIO, every published answer kept. */
function io(published: Published[], maxAttempts = 3): ReconcileIO {
  return createRestIO({
    bucket: new TokenBucket(1000, 1000),
    publish: (body, request, status) => published.push({ body: body.toString('utf8'), request, status }),
    event: () => {},
    signal: new AbortController().signal,
    timeoutMs: 5_000,
    maxAttempts,
    backoff: { initialMs: 10, maxMs: 20, jitter: 0 },
  });
}

function client(s: BinanceUsdmSimulator, extra: Partial<BinanceUsdmClientConfigInput> = {}): BinanceUsdmClient {
  return BinanceUsdmClient.fromConfig({ wsUrl: s.wsUrl, restUrl: s.restUrl, apiKey: KEY, apiSecret: SECRET, ...extra }, { logger: silentLogger() });
}

const ref = (lc: Pick<BinanceUsdmLifecycle, 'orderId' | 'symbol'>): LiveOrderRef => ({ orderId: lc.orderId, symbol: lc.symbol, status: 'NEW' });

const restCtx = (p: Published): MapContext => testRestContext('binance-usdm', p.request, p.status);

describe('BinanceUsdmSimulator REST endpoints', () => {
  it('checks key, timestamp and signature on every endpoint (-2014, -2015, -1021, -1022), like the WebSocket API', async () => {
    const s = await sim();
    for (const path of ['/fapi/v1/openOrders', '/fapi/v1/order', '/fapi/v1/allOrders']) {
      expect(await get(s, path, { symbol: 'BTCUSDT' }, { key: null })).toMatchObject({ status: 401, text: '{"code":-2014,"msg":"API-key format invalid."}' });
      expect(await get(s, path, { symbol: 'BTCUSDT' }, { key: 'other' })).toMatchObject({ status: 401, text: '{"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."}' });
      expect(await get(s, path, { symbol: 'BTCUSDT' }, { secret: 'wrong' })).toMatchObject({ status: 400, text: '{"code":-1022,"msg":"Signature for this request is not valid."}' });
      expect(await get(s, path, { symbol: 'BTCUSDT' }, { timestamp: Date.now() - 60_000 })).toMatchObject({
        status: 400,
        text: '{"code":-1021,"msg":"Timestamp for this request is outside of the recvWindow."}',
      });
    }
    expect((await get(s, '/fapi/v1/openOrders', { symbol: 'BTCUSDT', apiKey: KEY })).text).toContain('-1104');
    expect((await get(s, '/fapi/v1/userTrades')).status).toBe(404);
  });

  it('serves open orders (weight 40 for all symbols, 1 for one), an order (-2013 when unknown) and history by creation time', async () => {
    const s = await sim();
    const lcs = s.randomLifecycles(30, 41);
    s.place(lcs);
    await s.play(lcs.slice(0, 20));
    const live = s.liveOrderIds();
    expect(live.length).toBeGreaterThanOrEqual(10);
    const all = await get(s, '/fapi/v1/openOrders');
    expect(all.status).toBe(200);
    expect(all.usedWeight).toBe('40');
    expect((await get(s, '/fapi/v1/openOrders', { symbol: 'BTCUSDT' })).usedWeight).toBe('41');
    expect(s.stats().weightInWindow).toBe(41); // the same IP budget as order.status

    const mapped = binanceUsdmMapper.map(all.text, restCtx({ body: all.text, request: 'GET /fapi/v1/openOrders', status: 200 }));
    if (mapped.kind !== 'orders') throw new Error('expected orders');
    expect(mapped.orders.map((o) => o.orderId).sort()).toEqual([...live].sort());
    const truth = s.truth();
    for (const o of mapped.orders) expect(o).toMatchObject(binanceUsdmExpectedCanonical(truth.get(o.orderId)!, 'acc-1'));

    const done = lcs[0] as BinanceUsdmLifecycle;
    const one = await get(s, '/fapi/v1/order', { symbol: done.symbol, orderId: done.orderId });
    expect(one.status).toBe(200);
    expect(one.text).toContain(`"orderId":${done.orderId},`); // int64 as a bare integer, every digit
    expect(await get(s, '/fapi/v1/order', { symbol: done.symbol, orderId: '9007199254740000' })).toMatchObject({ status: 400, text: '{"code":-2013,"msg":"Order does not exist."}' });
    expect(await get(s, '/fapi/v1/order', { symbol: 'SOLUSDC', orderId: done.orderId })).toMatchObject({ status: 400 });

    const now = Date.now();
    const hist = await get(s, '/fapi/v1/allOrders', { symbol: done.symbol, startTime: String(now - 60_000), endTime: String(now), limit: '1000' });
    const bySymbol = lcs.filter((l) => l.symbol === done.symbol).map((l) => l.orderId);
    expect(JSON.parse(hist.text.replace(/"orderId":(\d+)/g, '"orderId":"$1"')).map((o: { orderId: string }) => o.orderId)).toEqual(bySymbol);
    expect((await get(s, '/fapi/v1/allOrders', { symbol: done.symbol, startTime: String(now + 1_000), endTime: String(now + 2_000) })).text).toBe('[]');
    expect(await get(s, '/fapi/v1/allOrders', { symbol: done.symbol, startTime: String(now - 8 * 86_400_000), endTime: String(now) })).toMatchObject({
      status: 400,
      text: '{"code":-1127,"msg":"Lookup interval is too big."}',
    });
  });

  it('answers faults first: 429 -1003 with Retry-After, then 500; untellable orders fail their lookups and are left out of history', async () => {
    const s = await sim();
    s.restFaults.knobs.rateLimitNext = 1;
    s.restFaults.knobs.retryAfterSec = 2;
    s.restFaults.knobs.errorNext = 1;
    const limited = await get(s, '/fapi/v1/openOrders');
    expect(limited).toMatchObject({ status: 429, retryAfter: '2' });
    expect(JSON.parse(limited.text)).toMatchObject({ code: -1003 });
    expect(await get(s, '/fapi/v1/openOrders')).toMatchObject({ status: 500, text: '{"code":-1000,"msg":"An unknown error occured while processing the request."}' });
    expect((await get(s, '/fapi/v1/openOrders')).status).toBe(200);
    expect(s.restFaults.stats).toMatchObject({ rateLimited: 1, errors: 1 });

    const lcs = s.randomLifecycles(4, 42).map((l) => ({ ...l, symbol: 'ETHUSDT' }));
    await s.play(lcs);
    const hidden = lcs[1] as BinanceUsdmLifecycle;
    s.restFaults.knobs.failDetailFor.add(hidden.orderId);
    expect((await get(s, '/fapi/v1/order', { symbol: 'ETHUSDT', orderId: hidden.orderId })).status).toBe(500);
    const hist = await get(s, '/fapi/v1/allOrders', { symbol: 'ETHUSDT' });
    expect(hist.text).not.toContain(hidden.orderId);
    expect(hist.text.match(/"orderId"/g)).toHaveLength(3);
  });

  it('over the IP weight limit, REST gets 429 -1003 with Retry-After like order.status does', async () => {
    const s = await BinanceUsdmSimulator.start({ hmacKeys: [{ apiKey: KEY, apiSecret: SECRET }], weightLimit: 60 });
    cleanups.push(() => s.stop());
    expect((await get(s, '/fapi/v1/openOrders')).status).toBe(200); // 40
    const over = await get(s, '/fapi/v1/openOrders'); // 80 > 60
    expect(over.status).toBe(429);
    expect(Number(over.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(over.text)).toMatchObject({ code: -1003 });
  });

  it('keeps the venue moving with nobody connected: orders fill and cancel; REST sees what no client ever polled', async () => {
    const s = await sim();
    expect(s.sockets).toHaveLength(0);
    const lcs = s.randomLifecycles(6, 43);
    await s.play(lcs);
    expect(s.liveOrderIds()).toEqual([]);
    expect([...s.truth().values()].every((t) => !['NEW', 'PARTIALLY_FILLED'].includes(t.status))).toBe(true);
    expect(s.stats().orderStatusRequests).toBe(0);
  });
});

describe('BinanceUsdmReconciler against the simulator', () => {
  it('open orders, detail and history: signed like order.status, no secret in the request info, every answer published and mappable', async () => {
    const s = await sim();
    const lcs = s.randomLifecycles(25, 44);
    s.place(lcs);
    await s.play(lcs.slice(0, 15));
    const c = client(s, { symbols: ['BTCUSDT'] });
    const r = c.reconciler;
    expect(r.rateLimit).toEqual(BINANCE_USDM_REST_RATE_LIMIT);
    const published: Published[] = [];
    const rio = io(published);
    expect((await r.openOrders(rio)).sort()).toEqual(s.liveOrderIds().sort());
    expect(await r.orderDetail(rio, ref(lcs[0] as BinanceUsdmLifecycle))).toBe('found');
    expect(await r.orderDetail(rio, { orderId: '9007199254740000', symbol: 'BTCUSDT', status: 'NEW' })).toBe('unknown');
    // history covers the configured symbol and every symbol the open-orders answer named
    const ids = await (r.history as NonNullable<typeof r.history>)(rio, Date.now() - 60_000);
    const symbols = new Set(['BTCUSDT', ...lcs.slice(15).map((l) => l.symbol)]);
    expect(ids.sort()).toEqual(lcs.filter((l) => symbols.has(l.symbol)).map((l) => l.orderId).sort());
    for (const p of published) {
      for (const secret of [KEY, SECRET, 'signature', 'timestamp', 'recvWindow']) expect(p.request).not.toContain(secret);
      expect(p.status).toBe(p.request.startsWith('GET /fapi/v1/order?') && p.request.includes('9007199254740000') ? 400 : 200);
    }
    expect(parseRestRequest(published[0]?.request as string)).toEqual({ method: 'GET', path: '/fapi/v1/openOrders', params: {} });
    expect(parseRestRequest(published[1]?.request as string).params).toEqual({ symbol: lcs[0]?.symbol, orderId: lcs[0]?.orderId });
    const hist = published.slice(3).map((p) => parseRestRequest(p.request));
    expect(hist.map((h) => h.params.symbol)).toEqual([...symbols].sort());
    expect(hist.every((h) => h.path === '/fapi/v1/allOrders' && h.params.limit === '1000' && /^\d{13}$/.test(h.params.startTime as string))).toBe(true);
    // the weight of each call as documented, shared with order.status in the simulator's window
    expect(s.stats().weightInWindow).toBe(BINANCE_USDM_REST_WEIGHTS.openOrdersAllSymbols + 2 * BINANCE_USDM_REST_WEIGHTS.order + hist.length * BINANCE_USDM_REST_WEIGHTS.allOrders);
    // the mapper maps exactly what was published
    for (const p of published.filter((x) => x.status === 200)) expect(() => binanceUsdmMapper.map(p.body, restCtx(p))).not.toThrow();
  });

  it('signs with an Ed25519 key as well (base64 signature, URL-encoded); a wrong key pair is refused with -1022', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const other = generateKeyPairSync('ed25519').privateKey;
    const pem = (k: typeof privateKey) => k.export({ format: 'pem', type: 'pkcs8' }).toString();
    const s = await BinanceUsdmSimulator.start({ hmacKeys: [], ed25519Keys: [{ apiKey: KEY, publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString() }] });
    cleanups.push(() => s.stop());
    const lcs = s.randomLifecycles(3, 51);
    s.place(lcs);
    const ed = (key: typeof privateKey) => BinanceUsdmClient.fromConfig({ wsUrl: s.wsUrl, restUrl: s.restUrl, apiKey: KEY, ed25519PrivateKeyPem: pem(key) });
    expect((await ed(privateKey).reconciler.openOrders(io([]))).sort()).toEqual(s.liveOrderIds().sort());
    expect(await ed(other).reconciler.openOrders(io([])).catch((e: unknown) => e)).toMatchObject({ code: 'VENUE_REST_REFUSED', details: { venueCode: -1022 } });
  });

  it('history reads every order when pages are full: a full page is split in two halves by time', async () => {
    const s = await sim();
    const lcs = s.randomLifecycles(23, 45).map((l) => ({ ...l, symbol: 'SOLUSDT', quantity: '10', fills: undefined, kind: 'cancel' as const }));
    for (const lc of lcs) {
      s.place([lc]);
      await new Promise((resolve) => setTimeout(resolve, 2)); // distinct creation times
    }
    const published: Published[] = [];
    const ids = await (client(s, { symbols: ['SOLUSDT'], allOrdersLimit: 4 }).reconciler.history as (io: ReconcileIO, since: number) => Promise<string[]>)(io(published), Date.now() - 10_000);
    expect(ids.sort()).toEqual(lcs.map((l) => l.orderId).sort());
    expect(published.length).toBeGreaterThan(6);
    for (const p of published) expect(parseRestRequest(p.request).params.limit).toBe('4');
  });

  it('refusals become VenueErrors with Binance code: -2015 refused, -1003 in a 200 rate limited (retriable), 500s of an untellable order throw', async () => {
    const s = await sim();
    const bad = BinanceUsdmClient.fromConfig({ wsUrl: s.wsUrl, restUrl: s.restUrl, apiKey: 'nobody', apiSecret: SECRET });
    const e1 = await bad.reconciler.openOrders(io([])).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(VenueError);
    expect(e1).toMatchObject({ code: 'VENUE_REST_REFUSED', details: { venueCode: -2015, httpStatus: 401 } });
    const fake = (async () => new Response('{"code":-1003,"msg":"Too many requests; current limit is 2400 requests per minute."}', { status: 200 })) as unknown as typeof fetch;
    const rio = createRestIO({ bucket: new TokenBucket(100, 100), publish: () => {}, event: () => {}, signal: new AbortController().signal, timeoutMs: 1000, maxAttempts: 1, fetch: fake });
    expect(await client(s).reconciler.openOrders(rio).catch((e: unknown) => e)).toMatchObject({ code: 'VENUE_RATE_LIMITED', retriable: true, details: { venueCode: -1003 } });
    const lc = s.randomLifecycles(1, 46)[0] as BinanceUsdmLifecycle;
    await s.play([lc]);
    s.restFaults.knobs.failDetailFor.add(lc.orderId);
    const e3 = await client(s).reconciler.orderDetail(io([], 2), ref(lc)).catch((e: unknown) => e);
    expect(e3).toMatchObject({ code: 'VENUE_HTTP_ERROR', details: { httpStatus: 500 } });
  });
});

describe('VenueSession reconciles Binance USDⓈ-M once connected', () => {
  async function harness(options: Partial<ReconcileOptions>, suspects: () => LiveOrderRef[] = () => []) {
    const s = await sim();
    const c = client(s, { tickMs: 10, pollIntervalMs: 20, maxRequestsPerSecond: 200, burst: 20, weightBudgetPerMinute: 60_000, symbols: ['BTCUSDT', 'ETHUSDT'] });
    const rec = new RecordingSession({ client: c, sim: s, timeoutMs: 15_000, reconcile: { suspects, lastSeenMs: () => Date.now() - 60_000, options } });
    const start = () => {
      rec.start();
      cleanups.push(rec.stop);
    };
    return { s, c, ...rec, start };
  }

  it('the first reconciliation publishes rest frames and a reconciled event after connected; finished and unknown suspects are looked up', async () => {
    const held: { gone?: BinanceUsdmLifecycle } = {};
    const h = await harness({}, () => (held.gone ? [ref(held.gone), { orderId: '9007199254740001', symbol: 'BTCUSDT', status: 'NEW' }] : []));
    const lcs = h.s.randomLifecycles(12, 47).map((l) => ({ ...l, symbol: 'ETHUSDT' }));
    h.s.place(lcs);
    await h.s.play(lcs.slice(0, 6));
    held.gone = lcs[0];
    h.start();
    await h.until(() => h.events().some((e) => e.event === 'reconciled'), 'reconciled');
    const names = h.events().map((e) => e.event);
    expect(names.indexOf('connected')).toBeLessThan(names.indexOf('reconciled'));
    const rest = h.frames.filter((f) => f.kind === 'rest');
    expect(rest.map((f) => f.rest?.request.split('?')[0])).toEqual(['GET /fapi/v1/openOrders', 'GET /fapi/v1/allOrders', 'GET /fapi/v1/allOrders', 'GET /fapi/v1/order']);
    const reconciled = h.events().find((e) => e.event === 'reconciled') as RecordedEvent;
    const open = h.s.liveOrderIds();
    // the history answered the finished ETHUSDT order; the unknown one got a detail lookup (-2013)
    expect(reconciled.details).toMatchObject({ openOrders: open.length, lookups: 1, unknown: ['9007199254740001'], failed: [] });
    // the snapshot lists every order the venue answered about (open ones and the history's), never the unknown one
    const listed = (reconciled.details as { snapshot: { orderIds: string[] } }).snapshot.orderIds;
    expect(listed).toEqual(expect.arrayContaining([...open, lcs[0]?.orderId as string]));
    expect(listed).not.toContain('9007199254740001');
    for (const f of rest) for (const secret of [KEY, SECRET, 'signature']) expect(f.rest?.request).not.toContain(secret);
  });

  it('rate limits and server errors: polling keeps flowing, the failed run is an error event, a later run succeeds', async () => {
    const h = await harness({ maxAttempts: 2 });
    h.s.restFaults.knobs.rateLimitNext = 2; // the first run's open-orders call is refused twice: the run fails
    h.s.restFaults.knobs.retryAfterSec = 0;
    const lcs = h.s.randomLifecycles(10, 48);
    h.s.place(lcs);
    for (const l of lcs) h.c.track({ symbol: l.symbol, orderId: l.orderId, origin: 'track-topic' });
    h.start();
    await h.until(() => h.events().some((e) => e.event === 'error' && String(e.reason).startsWith('reconciliation failed')), 'a failed run');
    const failed = h.events().find((e) => e.event === 'error') as RecordedEvent;
    expect(failed.code).toBe('VENUE_RATE_LIMITED'); // the framework's retries on 429 were spent
    h.s.restFaults.knobs.errorNext = 1; // the retry meets a 500 once, retried inside the call
    const play = h.s.play(lcs, { intervalMs: 5 });
    await h.until(() => h.events().some((e) => e.event === 'reconciled'), 'a later successful run');
    await play;
    await h.until(() => h.events().filter((e) => e.event === 'untracked').length === lcs.length, 'every order polled to its end');
    expect(h.frames.filter((f) => f.kind === 'data').length).toBeGreaterThan(lcs.length);
    expect(h.s.restFaults.stats.rateLimited).toBe(2);
    expect(h.s.restFaults.stats.errors).toBe(1);
    expect(h.session.reconcileStats.runFailures).toBe(1);
    expect(h.session.reconcileStats.runs).toBe(1);
    expect(h.events().filter((e) => e.event === 'disconnected')).toEqual([]);
  });

  it('a gap (interrupt/resume): every tracked order is polled at once after the reconnect, and REST answers the orders that began and ended inside it', async () => {
    const h = await harness({ historyMarginMs: 1_000 });
    const lcs = h.s.randomLifecycles(8, 49).map((l) => ({ ...l, symbol: 'BTCUSDT', kind: 'cancel' as const, fills: undefined }));
    h.s.place(lcs);
    for (const l of lcs) h.c.track({ symbol: l.symbol, orderId: l.orderId, origin: 'track-topic' });
    h.start();
    await h.until(() => h.events().some((e) => e.event === 'reconciled'), 'first run');
    await h.until(() => lcs.every((l) => (h.s.pollCounts().get(l.orderId) ?? 0) >= 2), 'every order polled twice');
    h.s.interrupt();
    const polled = new Map(h.s.pollCounts());
    await h.s.play(lcs); // every tracked order is canceled while nobody can ask
    const inside = h.s.randomLifecycles(3, 50).map((l) => ({ ...l, symbol: 'ETHUSDT' }));
    await h.s.play(inside); // begin and end inside the gap, never tracked
    h.s.resume();
    await h.until(() => h.events().filter((e) => e.event === 'reconciled').length >= 2, 'the reconnect reconciliation');
    await h.until(() => h.events().filter((e) => e.event === 'untracked').length === lcs.length, 'every tracked order polled after the gap');
    for (const l of lcs) expect(h.s.pollCounts().get(l.orderId)).toBeGreaterThan(polled.get(l.orderId) ?? 0);
    const last = h.frames.filter((f) => f.kind === 'rest' && f.rest?.request.includes('ETHUSDT')).map((f) => f.value.toString()).join('');
    for (const l of inside) expect(last).toContain(`"orderId":${l.orderId},`);
  });
});
