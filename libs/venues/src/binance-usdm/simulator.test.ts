import { generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { FrameError } from '@orderstream/kit';
import { TestSocket } from '../sim/test-client.js';
import { testMapContext } from '../sim/test-context.js';
import { exactIntegerAt } from './exact-json.js';
import { parseBinanceUsdmFrame } from './frames.js';
import { binanceUsdmExpectedCanonical, type BinanceUsdmLifecycle } from './lifecycles.js';
import { binanceUsdmMapper } from './mapper.js';
import { binanceUsdmOrderStatusRequest, binanceUsdmSignaturePayload, createBinanceUsdmSigner, hmacSha256Hex, type BinanceUsdmSigner } from './sign.js';
import { BINANCE_USDM_WS_PATH, BinanceUsdmSimulator, type BinanceUsdmSimulatorOptions } from './simulator.js';

const sims: BinanceUsdmSimulator[] = [];
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  await Promise.all(sims.splice(0).map((s) => s.stop()));
});

async function start(options: BinanceUsdmSimulatorOptions = {}): Promise<BinanceUsdmSimulator> {
  const sim = await BinanceUsdmSimulator.start(options);
  sims.push(sim);
  return sim;
}

const ctx = testMapContext('binance-usdm', { account: 'acc' });

/** A bare WebSocket client (../sim/test-client.ts: text frames, pings, close as `{ code }`) that also signs order.status requests. */
class Raw extends TestSocket {
  #seq = 0;
  /** A signed order.status request (HMAC sim key by default). */
  status(ref: { symbol: string; orderId?: string; origClientOrderId?: string }, opts: { signer?: BinanceUsdmSigner; apiKey?: string; ts?: number; recvWindow?: number } = {}) {
    const signer = opts.signer ?? createBinanceUsdmSigner({ apiSecret: 'sim-api-secret' });
    const r = binanceUsdmOrderStatusRequest(
      { id: `t-${++this.#seq}`, apiKey: opts.apiKey ?? 'sim-api-key', ...ref, timestamp: opts.ts ?? Date.now(), ...(opts.recvWindow ? { recvWindow: opts.recvWindow } : {}) },
      signer,
    );
    return this.ask(r.text);
  }
}
const openRaw = (url: string, ws: WebSocket.ClientOptions = {}) => Raw.open(url, { track: sockets, ws, quoteLast: 3 });

const ORDER: BinanceUsdmLifecycle = {
  orderId: '9007199254740993',
  clientOrderId: 'cli-1',
  symbol: 'BTCUSDT',
  kind: 'fill',
  side: 'BUY',
  price: '64000',
  quantity: '0.003',
  fills: [{ qty: '0.001', price: '64000' }, { qty: '0.002', price: '63999.9' }],
};

const json = (text: string) => JSON.parse(text) as { id: unknown; status: number; error?: { code: number; msg: string; data?: { retryAfter?: number } }; rateLimits?: unknown[] };

describe('BinanceUsdmSimulator: requests and answers', () => {
  it('answers a signed order.status from its book: exact int64 id, rateLimits, and the answer maps to the truth', async () => {
    const sim = await start();
    expect(sim.wsUrl).toMatch(new RegExp(`^ws://127\\.0\\.0\\.1:\\d+${BINANCE_USDM_WS_PATH}$`));
    sim.place([ORDER]);
    const raw = await openRaw(sim.wsUrl);
    const text = await raw.status({ symbol: 'BTCUSDT', orderId: ORDER.orderId });
    expect(exactIntegerAt(text, ['result', 'orderId'])).toBe('9007199254740993');
    expect(json(text)).toMatchObject({ id: 't-1', status: 200, rateLimits: [{ rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 2400, count: 1 }] });
    const r = binanceUsdmMapper.map(text, ctx);
    expect(r.kind).toBe('orders');
    const truth = sim.truth().get(ORDER.orderId);
    expect(truth?.status).toBe('NEW');
    if (r.kind === 'orders') expect(r.orders[0]).toMatchObject(binanceUsdmExpectedCanonical(truth!, 'acc'));
    // by client order id as well
    const byClient = await raw.status({ symbol: 'BTCUSDT', origClientOrderId: 'cli-1' });
    expect(exactIntegerAt(byClient, ['result', 'orderId'])).toBe(ORDER.orderId);
    expect(sim.stats()).toMatchObject({ orderStatusRequests: 2, answers: { '200': 2 }, weightInWindow: 2 });
    expect(sim.pollCounts().get(ORDER.orderId)).toBe(2);
  });

  it('play() moves orders through their states on the simulator clock; polls see them', async () => {
    const sim = await start();
    const raw = await openRaw(sim.wsUrl);
    const report = await sim.play([ORDER, { ...ORDER, orderId: '9007199254740995', clientOrderId: 'cli-2', kind: 'cancel', fills: undefined }], { intervalMs: 5 });
    expect(report).toEqual({ orders: 2, changes: 3 });
    const filled = json(await raw.status({ symbol: 'BTCUSDT', orderId: ORDER.orderId })) as { result?: { status: string; executedQty: string; avgPrice: string; cumQuote: string } };
    expect(filled.result).toMatchObject({ status: 'FILLED', executedQty: '0.003', cumQuote: '191.99980', avgPrice: '63999.93333' });
    const truth = sim.truth();
    expect(truth.get('9007199254740995')?.status).toBe('CANCELED');
    expect(truth.get(ORDER.orderId)!.updateTime).toBeGreaterThan(truth.get(ORDER.orderId)!.time);
    await expect(sim.play([ORDER])).resolves.toEqual({ orders: 1, changes: 0 });
    expect(() => sim.place([ORDER])).toThrow(/already in the book/);
  });

  it('verifies Ed25519 signatures with the registered public key', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const sim = await start({ ed25519Keys: [{ apiKey: 'ed-key', publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString() }] });
    sim.place([ORDER]);
    const raw = await openRaw(sim.wsUrl);
    const good = createBinanceUsdmSigner({ ed25519PrivateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() });
    expect(json(await raw.status({ symbol: 'BTCUSDT', orderId: ORDER.orderId }, { signer: good, apiKey: 'ed-key' })).status).toBe(200);
    const other = createBinanceUsdmSigner({ ed25519PrivateKeyPem: generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() });
    expect(json(await raw.status({ symbol: 'BTCUSDT', orderId: ORDER.orderId }, { signer: other, apiKey: 'ed-key' })).error).toEqual({ code: -1022, msg: 'Signature for this request is not valid.' });
  });

  it('refuses with the documented codes: -2015, -1022, -1021 (late and ahead), -2013, -1102, -1104, -1130, -1013, -1020', async () => {
    const sim = await start({ clockOffsetMs: 0 });
    sim.place([ORDER]);
    const raw = await openRaw(sim.wsUrl);
    const code = async (p: Promise<string>) => {
      const a = json(await p);
      return [a.status, a.error?.code, a.error?.msg];
    };
    const id = { symbol: 'BTCUSDT', orderId: ORDER.orderId };
    expect(await code(raw.status(id, { apiKey: 'nobody' }))).toEqual([401, -2015, 'Invalid API-key, IP, or permissions for action.']);
    expect(await code(raw.status(id, { signer: createBinanceUsdmSigner({ apiSecret: 'wrong' }) }))).toEqual([400, -1022, 'Signature for this request is not valid.']);
    expect(await code(raw.status(id, { ts: Date.now() - 10_000 }))).toEqual([400, -1021, 'Timestamp for this request is outside of the recvWindow.']);
    expect((await code(raw.status(id, { ts: Date.now() - 10_000, recvWindow: 60_000 })))[0]).toBe(200);
    expect(await code(raw.status(id, { ts: Date.now() + 5_000 }))).toEqual([400, -1021, "Timestamp for this request was 1000ms ahead of the server's time."]);
    expect(await code(raw.status({ symbol: 'BTCUSDT', orderId: '9007199254740999' }))).toEqual([400, -2013, 'Order does not exist.']);
    expect(await code(raw.status({ symbol: 'ETHUSDT', orderId: ORDER.orderId }))).toEqual([400, -2013, 'Order does not exist.']);
    expect(await code(raw.status({ symbol: 'BTCUSDT', origClientOrderId: 'nope' }))).toEqual([400, -2013, 'Order does not exist.']);

    const signed = (params: Record<string, string | number>, raws: Record<string, string> = {}) => {
      const payload = binanceUsdmSignaturePayload({ ...params, ...Object.fromEntries(Object.entries(raws).map(([k, v]) => [k, { int: v }])) });
      const members = Object.entries(params).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
      for (const [k, v] of Object.entries(raws)) members.push(`${JSON.stringify(k)}:${v}`);
      members.push(`"signature":"${hmacSha256Hex('sim-api-secret', payload)}"`);
      return `{"id":"x","method":"order.status","params":{${members.join(',')}}}`;
    };
    const now = Date.now();
    expect(await code(raw.ask(signed({ apiKey: 'sim-api-key', symbol: 'BTCUSDT', timestamp: now })))).toEqual([
      400,
      -1102,
      "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
    ]);
    expect((await code(raw.ask(signed({ apiKey: 'sim-api-key', symbol: 'BTCUSDT', timestamp: now, foo: 1 }, { orderId: ORDER.orderId }))))[1]).toBe(-1104);
    expect((await code(raw.ask(signed({ apiKey: 'sim-api-key', symbol: 'BTCUSDT', timestamp: now, orderId: ORDER.orderId }))))[1]).toBe(-1130);
    expect((await code(raw.ask(signed({ apiKey: 'sim-api-key', symbol: 'BTCUSDT', timestamp: now, returnRateLimits: 'x' }, { orderId: ORDER.orderId }))))[0]).toBe(200);
    expect(await code(raw.ask('{"id":'))).toEqual([400, -1013, 'Invalid JSON request.']);
    expect((await code(raw.ask('{"id":"m","method":"order.place","params":{}}')))[1]).toBe(-1020);
    // every answer is a frame the mapper recognises (order or skipped error)
    for (const m of raw.messages) expect(() => binanceUsdmMapper.map(m, ctx)).not.toThrow();
  });

  it('honours returnRateLimits:false and includeRateLimits:false', async () => {
    const sim = await start({ includeRateLimits: false });
    sim.place([ORDER]);
    const raw = await openRaw(sim.wsUrl);
    expect(json(await raw.status({ symbol: 'BTCUSDT', orderId: ORDER.orderId })).rateLimits).toBeUndefined();
  });

  it('counts REQUEST_WEIGHT per clock-aligned window: over the limit → 429 with retryAfter at the window end; repeated → 418 ban', async () => {
    const sim = await start({ weightLimit: 3, rateWindowMs: 2_000, banAfter429s: 2, banMs: 5_000 });
    sim.place([ORDER]);
    const raw = await openRaw(sim.wsUrl);
    // start right after a window boundary so that the burst below stays in one window
    await new Promise((r) => setTimeout(r, 2_000 - (sim.now() % 2_000) + 5));
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(json(await raw.status({ symbol: 'BTCUSDT', orderId: ORDER.orderId })));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429, 429, 418]);
    expect(answers[2]?.rateLimits).toEqual([{ rateLimitType: 'REQUEST_WEIGHT', interval: 'SECOND', intervalNum: 2, limit: 3, count: 3 }]);
    const windowEnd = Math.ceil(sim.now() / 2_000) * 2_000;
    expect(answers[3]?.error).toMatchObject({ code: -1003, data: { retryAfter: windowEnd } });
    expect(answers[5]?.error?.msg).toMatch(/IP banned until \d+/);
    expect(answers[5]?.error?.data?.retryAfter).toBeGreaterThan(windowEnd);
    expect(sim.stats()).toMatchObject({ rateLimited: 2, banned: 1, maxWeightInWindow: 3, orderStatusRequests: 3 });
    for (const a of answers.slice(3)) expect(binanceUsdmMapper.map(JSON.stringify(a), ctx)).toMatchObject({ kind: 'skipped' });
  });

  it('measures requests per sliding window', async () => {
    const sim = await start();
    sim.place([ORDER]);
    const raw = await openRaw(sim.wsUrl);
    for (let i = 0; i < 4; i++) await raw.status({ symbol: 'BTCUSDT', orderId: ORDER.orderId });
    expect(sim.requestTimes()).toHaveLength(4);
    expect(sim.requestsPerMinute()).toBe(4);
    expect(sim.maxRequestsIn(1)).toBeGreaterThanOrEqual(1);
  });

  it('forgets unfilled canceled orders after unfilledTerminalRetentionMs (official doc), but not filled ones', async () => {
    const sim = await start({ unfilledTerminalRetentionMs: 50 });
    const canceled = { ...ORDER, orderId: '11', clientOrderId: 'c11', kind: 'cancel' as const, fills: undefined };
    const partial = { ...ORDER, orderId: '12', clientOrderId: 'c12', kind: 'partial-cancel' as const, quantity: '0.004', fills: undefined };
    await sim.play([canceled, partial]);
    await new Promise((r) => setTimeout(r, 80));
    const raw = await openRaw(sim.wsUrl);
    expect(json(await raw.status({ symbol: 'BTCUSDT', orderId: '11' })).error?.code).toBe(-2013);
    expect(json(await raw.status({ symbol: 'BTCUSDT', orderId: '12' })).status).toBe(200);
  });

  it('injectMalformed replaces the next answer; each kind gets its FrameError code', async () => {
    const sim = await start();
    sim.place([ORDER]);
    const raw = await openRaw(sim.wsUrl);
    const expected = { 'invalid-json': 'FRAME_NOT_JSON', 'wrong-types': 'FRAME_INVALID', 'unknown-status': 'FRAME_UNKNOWN_STATUS', 'float-order-id': 'FRAME_INVALID' } as const;
    for (const [kind, code] of Object.entries(expected)) {
      const sent = sim.injectMalformed(kind as keyof typeof expected);
      const got = await raw.status({ symbol: 'BTCUSDT', orderId: ORDER.orderId });
      expect(await sent).toBe(got);
      let error: unknown;
      try {
        parseBinanceUsdmFrame(got);
        binanceUsdmMapper.map(got, ctx);
      } catch (e) {
        error = e;
      }
      expect(error, kind).toBeInstanceOf(FrameError);
      expect((error as FrameError).code, kind).toBe(code);
    }
    expect(sim.stats().malformedSent).toBe(4);
    expect(json(await raw.status({ symbol: 'BTCUSDT', orderId: ORDER.orderId })).status).toBe(200);
    expect(() => sim.injectMalformed('nope' as never)).toThrow(/unknown kind/);
  });

  it('answers HTTP outside the reconciliation endpoints with 404, an unsigned call to one with 401, other ws paths with 404', async () => {
    const sim = await start();
    expect((await fetch(`${sim.httpUrl}/fapi/v1/userTrades`)).status).toBe(404);
    expect((await fetch(`${sim.httpUrl}/fapi/v1/order`)).status).toBe(401); // REST side: ./reconcile.test.ts
    await expect(openRaw(sim.wsUrl.replace(BINANCE_USDM_WS_PATH, '/ws'))).rejects.toThrow(/404/);
  });
});

describe('BinanceUsdmSimulator: heartbeat and connection life', () => {
  it('sends ping frames; the ws library answers them with the payload (autoPong), so the socket stays', async () => {
    const sim = await start({ pingIntervalMs: 30, pongTimeoutMs: 100 });
    const raw = await openRaw(sim.wsUrl);
    await raw.until(() => raw.pings >= 10, 'ten pings', 5_000);
    await sim.waitUntil(() => sim.stats().pongsReceived >= 10, 2_000, 'ten pongs');
    expect(raw.closed).toBeUndefined();
    expect(sim.stats()).toMatchObject({ heartbeatTimeouts: 0, pongsUnmatched: 0 });
  });

  it('drops a socket that does not pong within pongTimeoutMs (1006, no close frame); unsolicited pongs do not help', async () => {
    const sim = await start({ pingIntervalMs: 30, pongTimeoutMs: 120 });
    const raw = await openRaw(sim.wsUrl, { autoPong: false });
    const unsolicited = setInterval(() => raw.ws.pong('hello'), 20);
    try {
      await raw.until(() => raw.closed !== undefined, 'the drop', 3_000);
    } finally {
      clearInterval(unsolicited);
    }
    expect(raw.closed).toEqual({ code: 1006 });
    expect(sim.stats().heartbeatTimeouts).toBe(1);
    expect(sim.stats().pongsUnmatched).toBeGreaterThan(0);
  });

  it('drops connections at maxConnectionAgeMs (Binance: 24 h)', async () => {
    const sim = await start({ maxConnectionAgeMs: 100 });
    const raw = await openRaw(sim.wsUrl);
    await raw.until(() => raw.closed !== undefined, 'the age limit', 3_000);
    expect(sim.stats().connectionsExpired).toBe(1);
    await sim.waitForConnections(1, 100);
  });
});
