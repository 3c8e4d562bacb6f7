/**
 * kafkajs and a record batch that log compaction emptied (docs/known-issues.md).
 *
 * The log cleaner removes the records of an aborted transaction but keeps the batch's header when it is the last
 * batch its producer wrote, so the log holds a batch with no record in it. When that empty batch is alone in its
 * segment, a fetch at its offset returns it and nothing else; kafkajs 2.2.4 as published then fetches the same
 * offset forever. patches/kafkajs+2.2.4.patch makes it move past the batch's last offset. This test builds that log
 * on the real broker and reads past it with the readers orderstream uses (no watchdog anywhere).
 *
 * The layout, one partition, segment.bytes small enough that every data batch gets a segment of its own:
 *   0 k0 (first value)   1 commit   2 k0 (second value)   3 commit                  producer A
 *   4 aborted record, alone in its segment   5 abort (next segment)                  producer B, never writes again
 *   6 k1  7 commit  8 k2  9 commit  10 k3  11 commit                                  producer A
 * The topic is written with cleanup.policy=delete and switched to compact only when everything is written, so the
 * cleaner's first pass covers every segment but the active one at once: once offset 0 (k0's first value) is gone,
 * offset 4 has been emptied too. Offsets 0 to 3 can be read by any kafkajs, patched or not, so that wait proves nothing about the patch.
 */
import { randomUUID } from 'node:crypto';
import kafkajs, { type Admin, type Kafka, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { silentLogger } from '@orderstream/kit';
import { createKafka } from './client.js';
import { readTopicToEnd, tailTopic } from './read.js';
import type { InRecord } from './pipeline.js';

const { ConfigResourceTypes } = kafkajs; // CommonJS: default export only under Node ESM

// The broker list libs/testing/src/global-setup.ts provides (@orderstream/testing depends on this package, so its
// testBrokers() helper cannot be imported here without a cycle in the TypeScript build).
declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string[];
  }
}

/** One record batch of one ~880-byte record is ~960 bytes: more than half a segment, and no marker fits beside it. */
const SEGMENT_BYTES = 1_000;
const value = (key: string, version: number) => `${key}=v${version}|${'x'.repeat(880)}`;

/** Waits for `probe` to return true, polling; fails with `what` (read when it fails) after `timeoutMs`. */
async function until(probe: () => Promise<boolean>, what: string | (() => string), timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Follows `topic` with tailTopic until `done(records)` holds; fails after `timeoutMs` naming what it had read. */
async function tailUntil(kafka: Kafka, topic: string, done: (records: InRecord[]) => boolean, timeoutMs: number): Promise<InRecord[]> {
  const records: InRecord[] = [];
  let reached: () => void = () => undefined;
  const finished = new Promise<void>((r) => (reached = r));
  const tail = await tailTopic(kafka, topic, {
    fromBeginning: true,
    onRecords: (batch) => {
      records.push(...batch);
      if (done(records)) reached();
    },
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      finished,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`tailTopic(${topic}) stalled: after ${timeoutMs} ms it had read offsets [${records.map((r) => r.offset).join(', ')}]`)),
          timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
    await tail.stop();
  }
  return records;
}

describe('a record batch emptied by log compaction (aborted transaction, segment rolled, cleaned)', () => {
  const topic = `emptied-batch-${randomUUID()}`;
  const configs = {
    'segment.bytes': String(SEGMENT_BYTES),
    'min.cleanable.dirty.ratio': '0.01',
    'min.compaction.lag.ms': '0',
    'delete.retention.ms': '0',
    'retention.ms': '-1',
  };
  let kafka: Kafka;
  let admin: Admin;
  let producerA: Producer;

  const commit = async (producer: Producer, key: string, version: number) => {
    const tx = await producer.transaction();
    await tx.send({ topic, messages: [{ key, value: value(key, version) }] });
    await tx.commit();
  };

  beforeAll(async () => {
    const brokers = inject('kafkaBrokers');
    kafka = createKafka({ brokers, clientId: 'emptied-batch-test', logger: silentLogger() });
    admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: 1, replicationFactor: 1, configEntries: Object.entries({ ...configs, 'cleanup.policy': 'delete' }).map(([name, v]) => ({ name, value: v })) }],
    });

    producerA = kafka.producer({ transactionalId: `${topic}-a`, idempotent: true, maxInFlightRequests: 1 });
    const producerB = kafka.producer({ transactionalId: `${topic}-b`, idempotent: true, maxInFlightRequests: 1 });
    await Promise.all([producerA.connect(), producerB.connect()]);
    await commit(producerA, 'k0', 1); // 0, 1
    await commit(producerA, 'k0', 2); // 2, 3
    const aborted = await producerB.transaction();
    await aborted.send({ topic, messages: [{ key: 'aborted', value: value('aborted', 1) }] }); // 4
    await aborted.abort(); // 5
    await producerB.disconnect(); // B's last batch stays its last: the cleaner keeps its header
    await commit(producerA, 'k1', 1); // 6, 7
    await commit(producerA, 'k2', 1); // 8, 9
    await commit(producerA, 'k3', 1); // 10, 11

    // Commit markers land just after commit() returns: wait for the last stable offset to pass the last one.
    await until(async () => (await admin.fetchTopicOffsets(topic))[0]?.high === '12', 'the last stable offset to reach 12', 10_000);
    // AlterConfigs replaces a topic's whole config: send every entry again, with compaction on.
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: Object.entries({ ...configs, 'cleanup.policy': 'compact' }).map(([name, v]) => ({ name, value: v })) }],
    });
    // The cleaner's first pass removes k0's first value (offset 0) and the aborted record (offset 4) together.
    // Offsets 0 to 3 lie before the emptied batch, so this wait reads the same with kafkajs patched or not.
    await until(
      async () => {
        const head = await tailUntil(kafka, topic, (rs) => rs.some((r) => r.offset === '2'), 20_000);
        return head[0]?.offset === '2';
      },
      "the log cleaner's first pass (offset 0 compacted away)",
      60_000,
    );
  }, 120_000);

  afterAll(async () => {
    await producerA?.disconnect();
    await admin?.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin?.disconnect();
  });

  const committed = [
    { offset: '2', key: 'k0', value: value('k0', 2) },
    { offset: '6', key: 'k1', value: value('k1', 1) },
    { offset: '8', key: 'k2', value: value('k2', 1) },
    { offset: '10', key: 'k3', value: value('k3', 1) },
  ];
  const shape = (rs: InRecord[]) => rs.map((r) => ({ offset: r.offset, key: String(r.key), value: String(r.value) }));

  it('leaves a fetch at offset 4 that returns one emptied record batch and nothing else', async () => {
    // What stalls kafkajs as published: seen here through the patched consumer's batch events, where such a fetch
    // is a batch with no record at all (firstOffset null) that still ends at the emptied batch's last offset.
    const consumer = kafka.consumer({ groupId: `${topic}-probe`, allowAutoTopicCreation: false });
    const emptied: { firstOffset: string | null; lastOffset: string }[] = [];
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (payload.batchSize === 0 && payload.firstOffset === null) emptied.push({ firstOffset: payload.firstOffset, lastOffset: payload.lastOffset });
    });
    let last = '-1';
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => (last = payload.lastOffset));
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({ autoCommit: false, eachBatch: async () => undefined });
      await until(async () => BigInt(last) >= 11n, () => `the probe consumer to reach offset 11 (it read to ${last})`, 20_000);
    } finally {
      await consumer.disconnect();
    }
    expect(emptied).toContainEqual({ firstOffset: null, lastOffset: '4' });
  }, 30_000);

  it('readTopicToEnd reads every committed record past it, promptly', async () => {
    const started = Date.now();
    const records = await readTopicToEnd(kafka, topic, { timeoutMs: 15_000 });
    expect(shape(records)).toEqual(committed);
    expect(Date.now() - started).toBeLessThan(15_000);
  }, 30_000);

  it('tailTopic follows the topic past it, and on to a record written while it runs', async () => {
    let write: Promise<void> | undefined;
    const records = await tailUntil(
      kafka,
      topic,
      (rs) => {
        // once the live view has read to the end, a new committed record must reach it too
        if (!write && rs.some((r) => r.offset === '10')) write = commit(producerA, 'k4', 1);
        return rs.some((r) => String(r.key) === 'k4');
      },
      20_000,
    );
    await write;
    expect(shape(records).slice(0, 4)).toEqual(committed);
    expect(shape(records).map((r) => r.key)).toEqual(['k0', 'k1', 'k2', 'k3', 'k4']);
  }, 40_000);
});
