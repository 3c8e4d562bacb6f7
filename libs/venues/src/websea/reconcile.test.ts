import { afterEach, describe, expect, it } from 'vitest';
import { VenueError } from '@orderstream/kit';
import type { ReconcileIO, RestCall, VenueClient } from '../types.js';
import { RecordingSession, type RecordedEvent } from '../sim/recording-session.js';
import { testMapContext, testRestContext } from '../sim/test-context.js';
import { WebseaClient } from './client.js';
import { webseaMapper } from './mapper.js';
import { WebseaReconciler } from './reconciler.js';
import { WEBSEA_REST_PATHS } from './rest.js';
import { webseaNonce, webseaParam, webseaSignature } from './sign.js';
import { WebseaSimulator } from './simulator.js';

const TOKEN = 'sim-websea-token';
const SECRET = 'sim-websea-secret';
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startSim(): Promise<WebseaSimulator> {
  const sim = await WebseaSimulator.start();
  cleanups.push(() => sim.stop());
  return sim;
}

/** A signed GET as the reconciler sends it; `tamper` changes what is sent after signing. */
async function get(sim: WebseaSimulator, path: string, params: Record<string, string> = {}, opts: { secret?: string; nonce?: string; headers?: boolean } = {}) {
  const nonce = opts.nonce ?? webseaNonce();
  const signature = webseaSignature({ token: TOKEN, secretKey: opts.secret ?? SECRET, nonce, params: Object.entries(params).map(([k, v]) => webseaParam(k, v)) });
  const query = new URLSearchParams(params).toString();
  const res = await fetch(`${sim.httpUrl}${path}${query ? `?${query}` : ''}`, { headers: opts.headers === false ? {} : { Token: TOKEN, Nonce: nonce, Signature: signature } });
  return { status: res.status, headers: res.headers, body: JSON.parse(await res.text()) as { errno: number; errmsg: string; result: unknown } };
}

describe('WebseaSimulator REST endpoints', () => {
  it('checks the signature, the nonce and the token like the socket, with the documented errnos', async () => {
    const sim = await startSim();
    expect((await get(sim, WEBSEA_REST_PATHS.openOrders, {}, { headers: false })).body.errno).toBe(20521);
    expect((await get(sim, WEBSEA_REST_PATHS.openOrders, { limit: '5' }, { secret: 'wrong' })).body).toEqual({ errno: 20506, errmsg: 'api signature not valid', result: null });
    const nonce = webseaNonce();
    expect((await get(sim, WEBSEA_REST_PATHS.openOrders, {}, { nonce })).body.errno).toBe(0);
    expect((await get(sim, WEBSEA_REST_PATHS.openOrders, {}, { nonce })).body.errno).toBe(20519);
    expect((await get(sim, WEBSEA_REST_PATHS.openOrders, {}, { nonce: `${Math.floor(Date.now() / 1000) - 120}_abcde` })).body.errno).toBe(20520);
    expect((await get(sim, WEBSEA_REST_PATHS.detail, { order_sn: 'BLNOSUCH' })).body.errno).toBe(20515);
    expect((await get(sim, '/openApi/wallet/list')).status).toBe(404);
    expect(sim.restStats().restRefused).toMatchObject({ 20521: 1, 20506: 1, 20519: 1, 20520: 1 });
  });

  it('pages open orders and history newest first by order_id, serves details and trade lists in the documented shapes', async () => {
    const sim = await startSim();
    const lcs = sim.randomLifecycles(7, 3).map((lc) => ({ ...lc, kind: 'fill' as const, executions: [{ qty: lc.amount, price: lc.price }], orderType: 'LIMIT' as const }));
    await sim.play(lcs);
    const page1 = await get(sim, WEBSEA_REST_PATHS.history, { limit: '3', direct: 'prev' });
    const rows1 = page1.body.result as { order_id: number; order_sn: string; status: number; deal_number: string; ctime: string }[];
    expect(rows1.map((r) => r.order_sn)).toEqual(lcs.slice(4).reverse().map((l) => l.orderId));
    const page2 = await get(sim, WEBSEA_REST_PATHS.history, { limit: '3', direct: 'prev', from: String(rows1.at(-1)?.order_id) });
    const page3 = await get(sim, WEBSEA_REST_PATHS.history, { limit: '3', direct: 'prev', from: String((page2.body.result as { order_id: number }[]).at(-1)?.order_id) });
    expect([...rows1, ...(page2.body.result as typeof rows1), ...(page3.body.result as typeof rows1)].map((r) => r.order_sn)).toEqual(lcs.map((l) => l.orderId).reverse());
    expect(rows1[0]).toMatchObject({ status: 3, type: '2' });
    expect(Object.keys(rows1[0] as object)).toEqual(['order_id', 'order_sn', 'symbol', 'ctime', 'type', 'side', 'price', 'number', 'total_price', 'deal_number', 'deal_price', 'status']);
    expect((await get(sim, WEBSEA_REST_PATHS.openOrders, { limit: '100' })).body.result).toEqual([]);
    const id = lcs[0]?.orderId as string;
    const detail = await get(sim, WEBSEA_REST_PATHS.detail, { order_sn: id });
    expect(Object.keys(detail.body.result as object)[0]).toBe('order_sn');
    const trades = await get(sim, WEBSEA_REST_PATHS.trades, { order_sn: id });
    expect(trades.body.result).toMatchObject({ order_sn: id, trades: [{ id: expect.any(Number), ctime: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/) }] });
    // What the sim serves, the mapper reads.
    const ctx = testMapContext('websea', { account: 'a' });
    const mapped = webseaMapper.map(JSON.stringify(trades.body), { ...ctx, rest: { method: 'GET', path: WEBSEA_REST_PATHS.trades, params: { order_sn: id }, status: 200 } });
    expect(mapped.kind === 'orders' && mapped.orders[0]?.lastFillId?.split('#')[0]).toBe(sim.truth().get(id)?.executions[0]?.id);
  });

  it('answers with rate limits and server errors when told, and cannot tell about failDetailFor orders', async () => {
    const sim = await startSim();
    const lcs = sim.randomLifecycles(3, 4);
    await sim.play(lcs);
    sim.restFaults.knobs.rateLimitNext = 1;
    sim.restFaults.knobs.errorNext = 1;
    const limited = await get(sim, WEBSEA_REST_PATHS.openOrders);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect((await get(sim, WEBSEA_REST_PATHS.openOrders)).status).toBe(500);
    expect((await get(sim, WEBSEA_REST_PATHS.openOrders)).status).toBe(200);
    const untellable = lcs[1]?.orderId as string;
    sim.restFaults.knobs.failDetailFor.add(untellable);
    expect((await get(sim, WEBSEA_REST_PATHS.detail, { order_sn: untellable })).status).toBe(500);
    const history = (await get(sim, WEBSEA_REST_PATHS.history, { limit: '100' })).body.result as { order_sn: string }[];
    expect(history.map((r) => r.order_sn).sort()).toEqual(lcs.map((l) => l.orderId).filter((id) => id !== untellable).sort());
    expect(sim.restFaults.stats).toMatchObject({ rateLimited: 1, errors: 1, detailFailures: 1 });
  });

  it('keeps playing while nobody is connected: the truth moves on and REST tells it', async () => {
    const sim = await startSim();
    sim.interrupt();
    const lcs = sim.randomLifecycles(4, 5);
    const report = await sim.play(lcs);
    expect(report.undelivered).toBe(report.sent);
    expect(sim.truth().size).toBe(4);
    const history = (await get(sim, WEBSEA_REST_PATHS.history, { limit: '100' })).body.result as unknown[];
    expect(history).toHaveLength(4);
    sim.resume();
  });
});

/** A ReconcileIO over plain fetch that keeps every answer (what createRestIO would publish). */
function plainIO(): ReconcileIO & { calls: RestCall[]; answers: { request: RestCall['request']; status: number; text: string }[] } {
  const calls: RestCall[] = [];
  const answers: { request: RestCall['request']; status: number; text: string }[] = [];
  return {
    signal: new AbortController().signal,
    calls,
    answers,
    event: () => {},
    async rest(call) {
      calls.push(call);
      const res = await fetch(call.url, call.init);
      const text = await res.text();
      answers.push({ request: call.request, status: res.status, text });
      return { status: res.status, text, headers: res.headers };
    },
  };
}

describe('WebseaClient.reconciler', () => {
  it('exists only with restUrl, with the documented rate limit as its bucket', () => {
    expect(WebseaClient.fromConfig({ wsUrl: 'ws://127.0.0.1:1/ws/v1/spot/order', token: TOKEN, secretKey: SECRET }).reconciler).toBeUndefined();
    const c = WebseaClient.fromConfig({ wsUrl: 'ws://127.0.0.1:1/ws/v1/spot/order', restUrl: 'https://oapi.websea.com', token: TOKEN, secretKey: SECRET });
    expect(c.reconciler?.rateLimit).toEqual({ capacity: 10, refillPerSec: 5 });
    expect((c as VenueClient).readyEvent).toBeUndefined(); // ready once subscribed (the default)
    expect(() => WebseaClient.fromConfig({ wsUrl: 'ws://127.0.0.1:1/ws/v1/spot/order', restUrl: 'ftp://x', token: TOKEN, secretKey: SECRET })).toThrow(/restUrl: must be an http\(s\) URL/);
  });
});

describe('WebseaReconciler', () => {
  const config = (sim: WebseaSimulator, pageLimit?: number) => () => ({
    restUrl: sim.httpUrl, token: TOKEN, secretKey: SECRET, signatureSort: 'bytewise' as const, historyMaxPages: 50, ...(pageLimit ? { pageLimit } : {}),
  });

  it('reads every page of open orders, the trade list of each order with fills, and never puts a secret in request params', async () => {
    const sim = await startSim();
    const lcs = Array.from({ length: 8 }, (_, i) => ({
      orderId: `BLRECONCILE${String(i).padStart(4, '0')}`, symbol: 'BTC-USDT', kind: 'fill' as const, side: 'BUY' as const, price: '64000', amount: '0.2',
      executions: [{ qty: '0.1', price: '64000' }, { qty: '0.1', price: '63999.5' }],
    }));
    // Round-robin: every NEW, then every first execution, then every second one, 400 ms apart.
    const playing = sim.play(lcs, { intervalMs: 400 });
    await sim.waitUntil(() => sim.liveOrderIds().length === 8 && [...sim.truth().values()].every((t) => t.executions.length === 1), 15_000, 'eight live orders with a fill');
    const io = plainIO();
    const r = new WebseaReconciler(config(sim, 3));
    const open = await r.openOrders(io);
    sim.restFaults.knobs.rateLimitNext = 0;
    await playing;
    expect(open.sort()).toEqual(lcs.map((l) => l.orderId).sort());
    const lists = io.calls.filter((c) => c.request.path === WEBSEA_REST_PATHS.openOrders);
    expect(lists.length).toBe(3); // 3 + 3 + 2
    expect(io.calls.filter((c) => c.request.path === WEBSEA_REST_PATHS.trades)).toHaveLength(8);
    for (const c of io.calls) {
      expect(Object.keys(c.request.params).every((k) => ['limit', 'direct', 'from', 'order_sn'].includes(k))).toBe(true);
      expect(JSON.stringify(c.request)).not.toMatch(/sim-websea|Signature|Nonce/);
      expect(c.url).not.toContain(SECRET);
    }
    expect(io.answers.every((a) => a.status === 200 && JSON.parse(a.text).errno === 0)).toBe(true);
  });

  it('walks history back to the gap start only, and looks up single orders (20515 = unknown)', async () => {
    const sim = await startSim();
    const old = sim.randomLifecycles(5, 7).map((lc) => ({ ...lc, entrustTime: 1_700_000_000 }));
    const recent = sim.randomLifecycles(5, 8).map((lc) => ({ ...lc, entrustTime: 1_700_010_000 }));
    await sim.play(old);
    await sim.play(recent);
    const io = plainIO();
    const r = new WebseaReconciler(config(sim, 2));
    const ids = await r.history(io, 1_700_005_000_000);
    expect(ids.sort()).toEqual(recent.map((l) => l.orderId).sort());
    expect(io.calls.filter((c) => c.request.path === WEBSEA_REST_PATHS.history).length).toBe(3); // 2 + 2 + (1 recent, then an older one)
    expect(await r.orderDetail(io, { orderId: old[0]?.orderId as string, symbol: old[0]?.symbol as string, status: 'NEW' })).toBe('found');
    expect(await r.orderDetail(io, { orderId: 'BLNOSUCH', symbol: 'BTC-USDT', status: 'NEW' })).toBe('unknown');
  });

  it('turns WebSea in-body errors into VenueErrors with the venue code', async () => {
    const answer = (text: string): ReconcileIO => ({ signal: new AbortController().signal, event: () => {}, rest: async () => ({ status: 200, text, headers: new Headers() }) });
    const r = new WebseaReconciler(() => ({ restUrl: 'http://127.0.0.1:9', token: TOKEN, secretKey: SECRET, signatureSort: 'bytewise', historyMaxPages: 5 }));
    const busy = await r.openOrders(answer('{"errno":20507,"errmsg":"gateway internal error","result":null}')).catch((e: unknown) => e);
    expect(busy).toBeInstanceOf(VenueError);
    expect(busy).toMatchObject({ code: 'VENUE_RATE_LIMITED', retriable: true, details: { venueCode: 20507 } });
    const refused = await r.openOrders(answer(`{"errno":20506,"errmsg":"api signature not valid ${SECRET}"}`)).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'VENUE_REST_REFUSED', retriable: false, details: { venueCode: 20506, auth: true } });
    expect(String((refused as Error).message)).not.toContain(SECRET);
    await expect(r.openOrders(answer('<html>'))).rejects.toMatchObject({ code: 'VENUE_REST_REFUSED' });
  });
});

describe('VenueSession reconciles WebSea', () => {
  async function harness(options = {}) {
    const sim = await startSim();
    const client = WebseaClient.fromConfig({ wsUrl: sim.wsUrl, restUrl: sim.httpUrl, token: TOKEN, secretKey: SECRET });
    const rec = new RecordingSession({
      client, sim, timeoutMs: 15_000,
      reconcile: { lastSeenMs: () => Date.now() - 60_000, options: { historyMarginMs: 1000, ...options } },
    });
    cleanups.push(rec.stop);
    return { sim, ...rec };
  }

  it('after subscribing, publishes every REST answer raw and a reconciled event with the open orders', async () => {
    const { sim, session, frames, events, until } = await harness();
    const lcs = sim.randomLifecycles(6, 9);
    const playing = sim.play(lcs, { intervalMs: 40, waitForSubscriberMs: 10_000 });
    session.start();
    await until(() => events().some((e) => e.event === 'reconciled'), 'a reconciled event');
    await playing;
    const kinds = frames.map((f) => (f.kind === 'session' ? (JSON.parse(f.value.toString()) as RecordedEvent).event : f.kind));
    expect(kinds.indexOf('subscribed')).toBeLessThan(kinds.indexOf('rest'));
    expect(kinds.indexOf('rest')).toBeLessThan(kinds.indexOf('reconciled'));
    const rest = frames.filter((f) => f.kind === 'rest');
    expect(rest[0]?.rest?.request).toBe('GET /openApi/entrust/currentList?direct=prev&limit=100');
    for (const f of rest) {
      expect(f.rest?.status).toBe(200);
      expect(f.rest?.request).not.toMatch(/Signature|Nonce|Token|sim-websea/);
      // Every answer maps (or is skipped) without error.
      webseaMapper.map(f.value.toString('utf8'), testRestContext('websea', f.rest?.request as string, 200, { account: 'a' }));
    }
    const reconciled = events().find((e) => e.event === 'reconciled');
    expect(reconciled?.details).toMatchObject({ trigger: 'start', snapshot: { orderIds: expect.any(Array) } });
  });

  it('keeps streaming through rate limits and server errors; the failed run is an error event and a later run succeeds', async () => {
    const { sim, session, frames, events, until } = await harness({ maxAttempts: 2 });
    sim.restFaults.knobs.retryAfterSec = 0;
    sim.restFaults.knobs.rateLimitNext = 2;
    sim.restFaults.knobs.errorNext = 1;
    const lcs = sim.randomLifecycles(10, 10);
    const playing = sim.play(lcs, { intervalMs: 30, waitForSubscriberMs: 10_000 });
    session.start();
    await until(() => events().some((e) => e.event === 'reconciled'), 'a reconciled event after the faults', 20_000);
    await playing;
    const failed = events().filter((e) => e.event === 'error' && String(e.reason).startsWith('reconciliation failed'));
    expect(failed.length).toBeGreaterThanOrEqual(1);
    expect(sim.restFaults.stats).toMatchObject({ rateLimited: 2, errors: 1 });
    const statuses = frames.filter((f) => f.kind === 'rest').map((f) => f.rest?.status);
    expect(statuses.slice(0, 3)).toEqual([429, 429, 500]);
    // The stream never stopped: every push reached the session.
    expect(frames.filter((f) => f.kind === 'data' && f.value.toString().includes('"channel":"order"')).length).toBeGreaterThanOrEqual(lcs.length * 2);
    expect(session.reconcileStats.runFailures).toBeGreaterThanOrEqual(1);
    expect(session.reconcileStats.runs).toBeGreaterThanOrEqual(1);
  });
});
