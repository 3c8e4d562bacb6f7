import { afterEach, describe, expect, it } from 'vitest';
import { AppError, Secret } from '@orderstream/kit';
import { createRestIO, parseRestRequest, runReconciliation, TokenBucket } from '../reconcile.js';
import type { LiveOrderRef, MapContext, ReconcileIO } from '../types.js';
import { RecordingSession } from '../sim/recording-session.js';
import { testRestContext } from '../sim/test-context.js';
import { LoopringClient } from './client.js';
import { loopringExpectedCanonical, type LoopringLifecycle } from './lifecycles.js';
import { loopringMapper } from './mapper.js';
import { LOOPRING_REST_RATE_LIMITS, LoopringReconciler } from './reconciler.js';
import { LoopringSimulator, type LoopringSimulatorOptions } from './simulator.js';

const API_KEY = 'sim-loopring-rest-key-0001';
const ACCOUNT_ID = 10010;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function sim(options: LoopringSimulatorOptions = {}): Promise<LoopringSimulator> {
  const s = await LoopringSimulator.start({ apiKey: API_KEY, accountId: ACCOUNT_ID, ...options });
  cleanups.push(() => s.stop());
  return s;
}

const get = (s: LoopringSimulator, path: string, headers: Record<string, string> = { 'X-API-KEY': API_KEY }) =>
  fetch(`${s.restUrl}${path}`, { headers }).then(async (r) => ({ status: r.status, json: (await r.json()) as Record<string, unknown> }));

/** n lifecycles played to their end: fill, cancel, partial-cancel, expire in turn, hashes from `tag`. */
function lifecycles(s: LoopringSimulator, n: number, seed: number): LoopringLifecycle[] {
  return s.randomLifecycles(n, seed);
}

describe('LoopringSimulator REST order endpoints', () => {
  it('answers the documented codes for a missing or wrong ApiKey, account, hash', async () => {
    const s = await sim();
    await s.play(lifecycles(s, 2, 1));
    const code = (r: { json: Record<string, unknown> }) => (r.json.resultInfo as { code: number }).code;
    expect(code(await get(s, `/api/v2/orders?accountId=${ACCOUNT_ID}`, {}))).toBe(104001);
    expect(code(await get(s, `/api/v2/orders?accountId=${ACCOUNT_ID}`, { 'X-API-KEY': 'nope' }))).toBe(104002);
    expect(code(await get(s, '/api/v2/orders'))).toBe(107001);
    expect(code(await get(s, '/api/v2/orders?accountId=1'))).toBe(104003);
    expect(code(await get(s, `/api/v2/order?accountId=${ACCOUNT_ID}`))).toBe(107002);
    expect(code(await get(s, `/api/v2/order?accountId=${ACCOUNT_ID}&orderHash=0xdead`))).toBe(107003);
    expect(code(await get(s, `/api/v2/orders?accountId=${ACCOUNT_ID}&status=pending`))).toBe(100001);
    const v3 = await get(s, `/api/v3/order?accountId=${ACCOUNT_ID}&orderHash=0xdead`);
    expect([v3.status, code(v3)]).toEqual([400, 107003]);
  });

  it('pages newest first with totalNum, filters by market, status and creation time, in both shapes', async () => {
    const s = await sim();
    await s.play(lifecycles(s, 7, 2));
    const all = await get(s, `/api/v2/orders?accountId=${ACCOUNT_ID}&limit=3&offset=0`);
    const data = all.json.data as { totalNum: number; orders: { hash: string }[] };
    expect(data.totalNum).toBe(7);
    expect(data.orders).toHaveLength(3);
    const seen = new Set<string>();
    for (let offset = 0; offset < 7; offset += 3) {
      const page = (await get(s, `/api/v2/orders?accountId=${ACCOUNT_ID}&limit=3&offset=${offset}`)).json.data as { orders: { hash: string }[] };
      for (const o of page.orders) seen.add(o.hash);
    }
    expect(seen).toEqual(new Set(s.truth().keys()));
    const market = [...s.truth().values()][0]?.market as string;
    const byMarket = (await get(s, `/api/v2/orders?accountId=${ACCOUNT_ID}&market=${market}`)).json.data as { orders: { market: string }[] };
    expect(byMarket.orders.every((o) => o.market === market)).toBe(true);
    const later = (await get(s, `/api/v2/orders?accountId=${ACCOUNT_ID}&start=${Date.now() + 60_000}`)).json.data as { totalNum: number };
    expect(later.totalNum).toBe(0);
    const v3 = await get(s, `/api/v3/orders?accountId=${ACCOUNT_ID}&status=processed`);
    const orders = v3.json.orders as { status: string; volumes: { baseFilled: string } }[];
    expect(v3.json.totalNum).toBe(orders.length);
    expect(orders.every((o) => o.status === 'processed' && typeof o.volumes.baseFilled === 'string')).toBe(true);
  });

  it('keeps the truth while nobody is connected and answers it by REST', async () => {
    const s = await sim();
    const report = await s.play(lifecycles(s, 4, 3));
    expect(report.undelivered).toBe(report.sent);
    const [hash, t] = [...s.truth()][0] as [string, { status: string; filledSize: string }];
    const detail = (await get(s, `/api/v2/order?accountId=${ACCOUNT_ID}&orderHash=${hash}`)).json.data as { status: string; filledSize: string };
    expect(detail).toMatchObject({ status: t.status, filledSize: t.filledSize });
    expect(s.liveOrderIds()).toEqual([]);
  });

  it('faults: rate limit (429 + Retry-After), server error, orders it cannot tell about', async () => {
    const s = await sim();
    await s.play(lifecycles(s, 3, 4));
    const hash = [...s.truth().keys()][0] as string;
    s.restFaults.knobs.rateLimitNext = 1;
    s.restFaults.knobs.errorNext = 1;
    const r1 = await fetch(`${s.restUrl}/api/v2/orders?accountId=${ACCOUNT_ID}`, { headers: { 'X-API-KEY': API_KEY } });
    expect([r1.status, r1.headers.get('retry-after')]).toEqual([429, '1']);
    expect((await get(s, `/api/v2/orders?accountId=${ACCOUNT_ID}`)).status).toBe(500);
    s.restFaults.knobs.failDetailFor.add(hash);
    expect((await get(s, `/api/v2/order?accountId=${ACCOUNT_ID}&orderHash=${hash}`)).status).toBe(500);
    const list = (await get(s, `/api/v2/orders?accountId=${ACCOUNT_ID}`)).json.data as { orders: { hash: string }[] };
    expect(list.orders.map((o) => o.hash)).not.toContain(hash);
    expect(s.restFaults.stats).toMatchObject({ rateLimited: 1, errors: 1, detailFailures: 1 });
  });
});

/** A ReconcileIO over the simulator that keeps every published answer, as the collector would. */
function restIO(published: { request: string; status: number; body: string }[], fetchHook?: typeof globalThis.fetch): ReconcileIO {
  return createRestIO({
    ...(fetchHook ? { fetch: fetchHook } : {}),
    bucket: new TokenBucket(100, 100),
    publish: (body, request, status) => published.push({ request, status, body: body.toString('utf8') }),
    event: () => undefined,
    signal: new AbortController().signal,
    timeoutMs: 5_000,
    maxAttempts: 3,
    backoff: { initialMs: 5, maxMs: 20, jitter: 0 },
  });
}

function reconciler(s: LoopringSimulator, options: { restApi?: 'v2' | 'v3'; pageSize?: number; apiKey?: string } = {}): LoopringReconciler {
  return new LoopringReconciler({
    restUrl: s.restUrl, apiKey: new Secret(options.apiKey ?? API_KEY), accountId: ACCOUNT_ID, markets: s.markets, restApi: options.restApi ?? 'v2', pageSize: options.pageSize ?? 3,
  });
}

const ctxOf = (p: { request: string; status: number }): MapContext => testRestContext('loopring', p.request, p.status, { account: 'acc' });

describe('LoopringReconciler against the simulator', () => {
  it('reads every page of open orders per market, history since a time, and details; answers map to the truth', async () => {
    const s = await sim();
    // orders live at the relayer (placed, not finished) and finished ones
    s.placeOrders(lifecycles(s, 7, 5));
    await s.play(lifecycles(s, 5, 55));
    const live = s.liveOrderIds();
    const published: { request: string; status: number; body: string }[] = [];
    const io = restIO(published);
    const r = reconciler(s);
    expect(r.rateLimit).toEqual(LOOPRING_REST_RATE_LIMITS.v2);
    expect((await r.openOrders(io)).sort()).toEqual(live.sort());
    const history = await r.history(io, 0);
    expect(new Set(history)).toEqual(new Set(s.truth().keys()));
    const [hash] = [...s.truth().keys()];
    expect(await r.orderDetail(io, { orderId: hash as string, symbol: 'LRC-ETH', status: 'NEW' })).toBe('found');
    expect(await r.orderDetail(io, { orderId: '0xnone', symbol: 'LRC-ETH', status: 'NEW' })).toBe('unknown');
    // no secret in what the raw header will say
    for (const p of published) expect(p.request).not.toContain(API_KEY);
    expect(published.some((p) => p.request.includes('offset=3'))).toBe(true);
    // the published answers map to the simulator's truth
    const mapped = new Map<string, Record<string, unknown>>();
    for (const p of published) {
      const m = loopringMapper.map(p.body, { ...ctxOf(p), reference: s.referenceData() });
      if (m.kind === 'orders') for (const o of m.orders) mapped.set(o.orderId, o as unknown as Record<string, unknown>);
    }
    for (const t of s.truth().values()) {
      const want = loopringExpectedCanonical(t, 'acc', s.referenceData());
      expect(mapped.get(t.hash)).toMatchObject({ status: want.status, filledQuantity: want.filledQuantity, createdAt: want.createdAt, fee: want.fee, averagePrice: want.averagePrice });
    }
  });

  it('pages overlap, so orders finishing while paging never push an open one out of sight', async () => {
    const s = await sim({ markets: [{ market: 'LRC-ETH', baseDecimals: 18, quoteDecimals: 18, price: '0.00012345', priceDecimals: 8, sizeDecimals: 2 }] });
    const lcs = lifecycles(s, 30, 13).map((lc, i) => ({ ...lc, waitingFirst: false, createdAt: 1_765_000_000_000 + i }));
    s.placeOrders(lcs);
    let calls = 0;
    const hook: typeof globalThis.fetch = async (input, init) => {
      const answer = await fetch(input, init);
      // after the first page, its three newest orders finish: the newest-first open list moves up by three
      if (++calls === 1) s.placeOrders(lcs.slice(27), 99);
      return answer;
    };
    const published: { request: string; status: number; body: string }[] = [];
    const open = await reconciler(s, { pageSize: 12 }).openOrders(restIO(published, hook));
    expect(lcs.slice(0, 27).map((lc) => lc.hash).filter((h) => !open.includes(h))).toEqual([]);
    expect(published.map((p) => parseRestRequest(p.request).params.offset)).toEqual(['0', '7', '14', '21']);
  });

  it('asks for waiting orders with the open ones; without `waiting` when the relayer refuses it (100001)', async () => {
    for (const refuseWaitingFilter of [false, true]) {
      const s = await sim({ refuseWaitingFilter });
      const lcs = lifecycles(s, 8, 12).map((lc, i) => ({ ...lc, waitingFirst: i < 3 }));
      s.placeOrders(lcs);
      const waiting = lcs.slice(0, 3).map((lc) => lc.hash);
      const published: { request: string; status: number; body: string }[] = [];
      const r = reconciler(s);
      const open = await r.openOrders(restIO(published));
      if (refuseWaitingFilter) {
        expect(open.sort()).toEqual(s.liveOrderIds().filter((h) => !waiting.includes(h)).sort());
        expect(published.filter((p) => p.body.includes('100001'))).toHaveLength(1);
        expect(published.filter((p) => p.request.includes('waiting'))).toHaveLength(1);
      } else {
        expect(open.sort()).toEqual(s.liveOrderIds().sort());
        expect(published.every((p) => p.request.includes('status=processing%2Ccancelling%2Cwaiting'))).toBe(true);
      }
    }
  });

  it('v3: same ids; falls back to the other generation once when the configured one answers 404', async () => {
    const s = await sim({ restApis: ['v3'] });
    await s.play(lifecycles(s, 5, 6));
    const published: { request: string; status: number; body: string }[] = [];
    const r = reconciler(s, { restApi: 'v2' });
    const ids = await r.history(restIO(published), 0);
    expect(new Set(ids)).toEqual(new Set(s.truth().keys()));
    expect(r.restApi).toBe('v3');
    expect(published[0]?.status).toBe(404);
    expect(published.slice(1).every((p) => p.request.startsWith('GET /api/v3/orders?'))).toBe(true);
  });

  it('turns error envelopes into VenueErrors with the venue code; a run fails as a whole', async () => {
    const s = await sim();
    await s.play(lifecycles(s, 2, 7));
    const r = reconciler(s, { apiKey: 'wrong-key' });
    const error = await r.openOrders(restIO([])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'VENUE_REST_REFUSED', retriable: false, details: { venueCode: 104002 } });
    const suspects: LiveOrderRef[] = [];
    await expect(runReconciliation(r, restIO([]), { suspects, maxDetailLookups: 10, historyMarginMs: 0 })).rejects.toThrow(/104002/);
  });
});

describe('VenueSession reconciles a Loopring account', () => {
  async function harness(suspects: () => LiveOrderRef[] = () => []) {
    const s = await sim({ pingIntervalMs: 60_000 });
    const client = LoopringClient.fromConfig({ restUrl: s.restUrl, wsUrl: s.wsUrl, apiKey: API_KEY, markets: s.markets, accountId: ACCOUNT_ID });
    const rec = new RecordingSession({
      client, sim: s, timeoutMs: 15_000,
      reconcile: { suspects, lastSeenMs: () => Date.now() - 60_000, options: { historyMarginMs: 1_000, maxAttempts: 2 } },
    });
    rec.start();
    cleanups.push(rec.stop);
    return { s, ...rec };
  }

  it('publishes rest frames and a reconciled event after subscribed', async () => {
    const h = await harness();
    await h.s.play(lifecycles(h.s, 3, 8));
    await h.until(() => h.events().some((e) => e.event === 'reconciled'), 'a reconciled event');
    const kinds = h.events().map((e) => e.event);
    expect(kinds.indexOf('subscribed')).toBeLessThan(kinds.indexOf('reconciled'));
    const rest = h.frames.filter((f) => f.kind === 'rest');
    expect(rest.length).toBeGreaterThanOrEqual(8); // open orders and history, per market
    for (const f of rest) expect(f.rest?.request).not.toContain(API_KEY);
    const reconciled = h.events().find((e) => e.event === 'reconciled');
    expect(reconciled?.details).toMatchObject({ openOrders: 0, lookups: 0 });
  });

  it('rate limits and server errors: data keeps flowing, the failure is an event, a later run succeeds', async () => {
    const h = await harness();
    h.s.restFaults.knobs.rateLimitNext = 2;
    h.s.restFaults.knobs.retryAfterSec = 0;
    h.s.restFaults.knobs.errorNext = 2;
    await h.s.waitForSubscribers(1, 10_000);
    await h.s.play(lifecycles(h.s, 3, 9));
    await h.until(() => h.events().some((e) => e.event === 'reconciled'), 'a reconciled event after the faults');
    const failed = h.events().filter((e) => e.event === 'error' && String(e.reason).startsWith('reconciliation failed'));
    expect(failed.length).toBeGreaterThanOrEqual(1);
    expect(h.frames.some((f) => f.kind === 'data' && f.value.toString().includes('"topic"'))).toBe(true);
    expect(h.s.restFaults.stats).toMatchObject({ rateLimited: 2, errors: 2 });
    expect(h.session.reconcileStats.runFailures).toBeGreaterThanOrEqual(1);
  });
});
