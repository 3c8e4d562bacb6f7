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
import { createKafka, ensurePipelineTopics, headerString, orderSerdes, readTopicToEnd, topicNames, type Kafka, type TopicNames } from '@orderstream/kafka';
import type { CanonicalOrder } from '@orderstream/schemas';
import { mapperLookup, type ReferenceData } from '@orderstream/venues';
import { createCollectorApp, type CollectorApp } from '@orderstream/collector';
import { normalizeRecord } from '@orderstream/normalizer';
import { uniqueName, waitFor } from '@orderstream/testing';
import { testBrokers } from '@orderstream/testing/vitest';
import { loopringRig } from './rigs/loopring.js';
import { pickChecked, type VenueRig } from './rigs/types.js';
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

    // The truth, and the state topic converging to it (decoded as any downstream reader would).
    const expected = new Map<string, Partial<CanonicalOrder>>();
    for (const rig of rigs) for (const [key, e] of rig.expected()) expected.set(key, pickChecked(e));
    expect(expected.size).toBe(LIFECYCLES * rigs.length);
    const latestState = async () => {
      const latest = new Map<string, CanonicalOrder>();
      for (const r of await readTopicToEnd(kafka, topics.state)) latest.set(String(r.key), serdes.decodeState(r.value as Buffer).order);
      return latest;
    };
    const differences = (latest: Map<string, CanonicalOrder>) =>
      [...expected].filter(([key, want]) => {
        const got = latest.get(key) as unknown as Record<string, unknown> | undefined;
        return !got || Object.entries(want).some(([k, v]) => got[k] !== v);
      });
    let lastDiff: [string, Partial<CanonicalOrder>][] = [];
    await waitFor(async () => (lastDiff = differences(await latestState())).length === 0, {
      timeoutMs: 120_000, intervalMs: 2_000, description: 'orders.state.v1 to equal the simulators\' truth after the crashes',
    }).catch((error: unknown) => {
      throw new Error(`${String(error)}; ${lastDiff.length} orders differ, e.g. ${JSON.stringify(lastDiff[0])}`);
    });

    // Exactly once: every raw frame's canonical records appear once; nothing appears without a raw frame.
    const raw = await readTopicToEnd(kafka, topics.raw);
    const want = new Map<string, number>();
    let orderUpdates = 0;
    for (const r of raw) {
      if (headerString(r.headers, 'frame-kind') !== 'data') continue;
      const outputs = normalizeRecord(r, {
        lookup: mapperLookup, reference, topics, encode: serdes.encodeCanonical, encodeMarker: serdes.encodeMarker, canonicalPartitions: 4,
      }).outputs.filter((o) => o.topic === topics.canonical);
      if (outputs.length > 0) want.set(`${r.partition}:${r.offset}`, outputs.length);
      orderUpdates += outputs.length;
    }
    expect(orderUpdates).toBeGreaterThanOrEqual(5_000);
    const got = new Map<string, number>();
    for (const r of await readTopicToEnd(kafka, topics.canonical)) {
      const v = serdes.decodeCanonicalTopic(r.value as Buffer);
      const source = v.kind === 'order' ? v.order.source : v.marker.source;
      const id = `${source.partition}:${source.offset}`;
      got.set(id, (got.get(id) ?? 0) + 1);
    }
    const wrong = [...new Set([...want.keys(), ...got.keys()])].filter((id) => want.get(id) !== got.get(id));
    expect(wrong.slice(0, 5).map((id) => `${id}: want ${want.get(id) ?? 0}, got ${got.get(id) ?? 0}`)).toEqual([]);
    expect(got.size).toBe(want.size);
    console.info(
      `crash test: ${orderUpdates} canonical records from ${want.size} raw frames, each exactly once; ${expected.size} orders equal the truth; ` +
        `normalizer started ${normalizer.starts}×, order-state ${orderState.starts}× (${kills.normalizer} and ${kills['order-state']} SIGKILLs)`,
    );
  }, 400_000);
});
