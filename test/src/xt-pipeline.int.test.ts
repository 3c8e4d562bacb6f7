/**
 * End to end on a real broker: the XT simulator plays known order lifecycles to the collector, which publishes
 * raw frames; the normalizer and order-state run as they do in production. A fresh consumer then reads
 * orders.state.v1 from offset 0, decodes it with nothing but the .avsc file, and the latest record per order
 * must equal what the simulator knows to be true.
 */
import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '@orderstream/kit';
import {
  createKafka, describeTopicConfigs, ensurePipelineTopics, headerString, orderSerdes, readTopicToEnd, topicNames,
  type InRecord, type Kafka, type TopicNames,
} from '@orderstream/kafka';
import { SCHEMA_DIR, SCHEMA_FILES, type OrderState } from '@orderstream/schemas';
import { mapperLookup, XtClient, xtClientConfigSchema, xtExpectedCanonical, XtSimulator, type XtLifecycle } from '@orderstream/venues';
import { createCollectorApp, type CollectorApp } from '@orderstream/collector';
import { createNormalizerApp, type NormalizerApp } from '@orderstream/normalizer';
import { createOrderStateApp, createOrderStateMetrics, createQueryServer, tallyOrders, type OrderStateApp, type QueryServer } from '@orderstream/order-state';
import { uniqueName, waitFor } from '@orderstream/testing';
import { testBrokers } from '@orderstream/testing/vitest';

const ACCOUNT = 'main';
const API_KEY = 'e2e-key';
const API_SECRET = 'e2e-secret';

/** Decodes a single-object-encoded value with avsc and the .avsc file alone (no project serde). */
function decodeWithAvscOnly(type: avro.Type, expectedFingerprint: Buffer, value: Buffer): OrderState {
  expect(value.subarray(0, 2).equals(Buffer.from([0xc3, 0x01]))).toBe(true);
  expect(value.subarray(2, 10).equals(expectedFingerprint)).toBe(true);
  return type.fromBuffer(value.subarray(10)) as OrderState;
}

function latestPerKey(records: InRecord[]): Map<string, InRecord> {
  const latest = new Map<string, InRecord>();
  for (const r of records) latest.set(String(r.key), r); // records of one key are in one partition, in order
  return latest;
}

describe('XT end to end', () => {
  let kafka: Kafka;
  let topics: TopicNames;
  let sim: XtSimulator;
  let collector: CollectorApp;
  let normalizer: NormalizerApp;
  let orderState: OrderStateApp;
  let api: QueryServer;
  let apiUrl: string;
  const logger = silentLogger();

  beforeAll(async () => {
    kafka = createKafka({ brokers: testBrokers(), clientId: 'e2e-xt', logger });
    topics = topicNames(`${uniqueName('e2e-xt')}.`);
    await ensurePipelineTopics(kafka, { prefix: topics.raw.replace('orders.raw.v1', ''), rawPartitions: 2, orderPartitions: 3, profile: 'test' });
    sim = await XtSimulator.start({ apiKey: API_KEY, apiSecret: API_SECRET });
    const client = new XtClient(xtClientConfigSchema.parse({ restUrl: sim.restUrl, wsUrl: sim.wsUrl, apiKey: API_KEY, apiSecret: API_SECRET }), { logger });
    const serdes = orderSerdes();
    collector = createCollectorApp({ kafka, topics, accounts: [{ account: ACCOUNT, client }], decodeState: serdes.decodeState, logger, progressEveryMs: 0 });
    normalizer = createNormalizerApp({
      kafka, topics, groupId: uniqueName('normalizer'), lookup: mapperLookup, reference: sim.referenceData(),
      serde: serdes, logger, progressEveryMs: 0,
    });
    orderState = createOrderStateApp({ kafka, topics, groupId: uniqueName('order-state'), serde: serdes, logger, progressEveryMs: 0 });
    const metrics = createOrderStateMetrics({
      stats: orderState.stats, ready: orderState.isReady,
      ordersByStatus: () => tallyOrders(orderState.store.values()).byStatus, ordersByVenue: () => tallyOrders(orderState.store.values()).byVenue,
    });
    api = createQueryServer({ store: orderState.store, isReady: orderState.isReady, isHealthy: orderState.isHealthy, metrics: metrics.render, logger }, { port: 0 });
    apiUrl = (await api.start()).url;
    await Promise.all([collector.start(), normalizer.start(), orderState.start()]);
    await sim.waitForSubscribers(1, 20_000);
  });

  afterAll(async () => {
    await api?.stop();
    await collector?.stop();
    await Promise.all([normalizer?.stop(), orderState?.stop()]);
    await sim?.stop();
  });

  it('plays 60 lifecycles and malformed frames; the state topic equals the simulator truth', async () => {
    const lifecycles: XtLifecycle[] = sim.randomLifecycles(60, 2026);
    const kinds = new Set(lifecycles.map((l) => l.kind));
    for (const k of ['fill', 'cancel', 'partial-cancel', 'reject'] as const) expect(kinds, `lifecycles include ${k}`).toContain(k);

    await sim.play(lifecycles.slice(0, 30));
    const malformed = [sim.injectMalformed('invalid-json'), sim.injectMalformed('wrong-types'), sim.injectMalformed('unknown-state')];
    await sim.play(lifecycles.slice(30)); // frames after the malformed ones must still arrive

    const truth = sim.truth();
    expect(truth.size).toBe(60);
    const reference = sim.referenceData().xt ?? {};
    const expected = new Map(
      [...truth.values()].map((t) => {
        const e = xtExpectedCanonical(t, ACCOUNT, reference[t.symbol]?.contractSize);
        return [e.orderKey, e] as const;
      }),
    );

    // order-state has folded everything (its store mirrors what it produced)...
    await waitFor(
      () => [...expected].every(([key, e]) => orderState.store.get(key)?.order.status === e.status && orderState.store.get(key)?.order.filledQuantity === e.filledQuantity),
      { timeoutMs: 60_000, intervalMs: 200, description: 'order-state to fold all 60 lifecycles' },
    );

    // ...and a fresh read_committed consumer of the topic, decoding with only the .avsc file, sees the truth.
    const stateType = avro.Type.forSchema(JSON.parse(readFileSync(`${SCHEMA_DIR}/${SCHEMA_FILES.orderState}`, 'utf8')));
    const fingerprint = Buffer.alloc(8);
    fingerprint.writeBigUInt64LE(orderSerdes().stateFingerprint);
    // A commit's markers are written just after commit() returns: poll the topic until every order is readable.
    const latest = await waitFor(
      async () => {
        const m = latestPerKey(await readTopicToEnd(kafka, topics.state));
        return m.size === 60 && [...expected].every(([k, e]) => orderSerdes().decodeState(m.get(k)?.value as Buffer).order.status === e.status) && m;
      },
      { timeoutMs: 30_000, intervalMs: 250, description: 'orders.state.v1 to hold the final state of all 60 orders' },
    );
    for (const [key, want] of expected) {
      const record = latest.get(key);
      expect(record, `state record for ${key}`).toBeDefined();
      const state = decodeWithAvscOnly(stateType, fingerprint, record?.value as Buffer);
      const o = state.order;
      expect({
        status: o.status, venueStatus: o.venueStatus, filledQuantity: o.filledQuantity, venueFilledQuantity: o.venueFilledQuantity,
        averagePrice: o.averagePrice, quantity: o.quantity, price: o.price, side: o.side, symbol: o.symbol, createdAt: o.createdAt,
        filledQuoteQuantity: o.filledQuoteQuantity,
      }, key).toEqual({
        status: want.status, venueStatus: want.venueStatus, filledQuantity: want.filledQuantity, venueFilledQuantity: want.venueFilledQuantity,
        averagePrice: want.averagePrice, quantity: want.quantity, price: want.price, side: want.side, symbol: want.symbol, createdAt: want.createdAt,
        filledQuoteQuantity: want.filledQuoteQuantity,
      });
      // records of an order are keyed by orderKey on the same partition as its canonical records
      expect(record?.key?.toString()).toBe(key);
    }

    // the query API serves the same state
    expect((await fetch(`${apiUrl}/readyz`)).status).toBe(200);
    const [someKey, someRecord] = [...latest][0] as [string, InRecord];
    const served = (await (await fetch(`${apiUrl}/orders/${encodeURIComponent(someKey)}`)).json()) as OrderState;
    expect(served).toEqual(decodeWithAvscOnly(stateType, fingerprint, someRecord.value as Buffer));
    const filled = (await (await fetch(`${apiUrl}/orders?venue=xt&account=${ACCOUNT}&status=FILLED&limit=1000`)).json()) as { orders: OrderState[] };
    expect(filled.orders.map((o) => o.order.orderKey).sort()).toEqual([...expected].filter(([, e]) => e.status === 'FILLED').map(([k]) => k).sort());
    expect(await (await fetch(`${apiUrl}/metrics`)).text()).toMatch(/^orderstream_order_state_orders 60$/m);

    // the state topic is compacted
    expect((await describeTopicConfigs(kafka, topics.state))['cleanup.policy']).toBe('compact');

    // malformed frames: dead letters with the original bytes and a reason; the normalizer kept going
    const dlq = await readTopicToEnd(kafka, topics.dlq);
    expect(dlq.map((r) => r.value?.toString('utf8'))).toEqual(malformed);
    expect(dlq.map((r) => headerString(r.headers, 'dlq-code'))).toEqual(['FRAME_NOT_JSON', 'FRAME_INVALID', 'FRAME_UNKNOWN_STATUS']);
    for (const r of dlq) {
      expect(headerString(r.headers, 'dlq-message')).toBeTruthy();
      expect(headerString(r.headers, 'venue')).toBe('xt');
    }

    // the raw topic holds exact frames with provenance, session events in line with the data
    const raw = await readTopicToEnd(kafka, topics.raw);
    const sessions = raw.filter((r) => headerString(r.headers, 'frame-kind') === 'session').map((r) => JSON.parse(String(r.value)) as { event: string });
    expect(sessions.map((s) => s.event)).toEqual(expect.arrayContaining(['connecting', 'connected', 'subscribed']));
    const data = raw.filter((r) => headerString(r.headers, 'frame-kind') === 'data');
    for (const text of malformed) expect(data.some((r) => r.value?.toString('utf8') === text)).toBe(true);
    const seqs = raw.map((r) => Number(headerString(r.headers, 'conn-seq')));
    expect(seqs).toEqual(seqs.map((_, i) => i + 1)); // one connection, numbered without gaps
    expect(new Set(raw.map((r) => String(r.key)))).toEqual(new Set([`xt|${ACCOUNT}`]));
  });
});
