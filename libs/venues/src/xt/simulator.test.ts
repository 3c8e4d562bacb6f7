import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { SimLogEntry } from '../sim/server.js';
import { TestSocket } from '../sim/test-client.js';
import { testMapContext } from '../sim/test-context.js';
import { parseXtFrame } from './frames.js';
import { xtMapper } from './mapper.js';
import { xtLifecycleSteps, type XtLifecycle, type XtOrderTruth } from './lifecycles.js';
import { XT_LISTEN_KEY_PATH } from './sign.js';
import { XtSimulator, type XtSimulatorOptions } from './simulator.js';

const sims: XtSimulator[] = [];
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  await Promise.all(sims.splice(0).map((s) => s.stop()));
});

async function start(options: XtSimulatorOptions = {}): Promise<XtSimulator> {
  const sim = await XtSimulator.start(options);
  sims.push(sim);
  return sim;
}

/** A bare WebSocket client that records every text frame and its close (`closed` is `{ code }`). */
const openRaw = (url: string) => TestSocket.open(url, { track: sockets });

function signedHeaders(opts: { key?: string; secret?: string; ts?: number; prefix?: string; extra?: Record<string, string> } = {}) {
  const key = opts.key ?? 'sim-api-key';
  const ts = String(opts.ts ?? Date.now());
  const sig = createHmac('sha256', opts.secret ?? 'sim-api-secret')
    .update(`validate-appkey=${key}&validate-timestamp=${ts}#${XT_LISTEN_KEY_PATH}`)
    .digest('hex');
  const p = opts.prefix ?? 'validate-';
  return { [`${p}appkey`]: key, [`${p}timestamp`]: ts, [`${p}signature`]: sig, ...opts.extra };
}

async function listenKeyCall(sim: XtSimulator, headers: Record<string, string>) {
  const res = await fetch(`${sim.restUrl}${XT_LISTEN_KEY_PATH}`, { headers });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function listenKey(sim: XtSimulator): Promise<string> {
  const r = await listenKeyCall(sim, signedHeaders());
  expect(r.status).toBe(200);
  return r.body.result as string;
}

async function subscribed(sim: XtSimulator): Promise<{ raw: TestSocket; key: string }> {
  const key = await listenKey(sim);
  const raw = await openRaw(sim.wsUrl);
  raw.send(JSON.stringify({ method: 'SUBSCRIBE', params: [`order@${key}`], id: 's1' }));
  expect(await raw.nth(1)).toBe('{"id":"s1","code":0,"msg":"success"}');
  return { raw, key };
}

describe('REST listen key (signature and timestamp verified)', () => {
  it('issues a key in the futures envelope', async () => {
    const sim = await start();
    const r = await listenKeyCall(sim, signedHeaders());
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ returnCode: 0, msgInfo: 'success', error: null });
    expect(r.body.result).toMatch(/^[0-9A-F]{32}\d{13}$/);
    expect(sim.stats().listenKeysIssued).toBe(1);
  });

  it.each([
    ['wrong secret', 'AUTH_103', 'Signature error', signedHeaders({ secret: 'nope' })],
    ['stale timestamp', 'AUTH_105', 'outdated message', signedHeaders({ ts: Date.now() - 6_000 })],
    ['timestamp 2 s ahead', 'AUTH_105', 'outdated message', signedHeaders({ ts: Date.now() + 2_000 })],
    ['unknown api key', 'AUTH_101', 'ApiKey does not exist', signedHeaders({ key: 'who' })],
    ['no appkey', 'AUTH_001', 'missing request header validate-appkey', { 'validate-timestamp': '1', 'validate-signature': 'x' }],
    ['no timestamp', 'AUTH_002', 'missing request header validate-timestamp', { 'validate-appkey': 'sim-api-key', 'validate-signature': 'x' }],
    ['no signature', 'AUTH_007', 'missing request header validate-signature', { 'validate-appkey': 'sim-api-key', 'validate-timestamp': String(Date.now()) }],
    ['bad recvwindow', 'AUTH_004', 'bad request header validate-recvwindow', signedHeaders({ extra: { 'validate-recvwindow': '70000' } })],
    ['unknown algorithm', 'AUTH_006', 'bad request header validate-algorithms', signedHeaders({ extra: { 'validate-algorithms': 'HmacWHATEVER' } })],
  ] as const)('%s → HTTP 401 with XT error %s', async (_what, code, msg, headers) => {
    const sim = await start();
    const r = await listenKeyCall(sim, headers);
    expect(r.status).toBe(401);
    expect(r.body).toEqual({ returnCode: 1, msgInfo: 'failure', error: { code, msg }, result: null });
    expect(sim.stats().restRejections[code]).toBe(1);
  });

  it('a larger recvwindow admits an older timestamp; xt- prefixed headers are accepted', async () => {
    const sim = await start();
    expect((await listenKeyCall(sim, signedHeaders({ ts: Date.now() - 6_000, extra: { 'validate-recvwindow': '10000' } }))).status).toBe(200);
    expect((await listenKeyCall(sim, signedHeaders({ prefix: 'xt-validate-' }))).status).toBe(200);
  });

  it('unknown paths answer 404', async () => {
    const sim = await start();
    const res = await fetch(`${sim.restUrl}/future/user/v1/nope`);
    expect(res.status).toBe(404);
  });
});

describe('user socket protocol', () => {
  it('answers text ping with text pong', async () => {
    const sim = await start();
    const raw = await openRaw(sim.wsUrl);
    raw.send('ping');
    expect(await raw.nth(1)).toBe('pong');
  });

  it('answers non-JSON with {"code":1,"msg":"Invalid parameter","sessionId":…} and a bad request with its id', async () => {
    const sim = await start();
    const raw = await openRaw(sim.wsUrl);
    raw.send('hello');
    expect(JSON.parse(await raw.nth(1))).toEqual({ code: 1, msg: 'Invalid parameter', sessionId: expect.stringMatching(/^rs-\d+$/) });
    raw.send('{"method":"FROB","id":"q"}');
    expect(JSON.parse(await raw.nth(2))).toMatchObject({ id: 'q', code: 1, msg: 'Invalid parameter' });
  });

  it('acks a subscription with a valid key (optionally with sessionId)', async () => {
    const sim = await start({ ackSessionId: true });
    const key = await listenKey(sim);
    const raw = await openRaw(sim.wsUrl);
    raw.send(JSON.stringify({ method: 'SUBSCRIBE', params: [`order@${key}`], id: 'a' }));
    expect(JSON.parse(await raw.nth(1))).toEqual({ id: 'a', code: 0, msg: 'success', sessionId: expect.stringMatching(/^rs-/) });
    await sim.waitForSubscribers(1, 2_000);
  });

  it('answers an unknown key with the invalid-key text frame (either spelling) or code 2', async () => {
    for (const [options, expected] of [
      [{}, 'order@invalid_listen_key'],
      [{ invalidKeyText: 'invalid_listenkey' }, 'order@invalid_listenkey'],
      [{ invalidKeyReply: 'code2' }, '{"id":"s","code":2,"msg":"listenKey invalid"}'],
    ] as const) {
      const sim = await start(options);
      const raw = await openRaw(sim.wsUrl);
      raw.send('{"method":"SUBSCRIBE","params":["order@NOT-A-KEY"],"id":"s"}');
      expect(await raw.nth(1)).toBe(expected);
      expect(sim.subscriberCount).toBe(0);
    }
  });

  it('expireListenKeys(): the subscriber is told and gets no more pushes', async () => {
    const sim = await start();
    const { raw, key } = await subscribed(sim);
    expect(sim.expireListenKeys()).toBe(1);
    expect(await raw.nth(2)).toBe('order@invalid_listen_key');
    expect(sim.subscriberCount).toBe(0);
    const report = await sim.play([{ orderId: '1', symbol: 'btc_usdt', kind: 'cancel', side: 'BUY', price: '1', quantity: '1' }]);
    expect(report.undelivered).toBe(2);
    raw.send(JSON.stringify({ method: 'SUBSCRIBE', params: [`order@${key}`], id: 's2' }));
    expect(await raw.nth(3)).toBe('order@invalid_listen_key');
  });

  it('listen keys expire after their TTL', async () => {
    const sim = await start({ listenKeyTtlMs: 150 });
    const { raw } = await subscribed(sim);
    expect(await raw.nth(2)).toBe('order@invalid_listen_key');
  });

  it('terminates a socket that sends no ping within pingTimeoutMs, without a close frame', async () => {
    const sim = await start({ pingTimeoutMs: 150 });
    const raw = await openRaw(sim.wsUrl);
    await raw.until(() => raw.closed !== undefined, 'close');
    expect(raw.closed?.code).toBe(1006);
    expect(sim.stats().heartbeatTimeouts).toBe(1);
  });

  it('dropConnections() terminates every socket', async () => {
    const sim = await start();
    const a = await openRaw(sim.wsUrl);
    const b = await openRaw(sim.wsUrl);
    expect(sim.dropConnections()).toBe(2);
    await a.until(() => a.closed !== undefined, 'close a');
    await b.until(() => b.closed !== undefined, 'close b');
    expect([a.closed?.code, b.closed?.code]).toEqual([1006, 1006]);
  });

  it('serves only /ws/user', async () => {
    const sim = await start();
    await expect(openRaw(sim.wsUrl.replace('/ws/user', '/ws/market'))).rejects.toThrow(/404/);
  });
});

describe('order lifecycles', () => {
  const script: XtLifecycle[] = [
    { orderId: '100', symbol: 'btc_usdt', kind: 'fill', side: 'BUY', price: '64000', quantity: '3', fills: [{ qty: '1', price: '64000' }, { qty: '2', price: '63999.9' }] },
    { orderId: '200', symbol: 'eth_usdt', kind: 'cancel', side: 'SELL', price: '3200.5', quantity: '10', timeInForce: 'GTX' },
    { orderId: '300', symbol: 'sol_usdt', kind: 'partial-cancel', side: 'BUY', price: '150', quantity: '8', fills: [{ qty: '3', price: '149.999' }] },
    { orderId: '400', symbol: 'btc_usdt', kind: 'reject', side: 'SELL', orderType: 'MARKET', price: '64000', quantity: '5' },
  ];

  it('pushes each order through its states, interleaved, frames shaped like the doc example', async () => {
    const sim = await start();
    const { raw, key } = await subscribed(sim);
    const report = await sim.play(script);
    expect(report).toEqual({ planned: 9, sent: 9, duplicates: 0, deliveries: 9, undelivered: 0 });
    await raw.until(() => raw.messages.length >= 10, '9 pushes');
    const pushes = raw.messages.slice(1);
    const states = pushes.map((t) => {
      const f = parseXtFrame(t);
      if (f.kind !== 'order') throw new Error(t);
      expect(f.order.event).toBe(`order@${key}`);
      expect(f.order.origQty).toMatch(/^\d+$/);
      expect(f.order.createdTime).toMatch(/^\d{13}$/);
      return `${f.order.orderId}:${f.order.state}:${f.order.executedQty}:${f.order.avgPrice}`;
    });
    expect(states).toEqual([
      '100:NEW:0:0', '200:NEW:0:0', '300:NEW:0:0', '400:REJECTED:0:0',
      '100:PARTIALLY_FILLED:1:64000', '200:CANCELED:0:0', '300:PARTIALLY_FILLED:3:149.999',
      '100:FILLED:3:63999.93333333', // (64000 + 2 × 63999.9) / 3 = 63999.9333…
      '300:PARTIALLY_CANCELED:3:149.999',
    ]);
  });

  it('truth() holds each order\'s final venue state', async () => {
    const sim = await start();
    await subscribed(sim);
    await sim.play(script);
    const truth = sim.truth();
    expect([...truth.keys()].sort()).toEqual(['100', '200', '300', '400']);
    expect(truth.get('100')).toMatchObject({ state: 'FILLED', origQty: '3', executedQty: '3', avgPrice: '63999.93333333', symbol: 'btc_usdt' });
    expect(truth.get('200')).toMatchObject({ state: 'CANCELED', executedQty: '0', avgPrice: '0', timeInForce: 'GTX' });
    expect(truth.get('300')).toMatchObject({ state: 'PARTIALLY_CANCELED', executedQty: '3', avgPrice: '149.999' });
    expect(truth.get('400')).toMatchObject({ state: 'REJECTED', executedQty: '0', price: '0', orderType: 'MARKET' });
  });

  it('duplicateRate 1 sends every push twice in a row; truth is unchanged', async () => {
    const sim = await start({ faults: { duplicateRate: 1 } });
    const { raw } = await subscribed(sim);
    const report = await sim.play(script);
    expect(report.sent).toBe(18);
    expect(report.duplicates).toBe(9);
    await raw.until(() => raw.messages.length >= 19, '18 pushes');
    const pushes = raw.messages.slice(1);
    for (let i = 0; i < pushes.length; i += 2) expect(pushes[i]).toBe(pushes[i + 1]);
    expect(sim.truth().get('100')?.state).toBe('FILLED');
  });

  it('reorder (across-orders) swaps frames of different orders only', async () => {
    const sim = await start({ faults: { reorder: 1 }, seed: 3 });
    const { raw } = await subscribed(sim);
    const lifecycles = sim.randomLifecycles(30, 11);
    const report = await sim.play(lifecycles);
    await raw.until(() => raw.messages.length >= report.sent + 1, 'all pushes');
    const seq = raw.messages.slice(1).map((t) => {
      const f = parseXtFrame(t);
      if (f.kind !== 'order') throw new Error(t);
      return f.order;
    });
    const byOrder = new Map<string, string[]>();
    for (const o of seq) byOrder.set(o.orderId, [...(byOrder.get(o.orderId) ?? []), `${o.state}:${o.executedQty}`]);
    for (const lc of lifecycles) {
      expect(byOrder.get(lc.orderId)).toEqual(xtLifecycleSteps(lc).map((st) => `${st.state}:${st.executedQty}`));
    }
    // something did move: the sequence is not the plain round-robin order
    const plain = await start();
    const { raw: raw2 } = await subscribed(plain);
    await plain.play(lifecycles);
    await raw2.until(() => raw2.messages.length >= report.sent + 1, 'all pushes (plain)');
    const ids = (r: TestSocket) => r.messages.slice(1).map((t) => (JSON.parse(t) as { data: { orderId: string } }).data.orderId);
    expect(ids(raw)).not.toEqual(ids(raw2));
    const timeless = (t: Map<string, XtOrderTruth>) => [...t.values()].map((v) => ({ ...v, createdTime: 0 })).sort((a, b) => a.orderId.localeCompare(b.orderId));
    expect(timeless(sim.truth())).toEqual(timeless(plain.truth()));
  });

  it('delayMs delays pushes but keeps their order; play resolves after the last one', async () => {
    const sim = await start({ faults: { delayMs: 50 } });
    const { raw } = await subscribed(sim);
    const t0 = Date.now();
    const report = await sim.play(script, { intervalMs: 5 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(50);
    expect(report.deliveries).toBe(9);
    await raw.until(() => raw.messages.length >= 10, '9 pushes');
    expect(raw.messages.slice(1).map((t) => (JSON.parse(t) as { data: { state: string } }).data.state).at(-1)).toBe('PARTIALLY_CANCELED');
  });

  it('waitForSubscriberMs holds pushes until someone subscribes', async () => {
    const sim = await start();
    const playing = sim.play(script.slice(0, 1), { waitForSubscriberMs: 5_000 });
    const { raw } = await subscribed(sim);
    const report = await playing;
    expect(report.undelivered).toBe(0);
    await raw.until(() => raw.messages.length >= 4, '3 pushes');
  });

  it('injectMalformed sends the exact returned text, and the mapper gives each its code', async () => {
    const sim = await start();
    const { raw } = await subscribed(sim);
    const ctx = testMapContext('xt', { account: 'a' });
    const codes: string[] = [];
    for (const kind of ['invalid-json', 'wrong-types', 'unknown-state'] as const) {
      const text = sim.injectMalformed(kind);
      await raw.until(() => raw.messages.includes(text), kind);
      try {
        xtMapper.map(text, ctx);
      } catch (e) {
        codes.push((e as { code: string }).code);
      }
    }
    expect(codes).toEqual(['FRAME_NOT_JSON', 'FRAME_INVALID', 'FRAME_UNKNOWN_STATUS']);
    expect(sim.truth().size).toBe(0);
  });

  it('logs every frame in and out to the sink', async () => {
    const log: SimLogEntry[] = [];
    const sim = await start({ log: (e) => log.push(e) });
    const { raw } = await subscribed(sim);
    await sim.play(script.slice(1, 2));
    await raw.until(() => raw.messages.length >= 3, '2 pushes');
    expect(log.filter((e) => e.channel === 'http').map((e) => e.direction)).toEqual(['in', 'out']);
    expect(log.find((e) => e.direction === 'in' && e.channel === 'ws')?.text).toContain('"SUBSCRIBE"');
    expect(log.filter((e) => e.note === 'push').map((e) => e.text)).toEqual(raw.messages.slice(1));
  });

  it('referenceData() describes its contract sizes', async () => {
    const sim = await start();
    expect(sim.referenceData().xt?.btc_usdt).toEqual({ contractSize: '0.0001' });
  });
});
