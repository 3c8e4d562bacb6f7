/**
 * Crashes, on a real broker: while three venue simulators push thousands of order updates, the normalizer and
 * order-state (real OS processes, built code) are killed with SIGKILL at random moments, several times each,
 * and restarted. Afterwards a read_committed reader must find every raw frame's canonical records in
 * orders.canonical.v1 exactly once (none missing, none doubled), and the latest records of orders.state.v1
 * must equal the simulators' truth. Exactly once inside Kafka: transactions per batch, fencing per partition.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger, sleep } from '@orderstream/kit';
import { createKafka, ensurePipelineTopics, orderSerdes, topicNames, type Kafka, type TopicNames } from '@orderstream/kafka';
import type { ReferenceData } from '@orderstream/venues';
import { createCollectorApp, type CollectorApp } from '@orderstream/collector';
import { uniqueName } from '@orderstream/testing';
import { testBrokers } from '@orderstream/testing/vitest';
import { loopringRig } from './rigs/loopring.js';
import type { VenueRig } from './rigs/types.js';
import { expectCanonicalExactlyOnce, expectedOf, expectStateProgression, waitForStateTopic } from './support/checks.js';
import { webseaRig } from './rigs/websea.js';
import { xtRig } from './rigs/xt.js';
import { ServiceProcess } from './support/processes.js';

const LIFECYCLES = 600; // per venue: about 1,800 pushes each, over 5,000 order updates in all
const KILLS_EACH = 3;

describe('crash recovery: SIGKILL normalizer and order-state mid-stream', () => {
  let kafka: Kafka;
  let topics: TopicNames;
  let rigs: VenueRig[] = [];
  let collector: CollectorApp;
  let normalizer: ServiceProcess;
  let orderState: ServiceProcess;
  let reference: ReferenceData;
  const logger = silentLogger();
  const serdes = orderSerdes();
  const dir = mkdtempSync(join(tmpdir(), 'orderstream-crash-'));

  beforeAll(async () => {
    kafka = createKafka({ brokers: testBrokers(), clientId: 'e2e-crash', logger });
    const prefix = `${uniqueName('e2e-crash')}.`;
    topics = topicNames(prefix);
    await ensurePipelineTopics(kafka, { prefix, rawPartitions: 3, orderPartitions: 4, profile: 'test' });
    rigs = await Promise.all([xtRig('main', LIFECYCLES, 21), webseaRig('spot', LIFECYCLES, 22), loopringRig('dex', LIFECYCLES, 23)]);
    reference = Object.assign({}, ...rigs.map((r) => r.reference));
    const referenceFile = join(dir, 'reference.json');
    writeFileSync(referenceFile, JSON.stringify(reference));
    const env = {
      KAFKA_BROKERS: testBrokers().join(','),
      ORDERSTREAM_TOPIC_PREFIX: prefix,
      ORDERSTREAM_RAW_PARTITIONS: '3',
      ORDERSTREAM_ORDER_PARTITIONS: '4',
      ORDERSTREAM_SESSION_TIMEOUT_MS: '6000',
      NORMALIZER_GROUP_ID: uniqueName('normalizer'),
      ORDER_STATE_GROUP_ID: uniqueName('order-state'),
      REFERENCE_DATA_FILE: referenceFile,
      ORDER_STATE_HTTP_PORT: '0',
      LOG_LEVEL: 'info',
    };
    normalizer = new ServiceProcess('normalizer', env, join(dir, 'normalizer.log'));
    orderState = new ServiceProcess('order-state', env, join(dir, 'order-state.log'));
    normalizer.start();
    orderState.start();
    collector = createCollectorApp({ kafka, topics, accounts: rigs.map((r) => ({ account: r.account, client: r.client })), decodeState: serdes.decodeState, logger, progressEveryMs: 0 });
    await collector.start();
    await Promise.all(rigs.map((r) => r.ready()));
  });

  afterAll(async () => {
    await collector?.stop();
    await Promise.all([normalizer?.stop(), orderState?.stop()]);
    await Promise.all(rigs.map((r) => r.stop()));
  });

  it(`loses and doubles nothing across ${KILLS_EACH} kills of each`, async () => {
    // Kills at seeded random moments while the simulators push; each victim is restarted at once.
    let playing = true;
    const play = Promise.all(rigs.map((r) => r.play(8))).finally(() => (playing = false));
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const kills = { normalizer: 0, 'order-state': 0 };
    while (playing || kills.normalizer < KILLS_EACH || kills['order-state'] < KILLS_EACH) {
      await sleep(1_500 + random() * 3_000);
      const victim = kills.normalizer <= kills['order-state'] ? normalizer : orderState;
      await victim.kill();
      kills[victim.name as keyof typeof kills]++;
      await sleep(random() * 1_000);
      victim.start();
    }
    await play;
    expect(normalizer.starts).toBeGreaterThan(KILLS_EACH);
    expect(orderState.starts).toBeGreaterThan(KILLS_EACH);

    const expected = expectedOf(rigs);
    expect(expected.size).toBe(LIFECYCLES * rigs.length);
    await waitForStateTopic(kafka, topics, expected);
    const { records: orderUpdates, frames } = await expectCanonicalExactlyOnce(kafka, topics, reference, 4);
    expect(orderUpdates).toBeGreaterThanOrEqual(5_000);
    const stateRecords = await expectStateProgression(kafka, topics);
    console.info(
      `crash test: ${orderUpdates} canonical records from ${frames} raw frames, each exactly once; ${stateRecords} state records, none repeated; ${expected.size} orders equal the truth; ` +
        `normalizer started ${normalizer.starts}×, order-state ${orderState.starts}× (${kills.normalizer} and ${kills['order-state']} SIGKILLs)`,
    );
  }, 400_000);
});
