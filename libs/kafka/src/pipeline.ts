import type { Consumer, IHeaders, Kafka, Message, Producer } from 'kafkajs';
import kafkajs from 'kafkajs';

const { CompressionTypes } = kafkajs; // CommonJS: default export only under Node ESM
import type { Logger } from '@orderstream/kit';

/** A consumed record, as the per-record logic sees it. */
export interface InRecord {
  topic: string;
  partition: number;
  /** int64 offset as a decimal string (kafkajs' form) */
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
}

/** A record to produce. Without `partition`, the key decides (kafkajs' murmur2 partitioner, as Java's). */
export interface OutRecord {
  topic: string;
  key: string;
  value: Buffer | null;
  headers?: IHeaders;
  partition?: number;
}

export interface PipelineOptions {
  kafka: Kafka;
  groupId: string;
  inputTopic: string;
  /** a new consumer group starts at the earliest offset (true) or the latest (false) */
  fromBeginning?: boolean;
  /** the per-batch logic: imports nothing from Kafka and may not do I/O */
  process: (records: InRecord[]) => OutRecord[];
  logger: Logger;
  /** called after each batch is produced and its offsets committed */
  onBatchDone?: (info: { partition: number; records: number; outputs: number; lastOffset: string }) => void;
}

export interface Pipeline {
  stop(): Promise<void>;
  readonly consumer: Consumer;
  readonly producer: Producer;
}

const SEND_CHUNK = 1_000;

/**
 * consume → process → produce → commit, one batch at a time per partition.
 *
 * Delivery: at-least-once. Outputs are acknowledged by all in-sync replicas (idempotent producer) before the
 * batch's offsets are committed, so a crash re-processes at most the batches in flight; the downstream merge
 * rules make such repeats harmless. Readers use read_committed (kafkajs' default).
 */
export async function startPipeline(options: PipelineOptions): Promise<Pipeline> {
  const { kafka, logger } = options;
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  const consumer = kafka.consumer({ groupId: options.groupId, allowAutoTopicCreation: false });
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topic: options.inputTopic, fromBeginning: options.fromBeginning ?? true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }) => {
      if (!isRunning() || isStale() || batch.messages.length === 0) return;
      const records: InRecord[] = batch.messages.map((m) => ({
        topic: batch.topic,
        partition: batch.partition,
        offset: m.offset,
        key: m.key,
        value: m.value,
        headers: m.headers ?? {},
      }));
      const outputs = options.process(records);
      for (let i = 0; i < outputs.length; i += SEND_CHUNK) {
        await producer.sendBatch({
          acks: -1,
          compression: CompressionTypes.None,
          topicMessages: groupByTopic(outputs.slice(i, i + SEND_CHUNK)),
        });
        await heartbeat();
      }
      const last = batch.messages[batch.messages.length - 1] as { offset: string };
      resolveOffset(last.offset);
      await commitOffsetsIfNecessary();
      options.onBatchDone?.({ partition: batch.partition, records: records.length, outputs: outputs.length, lastOffset: last.offset });
    },
  });
  logger.info({ groupId: options.groupId, topic: options.inputTopic }, 'pipeline consuming');
  let stopped = false;
  return {
    consumer,
    producer,
    async stop() {
      if (stopped) return;
      stopped = true;
      await consumer.disconnect();
      await producer.disconnect();
    },
  };
}

function groupByTopic(records: OutRecord[]): { topic: string; messages: Message[] }[] {
  const byTopic = new Map<string, Message[]>();
  for (const r of records) {
    let list = byTopic.get(r.topic);
    if (!list) byTopic.set(r.topic, (list = []));
    const m: Message = { key: r.key, value: r.value };
    if (r.headers) m.headers = r.headers;
    if (r.partition !== undefined) m.partition = r.partition;
    list.push(m);
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}
