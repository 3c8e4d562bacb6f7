import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { VenueError } from '@orderstream/kit';
import { createRestIO, parseRestRequest, TokenBucket } from '../reconcile.js';
import type { ReconcileIO, SessionEvent } from '../types.js';
import { XtClient } from './client.js';
import { xtFixture } from './fixtures.js';
import type { XtLifecycle } from './lifecycles.js';
import { xtMapper } from './mapper.js';
import { XT_ORDER_DETAIL_PATH, XT_ORDER_HISTORY_PATH, XT_ORDER_LIST_PATH } from './rest.js';
import { XT_RECONCILE_RATE_LIMIT, xtRestError } from './reconciler.js';
import { xtStringToSign } from './sign.js';
import { XtSimulator } from './simulator.js';

const KEY = 'sim-api-key';
const SECRET = 'sim-api-secret';
const sims: XtSimulator[] = [];
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.stop()));
});

async function start(): Promise<XtSimulator> {
  const sim = await XtSimulator.start();
  sims.push(sim);
  return sim;
}

interface Published {
  body: string;
  request: string;
  status: number;
}

function harness(sim: XtSimulator, secret = SECRET, fetchImpl?: typeof fetch) {
  const client = XtClient.fromConfig({ restUrl: sim.restUrl, wsUrl: sim.wsUrl, apiKey: KEY, apiSecret: secret });
  const published: Published[] = [];
  const events: SessionEvent[] = [];
  const io: ReconcileIO = createRestIO({
    bucket: new TokenBucket(1000, 1000),
    publish: (body, request, status) => published.push({ body: body.toString('utf8'), request, status }),
    event: (e) => events.push(e),
    signal: new AbortController().signal,
    timeoutMs: 2_000,
    maxAttempts: 3,
    backoff: { initialMs: 5, maxMs: 20, jitter: 0 },
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
  });
  return { client, reconciler: client.reconciler, io, published, events };
}

/** `n` lifecycles with ids never used elsewhere in this file. */
function lifecycles(sim: XtSimulator, n: number, seed: number, kind?: XtLifecycle['kind']): XtLifecycle[] {
  return sim.randomLifecycles(n, seed).map((lc) => (kind && kind !== lc.kind ? { ...lc, kind, fills: undefined as never } : lc)).map((lc) => {
    const { fills, ...rest } = lc;
    return fills === undefined ? rest : lc;
  });
}

/** A signed GET as XT's docs describe it, for probing the simulator directly. */
async function signedGet(sim: XtSimulator, path: string, query: Record<string, string>, secret = SECRET): Promise<{ status: number; json: Record<string, unknown> }> {
  const q = Object.keys(query).sort().map((k) => `${k}=${query[k]}`).join('&');
  const timestamp = String(Date.now());
  const signature = createHmac('sha256', secret).update(xtStringToSign({ appKey: KEY, timestamp, path, ...(q ? { query: q } : {}) })).digest('hex');
  const res = await fetch(`${sim.restUrl}${path}${q ? `?${q}` : ''}`, {
    headers: { 'validate-appkey': KEY, 'validate-timestamp': timestamp, 'validate-signature': signature },
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('XT reconciliation endpoints of the simulator', () => {
  it('refuses a bad signature on every reconciliation endpoint with 401 AUTH_103, like the listen-key call', async () => {
    const sim = await start();
    for (const path of [XT_ORDER_LIST_PATH, XT_ORDER_HISTORY_PATH, XT_ORDER_DETAIL_PATH]) {
      const r = await signedGet(sim, path, path === XT_ORDER_DETAIL_PATH ? { orderId: '1' } : {}, 'wrong-secret');
      expect(r.status, path).toBe(401);
      expect(r.json).toEqual({ returnCode: 1, msgInfo: 'failure', error: { code: 'AUTH_103', msg: 'Signature error' }, result: null });
    }
    expect(sim.stats().restRejections.AUTH_103).toBe(3);
  });

  it('order/list: state filter (default NEW), page/size paging with ps and total, size capped at 100', async () => {
    const sim = await start();
    const open = sim.placeOrders(lifecycles(sim, 130, 11, 'fill'));
    await sim.play(lifecycles(sim, 5, 12, 'cancel'));
    const p1 = await signedGet(sim, XT_ORDER_LIST_PATH, { state: 'UNFINISHED', page: '1', size: '500' });
    const r1 = p1.json.result as { page: number; ps: number; total: number; items: { orderId: string; state: string }[] };
    expect([r1.page, r1.ps, r1.total, r1.items.length]).toEqual([1, 100, 130, 100]);
    const p2 = await signedGet(sim, XT_ORDER_LIST_PATH, { state: 'UNFINISHED', page: '2', size: '100' });
    const r2 = p2.json.result as typeof r1;
    expect(r2.items.length).toBe(30);
    expect(new Set([...r1.items, ...r2.items].map((o) => o.orderId))).toEqual(new Set(open));
    const canceled = (await signedGet(sim, XT_ORDER_LIST_PATH, { state: 'CANCELED' })).json.result as typeof r1;
    expect([canceled.ps, canceled.total]).toEqual([10, 5]);
    const bad = await signedGet(sim, XT_ORDER_LIST_PATH, { state: 'OPEN' });
    expect(bad.json).toMatchObject({ returnCode: 1, error: { code: 'invalid_params' } });
  });

  it('answers faults first: 429 with Retry-After and XT\'s code 429, then 500, counted', async () => {
    const sim = await start();
    sim.restFaults.knobs.rateLimitNext = 1;
    sim.restFaults.knobs.errorNext = 1;
    const a = await signedGet(sim, XT_ORDER_LIST_PATH, {});
    const b = await signedGet(sim, XT_ORDER_LIST_PATH, {});
    const c = await signedGet(sim, XT_ORDER_LIST_PATH, {});
    expect([a.status, b.status, c.status]).toEqual([429, 500, 200]);
    expect(a.json).toMatchObject({ returnCode: 1, error: { code: '429' } });
    expect(b.json).toMatchObject({ returnCode: 1, error: { code: '500' } });
    expect(sim.restFaults.stats).toMatchObject({ rateLimited: 1, errors: 1, calls: 3 });
  });
});

describe('XtReconciler against the simulator', () => {
  it('reads every page of open orders, publishing each answer raw; params carry no secret', async () => {
    const sim = await start();
    const open = sim.placeOrders(lifecycles(sim, 230, 21, 'fill'));
    const h = harness(sim);
    const ids = await h.reconciler.openOrders(h.io);
    expect(ids.sort()).toEqual([...open].sort());
    expect(h.published.map((p) => [p.request, p.status])).toEqual([
      [`GET ${XT_ORDER_LIST_PATH}?state=UNFINISHED&page=1&size=100`, 200],
      [`GET ${XT_ORDER_LIST_PATH}?state=UNFINISHED&page=2&size=100`, 200],
      [`GET ${XT_ORDER_LIST_PATH}?state=UNFINISHED&page=3&size=100`, 200],
    ]);
    for (const p of h.published) {
      expect(p.request).not.toMatch(/validate|signature|sim-api/);
      const r = xtMapper.map(p.body, {
        venue: 'xt', account: 'a', receivedAt: 1, source: { topic: 't', partition: 0, offset: 0 }, reference: sim.referenceData(),
        rest: { ...parseRestRequest(p.request), status: p.status },
      });
      expect(r.kind).toBe('orders');
    }
  });

  it('stops on the page size XT used (ps) when it serves fewer than asked', async () => {
    const sim = await start();
    sim.placeOrders(lifecycles(sim, 3, 22, 'fill'));
    const h = harness(sim, SECRET, (async (url: string, init?: RequestInit) => {
      const res = await fetch(url, init);
      const body = (await res.text()).replace('"ps":100', '"ps":2').replace('"total":3', '"total":3');
      return new Response(body, { status: res.status, headers: res.headers });
    }) as typeof fetch);
    // page 1 of a 2-per-page venue: 2 items, ps 2, total 3 → page 2 is asked
    const ids = await h.reconciler.openOrders(h.io);
    expect(h.published.length).toBe(2);
    expect(new Set(ids).size).toBe(3);
  });

  it('history: every page since a time (hasNext, id, direction NEXT), terminal orders only, untellable ones left out', async () => {
    const sim = await start();
    await sim.play(lifecycles(sim, 20, 31).map((lc) => ({ ...lc, createdTime: Date.now() - 3_600_000 })));
    const since = Date.now() - 1_000;
    const played = lifecycles(sim, 160, 32);
    await sim.play(played);
    const stillOpen = sim.placeOrders(lifecycles(sim, 4, 33, 'fill'));
    const untellable = played[7]?.orderId as string;
    sim.restFaults.knobs.failDetailFor.add(untellable);
    const h = harness(sim);
    const ids = await h.reconciler.history(h.io, since);
    const expected = played.map((lc) => lc.orderId).filter((id) => id !== untellable);
    expect(ids.sort()).toEqual(expected.sort());
    expect(ids.some((id) => stillOpen.includes(id))).toBe(false);
    expect(h.published.length).toBe(2);
    const second = parseRestRequest(h.published[1]?.request as string);
    expect(second.params).toMatchObject({ direction: 'NEXT', limit: '100', startTime: String(since) });
    expect(second.params.id).toMatch(/^\d+$/);
  });

  it('detail: found, unknown (result null), and a failure after retries for an order XT cannot tell about', async () => {
    const sim = await start();
    const [a, b] = lifecycles(sim, 2, 41);
    await sim.play([a as XtLifecycle, b as XtLifecycle]);
    sim.restFaults.knobs.failDetailFor.add((b as XtLifecycle).orderId);
    const h = harness(sim);
    const ref = (orderId: string) => ({ orderId, symbol: 'btc_usdt', status: 'NEW' });
    expect(await h.reconciler.orderDetail(h.io, ref((a as XtLifecycle).orderId))).toBe('found');
    expect(await h.reconciler.orderDetail(h.io, ref('123'))).toBe('unknown');
    const failed = await h.reconciler.orderDetail(h.io, ref((b as XtLifecycle).orderId)).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(VenueError);
    expect((failed as VenueError).code).toBe('VENUE_HTTP_ERROR');
    expect(sim.restFaults.stats.detailFailures).toBe(3);
    expect(h.published.map((p) => p.status)).toEqual([200, 200, 500, 500, 500]);
  });

  it('rides out a 429 and a 500 (retried by the REST IO, re-signed each time), then reads the answer', async () => {
    const sim = await start();
    sim.placeOrders(lifecycles(sim, 2, 51, 'fill'));
    sim.restFaults.knobs.rateLimitNext = 1;
    sim.restFaults.knobs.retryAfterSec = 0;
    sim.restFaults.knobs.errorNext = 1;
    const h = harness(sim);
    expect((await h.reconciler.openOrders(h.io)).length).toBe(2);
    expect(h.published.map((p) => p.status)).toEqual([429, 500, 200]);
    expect(sim.stats().restRejections).toEqual({});
  });

  it('refuses with the venue\'s code: wrong secret → VENUE_REST_REFUSED AUTH_103; in-body 429 → VENUE_RATE_LIMITED', async () => {
    const sim = await start();
    const bad = harness(sim, 'wrong-secret');
    const e = (await bad.reconciler.openOrders(bad.io).catch((x: unknown) => x)) as VenueError;
    expect(e).toBeInstanceOf(VenueError);
    expect([e.code, e.retriable, e.details.venueCode, e.details.httpStatus]).toEqual(['VENUE_REST_REFUSED', false, 'AUTH_103', 401]);
    expect(e.message).not.toContain('wrong-secret');

    const limitedBody = xtFixture('rest.jsonl', 'error-rate-limited').text;
    const limited = harness(sim, SECRET, (async () => new Response(limitedBody, { status: 200 })) as typeof fetch);
    const l = (await limited.reconciler.history(limited.io, 0).catch((x: unknown) => x)) as VenueError;
    expect([l.code, l.retriable, l.details.venueCode]).toEqual(['VENUE_RATE_LIMITED', true, '429']);
  });

  it('maps XT error codes: transient ones retriable, application refusals not', () => {
    expect(xtRestError('x', 200, { code: '400', msg: 'Connection refused' })).toMatchObject({ code: 'VENUE_REST_REFUSED', retriable: true });
    expect(xtRestError('x', 200, { code: 'COMMON_002', msg: 'System busy' })).toMatchObject({ code: 'VENUE_REST_REFUSED', retriable: true });
    expect(xtRestError('x', 200, { code: 'invalid_symbol', msg: 'invalid symbol' })).toMatchObject({ code: 'VENUE_REST_REFUSED', retriable: false, details: { venueCode: 'invalid_symbol' } });
    expect(xtRestError('x', 429, undefined)).toMatchObject({ code: 'VENUE_RATE_LIMITED', retriable: true, details: { venueCode: null } });
  });

  it('declares the documented limit as a bucket that never lets more than 10 calls into one second', () => {
    const sim = { restUrl: 'http://127.0.0.1:1', wsUrl: 'ws://127.0.0.1:1/ws/user' };
    const client = XtClient.fromConfig({ ...sim, apiKey: KEY, apiSecret: SECRET });
    expect(client.reconciler.rateLimit).toBe(XT_RECONCILE_RATE_LIMIT);
    expect(XT_RECONCILE_RATE_LIMIT.capacity + XT_RECONCILE_RATE_LIMIT.refillPerSec).toBeLessThanOrEqual(10);
  });
});
