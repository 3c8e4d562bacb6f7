import { afterEach, describe, expect, it } from 'vitest';
import type { CanonicalOrder } from '@orderstream/schemas';
import { RecordingSession, type RecordedEvent } from '../sim/recording-session.js';
import { testMapContext } from '../sim/test-context.js';
import { LoopringClient, type LoopringClientConfigInput } from './client.js';
import { loopringExpectedCanonical } from './lifecycles.js';
import { loopringMapper } from './mapper.js';
import { LoopringSimulator, type LoopringSimulatorOptions } from './simulator.js';

const API_KEY = 'sim-loopring-api-key-0001';
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A VenueSession driving LoopringClient against a LoopringSimulator, with every sunk frame kept in order. */
async function harness(simOptions: LoopringSimulatorOptions = {}, clientOptions: Partial<LoopringClientConfigInput> = {}) {
  const sim = await LoopringSimulator.start({ apiKey: API_KEY, ...simOptions });
  cleanups.push(() => sim.stop());
  const client = LoopringClient.fromConfig({ restUrl: sim.restUrl, wsUrl: sim.wsUrl, apiKey: API_KEY, markets: sim.markets, ...clientOptions });
  const rec = new RecordingSession({ client, sim, detail: () => `sim: ${JSON.stringify(sim.stats())}` });
  rec.start();
  cleanups.push(rec.stop);
  return { sim, client, ...rec };
}

const ctx = (reference = {}) => testMapContext('loopring', { reference });

/** No session event may carry the ApiKey or a full one-time key. */
function expectNoSecretsInEvents(events: RecordedEvent[], wsKeys: string[] = []) {
  const text = JSON.stringify(events);
  for (const s of [API_KEY, ...wsKeys]) expect(text).not.toContain(s);
}

describe('LoopringClient + VenueSession against LoopringSimulator', () => {
  it('subscribes with a one-time key and the ApiKey; every push arrives raw and maps to the simulator\'s truth', async () => {
    const h = await harness();
    await h.until(() => h.eventsOf('subscribed').length === 1, 'subscribed');
    expect(h.events().map((e) => e.event)).toEqual(['connecting', 'connected', 'authenticated', 'subscribed']);
    expect(h.eventsOf('subscribed')[0]?.details?.topics).toEqual(h.sim.markets.map((market) => ({ topic: 'order', market })));
    expect(h.eventsOf('authenticated')[0]?.details?.wsApiKey).toMatch(/^[A-Za-z0-9]{4}…$/);
    expect(h.sim.stats()).toMatchObject({ wsKeysIssued: 1, connectionsAccepted: 1, connectionsRefused: 0, subscribers: 1 });

    const lifecycles = h.sim.randomLifecycles(25, 2024);
    const report = await h.sim.play(lifecycles, { intervalMs: 1 });
    expect(report.undelivered).toBe(0);
    const pushes = () => h.data().filter((t) => t.startsWith('{"topic":{"topic":"order"'));
    await h.until(() => pushes().length === report.deliveries, `${report.deliveries} pushes`);

    // raw means raw: the exact bytes, numbered per connection in arrival order
    const seqs = h.frames.map((f) => f.connSeq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));

    const reference = h.sim.referenceData();
    const last = new Map<string, CanonicalOrder>();
    for (const text of h.data()) {
      const r = loopringMapper.map(text, ctx(reference));
      if (r.kind === 'orders') for (const o of r.orders) last.set(o.orderId, o);
    }
    const truth = h.sim.truth();
    expect(last.size).toBe(lifecycles.length);
    for (const [hash, t] of truth) expect(last.get(hash)).toMatchObject(loopringExpectedCanonical(t, 'acc-1', reference));
    expectNoSecretsInEvents(h.events(), h.sim.issuedWsKeys());
  });

  it('a wrong ApiKey: an "error" session event with the relayer\'s code 104112, then a reconnect with a new key', async () => {
    const h = await harness({}, { apiKey: 'not-the-api-key' });
    await h.until(() => h.eventsOf('error').length >= 2 && h.eventsOf('disconnected').length >= 2, 'two refused subscriptions');
    for (const e of h.eventsOf('error')) {
      expect(e.code).toBe(104112);
      expect(e.reason).toBe('Loopring refused the subscription (code 104112: invalid apiKey)');
    }
    expect(h.eventsOf('disconnected')[0]).toMatchObject({ code: 104112, reason: 'subscription refused (code 104112)' });
    expect(h.eventsOf('subscribed')).toEqual([]);
    expect(h.sim.stats().subErrors['104112']).toBeGreaterThanOrEqual(2);
    // every attempt fetched its own one-time key
    expect(h.sim.stats().wsKeysIssued).toBeGreaterThanOrEqual(2);
    expect(h.sim.stats().connectionsRefused).toBe(0);
    expect(JSON.stringify(h.events())).not.toContain('not-the-api-key');
  });

  it('104114 when the simulator is told to answer an unknown ApiKey with "user not found"', async () => {
    const h = await harness({ unknownApiKeyCode: 104114 }, { apiKey: 'someone-else' });
    await h.until(() => h.eventsOf('error').length >= 1, 'a refused subscription');
    expect(h.eventsOf('error')[0]?.code).toBe(104114);
  });

  it('a dropped connection: the reconnect fetches a new one-time key, resubscribes, and pushes keep flowing', async () => {
    const h = await harness();
    await h.until(() => h.eventsOf('subscribed').length === 1, 'first subscription');
    const firstConn = h.frames.at(-1)?.connId;
    expect(h.sim.dropConnections()).toBe(1);
    await h.until(() => h.eventsOf('subscribed').length === 2, 'second subscription');
    expect(h.eventsOf('disconnected')[0]?.details).toEqual({ closeCode: 1006 });

    const keys = h.sim.issuedWsKeys();
    expect(keys).toHaveLength(2);
    expect(new Set(keys).size).toBe(2);
    expect(h.sim.stats()).toMatchObject({ connectionsAccepted: 2, connectionsRefused: 0 });

    const report = await h.sim.play(h.sim.randomLifecycles(5, 9));
    expect(report.undelivered).toBe(0);
    await h.until(
      () => h.frames.filter((f) => f.kind === 'data' && f.connId !== firstConn && f.value.toString().includes('"topic":"order"')).length === report.deliveries,
      'pushes on the new connection',
    );
    expectNoSecretsInEvents(h.events(), keys);
  });

  it('the key endpoint failing (HTTP 502): an "error" event per attempt, then a connection once it answers', async () => {
    const h = await harness();
    await h.until(() => h.eventsOf('subscribed').length === 1, 'first subscription');
    h.sim.failWsKeyRequests(2, 502);
    h.sim.dropConnections();
    await h.until(() => h.eventsOf('subscribed').length === 2, 'second subscription');
    const errors = h.eventsOf('error');
    expect(errors).toHaveLength(2);
    for (const e of errors) {
      expect(e.code).toBe('VENUE_HTTP_ERROR');
      expect(e.reason).toContain('prepare failed');
      expect(e.reason).toContain('HTTP 502');
    }
    expect(h.sim.stats()).toMatchObject({ wsKeyFailures: 2, wsKeysIssued: 2 });
  });

  it('answers every relayer ping with exactly one pong and never pongs unasked; the socket stays up', async () => {
    const h = await harness({ pingIntervalMs: 40, pongTimeoutMs: 500 });
    await h.until(() => h.eventsOf('subscribed').length === 1, 'subscribed');
    // twenty pings at 40 ms span well over the 500 ms pong deadline
    await h.until(() => h.sim.stats().pongsReceived >= 20, 'twenty ping/pong rounds');
    h.sim.pingNow(); // an extra ping outside the timer is answered too
    await h.until(() => h.sim.stats().pongsReceived >= 21, 'the extra pong');
    const s = h.sim.stats();
    expect(s.pongsReceived).toBeLessThanOrEqual(s.pingsSent);
    expect(s.pingsSent - s.pongsReceived).toBeLessThanOrEqual(1); // at most the one in flight
    expect(s).toMatchObject({ unsolicitedPongs: 0, pongTimeouts: 0 });
    expect(h.client.pongsSent).toBe(h.data().filter((t) => t === 'ping').length);
    expect(h.session.connections).toBe(1);
    expect(h.eventsOf('disconnected')).toEqual([]);
  });

  it('silence beyond idleTimeoutMs (no relayer ping) makes the session reconnect with a new key', async () => {
    const h = await harness({ pingIntervalMs: 60_000 }, { idleTimeoutMs: 300 });
    await h.until(() => h.eventsOf('subscribed').length >= 2, 'a second subscription');
    expect(h.eventsOf('disconnected')[0]?.reason).toBe('no frame for 300 ms');
    expect(new Set(h.sim.issuedWsKeys()).size).toBeGreaterThanOrEqual(2);
  });
});
