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
  options: { partitions?: number[]; timeoutMs?: number; logger?: Logger; stallMs?: number } = {},
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
    let finish: () => void = () => undefined;
    const done = new Promise<void>((r) => (finish = r));
    await new Promise<void>((resolveRead, rejectRead) => {
      const resolve = () => {
        finish();
        resolveRead();
      };
      const reject = (error: unknown) => {
        finish();
        rejectRead(error);
      };
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
      // Also fired for batches that read_committed filtered to nothing (aborted transactions and their markers
      // at the end of a partition), which never reach eachBatch: without it, such a tail would never be "read".
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => progressed(payload.partition, payload.lastOffset));
      // On a compacted topic the log cleaner can empty a record batch (an aborted transaction's records are
      // removed; the batch header stays, count 0). kafkajs 2.2.4 gets no record from a fetch at such a batch and
      // never moves past it: it fetches the same offset forever (docs/known-issues.md). The offsets of an emptied
      // batch hold no record, so after `stallMs` without progress on a partition it has started reading, the
      // reader steps over one offset, then one per `stepMs` while still stuck, and logs each step.
      const stallMs = options.stallMs ?? 5_000;
      const stepMs = 1_000;
      const lastProgress = new Map<number, { offset: string; since: number }>();
      const watchdog = setInterval(() => {
        const now = Date.now();
        for (const p of pending) {
          const at = reached.get(p);
          if (at === undefined) continue; // not started: a group join can take seconds, never skip offset 0
          const prev = lastProgress.get(p);
          if (!prev || prev.offset !== at) {
            lastProgress.set(p, { offset: at, since: now });
            continue;
          }
          if (now - prev.since < stallMs) continue;
          const stuck = BigInt(at) + 1n;
          options.logger?.warn({ topic, partition: p, offset: stuck.toString(), end: String(ends.get(p)) }, 'kafkajs made no progress at this offset: stepping over it');
          consumer.seek({ topic, partition: p, offset: (stuck + 1n).toString() });
          progressed(p, stuck.toString());
          // still stuck one step later: step again after stepMs, not after a whole stallMs
          lastProgress.set(p, { offset: stuck.toString(), since: now - stallMs + stepMs });
        }
      }, 250);
      done.finally(() => clearInterval(watchdog));
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
  return records;
}

export interface TailOptions {
  groupId?: string;
  fromBeginning?: boolean;
  onRecords: (records: InRecord[]) => void;
}

/** Follows a topic (read_committed) until stop() is called. For tools and the demo's live view. */
export async function tailTopic(kafka: Kafka, topic: string, options: TailOptions): Promise<{ stop(): Promise<void> }> {
  const consumer = kafka.consumer({ groupId: options.groupId ?? `orderstream-tail-${randomUUID()}`, allowAutoTopicCreation: false });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: options.fromBeginning ?? true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      options.onRecords(
        batch.messages.map((m) => ({ topic, partition: batch.partition, offset: m.offset, key: m.key, value: m.value, headers: m.headers ?? {} })),
      );
    },
  });
  return { stop: () => consumer.disconnect() };
}
