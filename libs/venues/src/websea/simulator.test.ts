import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { FrameError } from '@orderstream/kit';
import type { SimLogEntry } from '../sim/server.js';
import { TestSocket } from '../sim/test-client.js';
import { testMapContext } from '../sim/test-context.js';
import { webseaMapper } from './mapper.js';
import { webseaLifecycleSteps, webseaOrderFrameText, type WebseaLifecycle } from './lifecycles.js';
import { webseaNonce, webseaSubscribeSignature } from './sign.js';
import { WebseaSimulator, type WebseaSimulatorOptions } from './simulator.js';

const TOKEN = 'sim-websea-token';
const SECRET = 'sim-websea-secret';
const ctx = testMapContext('websea', { account: 'acc' });

const sims: WebseaSimulator[] = [];
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  await Promise.all(sims.splice(0).map((s) => s.stop()));
});

async function start(options: WebseaSimulatorOptions = {}): Promise<WebseaSimulator> {
  const sim = await WebseaSimulator.start(options);
  sims.push(sim);
  return sim;
}

/** A bare WebSocket client that records every message (text or binary, `binary[]` says which) and its close (`{ code }`). */
const openRaw = (url: string) => TestSocket.open(url, { track: sockets });

function sub(over: Record<string, unknown> = {}, opts: { secret?: string; nonce?: string; order?: 'bytewise' | 'case-insensitive'; opChannel?: boolean } = {}) {
  const nonce = opts.nonce ?? webseaNonce();
  const token = (over.token as string | undefined) ?? TOKEN;
  const Signature = webseaSubscribeSignature({
    token,
    secretKey: opts.secret ?? SECRET,
    nonce,
    includeOpChannel: opts.opChannel ?? false,
    ...(opts.order ? { order: opts.order } : {}),
  });
  return { op: 'sub', channel: 'order', token, Nonce: nonce, Signature, ...over };
}

const errorReply = (errno: number, errmsg: string, op = 'sub', channel = 'order') => ({ channel, errmsg, errno, op });

describe('subscribe and authentication', () => {
  it('a correctly signed sub is acked in the documented shape', async () => {
    const sim = await start();
    const raw = await openRaw(sim.wsUrl);
    raw.send(sub());
    expect(await raw.json(1)).toEqual({ errno: 0, errmsg: 'success', op: 'sub', channel: 'order' });
    expect(raw.messages[0]).toBe('{"errno":0,"errmsg":"success","op":"sub","channel":"order"}');
    await sim.waitForSubscribers(1, 2_000);
    expect(sim.stats()).toMatchObject({ subscribers: 1, connectionsAccepted: 1, noncesSeen: 1 });
  });

  it.each<[string, Record<string, unknown>, Parameters<typeof sub>[1], number, string]>([
    ['wrong secret → 20506', {}, { secret: 'nope' }, 20506, 'api signature not valid'],
    // getters: the nonce is taken when the sub is built, not when this table is (a busy machine takes seconds between)
    ['nonce 2 minutes old → 20520', {}, { get nonce() { return `${Math.floor(Date.now() / 1000) - 120}_abcde`; } }, 20520, 'nonce expires, please verify server time'],
    ['nonce 61 s ahead → 20520', {}, { get nonce() { return `${Math.floor(Date.now() / 1000) + 61}_abcde`; } }, 20520, 'nonce expires, please verify server time'],
    ['malformed nonce → 20521', {}, { nonce: '1534927978-abcde' }, 20521, 'incomplete header parameters'],
    ['no Signature → 20521', { Signature: undefined }, {}, 20521, 'incomplete header parameters'],
    ['no token → 20521', { token: '' }, {}, 20521, 'incomplete header parameters'],
    ['unknown token → 20522', { token: 'someone-else' }, {}, 20522, 'not getting the current user'],
  ])('%s', async (_what, over, opts, errno, errmsg) => {
    const sim = await start();
    const raw = await openRaw(sim.wsUrl);
    raw.send(sub(over, opts));
    expect(await raw.json(1)).toEqual(errorReply(errno, errmsg));
    expect(sim.subscriberCount).toBe(0);
    expect(sim.stats().rejections[errno]).toBe(1);
    expect(raw.closed).toBeUndefined(); // the socket stays open; the client decides
  });

  it('a nonce is single use: the same signed sub again → 20519 (on another socket too)', async () => {
    const sim = await start();
    const msg = sub();
    const a = await openRaw(sim.wsUrl);
    a.send(msg);
    expect(await a.json(1)).toMatchObject({ errno: 0 });
    const b = await openRaw(sim.wsUrl);
    b.send(msg);
    expect(await b.json(1)).toEqual(errorReply(20519, 'the nonce has been used'));
    a.send(msg);
    expect(await a.json(2)).toEqual(errorReply(20519, 'the nonce has been used'));
  });

  it('signatureSort "either" accepts the Java sample\'s case-insensitive order; op/channel signing is a knob', async () => {
    // byte-wise: nonce < 'D57B…' < 'ca2f…'; case-insensitively: nonce < 'ca2f…' < 'd57b…'
    const token = 'D57BA172A6BE125C';
    const secret = 'ca2f449826f9980ca';
    const either = await start({ token, secretKey: secret, signatureSort: 'either' });
    const a = await openRaw(either.wsUrl);
    a.send(sub({ token }, { secret, order: 'case-insensitive' }));
    expect(await a.json(1)).toMatchObject({ errno: 0 });
    a.send(sub({ token }, { secret, order: 'bytewise' }));
    expect(await a.json(2)).toMatchObject({ errno: 0 });

    const strict = await start({ token, secretKey: secret, signatureSort: 'bytewise' });
    const b = await openRaw(strict.wsUrl);
    b.send(sub({ token }, { secret, order: 'case-insensitive' }));
    expect(await b.json(1)).toMatchObject({ errno: 20506 });

    const withOp = await start({ signatureIncludesOpChannel: true });
    const c = await openRaw(withOp.wsUrl);
    c.send(sub());
    expect(await c.json(1)).toMatchObject({ errno: 20506 });
    c.send(sub({}, { opChannel: true }));
    expect(await c.json(2)).toMatchObject({ errno: 0 });
  });

  it('rejectNextSubscribes answers the next correctly signed subs with a chosen errno', async () => {
    const sim = await start();
    sim.rejectNextSubscribes(20530);
    const raw = await openRaw(sim.wsUrl);
    raw.send(sub());
    expect(await raw.json(1)).toEqual(errorReply(20530, 'no permission'));
    raw.send(sub());
    expect(await raw.json(2)).toMatchObject({ errno: 0 });
  });

  it('other channels → 50009, unknown op (incl. {"op":"ping"}) → 51000, unsub → ack and no more pushes', async () => {
    const sim = await start();
    const raw = await openRaw(sim.wsUrl);
    raw.send({ op: 'sub', channel: 'depth', symbol: 'BTC-USDT' });
    expect(await raw.json(1)).toEqual(errorReply(50009, 'WS channel unavailable.', 'sub', 'depth'));
    raw.send({ op: 'ping' });
    expect(await raw.json(2)).toEqual(errorReply(51000, 'unsupported op', 'ping', ''));
    raw.send(sub());
    expect(await raw.json(3)).toMatchObject({ errno: 0 });
    raw.send({ op: 'unsub', channel: 'order' });
    expect(await raw.json(4)).toEqual({ errno: 0, errmsg: 'success', op: 'unsub', channel: 'order' });
    expect(sim.subscriberCount).toBe(0);
    const report = await sim.play([{ orderId: 'BLX', symbol: 'BTC-USDT', kind: 'cancel', side: 'BUY', price: '1', amount: '1' }]);
    expect(report.undelivered).toBe(2);
    expect(raw.messages).toHaveLength(4);
  });

  it('non-JSON text closes the socket without a close frame (1006), as observed', async () => {
    const sim = await start();
    const raw = await openRaw(sim.wsUrl);
    raw.send('hello');
    await raw.until(() => raw.closed !== undefined, 'close');
    expect(raw.closed).toEqual({ code: 1006 });
    expect(sim.stats().nonJsonClosures).toBe(1);
  });

  it('HTTP paths other than the reconciliation endpoints and unknown socket paths get 404; unsigned REST calls 20521', async () => {
    const sim = await start();
    expect((await fetch(`${sim.httpUrl}/openApi/wallet/list`)).status).toBe(404);
    const unsigned = await fetch(`${sim.httpUrl}/openApi/entrust/currentList`);
    expect(await unsigned.json()).toMatchObject({ errno: 20521 });
    await expect(openRaw(sim.wsUrl.replace('/spot/order', '/spot/market'))).rejects.toThrow(/404/);
  });
});

describe('idle rule and control pings', () => {
  it('a socket that neither subscribes nor sends is dropped (1006); one sending control pings stays', async () => {
    const sim = await start({ idleTimeoutMs: 300 });
    const quiet = await openRaw(sim.wsUrl);
    const pinging = await openRaw(sim.wsUrl);
    const timer = setInterval(() => pinging.ws.ping(), 50);
    try {
      await quiet.until(() => quiet.closed !== undefined, 'the quiet socket to be dropped');
      expect(quiet.closed).toEqual({ code: 1006 });
      // keep going until the pinging socket has outlived two idle periods
      await sim.waitUntil(() => sim.stats().pingsReceived >= 12, 5_000, 'twelve pings');
      expect(pinging.closed).toBeUndefined();
      expect(sim.stats().idleTimeouts).toBe(1);
    } finally {
      clearInterval(timer);
    }
  });

  it('a subscribed socket is kept without pings (observed); idleAppliesToSubscribed makes the rule stricter', async () => {
    const sim = await start({ idleTimeoutMs: 300 });
    const subscribed = await openRaw(sim.wsUrl);
    subscribed.send(sub());
    await subscribed.json(1);
    const quiet = await openRaw(sim.wsUrl);
    await quiet.until(() => quiet.closed !== undefined, 'the quiet socket to be dropped');
    const later = await openRaw(sim.wsUrl); // opened after the first one dropped: its drop proves > 300 ms more
    await later.until(() => later.closed !== undefined, 'a second quiet socket to be dropped');
    expect(subscribed.closed).toBeUndefined();

    const strict = await start({ idleTimeoutMs: 300, idleAppliesToSubscribed: true });
    const s = await openRaw(strict.wsUrl);
    s.send(sub());
    await s.json(1);
    await s.until(() => s.closed !== undefined, 'the subscribed socket to be dropped');
    expect(s.closed).toEqual({ code: 1006 });
  });
});

describe('pushes', () => {
  const lifecycle: WebseaLifecycle = {
    orderId: 'BL1',
    symbol: '币安人生-USDT',
    kind: 'fill',
    side: 'BUY',
    price: '0.1234',
    amount: '100',
    executions: [{ qty: '40', price: '0.1234' }, { qty: '60', price: '0.1233' }],
    entrustTime: 1_731_231_231,
  };

  it('play() sends each step\'s frame to subscribers and records the truth', async () => {
    const log: SimLogEntry[] = [];
    const sim = await start({ log: (e) => log.push(e) });
    const raw = await openRaw(sim.wsUrl);
    raw.send(sub());
    await raw.json(1);
    const report = await sim.play([lifecycle], { intervalMs: 1 });
    expect(report).toEqual({ planned: 3, sent: 3, duplicates: 0, deliveries: 3, undelivered: 0 });
    await raw.until(() => raw.messages.length === 4, 'three pushes');
    const expected = webseaLifecycleSteps(lifecycle, 1_731_231_231).map((s) => webseaOrderFrameText(lifecycle, s, { entrustTime: 1_731_231_231 }));
    expect(raw.messages.slice(1)).toEqual(expected);
    expect(raw.binary).toEqual([false, false, false, false]);
    const truth = sim.truth().get('BL1');
    expect(truth).toMatchObject({ status: 'FILLED', filledQuantity: '100', filledQuoteQuantity: '12.334', averagePrice: '0.12334', fee: '0.024668' });
    expect(truth?.executions).toHaveLength(2);
    expect(log.filter((e) => e.note === 'push')).toHaveLength(3);
  });

  it('binaryFrames: every frame (ack and pushes) is a binary message of UTF-8 JSON', async () => {
    const log: SimLogEntry[] = [];
    const sim = await start({ binaryFrames: true, log: (e) => log.push(e) });
    const raw = await openRaw(sim.wsUrl);
    raw.send(sub());
    expect(await raw.json(1)).toMatchObject({ errno: 0 });
    await sim.play([lifecycle]);
    await raw.until(() => raw.messages.length === 4, 'three pushes');
    expect(raw.binary).toEqual([true, true, true, true]);
    const mapped = webseaMapper.map(raw.messages[2] as string, ctx);
    expect(mapped).toMatchObject({ kind: 'orders', orders: [{ venueSymbol: '币安人生-USDT', lastFillQuantity: '40' }] });
    expect(log.filter((e) => e.note === 'push (binary)')).toHaveLength(3);
  });

  it('duplicateRate sends byte-identical copies; truth is unchanged by faults', async () => {
    const sim = await start({ faults: { duplicateRate: 1 } });
    const raw = await openRaw(sim.wsUrl);
    raw.send(sub());
    await raw.json(1);
    const report = await sim.play([lifecycle]);
    expect(report).toMatchObject({ planned: 3, sent: 6, duplicates: 3 });
    await raw.until(() => raw.messages.length === 7, 'six pushes');
    expect(raw.messages[1]).toBe(raw.messages[2]);
    expect(sim.truth().get('BL1')?.filledQuantity).toBe('100');
  });

  it('random lifecycles play and every push maps', async () => {
    const sim = await start({ faults: { reorder: 0.5, duplicateRate: 0.2 } });
    const raw = await openRaw(sim.wsUrl);
    raw.send(sub());
    await raw.json(1);
    const lifecycles = sim.randomLifecycles(20, 99);
    const report = await sim.play(lifecycles);
    await raw.until(() => raw.messages.length === 1 + report.deliveries, 'all pushes');
    for (const m of raw.messages.slice(1)) expect(webseaMapper.map(m, ctx).kind).toBe('orders');
    expect(sim.truth().size).toBe(20);
  });

  it('injectMalformed sends frames the mapper rejects with the matching code', async () => {
    const sim = await start();
    expect(() => sim.injectMalformed('invalid-json')).toThrow(/no socket is subscribed/);
    const raw = await openRaw(sim.wsUrl);
    raw.send(sub());
    await raw.json(1);
    const cases = [
      ['invalid-json', 'FRAME_NOT_JSON'],
      ['wrong-types', 'FRAME_INVALID'],
      ['unknown-status', 'FRAME_UNKNOWN_STATUS'],
      ['trade-without-execution', 'FRAME_INVALID'],
    ] as const;
    for (const [kind, code] of cases) {
      const text = sim.injectMalformed(kind);
      let error: unknown;
      try {
        webseaMapper.map(text, ctx);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(FrameError);
      expect((error as FrameError).code).toBe(code);
    }
    await raw.until(() => raw.messages.length === 5, 'four malformed frames');
  });

  it('refuses impossible scripts before sending anything', async () => {
    const sim = await start();
    await expect(sim.play([{ ...lifecycle, executions: [{ qty: '1', price: '1' }] }])).rejects.toThrow(/must equal amount 100/);
    expect(sim.truth().size).toBe(0);
  });
});
