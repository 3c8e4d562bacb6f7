/**
 * Registry mode end to end, on the real broker and the real schema registry of the test run (Apicurio):
 *
 * - the XT simulator plays lifecycles through collector → normalizer → order-state, all writing the Confluent wire
 *   format; the state topic equals the simulator's truth, and every record on orders.canonical.v1 and
 *   orders.state.v1 starts with 00 and a schema id the registry knows;
 * - a mixed topic: single-object and Confluent records on the same canonical and state topics are all read
 *   correctly by order-state (folding and restoring) and by the CLI's decoding (`orders`, `tail`'s decodeRecord);
 * - the built order-state service: registry unreachable → exit 72; our schema refused → exit 73, naming the
 *   field and the rule.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '@orderstream/kit';
import {
  connectSchemaRegistry, createKafka, createOrderSerdes, createSchemaRegistryClient, ensurePipelineTopics, orderSerdes,
  orderSubjects, readTopicToEnd, topicNames, type InRecord, type Kafka, type OrderSerdes, type SchemaRegistryClient, type TopicNames,
} from '@orderstream/kafka';
import { SCHEMA_DIR, type CanonicalOrder, type OrderState } from '@orderstream/schemas';
import { mapperLookup, XtClient, xtClientConfigSchema, xtExpectedCanonical, XtSimulator } from '@orderstream/venues';
import { createCollectorApp, type CollectorApp } from '@orderstream/collector';
import { createNormalizerApp, type NormalizerApp } from '@orderstream/normalizer';
import { createOrderStateApp, type OrderStateApp } from '@orderstream/order-state';
import { decodeRecord, ordersCommand } from '@orderstream/cli';
import { repoRoot, uniqueName, waitFor } from '@orderstream/testing';
import { testBrokers, testSchemaRegistryUrl } from '@orderstream/testing/vitest';

const ACCOUNT = 'main';
const API_KEY = 'reg-key';
const API_SECRET = 'reg-secret';

function collect(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString('utf8');
      done();
    },
  });
  return { stream, text: () => text };
}

function mixOrder(n: number, status: CanonicalOrder['status']): CanonicalOrder {
  return {
    orderKey: `mix|acct|${n}`, venue: 'mix', account: 'acct', orderId: String(n), clientOrderId: null, venueSymbol: 'btc_usdt',
    symbol: 'BTC/USDT', instrumentKind: 'SPOT', side: 'BUY', positionSide: null, orderType: 'LIMIT', venueOrderType: 'LIMIT',
    timeInForce: 'GTC', status, venueStatus: status, price: '100', triggerPrice: null, quantity: '1', venueQuantity: '1',
    quoteQuantity: null, filledQuantity: status === 'FILLED' ? '1' : '0', venueFilledQuantity: null, filledQuoteQuantity: null,
    averagePrice: null, fee: null, feeAsset: null, lastFillQuantity: null, lastFillPrice: null, lastFillFee: null, lastFillId: null,
    reduceOnly: null, postOnly: null, createdAt: 1_700_000_000_000_000 + n, updatedAt: 1_700_000_000_000_000 + n * 10 + (status === 'FILLED' ? 5 : 0),
    receivedAt: 1_700_000_000_000_000 + n, source: { topic: 'test', partition: 0, offset: n }, extras: {},
  };
}

describe('registry mode end to end (real broker, real schema registry)', () => {
  let kafka: Kafka;
  let topics: TopicNames;
  let prefix: string;
  let registry: SchemaRegistryClient;
  let serdes: OrderSerdes;
  let sim: XtSimulator;
  let collector: CollectorApp;
  let normalizer: NormalizerApp;
  let orderState: OrderStateApp;
  const logger = silentLogger();

  beforeAll(async () => {
    kafka = createKafka({ brokers: testBrokers(), clientId: 'e2e-registry', logger });
    prefix = `${uniqueName('e2e-reg')}.`;
    topics = topicNames(prefix);
    await ensurePipelineTopics(kafka, { prefix, rawPartitions: 2, orderPartitions: 3, profile: 'test' });
    registry = createSchemaRegistryClient({ url: testSchemaRegistryUrl() });
    serdes = await connectSchemaRegistry({ client: registry, topics, logger });
    sim = await XtSimulator.start({ apiKey: API_KEY, apiSecret: API_SECRET });
    const client = new XtClient(xtClientConfigSchema.parse({ restUrl: sim.restUrl, wsUrl: sim.wsUrl, apiKey: API_KEY, apiSecret: API_SECRET }), { logger });
    collector = createCollectorApp({ kafka, topics, accounts: [{ account: ACCOUNT, client }], decodeState: serdes.decodeState, logger, progressEveryMs: 0 });
    normalizer = createNormalizerApp({
      kafka, topics, groupId: uniqueName('normalizer'), lookup: mapperLookup, reference: sim.referenceData(), serde: serdes, logger, progressEveryMs: 0,
    });
    orderState = createOrderStateApp({ kafka, topics, groupId: uniqueName('order-state'), serde: serdes, logger, progressEveryMs: 0 });
    await Promise.all([collector.start(), normalizer.start(), orderState.start()]);
    await sim.waitForSubscribers(1, 20_000);
  });

  afterAll(async () => {
    await collector?.stop();
    await Promise.all([normalizer?.stop(), orderState?.stop()]);
    await sim?.stop();
  });

  it('state topic = simulator truth; every record on both topics carries 00 + a schema id the registry knows', async () => {
    const lifecycles = sim.randomLifecycles(40, 4242);
    await sim.play(lifecycles);
    const truth = sim.truth();
    const reference = sim.referenceData().xt ?? {};
    const expected = new Map([...truth.values()].map((t) => {
      const e = xtExpectedCanonical(t, ACCOUNT, reference[t.symbol]?.contractSize);
      return [e.orderKey, e] as const;
    }));
    expect(expected.size).toBe(40);

    // A fresh reader that knows nothing but the registry reads the state topic to its end.
    const reader = createOrderSerdes({ schemaRegistry: registry });
    const latest = await waitFor(async () => {
      const records = await readTopicToEnd(kafka, topics.state);
      await reader.prefetch(records.map((r) => r.value));
      const m = new Map<string, OrderState>();
      for (const r of records) if (r.value) m.set(String(r.key), reader.decodeState(r.value));
      return [...expected].every(([k, e]) => m.get(k)?.order.status === e.status && m.get(k)?.order.filledQuantity === e.filledQuantity) && m;
    }, { timeoutMs: 90_000, intervalMs: 500, description: 'the state topic to equal the simulator truth' });
    for (const [key, e] of expected) {
      const s = latest.get(key)!;
      expect({ status: s.order.status, filled: s.order.filledQuantity, qty: s.order.quantity, price: s.order.price }, key)
        .toStrictEqual({ status: e.status, filled: e.filledQuantity, qty: e.quantity, price: e.price });
    }

    const known = new Map<number, string | undefined>();
    const check = async (records: InRecord[]) => {
      expect(records.length).toBeGreaterThan(0);
      for (const r of records) {
        if (r.value === null) continue;
        expect(r.value[0], `${r.topic}@${r.partition}:${r.offset} starts with the Confluent magic byte`).toBe(0);
        const id = r.value.readUInt32BE(1);
        if (!known.has(id)) known.set(id, await registry.schemaById(id));
        expect(known.get(id), `schema id ${id} is known to the registry`).toBeDefined();
      }
    };
    await check(await readTopicToEnd(kafka, topics.canonical));
    await check(await readTopicToEnd(kafka, topics.state));
    // Orders and state always; snapshot markers too when reconciliation listed an account's open orders.
    const ours = serdes.schemaIds!;
    expect([...known.keys()].every((id) => [ours.canonical, ours.state, ours.marker].includes(id))).toBe(true);
    expect([...known.keys()]).toEqual(expect.arrayContaining([ours.canonical, ours.state]));
  });

  it('a mixed topic: single-object and Confluent records are all read by order-state and by the CLI', async () => {
    const single = orderSerdes(); // single-object writer (what a service without the registry variable writes)
    const producer = kafka.producer();
    await producer.connect();
    try {
      // Canonical topic: per order, the first update in one encoding and the final one in the other.
      const messages = [];
      for (let n = 1; n <= 6; n++) {
        const [first, last] = n % 2 === 0 ? [single, serdes] : [serdes, single];
        messages.push({ key: `mix|acct|${n}`, value: first.encodeCanonical(mixOrder(n, 'NEW')) });
        messages.push({ key: `mix|acct|${n}`, value: last.encodeCanonical(mixOrder(n, 'FILLED')) });
      }
      await producer.send({ topic: topics.canonical, messages });
    } finally {
      await producer.disconnect();
    }
    const canonicalRecords = (await readTopicToEnd(kafka, topics.canonical)).filter((r) => String(r.key).startsWith('mix|'));
    expect(new Set(canonicalRecords.map((r) => r.value![0]))).toStrictEqual(new Set([0x00, 0xc3]));

    await waitFor(() => [1, 2, 3, 4, 5, 6].every((n) => orderState.store.get(`mix|acct|${n}`)?.order.status === 'FILLED'), {
      timeoutMs: 60_000, intervalMs: 200, description: 'order-state to fold the mixed-encoding records',
    });
    expect(orderState.stats().deadLetters).toBe(0);

    // The state topic gets a single-object record too (as a previous, registry-less order-state wrote it).
    const legacyState: OrderState = { order: mixOrder(7, 'CANCELED'), updateCount: 1, stateUpdatedAt: 1_700_000_000_000_000, executions: [], note: null };
    const p2 = kafka.producer();
    await p2.connect();
    await p2.send({ topic: topics.state, messages: [{ key: 'mix|acct|7', value: single.encodeState(legacyState) }] });
    await p2.disconnect();

    // The CLI: `orders` reads the state topic in both encodings...
    const env = { KAFKA_BROKERS: testBrokers().join(','), ORDERSTREAM_TOPIC_PREFIX: prefix, ORDERSTREAM_SCHEMA_REGISTRY_URL: testSchemaRegistryUrl(), LOG_LEVEL: 'silent' };
    const out = collect();
    const result = await ordersCommand({ json: true, venue: 'mix' }, env, out.stream, collect().stream);
    const lines = out.text().trim().split('\n').map((l) => JSON.parse(l) as { order: { orderKey: string; status: string } } | { orderKey: string; status: string });
    const statuses = Object.fromEntries(lines.map((l) => ('order' in l ? [l.order.orderKey, l.order.status] : [l.orderKey, l.status])));
    expect(result.count).toBe(7);
    expect(statuses).toStrictEqual({
      'mix|acct|1': 'FILLED', 'mix|acct|2': 'FILLED', 'mix|acct|3': 'FILLED', 'mix|acct|4': 'FILLED', 'mix|acct|5': 'FILLED', 'mix|acct|6': 'FILLED', 'mix|acct|7': 'CANCELED',
    });
    // ...and `tail canonical` decodes every record of the canonical topic, whichever its encoding.
    const decoded = canonicalRecords.map((r) => decodeRecord('canonical', r));
    expect(decoded.map((d) => (d.value as CanonicalOrder).status)).toStrictEqual(canonicalRecords.map((_, i) => (i % 2 === 0 ? 'NEW' : 'FILLED')));

    // A restarted order-state restores the mixed state topic (both encodings) and serves every order.
    const restarted = createOrderStateApp({ kafka, topics, groupId: uniqueName('order-state-2'), serde: serdes, logger, progressEveryMs: 0 });
    await restarted.start();
    try {
      await waitFor(() => restarted.isReady(), { timeoutMs: 60_000, intervalMs: 200, description: 'the second order-state to restore' });
      expect(restarted.store.get('mix|acct|7')?.order.status).toBe('CANCELED');
      expect(restarted.store.get('mix|acct|2')?.order.status).toBe('FILLED');
    } finally {
      await restarted.stop();
    }
  });

  describe('the built order-state service at start', () => {
    const main = path.join(repoRoot(), 'services', 'order-state', 'dist', 'main.js');
    const run = (env: Record<string, string>) => {
      if (!existsSync(main)) throw new Error(`${main} is missing: build first`);
      const r = spawnSync(process.execPath, [main], {
        env: { PATH: process.env.PATH ?? '', KAFKA_BROKERS: testBrokers().join(','), ORDER_STATE_HTTP_PORT: '0', LOG_LEVEL: 'silent', ...env },
        encoding: 'utf8', timeout: 30_000,
      });
      return { status: r.status, stderr: r.stderr };
    };

    it('exits 72 with one line when the registry is unreachable: no fallback to single-object encoding', () => {
      const r = run({ ORDERSTREAM_SCHEMA_REGISTRY_URL: 'http://127.0.0.1:9/apis/ccompat/v7', ORDERSTREAM_SCHEMA_REGISTRY_WAIT_MS: '0' });
      expect(r.status).toBe(72);
      expect(r.stderr).toMatch(/^order-state: \[SCHEMA_REGISTRY_UNAVAILABLE\] the schema registry at http:\/\/127\.0\.0\.1:9\/apis\/ccompat\/v7 did not answer/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    });

    it('exits 73 naming the field and the rule when the registry refuses our schema', async () => {
      // A newer, incompatible CanonicalOrder is already registered under the subject: ours lacks its default-less field.
      const p = `${uniqueName('refused')}.`;
      const subject = orderSubjects(topicNames(p)).canonical;
      await registry.setCompatibility(subject, 'FULL_TRANSITIVE');
      await registry.register(subject, readFileSync(path.join(SCHEMA_DIR, 'evolution', 'canonical-order.incompatible.avsc'), 'utf8'));
      const r = run({ ORDERSTREAM_SCHEMA_REGISTRY_URL: testSchemaRegistryUrl(), ORDERSTREAM_TOPIC_PREFIX: p });
      expect(r.status).toBe(73);
      expect(r.stderr).toMatch(/^order-state: \[SCHEMA_REFUSED\] the schema registry refused our canonical schema under subject .*CanonicalOrder \(compatibility FULL_TRANSITIVE\)/);
      expect(r.stderr).toMatch(/orderstream\.v1\.CanonicalOrder\.strategyTag is in the reader's schema without a default .*FORWARD: readers still on version 1/);
    });
  });
});
