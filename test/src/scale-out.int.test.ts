/**
 * Scale-out and failover: two order-state processes in one consumer group split the canonical partitions (each
 * restores only its own share of orders.state.v1); halfway through the stream one is killed with SIGKILL and the
 * other takes its partitions over. The state topic still equals the truth, and no state change is repeated.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '@orderstream/kit';
import { createKafka, ensurePipelineTopics, groupAssignments, orderSerdes, topicNames, type Kafka, type TopicNames } from '@orderstream/kafka';
import { mapperLookup, type ReferenceData } from '@orderstream/venues';
import { createCollectorApp, type CollectorApp } from '@orderstream/collector';
import { createNormalizerApp, type NormalizerApp } from '@orderstream/normalizer';
import { uniqueName, waitFor } from '@orderstream/testing';
import { testBrokers } from '@orderstream/testing/vitest';
import { bsxRig } from './rigs/bsx.js';
import type { VenueRig } from './rigs/types.js';
import { webseaRig } from './rigs/websea.js';
import { xtRig } from './rigs/xt.js';
import { expectCanonicalExactlyOnce, expectedOf, expectStateProgression, waitForStateTopic } from './support/checks.js';
import { ServiceProcess } from './support/processes.js';

const PARTITIONS = 4;
const LIFECYCLES = 200;

describe('two order-state instances, one killed halfway', () => {
  let kafka: Kafka;
  let topics: TopicNames;
  let rigs: VenueRig[] = [];
  let collector: CollectorApp;
  let normalizer: NormalizerApp;
  let reference: ReferenceData;
  const instances: ServiceProcess[] = [];
  const groupId = uniqueName('order-state');
  const logger = silentLogger();
  const serdes = orderSerdes();
  const dir = mkdtempSync(join(tmpdir(), 'orderstream-scale-'));

  beforeAll(async () => {
    kafka = createKafka({ brokers: testBrokers(), clientId: 'e2e-scale', logger });
    const prefix = `${uniqueName('e2e-scale')}.`;
    topics = topicNames(prefix);
    await ensurePipelineTopics(kafka, { prefix, rawPartitions: 2, orderPartitions: PARTITIONS, profile: 'test' });
    rigs = await Promise.all([xtRig('main', LIFECYCLES, 31), webseaRig('spot', LIFECYCLES, 32), bsxRig('perps', LIFECYCLES, 33)]);
    reference = Object.assign({}, ...rigs.map((r) => r.reference));
    const env = {
      KAFKA_BROKERS: testBrokers().join(','),
      ORDERSTREAM_TOPIC_PREFIX: prefix,
      ORDERSTREAM_ORDER_PARTITIONS: String(PARTITIONS),
      ORDERSTREAM_SESSION_TIMEOUT_MS: '6000',
      ORDER_STATE_GROUP_ID: groupId,
      ORDER_STATE_HTTP_PORT: '0',
    };
    for (const name of ['a', 'b']) {
      const p = new ServiceProcess('order-state', env, join(dir, `order-state-${name}.log`));
      p.start();
      instances.push(p);
    }
    normalizer = createNormalizerApp({ kafka, topics, groupId: uniqueName('normalizer'), lookup: mapperLookup, reference, serde: serdes, logger, progressEveryMs: 0 });
    await normalizer.start();
    collector = createCollectorApp({ kafka, topics, accounts: rigs.map((r) => ({ account: r.account, client: r.client })), decodeState: serdes.decodeState, logger, progressEveryMs: 0 });
    await collector.start();
    await Promise.all(rigs.map((r) => r.ready()));
  });

  afterAll(async () => {
    await collector?.stop();
    await normalizer?.stop();
    await Promise.all(instances.map((p) => p.stop()));
    await Promise.all(rigs.map((r) => r.stop()));
  });

  it('splits the partitions, survives losing one instance, and the state topic equals the truth', async () => {
    // Both instances share the partitions, disjoint and complete.
    const split = await waitFor(
      async () => {
        const g = await groupAssignments(kafka, groupId, topics.canonical);
        const all = g.members.flat().sort((a, b) => a - b);
        return g.state === 'Stable' && g.members.length === 2 && g.members.every((m) => m.length > 0) && all.join() === '0,1,2,3' && g;
      },
      { timeoutMs: 60_000, intervalMs: 500, description: 'two order-state members splitting 4 partitions' },
    );
    expect(split.members.map((m) => m.length).sort()).toEqual([2, 2]);

    const play = Promise.all(rigs.map((r) => r.play(10)));
    await new Promise((resolve) => setTimeout(resolve, 3_000)); // halfway through the stream
    await instances[0]?.kill();
    await play;
    // The survivor takes every partition over.
    await waitFor(
      async () => {
        const g = await groupAssignments(kafka, groupId, topics.canonical);
        return g.state === 'Stable' && g.members.length === 1 && g.members[0]?.join() === '0,1,2,3';
      },
      { timeoutMs: 60_000, intervalMs: 500, description: 'the survivor to own all 4 partitions' },
    );
    // BSX also closes orders that finished while its stream was down, across both instances' partitions.
    for (const rig of rigs) await rig.disrupt?.();

    const expected = expectedOf(rigs);
    expect(expected.size).toBe(LIFECYCLES * rigs.length);
    await waitForStateTopic(kafka, topics, expected);
    await expectCanonicalExactlyOnce(kafka, topics, reference, PARTITIONS);
    await expectStateProgression(kafka, topics);
  }, 300_000);
});
