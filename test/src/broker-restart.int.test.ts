/**
 * The broker goes away mid-stream and comes back (graceful stop, same data dir and ports): the collector keeps
 * frames in order meanwhile and publishes them when it returns; the normalizer and order-state reconnect and
 * carry on. Downstream of the raw topic nothing is lost and nothing is doubled, and the state equals the truth.
 * This test has a broker of its own, since it restarts it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWriteStream } from 'node:fs';
import { createLogger, silentLogger, sleep } from '@orderstream/kit';
import { createKafka, ensurePipelineTopics, orderSerdes, topicNames, type Kafka, type TopicNames } from '@orderstream/kafka';
import { mapperLookup, type ReferenceData } from '@orderstream/venues';
import { createCollectorApp, type CollectorApp } from '@orderstream/collector';
import { createNormalizerApp, type NormalizerApp } from '@orderstream/normalizer';
import { createOrderStateApp, type OrderStateApp } from '@orderstream/order-state';
import { findFreePort, startLocalBroker, type LocalBroker } from '@orderstream/testing';
import { loopringRig } from './rigs/loopring.js';
import type { VenueRig } from './rigs/types.js';
import { webseaRig } from './rigs/websea.js';
import { xtRig } from './rigs/xt.js';
import { expectCanonicalExactlyOnce, expectedOf, expectStateProgression, waitForStateTopic } from './support/checks.js';

const LIFECYCLES = 150;

describe('broker restart mid-stream', () => {
  let broker: LocalBroker;
  let port: number;
  let controllerPort: number;
  const dataDir = mkdtempSync(join(tmpdir(), 'orderstream-restart-'));
  let kafka: Kafka;
  let topics: TopicNames;
  let rigs: VenueRig[] = [];
  let reference: ReferenceData;
  let collector: CollectorApp;
  let normalizer: NormalizerApp;
  let orderState: OrderStateApp;
  const logger = process.env.RESTART_TEST_LOG ? createLogger({ name: 'restart', level: 'info', destination: createWriteStream(process.env.RESTART_TEST_LOG) }) : silentLogger();
  const serdes = orderSerdes();

  beforeAll(async () => {
    port = await findFreePort();
    controllerPort = await findFreePort();
    broker = await startLocalBroker({ port, controllerPort, dataDir });
    kafka = createKafka({ brokers: broker.brokers, clientId: 'e2e-restart', logger });
    topics = topicNames('restart.');
    await ensurePipelineTopics(kafka, { prefix: 'restart.', rawPartitions: 2, orderPartitions: 3, profile: 'test' });
    rigs = await Promise.all([xtRig('main', LIFECYCLES, 41), webseaRig('spot', LIFECYCLES, 42), loopringRig('dex', LIFECYCLES, 43)]);
    reference = Object.assign({}, ...rigs.map((r) => r.reference));
    normalizer = createNormalizerApp({ kafka, topics, groupId: 'normalizer', lookup: mapperLookup, reference, serde: serdes, logger, progressEveryMs: 0, sessionTimeoutMs: 6_000 });
    orderState = createOrderStateApp({ kafka, topics, groupId: 'order-state', serde: serdes, logger, progressEveryMs: 0, sessionTimeoutMs: 6_000 });
    await Promise.all([normalizer.start(), orderState.start()]);
    collector = createCollectorApp({ kafka, topics, accounts: rigs.map((r) => ({ account: r.account, client: r.client })), decodeState: serdes.decodeState, logger, progressEveryMs: 0 });
    await collector.start();
    await Promise.all(rigs.map((r) => r.ready()));
  });

  afterAll(async () => {
    await collector?.stop();
    await Promise.all([normalizer?.stop(), orderState?.stop()]);
    await Promise.all(rigs.map((r) => r.stop()));
    await broker?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('loses and doubles nothing downstream of the raw topic', async () => {
    const play = Promise.all(rigs.map((r) => r.play(10)));
    await sleep(1_500);
    await broker.stop(); // mid-stream: frames keep arriving from the venues while Kafka is away
    const pendingWhileDown = await (async () => {
      await sleep(4_000);
      return collector.stats().pending;
    })();
    broker = await startLocalBroker({ port, controllerPort, dataDir });
    await play;

    expect(pendingWhileDown).toBeGreaterThan(0); // the collector held frames while the broker was down
    const expected = expectedOf(rigs);
    expect(expected.size).toBe(LIFECYCLES * rigs.length);
    await waitForStateTopic(kafka, topics, expected);
    await expectCanonicalExactlyOnce(kafka, topics, reference, 3);
    await expectStateProgression(kafka, topics);
    console.info(`broker restart: ${pendingWhileDown} raw frames waited in the collector while the broker was down; ${expected.size} orders equal the truth`);
  }, 300_000);
});
