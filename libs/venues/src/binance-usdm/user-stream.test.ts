import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger, sleep } from '@orderstream/kit';
import { isTerminal, type CanonicalOrder } from '@orderstream/schemas';
import { EMPTY_REFERENCE } from '../reference.js';
import { parseRestRequest } from '../reconcile.js';
import { VenueSession, type RawFrame } from '../session.js';
import { BinanceUsdmClient } from './client.js';
import { binanceUsdmExpectedCanonical } from './lifecycles.js';
import { binanceUsdmMapper } from './mapper.js';
import { BinanceUsdmSimulator } from './simulator.js';
import { binanceUsdmUserStreamUrlFor } from './user-stream.js';

/** Polls `cond` until it holds; fails naming `description` at the deadline. */
async function waitFor(cond: () => boolean, o: { timeoutMs: number; intervalMs: number; description: string; detail?: () => string }): Promise<void> {
  const deadline = Date.now() + o.timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${o.timeoutMs} ms waiting for ${o.description}${o.detail ? `: ${o.detail()}` : ''}`);
    await sleep(o.intervalMs);
  }
}

const KEY = { apiKey: 'uds-key', apiSecret: 'uds-secret' };

interface Rig {
  sim: BinanceUsdmSimulator;
  client: BinanceUsdmClient;
  frames: Array<RawFrame & { socket: string }>;
  sessions: VenueSession[];
}

const rigs: Rig[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) {
    await Promise.all(r.sessions.map((s) => s.stop()));
    await r.sim.stop();
  }
});

async function start(simOptions: Parameters<typeof BinanceUsdmSimulator.start>[0] = {}, uds: Record<string, unknown> = {}): Promise<Rig> {
  const sim = await BinanceUsdmSimulator.start({ hmacKeys: [KEY], ...simOptions });
  const client = BinanceUsdmClient.fromConfig(
    { wsUrl: sim.wsUrl, ...KEY, pollIntervalMs: 100, maxRequestsPerSecond: 50, burst: 20, userDataStream: { tickMs: 20, ...uds } },
    { logger: silentLogger() },
  );
  const frames: Rig['frames'] = [];
  const mk = (c: NonNullable<BinanceUsdmClient['companions']>[number] | BinanceUsdmClient, socket: string) =>
    new VenueSession({
      client: c,
      logger: silentLogger(),
      backoff: { initialMs: 20, maxMs: 200, jitter: 0 },
      // the state's live orders, as the collector's state view gives them: here the fold of what was published
      reconcile: {
        suspects: () => [...fold(frames).values()].filter((o) => !isTerminal(o.status)).map((o) => ({ orderId: o.orderId, symbol: o.venueSymbol, status: o.status })),
        lastSeenMs: () => undefined,
      },
      sink: (f) => frames.push({ ...f, socket }),
    });
  const sessions = [mk(client, 'api'), ...(client.companions ?? []).map((c) => mk(c, 'uds'))];
  const rig = { sim, client, frames, sessions };
  rigs.push(rig);
  for (const s of sessions) s.start();
  await sim.waitUntil(() => sim.stats().userStreamSockets === 1, 10_000, 'a user data stream');
  return rig;
}

/** Canonical order per key from every data/REST frame, by the mapper, in arrival order (a simple fold, see below). */
function fold(frames: Rig['frames']): Map<string, CanonicalOrder> {
  const out = new Map<string, CanonicalOrder>();
  frames.forEach((f, i) => {
    if (f.kind === 'session') return;
    const r = binanceUsdmMapper.map(f.value.toString('utf8'), {
      venue: 'binance-usdm', account: 'a', receivedAt: i, source: { topic: 't', partition: 0, offset: i }, reference: EMPTY_REFERENCE,
      ...(f.rest ? { rest: { ...parseRestRequest(f.rest.request), status: f.rest.status } } : {}),
    });
    if (r.kind !== 'orders') return;
    // A REST answer may arrive after a push it predates: like order-state, never leave a terminal state nor lower a fill.
    for (const o of r.orders) {
      const had = out.get(o.orderKey);
      if (had && (isTerminal(had.status) && !isTerminal(o.status) || Number(o.filledQuantity) < Number(had.filledQuantity))) continue;
      out.set(o.orderKey, o);
    }
  });
  return out;
}

const sessionEvents = (r: Rig, socket: string) => r.frames.filter((f) => f.kind === 'session' && f.socket === socket).map((f) => JSON.parse(f.value.toString('utf8')) as { event: string; reason?: string; code?: unknown });

describe('Binance USDⓈ-M user data stream against the simulator', () => {
  it('derives the private stream URL from the WebSocket API URL', () => {
    expect(binanceUsdmUserStreamUrlFor('wss://ws-fapi.binance.com/ws-fapi/v1')).toBe('wss://fstream.binance.com/private');
    expect(binanceUsdmUserStreamUrlFor('ws://127.0.0.1:4000/ws-fapi/v1')).toBe('ws://127.0.0.1:4000/private');
  });

  it('every order of the account arrives by push, without any track(); finished ones are confirmed once by order.status', async () => {
    const r = await start();
    const lcs = r.sim.randomLifecycles(20, 81);
    await r.sim.play(lcs, { intervalMs: 2 });
    const truth = r.sim.truth();
    await waitFor(() => {
      const got = fold(r.frames);
      return [...truth.values()].every((t) => {
        const e = binanceUsdmExpectedCanonical(t, 'a');
        const g = got.get(e.orderKey);
        return g !== undefined && g.status === e.status && g.filledQuantity === e.filledQuantity;
      });
    }, {
      timeoutMs: 15_000, intervalMs: 50, description: 'every order in its final state by push',
      detail: () => {
        const got = fold(r.frames);
        return [...truth.values()].map((t) => binanceUsdmExpectedCanonical(t, 'a')).filter((e) => got.get(e.orderKey)?.status !== e.status || got.get(e.orderKey)?.filledQuantity !== e.filledQuantity)
          .map((e) => `${e.orderId} want ${e.status}/${e.filledQuantity} got ${got.get(e.orderKey)?.status}/${got.get(e.orderKey)?.filledQuantity}`).slice(0, 5).join('; ');
      },
    });
    const pushes = r.frames.filter((f) => f.socket === 'uds' && f.kind === 'data').map((f) => f.value.toString('utf8'));
    expect(pushes.filter((t) => t.includes('"ORDER_TRADE_UPDATE"')).length).toBeGreaterThanOrEqual(lcs.length);
    expect(pushes.some((t) => t.includes('"TRADE_LITE"'))).toBe(true);
    expect(sessionEvents(r, 'uds').map((e) => e.event)).toContain('subscribed');
    // order.status confirms every finished order (cumulative quote, creation time), no more than a few polls each
    await waitFor(() => r.client.stats().untrackedTerminal >= lcs.length, { timeoutMs: 15_000, intervalMs: 50, description: 'every finished order confirmed', detail: () => JSON.stringify({ ...r.client.stats(), uds: r.client.userStream?.stats(), tracked: r.client.tracked().length }) });
    for (const n of r.sim.pollCounts().values()) expect(n).toBeLessThanOrEqual(3);
  });

  it('listenKeyExpired → a new key and a new connection; an abrupt disconnect → a reconnect; the REST reconciliation runs after each', async () => {
    const r = await start({ listenKeyLifetimeMs: 60 * 60_000 });
    const runs = () => sessionEvents(r, 'uds').filter((e) => e.event === 'reconciled').length;
    await waitFor(() => runs() >= 1, { timeoutMs: 10_000, intervalMs: 20, description: 'the first reconciliation' });
    expect(r.sim.expireListenKeys()).toBe(1);
    await r.sim.waitUntil(() => r.sim.stats().listenKeysCreated === 2 && r.sim.stats().userStreamSockets === 1, 10_000, 'a second key and stream');
    expect(sessionEvents(r, 'uds').some((e) => e.event === 'error' && e.code === 'listenKeyExpired')).toBe(true);
    await waitFor(() => runs() >= 2, { timeoutMs: 10_000, intervalMs: 20, description: 'reconciliation after the new key' });
    const lcs = r.sim.randomLifecycles(6, 82);
    r.sim.place(lcs);
    r.sim.dropConnections();
    await r.sim.play(lcs, { intervalMs: 1 }); // pushes of this play reach nobody while the sockets are down (some, at least)
    await waitFor(() => runs() >= 3, { timeoutMs: 10_000, intervalMs: 20, description: 'reconciliation after the disconnect' });
    const truth = r.sim.truth();
    await waitFor(() => {
      const got = fold(r.frames);
      return lcs.every((lc) => {
        const e = binanceUsdmExpectedCanonical(truth.get(lc.orderId)!, 'a');
        return got.get(e.orderKey)?.status === e.status;
      });
    }, { timeoutMs: 15_000, intervalMs: 50, description: 'orders finished in the gap recovered' });
  });

  it('the 24 h cut (maxConnectionAgeMs here 600 ms): the stream reconnects with the account\'s active key and reconciles again', async () => {
    const r = await start({ maxConnectionAgeMs: 600 });
    await r.sim.waitUntil(() => r.sim.stats().connectionsExpired >= 4 && r.sim.stats().userStreamConnections >= 3, 15_000, 'connections cut at their age and reopened');
    expect(r.sim.stats().listenKeysCreated).toBe(1); // POST returned the live key each time
    await waitFor(() => sessionEvents(r, 'uds').filter((e) => e.event === 'reconciled').length >= 2, { timeoutMs: 10_000, intervalMs: 20, description: 'reconciliations after the cuts' });
  });

  it('a key that expires between keepalives is replaced each time (listenKeyExpired → new key → new connection)', async () => {
    const r = await start({ listenKeyLifetimeMs: 400 }, { keepaliveIntervalMs: 1_000 });
    // lifetime 400 ms < keepalive 1 s: the key expires first (listenKeyExpired), then again, and so on
    await r.sim.waitUntil(() => r.sim.stats().listenKeysCreated >= 3, 10_000, 'keys replaced after expiry');
    expect(r.sim.stats().listenKeysExpired).toBeGreaterThanOrEqual(2);
  });

  it('a key that died silently: the keepalive PUT gets -1125, and the stream takes a new key and reconnects', async () => {
    const r = await start({ listenKeyLifetimeMs: 300, announceListenKeyExpiry: false }, { keepaliveIntervalMs: 1_000 });
    await r.sim.waitUntil(() => r.sim.stats().listenKeysCreated >= 2 && r.sim.stats().userStreamSockets === 1, 10_000, 'a second key after -1125');
    expect(r.sim.stats().restAnswers['-1125']).toBeGreaterThanOrEqual(1);
    await waitFor(() => sessionEvents(r, 'uds').some((e) => e.event === 'error' && e.code === -1125), { timeoutMs: 5_000, intervalMs: 20, description: 'the -1125 error event' });
    expect(r.client.userStream?.stats().keepaliveFailures).toBeGreaterThanOrEqual(1);
  });

  it('keepalives extend the key: with PUT more often than the lifetime, no key expires', async () => {
    const r = await start({ listenKeyLifetimeMs: 1_500 }, { keepaliveIntervalMs: 1_000 });
    await r.sim.waitUntil(() => r.sim.stats().listenKeyKeepalives >= 3, 10_000, 'three keepalives');
    expect(r.sim.stats().listenKeysExpired).toBe(0);
    expect(r.sim.stats().listenKeysCreated).toBe(1);
  });
});
