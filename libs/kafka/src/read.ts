import type { Kafka } from 'kafkajs';
import type { Logger } from '@orderstream/kit';
import { randomUUID } from 'node:crypto';
import type { InRecord } from './pipeline.js';

/**
 * Reads a topic from offset 0 up to its ends as they were when the call started, then returns. The ends are
 * kafkajs' ListOffsets answers, asked with read_committed: last stable offsets, so a transaction whose commit
 * markers are still being written is not waited for (a caller that needs it polls again).
 * Used to restore a store from a compacted topic and by tests and tools that check a topic's contents.
 * Reads committed data only (read_committed).
 */
export async function readTopicToEnd(
  kafka: Kafka,
  topic: string,
  options: { partitions?: number[]; timeoutMs?: number; logger?: Logger } = {},
): Promise<InRecord[]> {
  const admin = kafka.admin();
  await admin.connect();
  let ends: Map<number, bigint>;
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    ends = new Map(
      offsets
        .filter((o) => !options.partitions || options.partitions.includes(o.partition))
        .map((o) => [o.partition, BigInt(o.high)]),
    );
  } finally {
    await admin.disconnect();
  }
  // Partitions whose end is at 0 (or whose log start equals its end) hold nothing to wait for.
  const pending = new Set([...ends].filter(([, high]) => high > 0n).map(([p]) => p));
  const records: InRecord[] = [];
  const reached = new Map<number, string>();
  if (pending.size === 0) return records;

  const consumer = kafka.consumer({ groupId: `orderstream-reader-${randomUUID()}`, allowAutoTopicCreation: false });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`reading ${topic} to its end timed out; partitions still pending: ${[...pending].map((p) => `${p} (end ${ends.get(p)}, read to ${reached.get(p) ?? 'nothing'})`).join(', ')}`)),
        options.timeoutMs ?? 60_000,
      );
      const progressed = (partition: number, lastOffset: string) => {
        reached.set(partition, lastOffset);
        const end = ends.get(partition);
        if (end !== undefined && BigInt(lastOffset) + 1n >= end) pending.delete(partition);
        if (pending.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      };
      // Also fired for fetches that read_committed filtered to nothing (aborted transactions and their markers)
      // and, with patches/kafkajs+2.2.4.patch, for record batches that log compaction emptied: neither reaches
      // eachBatch, and without it such a tail of a partition would never count as read (docs/known-issues.md).
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => progressed(payload.partition, payload.lastOffset));
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const end = ends.get(batch.partition);
            if (end === undefined) return;
            for (const m of batch.messages) {
              if (BigInt(m.offset) >= end) break;
              records.push({ topic, partition: batch.partition, offset: m.offset, key: m.key, value: m.value, headers: m.headers ?? {} });
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  options.logger?.debug({ topic, partitions: [...ends.keys()], records: records.length }, 'read topic to its end');
  return records;
}

export interface TailOptions {
  groupId?: string;
  fromBeginning?: boolean;
  onRecords: (records: InRecord[]) => void;
  /** Awaited before each batch's onRecords: I/O it needs first, e.g. `OrderSerdes.prefetch` of unknown schema ids. */
  prepare?: (records: InRecord[]) => Promise<void>;
}

/** Follows a topic (read_committed) until stop() is called. For tools and the demo's live view. */
export async function tailTopic(kafka: Kafka, topic: string, options: TailOptions): Promise<{ stop(): Promise<void> }> {
  const consumer = kafka.consumer({ groupId: options.groupId ?? `orderstream-tail-${randomUUID()}`, allowAutoTopicCreation: false });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: options.fromBeginning ?? true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const records = batch.messages.map((m) => ({ topic, partition: batch.partition, offset: m.offset, key: m.key, value: m.value, headers: m.headers ?? {} }));
      await options.prepare?.(records);
      options.onRecords(records);
    },
  });
  return { stop: () => consumer.disconnect() };
}
