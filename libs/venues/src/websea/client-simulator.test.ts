import { afterEach, describe, expect, it } from 'vitest';
import { addDecimals, divDecimals, mulDecimals } from '@orderstream/kit';
import type { CanonicalOrder } from '@orderstream/schemas';
import type { SimLogEntry } from '../sim/server.js';
import type { RawFrame } from '../session.js';
import { RecordingSession, type RecordedEvent } from '../sim/recording-session.js';
import { testMapContext } from '../sim/test-context.js';
import { WebseaClient, type WebseaClientConfigInput, type WebseaClientDeps } from './client.js';
import { WEBSEA_AVERAGE_PRICE_SCALE, webseaExpectedState } from './lifecycles.js';
import { webseaMapper } from './mapper.js';
import { WebseaSimulator, type WebseaSimulatorOptions } from './simulator.js';

const TOKEN = 'sim-websea-token';
const SECRET = 'sim-websea-secret';
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A VenueSession driving WebseaClient against a WebseaSimulator, with every sunk frame kept in order. */
async function harness(
  simOptions: WebseaSimulatorOptions = {},
  clientOptions: Partial<WebseaClientConfigInput> = {},
  deps: WebseaClientDeps = {},
  beforeStart?: (sim: WebseaSimulator) => void,
) {
  const log: SimLogEntry[] = [];
  const sim = await WebseaSimulator.start({ log: (e) => log.push(e), ...simOptions });
  cleanups.push(() => sim.stop());
  beforeStart?.(sim);
  const client = WebseaClient.fromConfig({ wsUrl: sim.wsUrl, token: TOKEN, secretKey: SECRET, ...clientOptions }, deps);
  const rec = new RecordingSession({ client, sim });
  rec.start();
  cleanups.push(rec.stop);
  return { sim, ...rec, data: rec.dataFrames, log };
}

const ctx = testMapContext('websea');

/** Maps raw frames the way the normalizer does (bytes → UTF-8 text → mapper), keeping order records only. */
function mapRaw(frames: RawFrame[]): CanonicalOrder[] {
  return frames.flatMap((f) => {
    const r = webseaMapper.map(f.value.toString('utf8'), ctx);
    return r.kind === 'orders' ? r.orders : [];
  });
}

/** What order-state is meant to derive: cumulative figures over distinct lastFillIds, per order. */
function sumExecutions(records: CanonicalOrder[]) {
  const perOrder = new Map<string, Map<string, CanonicalOrder>>();
  for (const r of records) {
    if (!perOrder.has(r.orderId)) perOrder.set(r.orderId, new Map());
    if (r.lastFillId !== null) perOrder.get(r.orderId)?.set(r.lastFillId, r);
  }
  return new Map(
    [...perOrder].map(([orderId, execs]) => {
      let qty = '0';
      let quote = '0';
      let fee = '0';
      for (const e of execs.values()) {
        qty = addDecimals(qty, e.lastFillQuantity as string);
        quote = addDecimals(quote, mulDecimals(e.lastFillQuantity as string, e.lastFillPrice as string));
        fee = addDecimals(fee, e.lastFillFee ?? '0');
      }
      const averagePrice = execs.size === 0 ? null : divDecimals(quote, qty, WEBSEA_AVERAGE_PRICE_SCALE);
      return [orderId, { filledQuantity: qty, filledQuoteQuantity: quote, fee, averagePrice, ids: [...execs.keys()].sort() }];
    }),
  );
}

function expectNoSecretsInEvents(events: RecordedEvent[]) {
  const text = JSON.stringify(events);
  for (const s of [SECRET, TOKEN]) expect(text).not.toContain(s);
}

describe('WebseaClient + VenueSession against WebseaSimulator', () => {
  it('subscribes, receives every push raw, and summing distinct executions reproduces the truth (duplicates included)', async () => {
    const h = await harness({ faults: { duplicateRate: 0.3, reorder: 0.3 } });
    await h.until(() => h.eventsOf('subscribed').length === 1, 'subscribed');
    expect(h.events().map((e) => e.event)).toEqual(['connecting', 'connected', 'authenticated', 'subscribed']);

    const lifecycles = h.sim.randomLifecycles(25, 2024);
    const report = await h.sim.play(lifecycles, { intervalMs: 1 });
    expect(report.duplicates).toBeGreaterThan(0);
    const pushes = () => h.data().filter((f) => f.value.toString('utf8').startsWith('{"channel":"order"'));
    await h.until(() => pushes().length === report.deliveries, `${report.deliveries} pushes`);

    // raw means raw: numbered per connection in arrival order
    const seqs = h.frames.map((f) => f.connSeq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));

    const sums = sumExecutions(mapRaw(h.data()));
    const truth = h.sim.truth();
    expect(truth.size).toBe(lifecycles.length);
    for (const [orderId, t] of truth) {
      const expected = webseaExpectedState(t, 'acc-1');
      const got = sums.get(orderId);
      expect(got).toEqual({
        filledQuantity: expected.order.filledQuantity,
        filledQuoteQuantity: expected.order.filledQuoteQuantity,
        fee: expected.order.fee,
        averagePrice: expected.order.averagePrice,
        ids: expected.executions.map((e) => e.id).sort(),
      });
    }
    expectNoSecretsInEvents(h.events());
  });

  it('a wrong secret: an "error" session event with code 20506, then a reconnect with a fresh nonce, again and again', async () => {
    const h = await harness({}, { secretKey: 'not-the-secret' });
    await h.until(() => h.eventsOf('error').length >= 3, 'three refusals');
    for (const e of h.eventsOf('error')) {
      expect(e.code).toBe(20506);
      expect(e.reason).toBe('WebSea refused the order subscription: errno 20506 (api signature not valid)');
    }
    const disconnected = h.eventsOf('disconnected');
    expect(disconnected.length).toBeGreaterThanOrEqual(2);
    expect(disconnected[0]).toMatchObject({ code: 20506, reason: 'WebSea authentication failed: errno 20506 (api signature not valid)' });
    expect(h.eventsOf('subscribed')).toEqual([]);
    expect(h.sim.stats().rejections[20506]).toBeGreaterThanOrEqual(3);
    // a fresh nonce every time
    const nonces = h.log.filter((e) => e.direction === 'in' && e.text.includes('"Nonce"')).map((e) => (JSON.parse(e.text) as { Nonce: string }).Nonce);
    expect(new Set(nonces).size).toBe(nonces.length);
    expect(JSON.stringify(h.events())).not.toContain('not-the-secret');
    expectNoSecretsInEvents(h.events());
  });

  it('a reused nonce: 20519 on the reconnect', async () => {
    // a broken nonce source that repeats itself (its seconds stay inside the ±60 s window for the whole test)
    const fixed = `${Math.floor(Date.now() / 1000)}_same0`;
    const h = await harness({}, {}, { nonce: () => fixed });
    await h.until(() => h.eventsOf('subscribed').length === 1, 'first subscription');
    expect(h.sim.dropConnections()).toBe(1);
    await h.until(() => h.eventsOf('error').length >= 1, 'the refusal');
    expect(h.eventsOf('error')[0]).toMatchObject({
      event: 'error',
      code: 20519,
      reason: 'WebSea refused the order subscription: errno 20519 (the nonce has been used)',
    });
    await h.until(() => h.eventsOf('disconnected').length >= 2, 'the reconnect it asked for');
    expect(h.eventsOf('disconnected')[1]).toMatchObject({ code: 20519, reason: 'WebSea authentication failed: errno 20519 (the nonce has been used)' });
    expect(h.eventsOf('subscribed')).toHaveLength(1);
  });

  it('a client clock 2 minutes behind: 20520', async () => {
    const h = await harness({}, {}, { now: () => Date.now() - 120_000 });
    await h.until(() => h.eventsOf('error').length >= 1, 'the refusal');
    expect(h.eventsOf('error')[0]).toMatchObject({ code: 20520, reason: 'WebSea refused the order subscription: errno 20520 (nonce expires, please verify server time)' });
  });

  it('permission refused (20530) once: error event, reconnect, then subscribed', async () => {
    const h = await harness({}, {}, {}, (sim) => sim.rejectNextSubscribes(20530));
    await h.until(() => h.eventsOf('subscribed').length >= 1, 'a subscription');
    expect(h.events().map((e) => [e.event, e.code ?? null])).toEqual([
      ['connecting', null],
      ['connected', null],
      ['error', 20530],
      ['disconnected', 20530],
      ['connecting', null],
      ['connected', null],
      ['authenticated', null],
      ['subscribed', null],
    ]);
    expect(h.session.connections).toBe(2);
  });

  it('binary frames arrive as the exact bytes and map end to end (UTF-8 symbol included)', async () => {
    const h = await harness({ binaryFrames: true });
    await h.until(() => h.eventsOf('subscribed').length === 1, 'subscribed (the ack came as a binary frame)');
    const report = await h.sim.play([
      { orderId: 'BLBIN1', symbol: '币安人生-USDT', kind: 'fill', side: 'BUY', price: '0.1234', amount: '100', executions: [{ qty: '40', price: '0.1234' }, { qty: '60', price: '0.1233' }] },
    ]);
    await h.until(() => h.data().length === 1 + report.deliveries, 'ack + three pushes');
    const sent = h.log.filter((e) => e.direction === 'out' && e.note?.endsWith('(binary)')).map((e) => e.text);
    expect(sent).toHaveLength(4);
    // raw means raw: the bytes on the topic are exactly the bytes of the binary message
    expect(h.data().map((f) => f.value.toString('utf8'))).toEqual(sent);
    expect(h.data()[1]?.value.equals(Buffer.from(sent[1] as string, 'utf8'))).toBe(true);
    const orders = mapRaw(h.data());
    expect(orders.map((o) => [o.status, o.venueSymbol, o.symbol, o.lastFillQuantity])).toEqual([
      ['NEW', '币安人生-USDT', '币安人生/USDT', null],
      ['PARTIALLY_FILLED', '币安人生-USDT', '币安人生/USDT', '40'],
      ['FILLED', '币安人生-USDT', '币安人生/USDT', '60'],
    ]);
    expect(sumExecutions(orders).get('BLBIN1')).toMatchObject({ filledQuantity: '100', averagePrice: '0.12334' });
  });

  it('control pings keep a strict idle rule from dropping the socket', async () => {
    const h = await harness({ idleTimeoutMs: 300, idleAppliesToSubscribed: true }, { pingIntervalMs: 50 });
    await h.until(() => h.eventsOf('subscribed').length === 1, 'subscribed');
    // twelve pings at 50 ms span twice the 300 ms idle limit
    await h.until(() => h.sim.stats().pingsReceived >= 12, 'twelve control pings');
    expect(h.sim.stats().idleTimeouts).toBe(0);
    expect(h.session.connections).toBe(1);
    expect(h.eventsOf('disconnected')).toEqual([]);
    // and the pings are control frames: nothing but the subscribe ever went out as a message
    expect(h.log.filter((e) => e.direction === 'in' && e.note !== 'ping')).toHaveLength(1);
  });

  it('without pings in time the strict rule drops the socket (1006) and the session reconnects and resubscribes', async () => {
    const h = await harness({ idleTimeoutMs: 200, idleAppliesToSubscribed: true }, { pingIntervalMs: 15_000, idleTimeoutMs: 0 });
    await h.until(() => h.eventsOf('disconnected').length >= 1, 'the idle drop');
    expect(h.eventsOf('disconnected')[0]?.details).toEqual({ closeCode: 1006 });
    expect(h.sim.stats().idleTimeouts).toBeGreaterThanOrEqual(1);
    await h.until(() => h.eventsOf('subscribed').length >= 2, 'a new subscription');
  });
});
