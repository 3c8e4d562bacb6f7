import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { nowEpochNanos } from '@orderstream/kit';
import type { SimLogEntry } from '../sim/server.js';
import { TestSocket } from '../sim/test-client.js';
import { testMapContext } from '../sim/test-context.js';
import { parseBsxFrame, type BsxOrder } from './frames.js';
import { bsxMapper } from './mapper.js';
import { bsxExpectedCanonical, bsxExpectedSeen, type BsxLifecycle } from './lifecycles.js';
import { bsxAuthFrame } from './sign.js';
import { BsxSimulator, type BsxSimulatorOptions } from './simulator.js';

const sims: BsxSimulator[] = [];
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  await Promise.all(sims.splice(0).map((s) => s.stop()));
});

async function start(options: BsxSimulatorOptions = {}): Promise<BsxSimulator> {
  const sim = await BsxSimulator.start({ multiOrderRate: 0, ...options });
  sims.push(sim);
  return sim;
}

/** A bare WebSocket client that records every text frame and its close (`closed` is `{ code }`). */
const openRaw = (url: string) => TestSocket.open(url, { track: sockets });

/** Orders frames received, parsed. */
function orderFrames(raw: TestSocket) {
  return raw.messages.filter((m) => m.includes('"channel":"orders"') && m.includes('"data"')).map((m) => {
    const f = parseBsxFrame(m);
    if (f.kind !== 'orders') throw new Error(m);
    return f;
  });
}

const auth = (opts: { key?: string; secret?: string; ts?: string } = {}) =>
  bsxAuthFrame(opts.key ?? 'sim-api-key', opts.secret ?? 'sim-api-secret', opts.ts ?? nowEpochNanos());

/** Connected, authenticated and subscribed; returns the socket after the snapshot arrived. */
async function subscribed(sim: BsxSimulator): Promise<TestSocket> {
  const raw = await openRaw(sim.wsUrl);
  await raw.nth(1);
  raw.send(auth());
  expect(await raw.nth(2)).toBe('{"channel":"auth","type":"authenticated"}');
  raw.send('{"op":"sub","channel":"orders"}');
  expect(await raw.nth(3)).toBe('{"channel":"orders","type":"subscribed"}');
  expect(await raw.nth(4)).toMatch(/^\{"channel":"orders","type":"snapshot","data":\[/);
  return raw;
}

const ctx = testMapContext('bsx', { account: 'acc' });

describe('connection and authentication', () => {
  it('sends the connection id first; answers {"op":"ping"} with {"type":"pong"}', async () => {
    const sim = await start();
    const raw = await openRaw(sim.wsUrl);
    expect(JSON.parse(await raw.nth(1))).toEqual({ type: 'message', connection_id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    raw.send('{"op":"ping"}');
    expect(await raw.nth(2)).toBe('{"type":"pong"}');
    expect(sim.stats().pingsReceived).toBe(1);
  });

  it.each([
    ['wrong secret', { secret: 'nope' }, 'invalid signature'],
    ['unknown key', { key: 'who' }, 'api key not found'],
    // getters: the timestamp is taken when the auth message is built, not when this table is (a busy machine can take
    // seconds between the two)
    ['stale timestamp (100.85 s, as in the doc)', { get ts() { return (BigInt(nowEpochNanos()) - 100_854_776_000n).toString(); } }, /^timestamp should be closed to current timestamp \(100\.\d{6}s\)$/],
    ['timestamp ahead', { get ts() { return (BigInt(nowEpochNanos()) + 120_000_000_000n).toString(); } }, /^timestamp should be closed to current timestamp \(1(19|20)\.\d{6}s\)$/],
    ['timestamp not digits, unknown key (time is checked first, as in the doc transcript)', { key: 'secret-key-here', ts: '12345' }, /^timestamp should be closed/],
  ] as const)('%s → {"channel":"auth","type":"error",…,"code":400}', async (_what, opts, message) => {
    const sim = await start();
    const raw = await openRaw(sim.wsUrl);
    await raw.nth(1);
    raw.send(auth(opts));
    const reply = JSON.parse(await raw.nth(2)) as { channel: string; type: string; message: string; code: number };
    expect(reply).toMatchObject({ channel: 'auth', type: 'error', code: 400 });
    expect(reply.message).toMatch(message);
    raw.send('{"op":"sub","channel":"orders"}');
    expect(await raw.nth(3)).toBe('{"channel":"orders","type":"error","message":"not authenticated","code":401}');
    expect(sim.subscriberCount).toBe(0);
  });

  it('a wider timestampWindowMs admits the 100.85 s drift; clockOffsetMs moves the simulator clock', async () => {
    const sim = await start({ timestampWindowMs: 200_000 });
    const raw = await openRaw(sim.wsUrl);
    await raw.nth(1);
    raw.send(auth({ ts: (BigInt(nowEpochNanos()) - 100_854_776_000n).toString() }));
    expect(await raw.nth(2)).toBe('{"channel":"auth","type":"authenticated"}');
    const skewed = await start({ clockOffsetMs: 90_000 });
    const r2 = await openRaw(skewed.wsUrl);
    await r2.nth(1);
    r2.send(auth());
    expect(JSON.parse(await r2.nth(2))).toMatchObject({ type: 'error', message: expect.stringMatching(/^timestamp should be closed/) });
  });

  it('sub orders without auth → 401; a second auth after success results in nothing', async () => {
    const sim = await start();
    const raw = await openRaw(sim.wsUrl);
    await raw.nth(1);
    raw.send('{"op":"sub","channel":"orders"}');
    expect(await raw.nth(2)).toBe('{"channel":"orders","type":"error","message":"not authenticated","code":401}');
    raw.send(auth());
    await raw.nth(3);
    raw.send(auth({ secret: 'wrong' }));
    raw.send('{"op":"ping"}');
    expect(await raw.nth(4)).toBe('{"type":"pong"}');
    expect(sim.stats()).toMatchObject({ notAuthenticated: 1, authenticated: 1, authRejections: {} });
  });

  it('public channels are acked (and fed nothing); unknown channels get the documented 400', async () => {
    const sim = await start();
    const raw = await openRaw(sim.wsUrl);
    await raw.nth(1);
    raw.send('{"op":"sub","channel":"trades","product":"BTC-PERP"}');
    expect(await raw.nth(2)).toBe('{"channel":"trades","product":"BTC-PERP","type":"subscribed"}');
    raw.send('{"op":"sub","channel":"candles","product":"BTC-PERP"}');
    expect(await raw.nth(3)).toBe('{"channel":"candles","type":"error","message":"given channel/product is unsupported","code":400}');
    raw.send('not json');
    expect(JSON.parse(await raw.nth(4))).toMatchObject({ type: 'error', code: 400 });
  });

  it('closes a socket idle for idleTimeoutMs; pings keep it open', async () => {
    const sim = await start({ idleTimeoutMs: 150 });
    const idle = await openRaw(sim.wsUrl);
    const busy = await openRaw(sim.wsUrl);
    const pinger = setInterval(() => busy.send('{"op":"ping"}'), 40);
    try {
      await idle.until(() => idle.closed !== undefined, 'idle close');
      expect(idle.closed?.code).toBe(1000);
      expect(busy.closed).toBeUndefined();
      expect(sim.stats().idleCloses).toBe(1);
    } finally {
      clearInterval(pinger);
    }
  });

  it('announceShutdown(): the documented bye message, then a close', async () => {
    const sim = await start();
    const raw = await openRaw(sim.wsUrl);
    await raw.nth(1);
    expect(sim.announceShutdown()).toBe(1);
    expect(JSON.parse(await raw.nth(2))).toEqual({ type: 'message', message: 'bye - service is shutting down' });
    await raw.until(() => raw.closed !== undefined, 'close');
    expect(raw.closed?.code).toBe(1001);
  });

  it('dropConnections() terminates sockets (1006); refuseConnections(true) drops new ones at once', async () => {
    const sim = await start();
    const a = await openRaw(sim.wsUrl);
    expect(sim.dropConnections()).toBe(1);
    await a.until(() => a.closed !== undefined, 'close');
    expect(a.closed?.code).toBe(1006);
    sim.refuseConnections(true);
    const b = await openRaw(sim.wsUrl);
    await b.until(() => b.closed !== undefined, 'refused');
    expect(b.messages).toEqual([]);
    expect(sim.stats().connectionsRefused).toBe(1);
  });

  it('serves only /ws', async () => {
    const sim = await start();
    await expect(openRaw(sim.wsUrl.replace('/ws', '/stream'))).rejects.toThrow(/404/);
  });
});

describe('orders: snapshot, updates, truth', () => {
  const script: BsxLifecycle[] = [
    { id: 'aaaaaaaa-0000-4000-8000-000000000001', productId: 'BTC-PERP', kind: 'fill', side: 'BUY', price: '64000', size: '0.03', fills: [{ size: '0.01', price: '64000' }, { size: '0.02', price: '63999.9' }] },
    { id: 'aaaaaaaa-0000-4000-8000-000000000002', productId: 'ETH-PERP', kind: 'cancel', side: 'SELL', price: '3200.5', size: '1', postOnly: true },
    { id: 'aaaaaaaa-0000-4000-8000-000000000003', productId: 'SOL-PERP', kind: 'rest', side: 'BUY', price: '150', size: '8', fills: [{ size: '3', price: '149.99' }] },
    { id: 'aaaaaaaa-0000-4000-8000-000000000004', productId: 'BTC-PERP', kind: 'stop-rest', side: 'SELL', price: '62680', size: '0.03', stopPrice: '63000' },
  ];

  it('plays each order through its updates, interleaved; the mapped frames end at the oracle', async () => {
    const sim = await start();
    const raw = await subscribed(sim);
    const report = await sim.play(script);
    expect(report).toEqual({ planned: 12, sent: 12, multiOrderFrames: 0, duplicates: 0, deliveries: 12, undelivered: 0 });
    await raw.until(() => orderFrames(raw).length >= 13, '12 updates');
    const updates = orderFrames(raw).slice(1);
    expect(updates.map((f) => f.orders.map((o: BsxOrder) => `${o.id.slice(-1)}:${o.status}:${o.filledSize}:${o.cancelRequested}`).join())).toEqual([
      '1:PENDING:0:false', '2:PENDING:0:false', '3:PENDING:0:false', '4:STOP_ACCEPTED:0:false',
      '1:OPEN:0:false', '2:OPEN:0:false', '3:OPEN:0:false',
      '1:OPEN:0.01:false', '2:OPEN:0:true', '3:OPEN:3:false',
      '1:DONE:0.03:false', '2:DONE:0:true',
    ]);
    // the update timestamp equals its order's updated_at (official doc), except never-updated stops
    for (const f of updates) if (f.orders[0]?.updatedAt !== '0') expect(f.timestamp).toBe(f.orders[0]?.updatedAt);

    const last = new Map<string, ReturnType<typeof bsxExpectedCanonical>>();
    for (const text of raw.messages) {
      const r = bsxMapper.map(text, ctx);
      if (r.kind === 'orders') for (const o of r.orders) last.set(o.orderId, o);
    }
    const truth = sim.truth();
    expect(truth.size).toBe(4);
    for (const [id, t] of truth) {
      expect(t.finishedUnseen).toBe(false);
      expect(last.get(id)).toMatchObject(bsxExpectedCanonical(t, 'acc'));
    }
    expect(truth.get(script[0]!.id)).toMatchObject({ order: { status: 'DONE', filled_size: '0.03' }, lastTrade: { size: '0.02', price: '63999.9' } });
    expect(sim.liveOrderIds()).toEqual([script[2]!.id, script[3]!.id]);
  });

  it('the snapshot on subscribe lists the account\'s live orders only, with last_trades []', async () => {
    const sim = await start();
    await sim.play(script); // nobody subscribed: the venue state moves on anyway
    const raw = await subscribed(sim);
    const snap = orderFrames(raw)[0];
    expect(snap?.type).toBe('snapshot');
    expect(snap?.orders.map((o) => [o.id, o.status, o.filledSize, o.lastTrades])).toEqual([
      [script[2]!.id, 'OPEN', '3', []],
      [script[3]!.id, 'STOP_ACCEPTED', '0', []],
    ]);
    expect(bsxMapper.map(raw.messages[3] as string, ctx)).toMatchObject({ kind: 'orders', snapshot: { complete: true } });
    // orders finished before anyone subscribed were never seen
    const truth = sim.truth();
    expect(truth.get(script[0]!.id)).toMatchObject({ seen: null, finishedUnseen: true });
    expect(truth.get(script[2]!.id)?.seen?.filled_size).toBe('3');
  });

  it('finishWhileDisconnected: orders end with nobody connected, a reconnect\'s snapshot lacks them; truth says finishedUnseen', async () => {
    const sim = await start();
    const first = await subscribed(sim);
    await sim.play(script);
    await first.until(() => orderFrames(first).length >= 13, 'all updates');
    expect(sim.finishWhileDisconnected([script[2]!.id], 'fill')).toEqual([script[2]!.id]);
    await first.until(() => first.closed !== undefined, 'drop');
    expect(orderFrames(first).some((f) => f.orders.some((o) => o.id === script[2]!.id && o.status === 'DONE'))).toBe(false);

    const second = await subscribed(sim);
    expect(orderFrames(second)[0]?.orders.map((o) => o.id)).toEqual([script[3]!.id]);
    const t = sim.truth().get(script[2]!.id);
    expect(t).toMatchObject({ finishedUnseen: true, order: { status: 'DONE', filled_size: '8' }, seen: { status: 'OPEN', filled_size: '3' } });
    expect(bsxExpectedCanonical(t!, 'acc')).toMatchObject({ status: 'FILLED', filledQuantity: '8' });
    expect(BigInt(t!.order.updated_at) > BigInt(t!.seen!.updated_at)).toBe(true);
    expect(t!.lastTrade).toMatchObject({ size: '5', price: '150', liquidity_indicator: 'MAKER' });
    expect(bsxExpectedSeen(t!, 'acc')).toMatchObject({ status: 'PARTIALLY_FILLED', filledQuantity: '3', lastFillPrice: '149.99' });

    // finishing with a subscriber present is seen
    expect(sim.finishOrders('all-live', 'cancel')).toEqual([script[3]!.id]);
    await second.until(() => orderFrames(second).length >= 2, 'the cancel');
    expect(orderFrames(second)[1]?.orders[0]).toMatchObject({ status: 'DONE', cancelReason: 'TPSL order canceled due to position closed' });
    expect(sim.truth().get(script[3]!.id)?.finishedUnseen).toBe(false);
    expect(() => sim.finishOrders([script[3]!.id], 'cancel')).toThrow(/already DONE/);
    expect(() => sim.finishOrders(['nope'], 'cancel')).toThrow(/unknown order/);
  });

  it('multiOrderRate 1: updates of different orders share frames (at most maxOrdersPerFrame), never two of one order', async () => {
    const sim = await start({ multiOrderRate: 1, maxOrdersPerFrame: 3 });
    const raw = await subscribed(sim);
    const lifecycles = sim.randomLifecycles(12, 5);
    const report = await sim.play(lifecycles);
    expect(report.multiOrderFrames).toBeGreaterThan(0);
    await raw.until(() => orderFrames(raw).length >= report.sent + 1, 'all frames');
    const frames = orderFrames(raw).slice(1);
    expect(frames.reduce((n, f) => n + f.orders.length, 0)).toBe(report.planned);
    for (const f of frames) {
      expect(f.orders.length).toBeLessThanOrEqual(3);
      expect(new Set(f.orders.map((o) => o.id)).size).toBe(f.orders.length);
    }
    // every frame maps to one canonical order per order it carries
    const texts = raw.messages.filter((m) => m.includes('"type":"update"'));
    texts.forEach((t, i) => expect(bsxMapper.map(t, ctx)).toMatchObject({ kind: 'orders', orders: { length: frames[i]!.orders.length } }));
  });

  it('duplicateRate 1 sends every update twice in a row; truth is unchanged', async () => {
    const sim = await start({ faults: { duplicateRate: 1 } });
    const raw = await subscribed(sim);
    const report = await sim.play(script.slice(0, 2));
    expect(report.duplicates).toBe(report.planned);
    await raw.until(() => orderFrames(raw).length >= report.sent + 1, 'all frames');
    const updates = raw.messages.filter((m) => m.includes('"type":"update"'));
    for (let i = 0; i < updates.length; i += 2) expect(updates[i]).toBe(updates[i + 1]);
    expect(sim.truth().get(script[0]!.id)?.order.status).toBe('DONE');
  });

  it('reorder across orders keeps each order\'s updates in order', async () => {
    const sim = await start({ faults: { reorder: 1 }, seed: 3 });
    const raw = await subscribed(sim);
    const lifecycles = sim.randomLifecycles(20, 11);
    const report = await sim.play(lifecycles);
    await raw.until(() => orderFrames(raw).length >= report.sent + 1, 'all frames');
    const byOrder = new Map<string, string[]>();
    for (const f of orderFrames(raw).slice(1)) for (const o of f.orders) byOrder.set(o.id, [...(byOrder.get(o.id) ?? []), o.filledSize]);
    for (const [, seq] of byOrder) for (let i = 1; i < seq.length; i++) expect(Number(seq[i])).toBeGreaterThanOrEqual(Number(seq[i - 1]));
    for (const t of sim.truth().values()) expect(t.finishedUnseen).toBe(false);
  });

  it('play() refuses ids played before and impossible scripts, before sending anything', async () => {
    const sim = await start();
    await sim.play(script.slice(0, 1));
    await expect(sim.play(script.slice(0, 1))).rejects.toThrow(/already played/);
    await expect(sim.play([{ ...script[1]!, id: 'x', fills: [{ size: '5', price: '1' }] }])).rejects.toThrow(/less than size/);
  });

  it('waitForSubscriberMs holds updates until someone subscribes', async () => {
    const sim = await start();
    const playing = sim.play(script.slice(1, 2), { waitForSubscriberMs: 5_000 });
    const raw = await subscribed(sim);
    expect((await playing).undelivered).toBe(0);
    await raw.until(() => orderFrames(raw).length >= 5, '4 updates');
  });

  it('injectMalformed sends the exact returned text, and the mapper gives each its code', async () => {
    const sim = await start();
    const raw = await subscribed(sim);
    const codes: string[] = [];
    for (const kind of ['invalid-json', 'wrong-types', 'unknown-status'] as const) {
      const text = sim.injectMalformed(kind);
      await raw.until(() => raw.messages.includes(text), kind);
      try {
        bsxMapper.map(text, ctx);
      } catch (e) {
        codes.push((e as { code: string }).code);
      }
    }
    expect(codes).toEqual(['FRAME_NOT_JSON', 'FRAME_INVALID', 'FRAME_UNKNOWN_STATUS']);
    expect(sim.truth().size).toBe(0);
  });

  it('logs every frame in and out', async () => {
    const log: SimLogEntry[] = [];
    const sim = await start({ log: (e) => log.push(e) });
    const raw = await subscribed(sim);
    await sim.play(script.slice(1, 2));
    await raw.until(() => orderFrames(raw).length >= 5, 'updates');
    expect(log.find((e) => e.direction === 'in')?.text).toContain('"op":"auth"');
    expect(log.filter((e) => e.note === 'update').map((e) => e.text)).toEqual(raw.messages.filter((m) => m.includes('"type":"update"')));
    expect(log.map((e) => e.note)).toEqual(expect.arrayContaining(['connection-id', 'authenticated', 'ack', 'snapshot']));
  });
});
