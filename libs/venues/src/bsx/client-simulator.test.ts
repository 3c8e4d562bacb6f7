import { afterEach, describe, expect, it } from 'vitest';
import type { CanonicalOrder } from '@orderstream/schemas';
import { RecordingSession, type RecordedEvent } from '../sim/recording-session.js';
import type { SimLogEntry } from '../sim/server.js';
import { testMapContext } from '../sim/test-context.js';
import { BsxClient, type BsxClientConfigInput } from './client.js';
import { bsxExpectedCanonical, bsxExpectedSeen } from './lifecycles.js';
import { bsxMapper } from './mapper.js';
import { BsxSimulator, type BsxSimulatorOptions } from './simulator.js';

const KEY = 'sim-api-key';
const SECRET = 'sim-api-secret';
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A VenueSession driving BsxClient against a BsxSimulator, with every sunk frame kept in order. */
async function harness(simOptions: BsxSimulatorOptions = {}, clientOptions: Partial<BsxClientConfigInput> = {}) {
  const log: SimLogEntry[] = [];
  const sim = await BsxSimulator.start({ log: (e) => log.push(e), ...simOptions });
  cleanups.push(() => sim.stop());
  const client = BsxClient.fromConfig({ wsUrl: sim.wsUrl, apiKey: KEY, apiSecret: SECRET, ...clientOptions });
  const rec = new RecordingSession({ client, sim });
  rec.start();
  cleanups.push(rec.stop);
  const snapshots = () => rec.data().filter((t) => t.includes('"type":"snapshot"'));
  /** Auth frames the simulator received, parsed. */
  const authFrames = () =>
    log.filter((e) => e.direction === 'in' && e.text.includes('"op":"auth"')).map((e) => (JSON.parse(e.text) as { data: { key: string; timestamp: string; signature: string } }).data);
  return { sim, ...rec, snapshots, authFrames, log };
}

const ctx = testMapContext('bsx');

/** No session event may carry a credential. */
function expectNoSecretsInEvents(events: RecordedEvent[]) {
  const text = JSON.stringify(events);
  for (const s of [SECRET, KEY]) expect(text).not.toContain(s);
}

const LAST_FILL = ['lastFillQuantity', 'lastFillPrice', 'lastFillFee', 'lastFillId'] as const;

/**
 * Maps every data frame in order and keeps the latest canonical record per order, carrying the last fill forward the
 * way order-state's merge rules do: an update at the same filled quantity that has no last fill (a cancellation, a
 * snapshot) keeps the last fill already known.
 */
function lastPerOrder(texts: string[]): Map<string, CanonicalOrder> {
  const last = new Map<string, CanonicalOrder>();
  for (const text of texts) {
    const r = bsxMapper.map(text, ctx);
    if (r.kind !== 'orders') continue;
    for (const o of r.orders) {
      const prev = last.get(o.orderId);
      const next = { ...o };
      if (prev && next.lastFillId === null && prev.filledQuantity === next.filledQuantity) for (const k of LAST_FILL) next[k] = prev[k];
      last.set(o.orderId, next);
    }
  }
  return last;
}

describe('BsxClient + VenueSession against BsxSimulator', () => {
  it('authenticates, subscribes, gets the snapshot; every update arrives raw and maps to the simulator\'s truth', async () => {
    const h = await harness();
    await h.until(() => h.eventsOf('subscribed').length === 1, 'subscribed');
    expect(h.events().map((e) => e.event)).toEqual(['connecting', 'connected', 'authenticated', 'subscribed']);
    const connectionId = h.eventsOf('subscribed')[0]?.details?.connectionId;
    expect(connectionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(h.eventsOf('authenticated')[0]?.details).toEqual({ apiKey: 'sim-…', connectionId });
    expect(h.eventsOf('subscribed')[0]?.details).toEqual({ channel: 'orders', via: 'ack', connectionId });
    expect(h.snapshots()).toHaveLength(1);

    const lifecycles = h.sim.randomLifecycles(30, 2024);
    const report = await h.sim.play(lifecycles, { intervalMs: 1 });
    const updates = () => h.data().filter((t) => t.includes('"type":"update"'));
    await h.until(() => updates().length === report.deliveries, `${report.deliveries} updates`);
    expect(report.undelivered).toBe(0);

    // raw means raw: the exact bytes, numbered per connection in arrival order
    const seqs = h.frames.map((f) => f.connSeq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));

    const last = lastPerOrder(h.data());
    const truth = h.sim.truth();
    expect(last.size).toBe(lifecycles.length);
    for (const [id, t] of truth) expect(last.get(id)).toMatchObject(bsxExpectedCanonical(t, 'acc-1'));
    expectNoSecretsInEvents(h.events());
  });

  it('a wrong secret: an "error" event with BSX\'s code 400, no subscription, and the session keeps retrying with fresh timestamps', async () => {
    const h = await harness({}, { apiSecret: 'not-the-secret' });
    await h.until(() => h.eventsOf('error').length >= 3, 'three refused attempts');
    for (const e of h.eventsOf('error')) {
      expect(e.code).toBe(400);
      expect(e.reason).toBe('BSX refused authentication: invalid signature (code 400)');
    }
    expect(h.eventsOf('disconnected')[0]).toMatchObject({ code: 400, reason: 'authentication refused: invalid signature (code 400)' });
    expect(h.eventsOf('subscribed')).toEqual([]);
    expect(h.sim.stats().authRejections['invalid signature']).toBeGreaterThanOrEqual(3);
    const ts = h.authFrames().map((a) => BigInt(a.timestamp));
    for (let i = 1; i < ts.length; i++) expect(ts[i]! > ts[i - 1]!).toBe(true);
    expect(JSON.stringify(h.events())).not.toContain('not-the-secret');
  });

  it('an unknown key → "api key not found" (400); a clock 2 min off → the drift error (400)', async () => {
    const a = await harness({}, { apiKey: 'someone-else' });
    await a.until(() => a.eventsOf('error').length >= 1, 'refusal');
    expect(a.eventsOf('error')[0]).toMatchObject({ code: 400, reason: 'BSX refused authentication: api key not found (code 400)' });
    const b = await harness({ clockOffsetMs: 120_000 });
    await b.until(() => b.eventsOf('error').length >= 1, 'refusal');
    expect(b.eventsOf('error')[0]?.reason).toMatch(/^BSX refused authentication: timestamp should be closed to current timestamp \(1(19|20)\.\d{6}s\) \(code 400\)$/);
  });

  it('reconnect: fresh auth (new timestamp and signature) and a fresh snapshot, which lacks the orders that finished while disconnected', async () => {
    const h = await harness();
    await h.until(() => h.eventsOf('subscribed').length === 1, 'first subscription');
    const lifecycles = h.sim.randomLifecycles(16, 77).map((l, i) => (i < 6 ? { ...l, kind: 'rest' as const, fills: [] } : l));
    lifecycles[6] = { ...lifecycles[6]!, kind: 'stop-rest', fills: [], type: undefined, timeInForce: undefined };
    const report = await h.sim.play(lifecycles);
    await h.until(() => h.data().filter((t) => t.includes('"type":"update"')).length === report.deliveries, 'all updates');
    const firstConn = h.frames.at(-1)?.connId;
    const live = h.sim.liveOrderIds();
    expect(live.length).toBeGreaterThanOrEqual(7);
    const finished = h.sim.finishWhileDisconnected(live.slice(0, 3), 'cancel');

    await h.until(() => h.eventsOf('subscribed').length === 2, 'second subscription');
    expect(h.eventsOf('disconnected')[0]?.details).toEqual({ closeCode: 1006 });
    const auths = h.authFrames();
    expect(auths).toHaveLength(2);
    expect(BigInt(auths[1]!.timestamp) > BigInt(auths[0]!.timestamp)).toBe(true);
    expect(auths[1]!.signature).not.toBe(auths[0]!.signature);

    const second = h.frames.filter((f) => f.kind === 'data' && f.connId !== firstConn).map((f) => f.value.toString()).find((t) => t.includes('"type":"snapshot"'));
    const r = bsxMapper.map(second as string, ctx);
    if (r.kind !== 'orders') throw new Error('expected the snapshot');
    expect(r.snapshot).toEqual({ complete: true });
    expect(r.orders.map((o) => o.orderId)).toEqual(live.slice(3));
    for (const id of finished) expect(r.orders.some((o) => o.orderId === id)).toBe(false);

    // The truth of those orders: DONE at the venue, never seen so; what the collector last saw is the live state.
    const truth = h.sim.truth();
    const seen = lastPerOrder(h.data());
    for (const id of finished) {
      const t = truth.get(id)!;
      expect(t.finishedUnseen).toBe(true);
      expect(bsxExpectedCanonical(t, 'acc-1').status).toBe('CANCELED');
      expect(seen.get(id)).toMatchObject(bsxExpectedSeen(t, 'acc-1')!);
      expect(['NEW', 'PARTIALLY_FILLED', 'UNTRIGGERED', 'PENDING_NEW']).toContain(seen.get(id)?.status);
    }
    for (const [id, t] of truth) if (!finished.includes(id)) expect(seen.get(id)).toMatchObject(bsxExpectedCanonical(t, 'acc-1'));
    expectNoSecretsInEvents(h.events());
  });

  it('pings every pingIntervalMs; pongs arrive as raw frames; the connection stays up', async () => {
    const h = await harness({}, { pingIntervalMs: 40 });
    await h.until(() => h.eventsOf('subscribed').length === 1, 'subscribed');
    await h.until(() => h.sim.stats().pingsReceived >= 6 && h.data().filter((t) => t === '{"type":"pong"}').length >= 6, 'six ping/pong rounds');
    expect(h.session.connections).toBe(1);
    expect(h.eventsOf('disconnected')).toEqual([]);
  });

  it('a client that sends nothing is closed by the simulator after its idle time, then reconnects and resubscribes', async () => {
    const h = await harness({ idleTimeoutMs: 250 }, { pingIntervalMs: 599_999, idleTimeoutMs: 0 });
    await h.until(() => h.eventsOf('subscribed').length >= 2, 'a second subscription');
    expect(h.eventsOf('disconnected')[0]).toMatchObject({ details: { closeCode: 1000 }, reason: 'closed by venue (1000 idle timeout)' });
    expect(h.sim.stats().idleCloses).toBeGreaterThanOrEqual(1);
  });

  it('the shutdown notice makes the client reconnect (and resubscribe)', async () => {
    const h = await harness();
    await h.until(() => h.eventsOf('subscribed').length === 1, 'subscribed');
    h.sim.announceShutdown();
    await h.until(() => h.eventsOf('subscribed').length === 2, 'resubscribed');
    expect(h.eventsOf('disconnected')[0]?.reason).toBe('BSX is closing the connection: bye - service is shutting down');
    expect(h.snapshots()).toHaveLength(2);
  });

  it('without an orders ack, the snapshot confirms the subscription', async () => {
    const h = await harness({ subscribeAck: false });
    await h.until(() => h.eventsOf('subscribed').length === 1, 'subscribed');
    expect(h.eventsOf('subscribed')[0]?.details?.via).toBe('snapshot');
  });
});
