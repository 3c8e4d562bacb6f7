import type { Kafka } from 'kafkajs';
import type { Logger } from '@orderstream/kit';
import type { InRecord, OutRecord } from './pipeline.js';
import { readTopicToEnd } from './read.js';

export interface ReplayRangeOptions {
  kafka: Kafka;
  /** the topic to re-process (orders.dlq.v1) */
  topic: string;
  /** consumer group whose committed offsets say how far earlier runs got; one group per kind of replay */
  groupId: string;
  /** records → what to produce; runs on every record past the group's committed offsets, up to the ends at start */
  process: (records: InRecord[]) => OutRecord[];
  /** records per transaction (default 500) */
  chunk?: number;
  /** compute only: produce nothing, commit nothing */
  dryRun?: boolean;
  logger: Logger;
}

export interface ReplayRangeReport {
  /** records re-processed in this run */
  records: number;
  outputs: number;
  /** per partition, the offset this run started at and the end it stopped at */
  partitions: { partition: number; from: string; to: string }[];
}

/**
 * Re-processes a topic's records once, exactly once: every record past the group's committed offsets, up to the
 * topic's ends as they were at the start of the call (so records this run writes to the same topic wait for the
 * next run instead of looping), in chunks. Each chunk's outputs and the group's new offsets commit in one Kafka
 * transaction, under a transactional id of the group's own: a run killed half-way is fenced by the next, which
 * resumes at the last committed chunk. A second run with nothing new does nothing.
 */
export async function replayRange(options: ReplayRangeOptions): Promise<ReplayRangeReport> {
  const { kafka, topic, groupId } = options;
  const admin = kafka.admin();
  await admin.connect();
  let ends: Map<number, bigint>;
  let starts: Map<number, bigint>;
  try {
    ends = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, BigInt(o.high)]));
    const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
    starts = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset) < 0n ? 0n : BigInt(p.offset)]));
  } finally {
    await admin.disconnect();
  }
  const partitions = [...ends].map(([partition, end]) => ({ partition, from: starts.get(partition) ?? 0n, to: end })).filter((p) => p.to > p.from);
  const report: ReplayRangeReport = { records: 0, outputs: 0, partitions: partitions.map((p) => ({ partition: p.partition, from: String(p.from), to: String(p.to) })) };
  if (partitions.length === 0) return report;

  // The topic holds few records (dead letters); reading it from the start keeps this on the one proven reader.
  const all = await readTopicToEnd(kafka, topic, { partitions: partitions.map((p) => p.partition), logger: options.logger });
  const byPartition = new Map<number, InRecord[]>();
  for (const p of partitions) byPartition.set(p.partition, []);
  for (const r of all) {
    const p = partitions.find((q) => q.partition === r.partition);
    if (!p || BigInt(r.offset) < p.from || BigInt(r.offset) >= p.to) continue;
    byPartition.get(r.partition)?.push(r);
  }

  const chunk = options.chunk ?? 500;
  if (options.dryRun) {
    for (const records of byPartition.values()) {
      report.records += records.length;
      report.outputs += options.process(records).length;
    }
    return report;
  }

  const producer = kafka.producer({
    transactionalId: `${groupId}.replay.${topic}`,
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    transactionTimeout: 30_000,
  });
  await producer.connect();
  try {
    for (const p of partitions) {
      const records = byPartition.get(p.partition) ?? [];
      for (let i = 0; i < records.length || (i === 0 && records.length === 0); i += chunk) {
        const part = records.slice(i, i + chunk);
        const outputs = options.process(part);
        // The chunk's last offset + 1; a chunk with no record left (all compacted away) still moves to the end.
        const next = i + chunk >= records.length ? p.to : BigInt((part[part.length - 1] as InRecord).offset) + 1n;
        const txn = await producer.transaction();
        try {
          const byTopic = new Map<string, OutRecord[]>();
          for (const o of outputs) byTopic.set(o.topic, [...(byTopic.get(o.topic) ?? []), o]);
          if (byTopic.size > 0) {
            await txn.sendBatch({
              acks: -1,
              topicMessages: [...byTopic].map(([t, msgs]) => ({
                topic: t,
                messages: msgs.map((m) => ({ key: m.key, value: m.value, ...(m.headers ? { headers: m.headers } : {}), ...(m.partition !== undefined ? { partition: m.partition } : {}) })),
              })),
            });
          }
          await txn.sendOffsets({ consumerGroupId: groupId, topics: [{ topic, partitions: [{ partition: p.partition, offset: String(next) }] }] });
          await txn.commit();
        } catch (error) {
          await txn.abort().catch(() => undefined);
          throw error;
        }
        report.records += part.length;
        report.outputs += outputs.length;
        if (records.length === 0) break;
      }
    }
  } finally {
    await producer.disconnect();
  }
  return report;
}
