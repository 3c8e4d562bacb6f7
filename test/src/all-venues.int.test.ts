/**
 * Every venue at once, end to end on a real broker: each simulator plays its lifecycles (with duplicated and
 * reordered frames where the venue can produce them) to one collector; the normalizer and order-state run as in
 * production; then a fresh read_committed consumer of orders.state.v1 must find, for every order, exactly the
 * simulator's truth (status, quantities, average price, fees as exact decimal strings).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '@orderstream/kit';
import { createKafka, ensurePipelineTopics, orderSerdes, readTopicToEnd, topicNames, type Kafka, type TopicNames } from '@orderstream/kafka';
import type { CanonicalOrder } from '@orderstream/schemas';
import { mapperLookup, type ReferenceData } from '@orderstream/venues';
import { createCollectorApp, type CollectorApp } from '@orderstream/collector';
import { createNormalizerApp, type NormalizerApp } from '@orderstream/normalizer';
import { createOrderStateApp, type OrderStateApp } from '@orderstream/order-state';
import { uniqueName, waitFor } from '@orderstream/testing';
import { testBrokers } from '@orderstream/testing/vitest';
import { binanceUsdmRig, type BinanceUsdmRig } from './rigs/binance-usdm.js';
import { bsxRig, type BsxRig } from './rigs/bsx.js';
import { loopringRig } from './rigs/loopring.js';
import { pickChecked, type VenueRig } from './rigs/types.js';
import { webseaRig } from './rigs/websea.js';
import { xtRig } from './rigs/xt.js';
import { waitForStateTopic } from './support/checks.js';

const LIFECYCLES = 30;

describe('all venues end to end', () => {
  let kafka: Kafka;
  let topics: TopicNames;
  let rigs: VenueRig[] = [];
  let bsx: BsxRig;
  let binance: BinanceUsdmRig;
  let collector: CollectorApp;
  let normalizer: NormalizerApp;
  let orderState: OrderStateApp;
  const logger = silentLogger();
  const serdes = orderSerdes();

  beforeAll(async () => {
    kafka = createKafka({ brokers: testBrokers(), clientId: 'e2e-all', logger });
    const prefix = `${uniqueName('e2e-all')}.`;
    topics = topicNames(prefix);
    await ensurePipelineTopics(kafka, { prefix, rawPartitions: 3, orderPartitions: 4, profile: 'test' });
    bsx = await bsxRig('perps', LIFECYCLES, 14);
    binance = await binanceUsdmRig('futures', LIFECYCLES, 15);
    rigs = await Promise.all([
      xtRig('main', LIFECYCLES, 11), webseaRig('spot', LIFECYCLES, 12), loopringRig('dex', LIFECYCLES, 13), Promise.resolve(bsx),
      Promise.resolve(binance),
    ]);
    const reference: ReferenceData = Object.assign({}, ...rigs.map((r) => r.reference));
    collector = createCollectorApp({ kafka, topics, accounts: rigs.map((r) => ({ account: r.account, client: r.client })), decodeState: serdes.decodeState, logger, progressEveryMs: 0 });
    normalizer = createNormalizerApp({ kafka, topics, groupId: uniqueName('normalizer'), lookup: mapperLookup, reference, serde: serdes, logger, progressEveryMs: 0 });
    orderState = createOrderStateApp({ kafka, topics, groupId: uniqueName('order-state'), serde: serdes, logger, progressEveryMs: 0 });
    await Promise.all([normalizer.start(), orderState.start()]);
    await collector.start();
    await Promise.all(rigs.map((r) => r.ready()));
  });

  afterAll(async () => {
    await collector?.stop();
    await Promise.all([normalizer?.stop(), orderState?.stop()]);
    await Promise.all(rigs.map((r) => r.stop()));
  });

  /** Waits until order-state holds every simulator's truth; returns that truth. */
  async function converge(phase: string): Promise<Map<string, Partial<CanonicalOrder>>> {
    const expected = new Map<string, Partial<CanonicalOrder>>();
    for (const rig of rigs) {
      const truth = rig.expected();
      expect(truth.size, `${rig.venue} orders played`).toBe(LIFECYCLES);
      for (const [key, e] of truth) expected.set(key, pickChecked(e));
    }
    const mismatches = () =>
      [...expected].filter(([key, want]) => {
        const got = orderState.store.get(key)?.order;
        return !got || Object.entries(want).some(([k, v]) => got[k as keyof CanonicalOrder] !== v);
      });
    await waitFor(() => mismatches().length === 0, {
      timeoutMs: 60_000, intervalMs: 250, description: `${phase}: order-state to reach every simulator's truth (${expected.size} orders)`,
    }).catch((error: unknown) => {
      const [key, want] = mismatches()[0] ?? [];
      throw new Error(`${String(error)}; first mismatch ${key}: want ${JSON.stringify(want)} got ${JSON.stringify(pickChecked(orderState.store.get(key ?? '')?.order ?? {}))}`);
    });
    return expected;
  }

  it('the state topic equals every simulator\'s truth, also after orders finish while a stream is down', async () => {
    // Binance arrives by push (its user data stream, issue 8): no venue needs a request on orders.track.v1.
    expect(rigs.flatMap((r) => r.trackRequests?.() ?? [])).toEqual([]);
    await Promise.all(rigs.map((r) => r.play()));
    await converge('after play');
    // every Binance order's creation and changes were pushed (at least one event per order), none was tracked
    expect(binance.pushed()).toBeGreaterThanOrEqual(LIFECYCLES);
    expect(await readTopicToEnd(kafka, topics.track)).toEqual([]);

    // Second act: BSX drops the connection and finishes orders meanwhile; its fresh snapshot lacks them, and the
    // reconciliation after the resubscribe reads their real outcome over REST.
    let affected = 0;
    for (const rig of rigs) affected += (await rig.disrupt?.()) ?? 0;
    expect(affected).toBeGreaterThan(1);
    const unseen = bsx.finishedUnseen();
    expect(unseen.length).toBeGreaterThan(0);
    const expected = await converge('after reconnect');
    // No CLOSED_UNKNOWN: every order that finished while the stream was down ends with the venue's own outcome.
    expect([...orderState.store.values()].filter((s) => s.order.status === 'CLOSED_UNKNOWN').map((s) => s.order.orderKey)).toEqual([]);
    for (const id of unseen) {
      const key = `bsx|perps|${id}`;
      const want = expected.get(key);
      expect(want?.status, key).toMatch(/^(FILLED|CANCELED|REJECTED|EXPIRED)$/);
      expect(orderState.store.get(key)?.order.status, key).toBe(want?.status);
    }

    // What a downstream reader of the topic sees (commit markers land just after commit() returns: poll).
    await waitForStateTopic(kafka, topics, expected, 60_000);

    const dlq = await readTopicToEnd(kafka, topics.dlq);
    expect(dlq.map((r) => r.value?.toString())).toEqual([]);
  });
});
