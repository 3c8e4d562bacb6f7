import { generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { FrameError } from '@orderstream/kit';
import type { CanonicalOrder } from '@orderstream/schemas';
import { RecordingSession, type RecordedEvent } from '../sim/recording-session.js';
import { testMapContext } from '../sim/test-context.js';
import { BinanceUsdmClient, type BinanceUsdmClientConfigInput } from './client.js';
import { binanceUsdmExpectedCanonical, type BinanceUsdmLifecycle } from './lifecycles.js';
import { binanceUsdmMapper } from './mapper.js';
import { BinanceUsdmSimulator, type BinanceUsdmSimulatorOptions } from './simulator.js';

const SECRET = 'sim-api-secret';
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Fast polling for tests: a 10 ms tick, 20 ms poll interval, a generous budget unless a test sets one. */
const FAST: Partial<BinanceUsdmClientConfigInput> = {
  tickMs: 10,
  pollIntervalMs: 20,
  weightBudgetPerMinute: 60_000,
  maxRequestsPerSecond: 200,
  burst: 20,
  requestTimeoutMs: 2_000,
};

/** A VenueSession driving BinanceUsdmClient against a BinanceUsdmSimulator, every sunk frame kept in order. */
async function harness(simOptions: BinanceUsdmSimulatorOptions = {}, clientOptions: Partial<BinanceUsdmClientConfigInput> = {}) {
  const sim = await BinanceUsdmSimulator.start(simOptions);
  cleanups.push(() => sim.stop());
  const config = { wsUrl: sim.wsUrl, apiKey: 'sim-api-key', apiSecret: SECRET, ...FAST, ...clientOptions } as BinanceUsdmClientConfigInput;
  if ('ed25519PrivateKeyPem' in clientOptions) delete (config as { apiSecret?: string }).apiSecret;
  const client = BinanceUsdmClient.fromConfig(config);
  const rec = new RecordingSession({ client, sim, timeoutMs: 15_000, detail: () => `sim: ${JSON.stringify(sim.stats())}` });
  const start = () => {
    rec.start();
    cleanups.push(rec.stop);
  };
  const { data } = rec;
  /** The last canonical order per orderId among the raw data frames (what the state topic would converge to). */
  const lastOrders = () => {
    const last = new Map<string, CanonicalOrder>();
    const ctx = testMapContext('binance-usdm');
    for (const text of data()) {
      let r;
      try {
        r = binanceUsdmMapper.map(text, ctx);
      } catch (error) {
        expect(error).toBeInstanceOf(FrameError); // would be dead-lettered
        continue;
      }
      if (r.kind === 'orders') for (const o of r.orders) last.set(o.orderId, o);
    }
    return last;
  };
  return { sim, client, ...rec, start, lastOrders };
}

function expectNoSecrets(events: RecordedEvent[], extra: string[] = []) {
  const text = JSON.stringify(events);
  for (const s of [SECRET, 'sim-api-key', ...extra]) expect(text).not.toContain(s);
}

function trackAll(client: BinanceUsdmClient, lcs: readonly BinanceUsdmLifecycle[], byClientIdEvery = 0) {
  lcs.forEach((lc, i) => {
    if (byClientIdEvery > 0 && i % byClientIdEvery === 0) client.track({ symbol: lc.symbol, clientOrderId: lc.clientOrderId as string, origin: 'track-topic' });
    else client.track({ symbol: lc.symbol, orderId: lc.orderId, origin: 'config' });
  });
}

describe('BinanceUsdmClient + VenueSession against BinanceUsdmSimulator', () => {
  it('polls every tracked order to its terminal state, emits "untracked" (terminal) once each, and the answers map to the truth', async () => {
    const h = await harness();
    const lcs = h.sim.randomLifecycles(20, 2024);
    h.sim.place(lcs); // in the book (NEW) before the first poll
    trackAll(h.client, lcs, 4); // every fourth by clientOrderId
    h.start();
    await h.sim.waitForConnections(1, 5_000);
    await h.sim.play(lcs, { intervalMs: 10 });
    await h.until(() => h.eventsOf('untracked').length === lcs.length, `${lcs.length} untracked events`);

    const untracked = h.eventsOf('untracked');
    expect(new Set(untracked.map((e) => e.details?.orderId))).toEqual(new Set(lcs.map((l) => l.orderId)));
    for (const e of untracked) {
      expect(e.reason).toBe('terminal');
      expect(['FILLED', 'CANCELED', 'REJECTED', 'EXPIRED', 'EXPIRED_IN_MATCH']).toContain(e.details?.status);
    }
    expect(h.eventsOf('authenticated')).toEqual([{ event: 'authenticated', details: { keyType: 'HMAC_SHA256', method: 'order.status' }, venue: 'binance-usdm' }]);
    expect(h.eventsOf('error')).toEqual([]);

    // raw means raw: the exact answer bytes, numbered per connection in arrival order
    const seqs = h.frames.map((f) => f.connSeq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));

    const last = h.lastOrders();
    const truth = h.sim.truth();
    expect(last.size).toBe(lcs.length);
    for (const [orderId, t] of truth) expect(last.get(orderId), orderId).toMatchObject(binanceUsdmExpectedCanonical(t, 'acc-1'));
    for (const id of last.keys()) expect(Number.isSafeInteger(Number(id))).toBe(false); // ids above 2^53, kept exact

    // nothing is polled any more
    const after = h.sim.stats().orderStatusRequests;
    expect(h.client.tracked()).toEqual([]);
    h.client.track({ symbol: lcs[0]!.symbol, orderId: lcs[0]!.orderId, origin: 'state' }); // a stale state record
    expect(h.client.tracked()).toEqual([]);
    expect(h.sim.stats().orderStatusRequests).toBe(after);
    expectNoSecrets(h.events());
  });

  it('an order that never exists: retried with backoff, then "untracked" with code -2013 (not an error event)', async () => {
    const h = await harness({}, { maxNotFoundRetries: 2, notFoundRetryDelayMs: 20, notFoundRetryMaxMs: 50 });
    h.client.track({ symbol: 'BTCUSDT', orderId: '9223372036854775000', origin: 'track-topic' });
    h.start();
    await h.until(() => h.eventsOf('untracked').length === 1, 'the order given up');
    expect(h.eventsOf('untracked')[0]).toMatchObject({
      event: 'untracked',
      reason: 'not-found',
      code: -2013,
      details: { symbol: 'BTCUSDT', orderId: '9223372036854775000', attempts: 3, origin: 'track-topic' },
    });
    expect(h.sim.stats().answers['-2013']).toBe(3);
    expect(h.sim.pollCounts().get('9223372036854775000')).toBe(3);
    expect(h.eventsOf('error')).toEqual([]);
    const gaps = h.sim.requestTimes().slice(1).map((t, i) => t - (h.sim.requestTimes()[i] as number));
    expect(gaps[0]).toBeGreaterThanOrEqual(20);
    expect(gaps[1]).toBeGreaterThanOrEqual(40);
  });

  it('an order placed after tracking began (-2013 first) is found on a retry and followed to the end', async () => {
    const h = await harness({}, { maxNotFoundRetries: 20, notFoundRetryDelayMs: 20, notFoundRetryMaxMs: 40 });
    const [lc] = h.sim.randomLifecycles(1, 77);
    h.client.track({ symbol: lc!.symbol, orderId: lc!.orderId, origin: 'track-topic' });
    h.start();
    await h.until(() => (h.sim.stats().answers['-2013'] ?? 0) >= 2, 'two -2013 answers');
    await h.sim.play([lc!], { intervalMs: 10 });
    await h.until(() => h.eventsOf('untracked').length === 1, 'terminal');
    expect(h.eventsOf('untracked')[0]?.reason).toBe('terminal');
    expect(h.lastOrders().get(lc!.orderId)).toMatchObject(binanceUsdmExpectedCanonical(h.sim.truth().get(lc!.orderId)!, 'acc-1'));
  });

  it('a wrong secret: an "error" event with -1022, backoff instead of a storm, the order stays tracked, no secret leaks', async () => {
    const h = await harness({}, { apiSecret: 'not-the-secret', errorBackoffInitialMs: 50, errorBackoffMaxMs: 200 });
    h.client.track({ symbol: 'BTCUSDT', orderId: '9007199254740993', origin: 'config' });
    h.start();
    await h.until(() => (h.sim.stats().answers['-1022'] ?? 0) >= 3, 'three -1022 answers');
    const errors = h.eventsOf('error');
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(errors[0]).toMatchObject({ event: 'error', code: -1022, details: { httpStatus: 400, keyType: 'HMAC_SHA256' } });
    expect(errors[0]?.reason).toContain('Signature for this request is not valid.');
    const times = h.sim.requestTimes();
    expect((times[2] as number) - (times[0] as number)).toBeGreaterThanOrEqual(80); // ~45 + ~90 ms of backoff
    expect(h.client.tracked()).toHaveLength(1);
    expect(h.eventsOf('untracked')).toEqual([]);
    expect(h.session.connections).toBe(1); // nothing to gain from reconnecting
    expectNoSecrets(h.events(), ['not-the-secret']);
  });

  it('an unknown key: "error" event with -2015', async () => {
    const h = await harness({ hmacKeys: [{ apiKey: 'another-key', apiSecret: SECRET }] });
    h.client.track({ symbol: 'BTCUSDT', orderId: '1', origin: 'config' });
    h.start();
    await h.until(() => h.eventsOf('error').length >= 1, 'an error event');
    expect(h.eventsOf('error')[0]).toMatchObject({ code: -2015, details: { httpStatus: 401 } });
  });

  it('a clock 10 s ahead of the venue: "error" event -1021 that says clock skew', async () => {
    const h = await harness({ clockOffsetMs: -10_000 }, { errorBackoffInitialMs: 50 });
    h.client.track({ symbol: 'BTCUSDT', orderId: '1', origin: 'config' });
    h.start();
    await h.until(() => h.eventsOf('error').length >= 1, 'an error event');
    const [e] = h.eventsOf('error');
    expect(e?.code).toBe(-1021);
    expect(e?.reason).toMatch(/clock skew\?.*ahead/);
    expect(e?.details?.clockSkew).toBe('ahead');
  });

  it('Ed25519 keys work end to end', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const h = await harness(
      { hmacKeys: [], ed25519Keys: [{ apiKey: 'sim-api-key', publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString() }] },
      { ed25519PrivateKeyPem: pem },
    );
    expect(h.client.keyType).toBe('ED25519');
    const lcs = h.sim.randomLifecycles(5, 5);
    h.sim.place(lcs);
    trackAll(h.client, lcs);
    h.start();
    await h.sim.play(lcs, { intervalMs: 5 });
    await h.until(() => h.eventsOf('untracked').length === 5, 'five terminal orders');
    expect(h.eventsOf('authenticated')[0]?.details).toEqual({ keyType: 'ED25519', method: 'order.status' });
    expect(h.sim.stats().answers['-1022']).toBeUndefined();
    expectNoSecrets(h.events(), [pem.split('\n')[1] as string]);
  });
});

describe('request budget (measured in the simulator)', () => {
  it('stays within the configured budget and shares it fairly among the tracked orders', async () => {
    // 600 per minute with a 50 % margin = 300 per minute = 5 per second; burst 3
    const h = await harness({}, { weightBudgetPerMinute: 600, safetyMargin: 0.5, burst: 3, pollIntervalMs: 10, maxRequestsPerSecond: 100 });
    const lcs = h.sim.randomLifecycles(10, 31).map((l) => ({ ...l, kind: 'cancel' as const, fills: undefined }));
    h.sim.place(lcs); // they stay NEW: polled for ever
    trackAll(h.client, lcs);
    h.start();
    await h.sim.waitForConnections(1, 5_000);
    await h.until(() => h.sim.stats().orderStatusRequests >= 18, '18 requests', 20_000);
    const times = h.sim.requestTimes();
    // 18 requests need at least (18 − 3 burst) / 5 per second = 3 s
    expect((times[17] as number) - (times[0] as number)).toBeGreaterThanOrEqual(2_900);
    // in any second: at most burst + 5
    expect(h.sim.maxRequestsIn(1_000)).toBeLessThanOrEqual(3 + 5);
    expect(h.sim.maxRequestsIn(2_000)).toBeLessThanOrEqual(3 + 10);
    // fair: every order got its turn
    const counts = lcs.map((l) => h.sim.pollCounts().get(l.orderId) ?? 0);
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    expect(h.client.stats().steadyRatePerMinute).toBeCloseTo(300);
  });

  it('reads rateLimits and slows down before the venue says 429 (the IP limit is lower than the budget)', async () => {
    // venue: 20 per 1-second window; client budget far above; margin 25 % → at most 15 per window
    const h = await harness({ weightLimit: 20, rateWindowMs: 1_000 }, { weightBudgetPerMinute: 100_000, maxRequestsPerSecond: 100, burst: 10, pollIntervalMs: 10 });
    const lcs = h.sim.randomLifecycles(5, 32).map((l) => ({ ...l, kind: 'cancel' as const, fills: undefined }));
    h.sim.place(lcs);
    trackAll(h.client, lcs);
    h.start();
    await h.until(() => h.sim.stats().orderStatusRequests >= 50, '50 requests', 20_000);
    expect(h.sim.stats().rateLimited).toBe(0);
    expect(h.sim.stats().maxWeightInWindow).toBeLessThanOrEqual(20);
    expect(h.client.stats().holds).toBeGreaterThan(0);
    expect(h.eventsOf('error')).toEqual([]);
  });

  it('without rateLimits in answers, a 429 holds every request until retryAfter (no storm of 429s)', async () => {
    const h = await harness({ weightLimit: 10, rateWindowMs: 1_000, includeRateLimits: false }, { weightBudgetPerMinute: 100_000, maxRequestsPerSecond: 100, burst: 10, pollIntervalMs: 10 });
    const lcs = h.sim.randomLifecycles(5, 33).map((l) => ({ ...l, kind: 'cancel' as const, fills: undefined }));
    h.sim.place(lcs);
    trackAll(h.client, lcs);
    h.start();
    await h.until(() => h.sim.stats().orderStatusRequests >= 30, '30 requests (three windows)', 20_000);
    const s = h.sim.stats();
    // one 429 per window at most (plus those already in flight when it came)
    expect(s.rateLimited).toBeLessThanOrEqual(4 * (1 + 5));
    expect(s.rateLimited).toBeGreaterThanOrEqual(1);
    const errors = h.eventsOf('error');
    expect(errors[0]).toMatchObject({ code: -1003, details: { httpStatus: 429 } });
  });
});

describe('connection life', () => {
  it('answers the server\'s ping frames (ws autoPong) and is not dropped', async () => {
    const h = await harness({ pingIntervalMs: 40, pongTimeoutMs: 150 });
    h.start();
    await h.until(() => h.sim.stats().pongsReceived >= 10, 'ten pongs');
    expect(h.sim.stats()).toMatchObject({ heartbeatTimeouts: 0, pongsUnmatched: 0 });
    expect(h.eventsOf('disconnected')).toEqual([]);
    expect(h.session.connections).toBe(1);
  });

  it('reconnects before the connection limit and keeps polling across connections', async () => {
    const h = await harness({}, { reconnectBeforeMs: 250 });
    const lcs = h.sim.randomLifecycles(6, 40);
    h.sim.place(lcs);
    trackAll(h.client, lcs);
    h.start();
    await h.until(() => h.eventsOf('disconnected').length >= 2, 'two planned reconnects');
    expect(h.eventsOf('disconnected')[0]?.reason).toMatch(/connection is \d+ ms old .*24 h/);
    await h.sim.play(lcs, { intervalMs: 20 });
    await h.until(() => h.eventsOf('untracked').length === 6, 'six terminal orders');
    expect(h.sim.stats().connectionsAccepted).toBeGreaterThanOrEqual(3);
  });

  it('survives dropped connections and the venue\'s own 24 h cut (simulated short) and still reaches the truth', async () => {
    const h = await harness({ maxConnectionAgeMs: 300 });
    const lcs = h.sim.randomLifecycles(10, 41);
    h.sim.place(lcs);
    trackAll(h.client, lcs);
    h.start();
    await h.sim.waitForConnections(1, 5_000);
    const playing = h.sim.play(lcs, { intervalMs: 15 });
    await h.until(() => h.sim.stats().orderStatusRequests >= 5, 'some polling');
    expect(h.sim.dropConnections()).toBe(1);
    await playing;
    await h.until(() => h.eventsOf('untracked').length === 10, 'ten terminal orders');
    const last = h.lastOrders();
    for (const [id, t] of h.sim.truth()) expect(last.get(id)).toMatchObject(binanceUsdmExpectedCanonical(t, 'acc-1'));
    expect(h.eventsOf('disconnected').length).toBeGreaterThanOrEqual(1);
  });

  it('malformed answers go on raw (the normalizer dead-letters them); the client re-polls and carries on', async () => {
    const h = await harness({}, { requestTimeoutMs: 200, maxConsecutiveTimeouts: 5 });
    const lcs = h.sim.randomLifecycles(4, 42);
    h.sim.place(lcs);
    trackAll(h.client, lcs);
    h.start();
    await h.sim.waitForConnections(1, 5_000);
    const texts = await Promise.all([h.sim.injectMalformed('invalid-json'), h.sim.injectMalformed('wrong-types'), h.sim.injectMalformed('float-order-id')]);
    await h.sim.play(lcs, { intervalMs: 10 });
    await h.until(() => h.eventsOf('untracked').length === 4, 'four terminal orders');
    for (const t of texts) {
      expect(h.data()).toContain(t);
      expect(() => binanceUsdmMapper.map(t, testMapContext('binance-usdm', { account: 'a' }))).toThrow(FrameError);
    }
    expect(h.client.stats().unreadable).toBe(3);
    const last = h.lastOrders();
    for (const [id, t] of h.sim.truth()) expect(last.get(id)).toMatchObject(binanceUsdmExpectedCanonical(t, 'acc-1'));
  });
});
