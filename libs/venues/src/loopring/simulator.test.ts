import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { CanonicalOrder } from '@orderstream/schemas';
import { FrameError } from '@orderstream/kit';
import { parseLoopringFrame } from './frames.js';
import { loopringExpectedCanonical, loopringLifecycleSteps, type LoopringLifecycle, type LoopringOrderTruth } from './lifecycles.js';
import { loopringMapper } from './mapper.js';
import { LOOPRING_WS_KEY_PATH } from './client.js';
import { LoopringSimulator, type LoopringSimulatorOptions } from './simulator.js';
import { TestSocket } from '../sim/test-client.js';
import { testMapContext } from '../sim/test-context.js';

const API_KEY = 'sim-loopring-api-key';
const sims: LoopringSimulator[] = [];
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  await Promise.all(sims.splice(0).map((s) => s.stop()));
});

async function start(options: LoopringSimulatorOptions = {}): Promise<LoopringSimulator> {
  const sim = await LoopringSimulator.start(options);
  sims.push(sim);
  return sim;
}

/** A bare WebSocket client that records every text frame and its close with the reason; nth() skips text pings. */
const openRaw = (url: string) => TestSocket.open(url, { track: sockets, closeReason: true, skip: (m) => m === 'ping' });

async function wsKey(sim: LoopringSimulator): Promise<string> {
  const res = await fetch(`${sim.restUrl}${LOOPRING_WS_KEY_PATH}`);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { resultInfo: { code: number }; data: string };
  expect(body.resultInfo.code).toBe(0);
  return body.data;
}

async function connect(sim: LoopringSimulator): Promise<TestSocket> {
  return openRaw(`${sim.wsUrl}?wsApiKey=${await wsKey(sim)}`);
}

const sub = (markets: string[], extra: Record<string, unknown> = {}) =>
  JSON.stringify({ op: 'sub', sequence: 7, apiKey: API_KEY, unsubscribeAll: true, topics: markets.map((market) => ({ topic: 'order', market })), ...extra });

async function subscribed(sim: LoopringSimulator, markets = ['LRC-ETH']): Promise<TestSocket> {
  const raw = await connect(sim);
  raw.send(sub(markets));
  expect(JSON.parse(await raw.nth(1))).toMatchObject({ op: 'sub', sequence: 7, result: { status: 'ok' } });
  return raw;
}

const ctx = (reference = {}) => testMapContext('loopring', { account: 'acc', reference });

describe('REST GET /v2/ws/key', () => {
  it('issues a new 17-character key per request in the v2 envelope', async () => {
    const sim = await start();
    const a = await wsKey(sim);
    const b = await wsKey(sim);
    expect(a).toMatch(/^[A-Za-z0-9]{17}$/);
    expect(b).not.toBe(a);
    expect(sim.stats().wsKeysIssued).toBe(2);
    expect(sim.issuedWsKeys()).toEqual([a, b]);
  });

  it('failWsKeyRequests(n, status) fails the next n requests, then recovers; other paths 404', async () => {
    const sim = await start();
    sim.failWsKeyRequests(2, 502);
    for (let i = 0; i < 2; i++) expect((await fetch(`${sim.restUrl}${LOOPRING_WS_KEY_PATH}`)).status).toBe(502);
    await wsKey(sim);
    expect(sim.stats()).toMatchObject({ wsKeyFailures: 2, wsKeysIssued: 1 });
    expect((await fetch(`${sim.restUrl}/api/v2/markets`)).status).toBe(404);
    expect((await fetch(`${sim.restUrl}${LOOPRING_WS_KEY_PATH}`, { method: 'POST' })).status).toBe(405);
  });
});

describe('connection key on the socket', () => {
  it.each([
    ['missing', (_sim: LoopringSimulator) => Promise.resolve(''), 'wsApiKey missing'],
    ['unknown', (_sim: LoopringSimulator) => Promise.resolve('?wsApiKey=NOTAKEY'), 'wsApiKey unknown'],
  ] as const)('a %s key: the socket is closed at once (1008) with the reason', async (_what, query, reason) => {
    const sim = await start();
    const raw = await openRaw(`${sim.wsUrl}${await query(sim)}`);
    await raw.until(() => raw.closed !== undefined, 'close');
    expect(raw.closed).toEqual({ code: 1008, reason });
    expect(sim.stats()).toMatchObject({ connectionsRefused: 1, connectionsAccepted: 0 });
  });

  it('a key works once: the second connection with it is refused', async () => {
    const sim = await start();
    const key = await wsKey(sim);
    const first = await openRaw(`${sim.wsUrl}?wsApiKey=${key}`);
    const second = await openRaw(`${sim.wsUrl}?wsApiKey=${key}`);
    await second.until(() => second.closed !== undefined, 'close');
    expect(second.closed).toEqual({ code: 1008, reason: 'wsApiKey already used' });
    expect(first.closed).toBeUndefined();
    first.send(sub(['LRC-ETH']));
    expect(JSON.parse(await first.nth(1)).result).toEqual({ status: 'ok' });
  });

  it('an unused key expires after wsApiKeyTtlMs (simulator clock moved, no sleeping) or by expireWsKeys()', async () => {
    let now = 1_700_000_000_000;
    const sim = await start({ wsApiKeyTtlMs: 1_000, now: () => now });
    const old = await wsKey(sim);
    now += 1_000;
    const fresh = await openRaw(`${sim.wsUrl}?wsApiKey=${await wsKey(sim)}`); // issued now: fine
    now += 1; // `old` is now 1001 ms old
    const raw = await openRaw(`${sim.wsUrl}?wsApiKey=${old}`);
    await raw.until(() => raw.closed !== undefined, 'close');
    expect(raw.closed?.reason).toBe('wsApiKey expired');
    expect(fresh.closed).toBeUndefined();
    const spare = await wsKey(sim);
    expect(sim.expireWsKeys()).toBe(1);
    const refused = await openRaw(`${sim.wsUrl}?wsApiKey=${spare}`);
    await refused.until(() => refused.closed !== undefined, 'close');
    expect(refused.closed).toEqual({ code: 1008, reason: 'wsApiKey expired' });
  });

  it('serves only /v2/ws', async () => {
    const sim = await start();
    await expect(openRaw(`${sim.wsUrl.replace('/v2/ws', '/v3/ws')}?wsApiKey=${await wsKey(sim)}`)).rejects.toThrow(/404/);
  });
});

describe('sub / unSub replies and error codes', () => {
  it('acks a sub with the documented shape: op, sequence, topics echoed, result.status ok', async () => {
    const sim = await start();
    const raw = await connect(sim);
    raw.send(sub(['LRC-ETH', 'ETH-USDT']));
    expect(await raw.nth(1)).toBe(
      '{"op":"sub","sequence":7,"topics":[{"topic":"order","market":"LRC-ETH"},{"topic":"order","market":"ETH-USDT"}],"result":{"status":"ok"}}',
    );
    await sim.waitForSubscribers(1, 2_000);
    expect(loopringMapper.map(raw.replies()[0] as string, ctx())).toEqual({ kind: 'skipped', what: 'sub ack' });
  });

  it('quirk options: "OK" in upper case and the echoed "topic:" typo key', async () => {
    const sim = await start({ ackStatusUpperCase: true, ackTopicTypoKey: true });
    const raw = await connect(sim);
    raw.send(sub(['LRC-ETH']));
    expect(await raw.nth(1)).toBe('{"op":"sub","sequence":7,"topics":[{"topic:":"order","market":"LRC-ETH"}],"result":{"status":"OK"}}');
    expect(loopringMapper.map(raw.replies()[0] as string, ctx())).toEqual({ kind: 'skipped', what: 'sub ack' });
  });

  const bad: Array<[string, number, string, string]> = [
    ['not JSON', 104115, 'hello', 'unexpected msg:hello'],
    ['JSON that is not an object', 104115, '[1]', 'unexpected msg:[1]'],
    ['an unknown op', 104101, JSON.stringify({ op: 'subscribe', topics: [{ topic: 'order', market: 'LRC-ETH' }], apiKey: API_KEY }), 'unsupported op: subscribe'],
    ['no topics', 104100, JSON.stringify({ op: 'sub', apiKey: API_KEY }), 'empty topics'],
    ['empty topics', 104100, JSON.stringify({ op: 'sub', topics: [], apiKey: API_KEY }), 'empty topics'],
    ['an unknown topic', 104102, JSON.stringify({ op: 'sub', topics: [{ topic: 'orders', market: 'LRC-ETH' }], apiKey: API_KEY }), 'unsupported topic: orders'],
    ['an order topic without market', 104110, JSON.stringify({ op: 'sub', topics: [{ topic: 'order' }], apiKey: API_KEY }), 'invalid order topic config: {"topic":"order"}'],
    ['an order topic with an unknown market', 104110, JSON.stringify({ op: 'sub', topics: [{ topic: 'order', market: 'XYZ-ABC' }], apiKey: API_KEY }), 'invalid order topic config: {"topic":"order","market":"XYZ-ABC"}'],
    ['a duplicate topic config', 104103, sub(['LRC-ETH', 'LRC-ETH']), 'duplicate topic config: order&LRC-ETH'],
    ['no apiKey', 104104, JSON.stringify({ op: 'sub', topics: [{ topic: 'order', market: 'LRC-ETH' }] }), 'apiKey is required'],
    ['an empty apiKey', 104104, sub(['LRC-ETH'], { apiKey: '' }), 'apiKey is required'],
    ['a wrong apiKey', 104112, sub(['LRC-ETH'], { apiKey: 'wrong' }), 'invalid apiKey'],
    ['21 topics', 104116, JSON.stringify({ op: 'sub', apiKey: API_KEY, topics: [{ topic: 'account' }, ...Array.from({ length: 20 }, (_, i) => ({ topic: 'ticker', market: `T${i}-ETH` }))] }), 'exceed maximum subscriptions (20)'],
  ];
  it.each(bad)('%s → code %i', async (_what, code, request, message) => {
    const sim = await start();
    const raw = await connect(sim);
    raw.send(request);
    const reply = JSON.parse(await raw.nth(1)) as { result: unknown; op: string };
    expect(reply.result).toEqual({ status: 'failed', error: { code, message } });
    expect(sim.stats().subErrors[String(code)]).toBe(1);
    expect(sim.subscriberCount).toBe(0);
    const mapped = loopringMapper.map(raw.replies()[0] as string, ctx());
    expect(mapped.kind).toBe('skipped');
    expect(mapped.kind === 'skipped' && mapped.what).toContain(`failed code ${code}`);
  });

  it('104105 when a later sub carries another apiKey than the accepted one; 104113 for an unSub of nothing', async () => {
    const sim = await start();
    const raw = await subscribed(sim);
    raw.send(JSON.stringify({ op: 'sub', sequence: 8, apiKey: 'another-key', topics: [{ topic: 'order', market: 'ETH-USDT' }] }));
    expect(JSON.parse(await raw.nth(2))).toMatchObject({ sequence: 8, result: { status: 'failed', error: { code: 104105 } } });
    raw.send(JSON.stringify({ op: 'unSub', sequence: 9, apiKey: API_KEY, topics: [{ topic: 'order', market: 'ETH-USDT' }] }));
    expect(JSON.parse(await raw.nth(3))).toMatchObject({ op: 'unSub', sequence: 9, result: { status: 'failed', error: { code: 104113, message: 'not subscribed: order&ETH-USDT' } } });
    expect(sim.subscriberCount).toBe(1);
  });

  it('unSub (also lower-case "unsub", as LRWEB sends it) stops the pushes of that market', async () => {
    const sim = await start();
    const raw = await subscribed(sim, ['LRC-ETH', 'ETH-USDT']);
    raw.send(JSON.stringify({ op: 'unsub', sequence: 10, apiKey: API_KEY, topics: [{ topic: 'order', market: 'LRC-ETH' }] }));
    expect(JSON.parse(await raw.nth(2))).toMatchObject({ op: 'unsub', result: { status: 'ok' } });
    const report = await sim.play([
      { hash: '0xa1', market: 'LRC-ETH', kind: 'cancel', side: 'BUY', price: '0.0001', size: '1000000000000000000' },
      { hash: '0xa2', market: 'ETH-USDT', kind: 'cancel', side: 'BUY', price: '3000', size: '1000000000000000000' },
    ]);
    expect(report).toMatchObject({ planned: 6, deliveries: 3, undelivered: 3 });
    raw.send(JSON.stringify({ op: 'unSub', sequence: 11, apiKey: API_KEY, topics: [{ topic: 'order', unsubscribeAll: true }] }));
    await raw.until(() => raw.replies().some((m) => m.includes('"sequence":11')), 'unSub ack');
    expect(sim.subscriberCount).toBe(0);
  });
});

describe('heartbeat', () => {
  it('sends text ping every pingIntervalMs and drops a socket that never pongs (1006, no close frame)', async () => {
    const sim = await start({ pingIntervalMs: 30, pongTimeoutMs: 200 });
    const raw = await connect(sim);
    await raw.until(() => raw.closed !== undefined, 'close');
    expect(raw.messages.filter((m) => m === 'ping').length).toBeGreaterThanOrEqual(3);
    expect(raw.closed?.code).toBe(1006);
    expect(sim.stats().pongTimeouts).toBe(1);
  });

  it('keeps a socket that answers each ping', async () => {
    const sim = await start({ pingIntervalMs: 30, pongTimeoutMs: 400 });
    const raw = await connect(sim);
    raw.ws.on('message', (d) => {
      if (d.toString() === 'ping') raw.send('pong');
    });
    // sixteen rounds at 30 ms span more than the 400 ms deadline
    await sim.waitUntil(() => sim.stats().pongsReceived >= 16, 5_000, 'sixteen pongs');
    expect(raw.closed).toBeUndefined();
    expect(sim.stats()).toMatchObject({ pongTimeouts: 0, unsolicitedPongs: 0 });
  });

  it('drops a socket that sends more pongs than it got pings (an unsolicited pong)', async () => {
    const sim = await start();
    const raw = await connect(sim);
    raw.send('pong');
    await raw.until(() => raw.closed !== undefined, 'close');
    expect(raw.closed?.code).toBe(1006);
    expect(sim.stats().unsolicitedPongs).toBe(1);
  });
});

describe('order lifecycles', () => {
  const script: LoopringLifecycle[] = [
    { hash: '0x01', market: 'LRC-ETH', kind: 'fill', side: 'BUY', price: '0.0001', size: '3000000000000000000000', fills: [{ size: '1000000000000000000000' }, { size: '2000000000000000000000', price: '0.00009999' }], feeBips: 20 },
    { hash: '0x02', market: 'LRC-ETH', kind: 'cancel', side: 'SELL', price: '0.00012', size: '500000000000000000000', waitingFirst: true },
    { hash: '0x03', market: 'LRC-ETH', kind: 'partial-cancel', side: 'SELL', price: '0.00013', size: '800000000000000000000', fills: [{ size: '300000000000000000000' }], feeBips: 25 },
    { hash: '0x04', market: 'LRC-ETH', kind: 'expire', side: 'BUY', price: '0.00011', size: '100000000000000000000' },
  ];

  it('pushes each order through its statuses, interleaved, frames shaped like the doc example, amounts exact', async () => {
    const sim = await start();
    const raw = await subscribed(sim);
    const report = await sim.play(script);
    expect(report).toEqual({ planned: 13, sent: 13, duplicates: 0, deliveries: 13, undelivered: 0 });
    await raw.until(() => raw.replies().length >= 14, '13 pushes');
    const seen = raw.replies().slice(1).map((t) => {
      const f = parseLoopringFrame(t);
      if (f.kind !== 'order') throw new Error(t);
      expect(Object.keys(JSON.parse(t).data)).toEqual(['hash', 'clientOrderId', 'size', 'volume', 'price', 'filledSize', 'filledVolume', 'filledFee', 'status', 'createdAt', 'updateAt', 'validSince', 'validUntil', 'side', 'market']);
      expect(f.push.order.createdAt).toMatch(/^\d{13}$/);
      expect(f.push.ts).toBe(f.push.order.updateAt);
      const o = f.push.order;
      return `${o.hash}:${o.status}:${o.filledSize}:${o.filledVolume}:${o.filledFee}`;
    });
    expect(seen).toEqual([
      '0x01:processing:0:0:0', '0x02:waiting:0:0:0', '0x03:processing:0:0:0', '0x04:processing:0:0:0',
      // 1000 LRC @ 0.0001 = 0.1 ETH; fee 0.2 % of the 1000 LRC received = 2 LRC
      '0x01:processing:1000000000000000000000:100000000000000000:2000000000000000000',
      '0x02:processing:0:0:0',
      // sell 300 LRC @ 0.00013 = 0.039 ETH; fee 0.25 % of the ETH received = 0.0000975 ETH
      '0x03:processing:300000000000000000000:39000000000000000:97500000000000',
      '0x04:expired:0:0:0',
      // + 2000 LRC @ 0.00009999 = 0.19998 ETH; + 4 LRC fee
      '0x01:processed:3000000000000000000000:299980000000000000:6000000000000000000',
      '0x02:cancelling:0:0:0',
      '0x03:cancelling:300000000000000000000:39000000000000000:97500000000000',
      '0x02:cancelled:0:0:0',
      '0x03:cancelled:300000000000000000000:39000000000000000:97500000000000',
    ]);
  });

  it('truth() holds each order\'s final relayer state; it maps to the expected canonical order', async () => {
    const sim = await start();
    await subscribed(sim);
    await sim.play(script);
    const truth = sim.truth();
    expect([...truth.keys()].sort()).toEqual(['0x01', '0x02', '0x03', '0x04']);
    expect(truth.get('0x01')).toMatchObject({ status: 'processed', filledSize: '3000000000000000000000', filledVolume: '299980000000000000', filledFee: '6000000000000000000', volume: '300000000000000000' });
    expect(truth.get('0x02')).toMatchObject({ status: 'cancelled', filledSize: '0' });
    expect(truth.get('0x02')!.validSince - Math.floor(truth.get('0x02')!.createdAt / 1000)).toBe(600);
    expect(truth.get('0x03')).toMatchObject({ status: 'cancelled', filledSize: '300000000000000000000' });
    expect(truth.get('0x04')).toMatchObject({ status: 'expired' });
    const e = loopringExpectedCanonical(truth.get('0x01') as LoopringOrderTruth, 'acc', sim.referenceData());
    expect(e).toMatchObject({ status: 'FILLED', quantity: '3000', filledQuantity: '3000', filledQuoteQuantity: '0.29998', averagePrice: '0.000099993333333333', fee: '6', feeAsset: 'LRC' });
  });

  it('delivers a market\'s pushes only to the sockets subscribed to that market', async () => {
    const sim = await start();
    const lrc = await subscribed(sim, ['LRC-ETH']);
    const eth = await subscribed(sim, ['ETH-USDT']);
    const report = await sim.play([script[3] as LoopringLifecycle, { hash: '0x05', market: 'ETH-USDT', kind: 'cancel', side: 'BUY', price: '3000', size: '1000000000000000000' }]);
    expect(report).toMatchObject({ planned: 5, deliveries: 5, undelivered: 0 });
    await lrc.until(() => lrc.replies().length >= 3, 'LRC pushes');
    await eth.until(() => eth.replies().length >= 4, 'ETH pushes');
    expect(lrc.replies().slice(1).every((t) => t.includes('"market":"LRC-ETH"'))).toBe(true);
    expect(eth.replies().slice(1).every((t) => t.includes('"market":"ETH-USDT"'))).toBe(true);
  });

  it('duplicateRate 1 sends every push twice in a row; truth is unchanged', async () => {
    const sim = await start({ faults: { duplicateRate: 1 } });
    const raw = await subscribed(sim);
    const report = await sim.play(script);
    expect(report).toMatchObject({ sent: 26, duplicates: 13 });
    await raw.until(() => raw.replies().length >= 27, '26 pushes');
    const pushes = raw.replies().slice(1);
    for (let i = 0; i < pushes.length; i += 2) expect(pushes[i]).toBe(pushes[i + 1]);
    expect(sim.truth().get('0x01')?.status).toBe('processed');
  });

  it('reorder (across-orders) swaps frames of different orders only; truth is the same as without faults', async () => {
    const sim = await start({ faults: { reorder: 1 }, seed: 3 });
    const raw = await subscribed(sim, sim.markets);
    const lifecycles = sim.randomLifecycles(30, 11);
    const report = await sim.play(lifecycles);
    await raw.until(() => raw.replies().length >= report.sent + 1, 'all pushes');
    const byOrder = new Map<string, string[]>();
    for (const t of raw.replies().slice(1)) {
      const f = parseLoopringFrame(t);
      if (f.kind !== 'order') throw new Error(t);
      byOrder.set(f.push.order.hash, [...(byOrder.get(f.push.order.hash) ?? []), `${f.push.order.status}:${f.push.order.filledSize}`]);
    }
    for (const lc of lifecycles) expect(byOrder.get(lc.hash)).toEqual(loopringLifecycleSteps(lc).map((s) => `${s.status}:${s.filledSize}`));
    const plain = await start();
    const raw2 = await subscribed(plain, plain.markets);
    await plain.play(lifecycles);
    await raw2.until(() => raw2.replies().length >= report.sent + 1, 'all pushes (plain)');
    const hashes = (r: TestSocket) => r.replies().slice(1).map((t) => (JSON.parse(t) as { data: { hash: string } }).data.hash);
    expect(hashes(raw)).not.toEqual(hashes(raw2));
    const timeless = (m: Map<string, LoopringOrderTruth>) => [...m.values()].map((v) => ({ ...v, createdAt: 0, updateAt: 0, validSince: 0, validUntil: 0 })).sort((a, b) => a.hash.localeCompare(b.hash));
    expect(timeless(sim.truth())).toEqual(timeless(plain.truth()));
  });

  it('delayMs delays pushes but keeps their order; play resolves after the last one', async () => {
    const sim = await start({ faults: { delayMs: 50 } });
    const raw = await subscribed(sim);
    const t0 = Date.now();
    const report = await sim.play(script, { intervalMs: 2 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(50);
    await raw.until(() => raw.replies().length >= report.sent + 1, 'all pushes');
    expect(raw.replies()[1]).toContain('"hash":"0x01"');
  });

  it('pushes made while nobody is subscribed are lost (undelivered), or held with waitForSubscriberMs', async () => {
    const sim = await start();
    const lost = await sim.play([script[3] as LoopringLifecycle]);
    expect(lost).toMatchObject({ planned: 2, undelivered: 2, deliveries: 0 });
    const held = sim.play([{ ...(script[3] as LoopringLifecycle), hash: '0x06' }], { waitForSubscriberMs: 5_000 });
    const raw = await subscribed(sim);
    expect(await held).toMatchObject({ deliveries: 2, undelivered: 0 });
    await raw.until(() => raw.replies().length >= 3, 'held pushes');
  });

  it('refuses an impossible script or an unknown market before sending anything', async () => {
    const sim = await start();
    await expect(sim.play([{ hash: '0x07', market: 'LRC-ETH', kind: 'fill', side: 'BUY', price: '1', size: '10', fills: [{ size: '3' }] }])).rejects.toThrow(/fills sum to 3, must equal size 10/);
    await expect(sim.play([{ hash: '0x08', market: 'DOGE-ETH', kind: 'cancel', side: 'BUY', price: '1', size: '10' }])).rejects.toThrow(/unknown market "DOGE-ETH"/);
    expect(sim.stats().pushesSent).toBe(0);
  });

  it('quirk frames (seconds, strings, typo/legacy topics, no updateAt, REST side) map to the same canonical state', async () => {
    const plainSim = await start();
    const plainRaw = await subscribed(plainSim);
    const lc = { ...(script[0] as LoopringLifecycle), createdAt: 1_700_000_000_000 };
    await plainSim.play([lc]);
    await plainRaw.until(() => plainRaw.replies().length >= 4, 'plain pushes');
    const map = (t: string, ref = plainSim.referenceData()) => {
      const r = loopringMapper.map(t, ctx(ref));
      if (r.kind !== 'orders') throw new Error(t);
      return r.orders[0] as CanonicalOrder;
    };
    const plainLast = map(plainRaw.replies().at(-1) as string);
    for (const quirks of [{ topicTypoKey: true }, { legacyStringTopic: true }, { stringTimes: true, omitUpdateAt: true }, { upperCaseSide: true }, { secondsTimes: true }]) {
      const sim = await start({ quirks });
      const raw = await subscribed(sim);
      await sim.play([lc]);
      await raw.until(() => raw.replies().length >= 4, `pushes with ${JSON.stringify(quirks)}`);
      const last = map(raw.replies().at(-1) as string);
      const t = sim.truth().get('0x01') as LoopringOrderTruth;
      expect(last).toMatchObject(loopringExpectedCanonical(t, 'acc', sim.referenceData()));
      const strip = (o: CanonicalOrder) => ({ ...o, extras: {}, createdAt: 0, updatedAt: 0 });
      expect(strip(last)).toEqual(strip(plainLast));
      if ('secondsTimes' in quirks) expect(last.createdAt).toBe(1_700_000_000_000_000);
    }
  });

  it('injectMalformed sends frames that dead-letter with the matching codes', async () => {
    const sim = await start();
    await expect(async () => sim.injectMalformed('invalid-json')).rejects.toThrow(/no socket is subscribed/);
    const raw = await subscribed(sim);
    const codes: Record<string, string> = { 'invalid-json': 'FRAME_NOT_JSON', 'wrong-types': 'FRAME_INVALID', 'unknown-status': 'FRAME_UNKNOWN_STATUS' };
    let n = 1;
    for (const [kind, code] of Object.entries(codes)) {
      const text = sim.injectMalformed(kind as 'invalid-json');
      expect(await raw.nth(++n)).toBe(text);
      let error: unknown;
      try {
        loopringMapper.map(text, ctx());
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(FrameError);
      expect((error as FrameError).code).toBe(code);
    }
  });
});
