import { afterEach, describe, expect, it } from 'vitest';
import type { CanonicalOrder } from '@orderstream/schemas';
import { RecordingSession, type RecordedEvent } from '../sim/recording-session.js';
import { testMapContext } from '../sim/test-context.js';
import { XtClient, type XtClientConfigInput } from './client.js';
import { xtExpectedCanonical } from './lifecycles.js';
import { xtMapper } from './mapper.js';
import { XtSimulator, type XtSimulatorOptions } from './simulator.js';

const SECRET = 'sim-api-secret';
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A VenueSession driving XtClient against an XtSimulator (../sim/recording-session.ts: every sunk frame kept in order). */
async function harness(simOptions: XtSimulatorOptions = {}, clientOptions: Partial<XtClientConfigInput> = {}) {
  const sim = await XtSimulator.start(simOptions);
  cleanups.push(() => sim.stop());
  const client = XtClient.fromConfig({ restUrl: sim.restUrl, wsUrl: sim.wsUrl, apiKey: 'sim-api-key', apiSecret: SECRET, ...clientOptions });
  const rec = new RecordingSession({ client, sim });
  rec.start();
  cleanups.push(rec.stop);
  return { sim, ...rec };
}

const ctx = (reference = {}) => testMapContext('xt', { reference });

/** No session event may carry a credential or a full listen key. */
function expectNoSecretsInEvents(events: RecordedEvent[], listenKeys: string[] = []) {
  const text = JSON.stringify(events);
  for (const s of [SECRET, 'sim-api-key', ...listenKeys]) expect(text).not.toContain(s);
}

describe('XtClient + VenueSession against XtSimulator', () => {
  it('subscribes, receives every push raw, and the pushes map to the simulator\'s truth', async () => {
    const h = await harness();
    await h.until(() => h.eventsOf('subscribed').length === 1, 'subscribed');
    expect(h.events().map((e) => e.event)).toEqual(['connecting', 'connected', 'authenticated', 'subscribed']);
    expect(h.eventsOf('subscribed')[0]?.details?.topics).toEqual([expect.stringMatching(/^order@[0-9A-F]{4}…$/)]);

    const lifecycles = h.sim.randomLifecycles(25, 2024);
    const report = await h.sim.play(lifecycles, { intervalMs: 1 });
    const pushes = () => h.data().filter((t) => t.startsWith('{"topic":"order"'));
    await h.until(() => pushes().length === report.deliveries, `${report.deliveries} pushes`);

    // raw means raw: the exact bytes, numbered per connection in arrival order
    const seqs = h.frames.map((f) => f.connSeq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));

    const last = new Map<string, CanonicalOrder>();
    for (const text of h.data()) {
      const r = xtMapper.map(text, ctx(h.sim.referenceData()));
      if (r.kind === 'orders') for (const o of r.orders) last.set(o.orderId, o);
    }
    const truth = h.sim.truth();
    expect(last.size).toBe(lifecycles.length);
    for (const [orderId, t] of truth) {
      const contractSize = h.sim.referenceData().xt?.[t.symbol]?.contractSize;
      expect(last.get(orderId)).toMatchObject(xtExpectedCanonical(t, 'acc-1', contractSize));
    }
    expectNoSecretsInEvents(h.events());
  });

  it('a wrong secret: an "error" session event with the venue\'s code, and the session keeps retrying', async () => {
    const h = await harness({}, { apiSecret: 'not-the-secret' });
    await h.until(() => h.eventsOf('error').length >= 3, 'three failed attempts');
    for (const e of h.eventsOf('error')) {
      expect(e.code).toBe('AUTH_103'); // the venue's own code, as documented
      expect(e.details).toEqual({ errorCode: 'VENUE_AUTH_FAILED' });
      expect(e.reason).toContain('prepare failed');
      expect(e.reason).toContain('HTTP 401, code AUTH_103 (Signature error)');
    }
    expect(h.sim.stats().restRejections.AUTH_103).toBeGreaterThanOrEqual(3);
    expect(h.sim.stats().connectionsAccepted).toBe(0);
    expect(h.eventsOf('connected')).toEqual([]);
    expect(JSON.stringify(h.events())).not.toContain('not-the-secret');
  });

  it('an expired listen key (text frame): reconnect with a fresh key, and pushes keep flowing', async () => {
    const h = await harness();
    await h.until(() => h.eventsOf('subscribed').length === 1, 'first subscription');
    const firstConn = h.frames.at(-1)?.connId;
    expect(h.sim.expireListenKeys()).toBe(1);
    await h.until(() => h.eventsOf('subscribed').length === 2, 'second subscription');

    const disconnected = h.eventsOf('disconnected')[0];
    expect(disconnected?.code).toBe('invalid_listen_key');
    expect(disconnected?.reason).toContain('order@invalid_listen_key');
    expect(h.sim.stats().listenKeysIssued).toBe(2);

    const report = await h.sim.play(h.sim.randomLifecycles(5, 9));
    await h.until(() => h.frames.filter((f) => f.kind === 'data' && f.connId !== firstConn && f.value.toString().includes('"topic":"order"')).length === report.deliveries, 'pushes on the new connection');
    expect(report.undelivered).toBe(0);
    expectNoSecretsInEvents(h.events());
  });

  it('a key rejected at subscribe time (code 2): reconnect with a fresh key each time', async () => {
    const h = await harness({ invalidKeyReply: 'code2', listenKeyTtlMs: 1 });
    await h.until(() => h.eventsOf('disconnected').length >= 2, 'two reconnects');
    for (const e of h.eventsOf('disconnected')) expect(e.code).toBe(2);
    await h.until(() => h.sim.stats().listenKeysIssued >= 3, 'a third key');
  });

  it('refreshes the listen key when it is older than listenKeyRefreshMs', async () => {
    const h = await harness({}, { pingIntervalMs: 50, listenKeyRefreshMs: 300 });
    await h.until(() => h.eventsOf('subscribed').length >= 2, 'a second subscription');
    expect(h.eventsOf('disconnected')[0]?.reason).toMatch(/listen key is \d+ ms old/);
    expect(h.sim.stats().listenKeysIssued).toBeGreaterThanOrEqual(2);
  });

  it('a client that stops pinging is dropped by the simulator (1006, no close frame), then reconnects', async () => {
    const h = await harness({ pingTimeoutMs: 200 }, { pingIntervalMs: 29_999 });
    await h.until(() => h.eventsOf('disconnected').length >= 1, 'the heartbeat drop');
    expect(h.eventsOf('disconnected')[0]?.details).toEqual({ closeCode: 1006 });
    expect(h.sim.stats().heartbeatTimeouts).toBeGreaterThanOrEqual(1);
    await h.until(() => h.eventsOf('connected').length >= 2, 'a new connection');
  });

  it('a client that pings in time is kept (and pongs arrive as raw frames)', async () => {
    const h = await harness({ pingTimeoutMs: 300 }, { pingIntervalMs: 50 });
    await h.until(() => h.eventsOf('subscribed').length === 1, 'subscribed');
    // twelve pings at 50 ms span twice the 300 ms deadline
    await h.until(() => h.sim.stats().pingsReceived >= 12 && h.data().filter((t) => t === 'pong').length >= 12, 'twelve ping/pong rounds');
    expect(h.sim.stats().heartbeatTimeouts).toBe(0);
    expect(h.session.connections).toBe(1);
    expect(h.eventsOf('disconnected')).toEqual([]);
  });
});
