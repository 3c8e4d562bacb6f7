import type { Consumer, IHeaders, Kafka, Message, Producer } from 'kafkajs';
import { backoffDelay, errorMessage, KafkaError, sleep, type Logger } from '@orderstream/kit';

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

/** What a batch produced; `onCommitted` runs only once its transaction has committed (state stores apply here). */
export interface BatchResult {
  outputs: OutRecord[];
  onCommitted?: () => void;
}

export interface PipelineOptions {
  kafka: Kafka;
  groupId: string;
  inputTopic: string;
  /** a new consumer group starts at the earliest offset (true) or the latest (false) */
  fromBeginning?: boolean;
  /** the per-batch logic (one input partition at a time): imports nothing from Kafka and does no I/O */
  process: (records: InRecord[]) => BatchResult;
  /**
   * I/O a batch's `process` needs first, e.g. fetching unknown writer schemas from a schema registry
   * (`OrderSerdes.prefetch`). A failure re-reads the batch (the consumer restarts it, as for a failed transaction).
   */
  beforeProcess?: (records: InRecord[]) => Promise<void>;
  /**
   * Before the first batch of partitions this instance newly owns, after it has fenced their previous owner:
   * load what the logic needs for them (order-state restores those partitions of its state topic).
   */
  prepare?: (partitions: number[]) => Promise<void>;
  /** Partitions this instance no longer owns, or must re-prepare after a failed transaction. */
  release?: (partitions: number[]) => void;
  logger: Logger;
  /** consumer group session timeout; a crashed instance's partitions move after this long */
  sessionTimeoutMs?: number;
  /**
   * The consumer crashed and kafkajs will not restart it: the service must not sit idle. Services exit (a
   * supervisor restarts them); the default logs at fatal level.
   */
  onFatal?: (error: Error) => void;
  /** called after each committed batch */
  onBatchDone?: (info: { partition: number; records: number; outputs: number; lastOffset: string }) => void;
}

export interface Pipeline {
  stop(): Promise<void>;
  /** input partitions this instance owns and has prepared */
  readonly owned: ReadonlySet<number>;
  /** true once joined and every assigned partition is prepared (a store restored): it serves current data */
  ready(): boolean;
  /**
   * Produces records for an owned partition in a transaction of that partition's producer, serialized with its
   * batches (housekeeping such as retention tombstones). Resolves false, producing nothing, when the partition is
   * not (or no longer) owned.
   */
  produceFor(partition: number, records: OutRecord[]): Promise<boolean>;
  readonly consumer: Consumer;
}

/**
 * consume → process → produce → commit offsets, exactly once inside Kafka (DESIGN.md decision 6).
 *
 * Each batch's outputs and its input offsets are committed in one Kafka transaction, so a reader with
 * read_committed sees every input's outputs exactly once, whatever crashes. kafkajs 2.2.4 supports only the
 * pre-KIP-447 model: one transactional producer per input partition, with a transactional id derived from the
 * group, topic and partition. A new owner of a partition initialises that id first, which fences the previous
 * owner (its open transaction is aborted, its later commits fail); only then does it read the partition's
 * committed offset (skipping input the previous owner committed after this consumer fetched) and prepare.
 * A failed transaction is aborted, the partition is released and prepared again, and the batch is re-read from
 * the last committed offset (kafkajs retries the fetch; the error is rethrown for that).
 */
export async function startPipeline(options: PipelineOptions): Promise<Pipeline> {
  const { kafka, logger, groupId, inputTopic } = options;
  const producers = new Map<number, Producer>();
  const owned = new Set<number>();
  /** first offset not yet committed, per prepared partition */
  const committed = new Map<number, bigint>();
  let assigned = new Set<number>();
  let joined = false;

  const consumer = kafka.consumer({
    groupId,
    allowAutoTopicCreation: false,
    readUncommitted: false,
    sessionTimeout: options.sessionTimeoutMs ?? 10_000,
    rebalanceTimeout: Math.max(options.sessionTimeoutMs ?? 10_000, 10_000),
    heartbeatInterval: Math.min(3_000, Math.floor((options.sessionTimeoutMs ?? 10_000) / 3)),
  });

  async function release(partitions: number[]): Promise<void> {
    if (partitions.length === 0) return;
    for (const p of partitions) {
      owned.delete(p);
      committed.delete(p);
      const producer = producers.get(p);
      producers.delete(p);
      await producer?.disconnect().catch(() => undefined);
    }
    options.release?.(partitions);
  }

  /** Work on one partition's producer runs one at a time: batches and housekeeping never interleave. */
  const locks = new Map<number, Promise<unknown>>();
  function withPartition<T>(p: number, fn: () => Promise<T>): Promise<T> {
    const run = (locks.get(p) ?? Promise.resolve()).then(fn, fn);
    locks.set(p, run.catch(() => undefined));
    return run;
  }

  /** One preparation per partition at a time: two producers with one transactional id would fence each other. */
  const preparing = new Map<number, Promise<void>>();
  function ensurePrepared(partitions: number[]): Promise<void> {
    const todo = partitions.filter((p) => !owned.has(p) && !preparing.has(p));
    if (todo.length > 0) {
      const run = prepare(todo).finally(() => {
        for (const p of todo) preparing.delete(p);
      });
      for (const p of todo) preparing.set(p, run);
    }
    return Promise.all(partitions.map((p) => preparing.get(p))).then(() => undefined);
  }

  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    const now = new Set(event.payload.memberAssignment[inputTopic] ?? []);
    const lost = [...assigned].filter((p) => !now.has(p));
    assigned = now;
    joined = true;
    logger.info({ partitions: [...now].sort((a, b) => a - b), released: lost }, 'pipeline assignment');
    // Prepare at once, not at the first batch: a restored store is needed (and readiness reported) even
    // when no new input arrives.
    void release(lost)
      .then(() => ensurePrepared([...now]))
      .catch((error: unknown) => logger.warn({ err: errorMessage(error) }, 'preparing assigned partitions failed; retried at the next batch'));
  });

  async function prepare(partitions: number[]): Promise<void> {
    for (const p of partitions) {
      await producers.get(p)?.disconnect().catch(() => undefined); // left by a failed earlier preparation
      const producer = kafka.producer({
        transactionalId: `${groupId}.${inputTopic}.${p}`,
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        // A transaction its producer can no longer finish (a crash, a broker restart) holds back every
        // read_committed reader of its partitions until the coordinator times it out: keep that short.
        transactionTimeout: 10_000,
      });
      await producer.connect();
      // InitProducerId for this transactional id: fences a previous owner and aborts its open transaction.
      const fence = await producer.transaction();
      await fence.abort();
      producers.set(p, producer);
    }
    // Read only now: anything a fenced owner committed is in, nothing it had open can still commit.
    const admin = kafka.admin();
    await admin.connect();
    try {
      const [offsets] = await admin.fetchOffsets({ groupId, topics: [inputTopic] });
      for (const p of partitions) {
        const o = offsets?.partitions.find((x) => x.partition === p)?.offset ?? '-1';
        committed.set(p, BigInt(o) < 0n ? 0n : BigInt(o));
      }
    } finally {
      await admin.disconnect();
    }
    await options.prepare?.(partitions);
    for (const p of partitions) owned.add(p);
    logger.info({ partitions, committed: partitions.map((p) => String(committed.get(p))) }, 'pipeline partitions prepared');
  }

  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (payload.restart) return;
    logger.fatal({ err: errorMessage(payload.error) }, 'consumer crashed and will not restart');
    options.onFatal?.(payload.error);
  });

  await consumer.connect();
  await consumer.subscribe({ topic: inputTopic, fromBeginning: options.fromBeginning ?? true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
      if (!isRunning() || isStale() || batch.messages.length === 0) return;
      await withPartition(batch.partition, () => handleBatch(batch, resolveOffset, heartbeat));
    },
  });

  /**
   * An abort that fails (coordinator moving or loading, e.g. just after a broker restart) is tried again: a
   * transaction left open holds back every read_committed reader of its partitions until it is resolved.
   */
  async function abortWithRetries(txn: { abort(): Promise<void> }, p: number): Promise<void> {
    for (let attempt = 0; attempt < 10; attempt++) {
      try {
        await txn.abort();
        return;
      } catch (error) {
        logger.warn({ partition: p, attempt, err: errorMessage(error) }, 'aborting the transaction failed; trying again');
        await sleep(backoffDelay(attempt, { initialMs: 200, maxMs: 3_000, jitter: 0.3 }));
      }
    }
  }

  type BatchArgs = Parameters<NonNullable<Parameters<Consumer['run']>[0]>['eachBatch'] & {}>[0];
  async function handleBatch(batch: BatchArgs['batch'], resolveOffset: BatchArgs['resolveOffset'], heartbeat: BatchArgs['heartbeat']): Promise<void> {
    const p = batch.partition;
    if (!owned.has(p)) {
      try {
        await ensurePrepared([p]);
      } catch (error) {
        logger.warn({ partition: p, err: errorMessage(error) }, 'preparing a partition failed; the batch will be read again');
        throw new KafkaError('KAFKA_UNAVAILABLE', `preparing partition ${p} failed: ${errorMessage(error)}`, { retriable: true });
      }
    }
    const floor = committed.get(p) ?? 0n;
    const records: InRecord[] = [];
    for (const m of batch.messages) {
      if (BigInt(m.offset) < floor) continue; // committed by a previous owner: already in the outputs
      records.push({ topic: batch.topic, partition: p, offset: m.offset, key: m.key, value: m.value, headers: m.headers ?? {} });
    }
    const last = batch.messages[batch.messages.length - 1] as { offset: string };
    if (records.length === 0) {
      resolveOffset(last.offset);
      return;
    }
    if (options.beforeProcess) {
      try {
        await options.beforeProcess(records);
      } catch (error) {
        logger.warn({ partition: p, err: errorMessage(error) }, 'preparing a batch failed; the batch will be read again');
        throw new KafkaError('KAFKA_UNAVAILABLE', `preparing a batch of partition ${p} failed: ${errorMessage(error)}`, { retriable: true });
      }
    }
    const result = options.process(records);
    const producer = producers.get(p) as Producer;
    const next = (BigInt(last.offset) + 1n).toString();
    const txn = await producer.transaction();
    try {
      if (result.outputs.length > 0) await txn.sendBatch({ acks: -1, topicMessages: groupByTopic(result.outputs) });
      await txn.sendOffsets({ consumerGroupId: groupId, topics: [{ topic: inputTopic, partitions: [{ partition: p, offset: next }] }] });
      await txn.commit();
    } catch (error) {
      logger.warn({ partition: p, err: errorMessage(error) }, 'transaction failed: aborting, re-preparing the partition and re-reading the batch');
      await abortWithRetries(txn, p);
      await release([p]);
      // kafkajs restarts a crashed consumer only for errors it deems retriable, judged on the root cause: a
      // failed transaction always is (it was aborted; the batch is read again from the committed offset).
      throw new KafkaError('KAFKA_UNAVAILABLE', `transaction on partition ${p} failed: ${errorMessage(error)}`, { retriable: true });
    }
    committed.set(p, BigInt(next));
    result.onCommitted?.();
    resolveOffset(last.offset);
    await heartbeat();
    options.onBatchDone?.({ partition: p, records: records.length, outputs: result.outputs.length, lastOffset: last.offset });
  }
  logger.info({ groupId, topic: inputTopic }, 'pipeline consuming (transactional)');
  let stopped = false;
  return {
    consumer,
    owned,
    ready: () => joined && preparing.size === 0 && [...assigned].every((p) => owned.has(p)),
    produceFor: (p, records) =>
      withPartition(p, async () => {
        const producer = producers.get(p);
        if (!owned.has(p) || !producer || records.length === 0) return false;
        const txn = await producer.transaction();
        try {
          await txn.sendBatch({ acks: -1, topicMessages: groupByTopic(records) });
          await txn.commit();
          return true;
        } catch (error) {
          await txn.abort().catch(() => undefined);
          logger.warn({ partition: p, err: errorMessage(error) }, 'housekeeping transaction failed; will be tried again');
          return false;
        }
      }),
    async stop() {
      if (stopped) return;
      stopped = true;
      await consumer.disconnect();
      await Promise.all([...producers.values()].map((pr) => pr.disconnect().catch(() => undefined)));
      producers.clear();
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
