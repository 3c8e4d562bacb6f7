/**
 * Terminal retention: with ORDER_STATE_TERMINAL_RETENTION_MS set, terminal orders get a tombstone on
 * orders.state.v1 once their state is older than that, live orders stay, and an instance restored from the topic
 * holds only the live ones. (Off by default: every other test keeps every order.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '@orderstream/kit';
import { createKafka, ensurePipelineTopics, orderSerdes, readTopicToEnd, topicNames, type Kafka, type TopicNames } from '@orderstream/kafka';
import { isTerminal, type OrderStatus } from '@orderstream/schemas';
import { mapperLookup } from '@orderstream/venues';
import { createCollectorApp, type CollectorApp } from '@orderstream/collector';
import { createNormalizerApp, type NormalizerApp } from '@orderstream/normalizer';
import { createOrderStateApp, type OrderStateApp } from '@orderstream/order-state';
import { uniqueName, waitFor } from '@orderstream/testing';
import { testBrokers } from '@orderstream/testing/vitest';
import { bsxRig } from './rigs/bsx.js';
import type { VenueRig } from './rigs/types.js';

describe('terminal retention', () => {
  let kafka: Kafka;
  let topics: TopicNames;
  let rig: VenueRig;
  let collector: CollectorApp;
  let normalizer: NormalizerApp;
  let orderState: OrderStateApp;
  const groupId = uniqueName('order-state');
  const logger = silentLogger();
  const serdes = orderSerdes();

  beforeAll(async () => {
    kafka = createKafka({ brokers: testBrokers(), clientId: 'e2e-retention', logger });
    const prefix = `${uniqueName('e2e-retention')}.`;
    topics = topicNames(prefix);
    await ensurePipelineTopics(kafka, { prefix, profile: 'test' });
    rig = await bsxRig('perps', 80, 51); // BSX lifecycles include orders that stay open
    normalizer = createNormalizerApp({ kafka, topics, groupId: uniqueName('normalizer'), lookup: mapperLookup, reference: {}, serde: serdes, logger, progressEveryMs: 0 });
    orderState = createOrderStateApp({ kafka, topics, groupId, serde: serdes, logger, progressEveryMs: 0, terminalRetentionMs: 1_500, retentionSweepMs: 250 });
    await Promise.all([normalizer.start(), orderState.start()]);
    collector = createCollectorApp({ kafka, topics, accounts: [{ account: rig.account, client: rig.client }], decodeState: serdes.decodeState, logger, progressEveryMs: 0 });
    await collector.start();
    await rig.ready();
  });

  afterAll(async () => {
    await collector?.stop();
    await Promise.all([normalizer?.stop(), orderState?.stop()]);
    await rig?.stop();
  });

  it('tombstones terminal orders past retention and keeps live ones', async () => {
    await rig.play();
    const truth = rig.expected();
    const live = [...truth].filter(([, e]) => !isTerminal(e.status as OrderStatus)).map(([k]) => k).sort();
    const terminal = [...truth].filter(([, e]) => isTerminal(e.status as OrderStatus)).map(([k]) => k).sort();
    expect(live.length).toBeGreaterThan(0);
    expect(terminal.length).toBeGreaterThan(0);

    const latest = async () => {
      const m = new Map<string, Buffer | null>();
      for (const r of await readTopicToEnd(kafka, topics.state)) m.set(String(r.key), r.value);
      return m;
    };
    await waitFor(
      async () => {
        const m = await latest();
        return terminal.every((k) => m.has(k) && m.get(k) === null) && live.every((k) => m.get(k));
      },
      { timeoutMs: 60_000, intervalMs: 500, description: 'tombstones for every terminal order, state for every live one' },
    );
    expect([...orderState.store.values()].map((s) => s.order.orderKey).sort()).toEqual(live);
    expect(orderState.stats().tombstones).toBe(terminal.length);

    // A new instance restores from the topic: only the live orders come back.
    await orderState.stop();
    orderState = createOrderStateApp({ kafka, topics, groupId, serde: serdes, logger, progressEveryMs: 0 });
    await orderState.start();
    await waitFor(() => orderState.isReady(), { timeoutMs: 30_000, description: 'the new instance to restore' });
    expect([...orderState.store.values()].map((s) => s.order.orderKey).sort()).toEqual(live);
  });
});
