/**
 * `orderstream reconcile` on demand, with no collector running: orders that were placed, filled and cancelled at the
 * venue while nothing listened reach orders.state.v1 exactly, through the same raw → canonical → state path.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, silentLogger } from '@orderstream/kit';
import { createKafka, ensurePipelineTopics, headerString, orderSerdes, readTopicToEnd, topicNames, type Kafka, type TopicNames } from '@orderstream/kafka';
import type { CanonicalOrder } from '@orderstream/schemas';
import { mapperLookup, xtExpectedCanonical, XtSimulator } from '@orderstream/venues';
import { createNormalizerApp, type NormalizerApp } from '@orderstream/normalizer';
import { createOrderStateApp, type OrderStateApp } from '@orderstream/order-state';
import { reconcileCommand } from '@orderstream/cli';
import { uniqueName, waitFor } from '@orderstream/testing';
import { testBrokers } from '@orderstream/testing/vitest';
import { pickChecked } from './rigs/types.js';

describe('orderstream reconcile', () => {
  const logger = silentLogger();
  const serdes = orderSerdes();
  let kafka: Kafka;
  let topics: TopicNames;
  let prefix: string;
  let sim: XtSimulator;
  let normalizer: NormalizerApp;
  let orderState: OrderStateApp;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    kafka = createKafka({ brokers: testBrokers(), clientId: 'e2e-reconcile-cli', logger });
    prefix = `${uniqueName('e2e-reconcile-cli')}.`;
    topics = topicNames(prefix);
    await ensurePipelineTopics(kafka, { prefix, rawPartitions: 1, orderPartitions: 2, profile: 'test' });
    sim = await XtSimulator.start({ apiKey: 'cli-xt-key', apiSecret: 'cli-xt-secret' });
    const dir = mkdtempSync(join(tmpdir(), 'orderstream-reconcile-cli-'));
    const accountsFile = join(dir, 'accounts.json');
    writeFileSync(accountsFile, JSON.stringify({
      accounts: [{ venue: 'xt', account: 'cli', config: { restUrl: sim.restUrl, wsUrl: sim.wsUrl, apiKey: { env: 'CLI_XT_KEY' }, apiSecret: { env: 'CLI_XT_SECRET' } } }],
    }));
    env = {
      KAFKA_BROKERS: testBrokers().join(','), ORDERSTREAM_TOPIC_PREFIX: prefix, COLLECTOR_ACCOUNTS_FILE: accountsFile, LOG_LEVEL: 'silent',
      CLI_XT_KEY: 'cli-xt-key', CLI_XT_SECRET: 'cli-xt-secret',
    };
    normalizer = createNormalizerApp({ kafka, topics, groupId: uniqueName('normalizer'), lookup: mapperLookup, reference: sim.referenceData(), serde: serdes, logger, progressEveryMs: 0 });
    orderState = createOrderStateApp({ kafka, topics, groupId: uniqueName('order-state'), serde: serdes, logger, progressEveryMs: 0 });
    await Promise.all([normalizer.start(), orderState.start()]);
  });

  afterAll(async () => {
    await Promise.all([normalizer?.stop(), orderState?.stop()]);
    await sim?.stop();
  });

  it('brings orders that began and ended while nothing listened, and the open ones, into the state exactly', async () => {
    const since = Date.now();
    const lifecycles = sim.randomLifecycles(25, 31);
    await sim.play(lifecycles.slice(0, 20)); // nobody is subscribed: these pushes reach no one
    sim.placeOrders(lifecycles.slice(20));
    const open = sim.liveOrderIds(); // a placed order can also be rejected at once
    expect(open.length).toBeGreaterThan(0);
    expect(sim.subscriberCount).toBe(0);

    const out = new PassThrough();
    let printed = '';
    out.on('data', (chunk: Buffer) => (printed += chunk.toString('utf8')));
    const code = await reconcileCommand({ venue: 'xt', account: 'cli', since: String(since), json: true }, env, out);
    expect(code).toBe(0);
    const report = JSON.parse(printed) as { openOrders: number; history: number; lookups: number };
    expect(report.openOrders).toBe(open.length);
    expect(report.history).toBeGreaterThanOrEqual(20);

    const reference = sim.referenceData();
    const want = new Map([...sim.truth().values()].map((t) => {
      const e = xtExpectedCanonical(t, 'cli', reference.xt?.[t.symbol]?.contractSize);
      return [e.orderKey, pickChecked(e)] as [string, Partial<CanonicalOrder>];
    }));
    expect(want.size).toBe(25);
    const differ = () => [...want].filter(([key, w]) => Object.entries(w).some(([k, v]) => orderState.store.get(key)?.order[k as keyof CanonicalOrder] !== v));
    await waitFor(() => differ().length === 0, { timeoutMs: 60_000, intervalMs: 200, description: 'order-state to equal the venue after orderstream reconcile' }).catch((error: unknown) => {
      throw new Error(`${String(error)}; e.g. ${JSON.stringify(differ()[0])} got ${JSON.stringify(pickChecked(orderState.store.get(differ()[0]?.[0] ?? '')?.order ?? {}))}`);
    });

    // The REST answers are raw records like any other, naming the request and never a secret.
    const raw = await readTopicToEnd(kafka, topics.raw);
    const rest = raw.filter((r) => headerString(r.headers, 'frame-kind') === 'rest');
    expect(rest.length).toBeGreaterThanOrEqual(2);
    for (const r of rest) {
      const request = headerString(r.headers, 'rest-request') ?? '';
      expect(request).toMatch(/^GET \/future\//);
      expect(request).not.toMatch(/cli-xt-key|cli-xt-secret|signature/i);
    }
    const events = raw.filter((r) => headerString(r.headers, 'frame-kind') === 'session').map((r) => JSON.parse(String(r.value)) as { event: string });
    expect(events.map((e) => e.event)).toEqual(['reconciled']);
  });

  it('names an account the accounts file does not list, with exit code 2 semantics (ConfigError)', async () => {
    await expect(reconcileCommand({ venue: 'xt', account: 'nope', since: undefined, json: false }, env, new PassThrough())).rejects.toThrow(ConfigError);
    await expect(reconcileCommand({ venue: 'xt', account: 'cli', since: 'yesterday-ish', json: false }, env, new PassThrough())).rejects.toThrow(/--since/);
  });
});
