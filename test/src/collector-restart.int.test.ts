/**
 * A collector restart while orders finish: the collector (a real OS process, built code) is SIGKILLed while every
 * venue's simulator plays; orders fill, cancel and expire while it is down, and some begin and end before it is back.
 * Started again, it reconciles each account from where orders.state.v1 left it, and the state must end equal to
 * every venue's truth: no CLOSED_UNKNOWN, nothing left live that the venue finished, nothing missing.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger, sleep } from '@orderstream/kit';
import { createKafka, ensurePipelineTopics, orderSerdes, topicNames, type Kafka, type TopicNames } from '@orderstream/kafka';
import type { CanonicalOrder } from '@orderstream/schemas';
import { mapperLookup, type ReferenceData } from '@orderstream/venues';
import { createNormalizerApp, type NormalizerApp } from '@orderstream/normalizer';
import { createOrderStateApp, type OrderStateApp } from '@orderstream/order-state';
import { uniqueName, waitFor } from '@orderstream/testing';
import { testBrokers } from '@orderstream/testing/vitest';
import { binanceUsdmGapRig } from './rigs/binance-usdm-gap.js';
import { bsxGapRig } from './rigs/bsx-gap.js';
import { loopringGapRig } from './rigs/loopring-gap.js';
import { pickChecked, type GapRig } from './rigs/types.js';
import { webseaGapRig } from './rigs/websea-gap.js';
import { xtGapRig } from './rigs/xt-gap.js';
import { waitForStateTopic } from './support/checks.js';
import { ServiceProcess } from './support/processes.js';

const LIFECYCLES = 25;

describe('collector restart (SIGKILL) while orders finish', () => {
  const logger = silentLogger();
  const serdes = orderSerdes();
  const dir = mkdtempSync(join(tmpdir(), 'orderstream-collector-restart-'));
  let kafka: Kafka;
  let topics: TopicNames;
  let rigs: GapRig[] = [];
  let collector: ServiceProcess;
  let normalizer: NormalizerApp;
  let orderState: OrderStateApp;

  beforeAll(async () => {
    kafka = createKafka({ brokers: testBrokers(), clientId: 'e2e-collector-restart', logger });
    const prefix = `${uniqueName('e2e-collector-restart')}.`;
    topics = topicNames(prefix);
    await ensurePipelineTopics(kafka, { prefix, rawPartitions: 3, orderPartitions: 3, profile: 'test' });
    rigs = await Promise.all([xtGapRig('main'), loopringGapRig('dex'), webseaGapRig('spot'), bsxGapRig('perps'), binanceUsdmGapRig('futures')]);
    const accountsFile = join(dir, 'accounts.json');
    writeFileSync(accountsFile, JSON.stringify({
      accounts: rigs.map((r) => ({ venue: r.venue, account: r.account, config: r.accountConfig, reconcile: { historyMarginMs: 5_000, requestTimeoutMs: 5_000, maxAttempts: 3 } })),
    }));
    const reference: ReferenceData = Object.assign({}, ...rigs.map((r) => r.reference));
    collector = new ServiceProcess('collector', {
      KAFKA_BROKERS: testBrokers().join(','),
      ORDERSTREAM_TOPIC_PREFIX: prefix,
      ORDERSTREAM_RAW_PARTITIONS: '3',
      ORDERSTREAM_ORDER_PARTITIONS: '3',
      COLLECTOR_ACCOUNTS_FILE: accountsFile,
      COLLECTOR_SPOOL_DIR: join(dir, 'spool'),
      LOG_LEVEL: 'info',
    }, join(dir, 'collector.log'));
    normalizer = createNormalizerApp({ kafka, topics, groupId: uniqueName('normalizer'), lookup: mapperLookup, reference, serde: serdes, logger, progressEveryMs: 0 });
    orderState = createOrderStateApp({ kafka, topics, groupId: uniqueName('order-state'), serde: serdes, logger, progressEveryMs: 0 });
    await Promise.all([normalizer.start(), orderState.start()]);
    collector.start();
    await Promise.all(rigs.map((r) => r.ready()));
  }, 180_000);

  afterAll(async () => {
    await collector?.stop();
    await Promise.all([normalizer?.stop(), orderState?.stop()]);
    await Promise.all(rigs.map((r) => r.stop()));
  });

  it('ends with the state equal to every venue\'s truth', async () => {
    const plays = rigs.map((r) => r.play(LIFECYCLES, { intervalMs: 150, seed: 41 }));
    await waitFor(() => rigs.every((r) => r.expected().size >= LIFECYCLES), { timeoutMs: 30_000, intervalMs: 20, description: 'every order placed at every venue' });
    // The polled venue learns its orders the way a downstream system tells it: orders.track.v1.
    const binance = rigs.find((r) => r.venue === 'binance-usdm') as GapRig;
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: topics.track,
      messages: [...binance.expected().values()].map((e) => ({
        key: `binance-usdm|${binance.account}|${e.venueSymbol}|${e.orderId}`,
        value: JSON.stringify({ venue: 'binance-usdm', account: binance.account, symbol: e.venueSymbol, orderId: e.orderId }),
      })),
    });
    await producer.disconnect();
    // Let the state see each venue's orders live, then kill the collector in the middle of the lifecycles.
    const heldLive = (r: GapRig) => r.liveOrderIds().filter((id) => orderState.store.get(r.orderKeyOf(id)) !== undefined).length;
    const satisfied = new Set<string>();
    await waitFor(() => {
      for (const r of rigs) if (heldLive(r) > 0) satisfied.add(r.venue);
      return satisfied.size === rigs.length;
    }, { timeoutMs: 30_000, intervalMs: 20, description: 'live orders of every venue in the state' }).catch((error: unknown) => {
      throw new Error(`${String(error)}; seen live so far: ${[...satisfied].join(', ')}; state holds ${orderState.store.size}`);
    });
    const liveAtKill = rigs.map((r) => heldLive(r));
    console.info(`collector restart: orders live at the venue and in the state when the collector was killed: ${rigs.map((r, i) => `${r.venue} ${liveAtKill[i]}`).join(', ')}`);
    expect(liveAtKill.filter((n) => n > 0).length, 'venues with orders live at the kill').toBeGreaterThanOrEqual(3);
    await collector.kill();
    const before = new Map(rigs.map((r) => [r, new Set(r.expected().keys())]));
    await Promise.all(rigs.map((r) => r.play(3, { intervalMs: 2, seed: 77 }))); // begin and end while it is down
    await Promise.all(plays); // every order of the main play finishes while it is down
    const bornWhileDown = rigs.flatMap((r) => [...r.expected().keys()].filter((k) => !before.get(r)?.has(k)));
    expect(bornWhileDown).toHaveLength(3 * rigs.length);
    await sleep(200);

    collector.start();
    await Promise.all(rigs.map((r) => r.ready()));
    const want = new Map<string, Partial<CanonicalOrder>>();
    for (const r of rigs) for (const [key, e] of r.expected()) want.set(key, pickChecked(e));
    const differ = () => [...want].filter(([key, w]) => Object.entries(w).some(([k, v]) => orderState.store.get(key)?.order[k as keyof CanonicalOrder] !== v));
    await waitFor(() => differ().length === 0, { timeoutMs: 90_000, intervalMs: 250, description: `order-state to equal every venue's truth (${want.size} orders)` }).catch((error: unknown) => {
      const [key, w] = differ()[0] ?? [];
      throw new Error(`${String(error)}; ${differ().length} differ, first ${key}: want ${JSON.stringify(w)} got ${JSON.stringify(pickChecked(orderState.store.get(key ?? '')?.order ?? {}))}`);
    });
    expect([...orderState.store.values()].filter((s) => s.order.status === 'CLOSED_UNKNOWN').map((s) => s.order.orderKey)).toEqual([]);
    await waitForStateTopic(kafka, topics, want, 60_000);
    expect(collector.starts).toBe(2);
  }, 240_000);
});
