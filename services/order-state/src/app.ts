import { AppError, errorMessage, nowEpochMicros, type Logger } from '@orderstream/kit';
import {
  deadLetter, readTopicToEnd, startPipeline, type BatchResult, type CanonicalTopicValue, type InRecord, type Kafka,
  type OutRecord, type Pipeline, type TopicNames,
} from '@orderstream/kafka';
import type { OrderState } from '@orderstream/schemas';
import { closeAbsent, reduce } from './reduce.js';
import { expiredTerminal } from './retention.js';
import { OrderStore } from './store.js';

export interface OrderStateSerde {
  decodeCanonicalTopic(buf: Buffer): CanonicalTopicValue;
  encodeState(state: OrderState): Buffer;
  decodeState(buf: Buffer): OrderState;
  /** Fetches unknown registry schema ids of these values before they are decoded (registry mode); optional. */
  prefetch?(values: Iterable<Buffer | null | undefined>): Promise<void>;
}

export interface OrderStateDeps {
  kafka: Kafka;
  topics: TopicNames;
  groupId: string;
  serde: OrderStateSerde;
  logger: Logger;
  progressEveryMs?: number;
  sessionTimeoutMs?: number;
  /** terminal orders older than this get a tombstone (retention.ts); 0 or absent: kept forever */
  terminalRetentionMs?: number;
  /** how often retention sweeps; default min(retention / 10, 60 s) */
  retentionSweepMs?: number;
  /** the consumer stopped for good (services exit so a supervisor restarts them) */
  onFatal?: (error: Error) => void;
  /**
   * After each committed batch: the `receivedAt` (epoch µs, when the collector received the frame) of every
   * canonical order update in it, for the end-to-end latency histogram (metrics.ts).
   */
  onCommitted?: (receivedAtMicros: readonly number[]) => void;
}

export interface OrderStateStats {
  restored: number;
  updates: number;
  changes: number;
  unchanged: number;
  deadLetters: number;
  orders: number;
  tombstones: number;
}

export interface OrderStateApp {
  start(): Promise<void>;
  stop(): Promise<void>;
  stats(): OrderStateStats;
  /** restored and consuming every assigned partition */
  isReady(): boolean;
  /** false once the consumer has stopped for good */
  isHealthy(): boolean;
  /** partitions this instance owns (and whose state it serves) */
  partitions(): number[];
  readonly store: OrderStore;
}

type Counters = Omit<OrderStateStats, 'orders' | 'restored' | 'tombstones'>;

/**
 * Folds one batch of canonical records (one partition) into the states it changes. Nothing is written to the
 * store here: the changes are staged and applied by `apply` once the batch's transaction has committed, so an
 * aborted transaction leaves the store exactly as committed on the state topic.
 */
export function foldBatch(
  records: InRecord[],
  store: OrderStore,
  deps: Pick<OrderStateDeps, 'serde' | 'topics'>,
): { outputs: OutRecord[]; staged: Map<string, { state: OrderState; partition: number }>; counters: Counters; receivedAt: number[] } {
  const outputs: OutRecord[] = [];
  const receivedAt: number[] = [];
  const staged = new Map<string, { state: OrderState; partition: number }>();
  const counters: Counters = { updates: 0, changes: 0, unchanged: 0, deadLetters: 0 };
  const current = (key: string) => staged.get(key)?.state ?? store.get(key);
  const emit = (key: string, next: OrderState, partition: number) => {
    counters.changes++;
    staged.set(key, { state: next, partition });
    // Same partition as the canonical record: the two topics are co-partitioned by orderKey.
    outputs.push({ topic: deps.topics.state, key, value: deps.serde.encodeState(next), partition });
  };
  for (const record of records) {
    counters.updates++;
    let value: CanonicalTopicValue;
    try {
      if (!record.value) throw new AppError('AVRO_BAD_HEADER', 'canonical record has no value');
      value = deps.serde.decodeCanonicalTopic(record.value);
    } catch (error) {
      counters.deadLetters++;
      const code = error instanceof AppError ? error.code : 'INTERNAL';
      outputs.push(deadLetter(record, code, errorMessage(error), deps.topics.dlq));
      continue;
    }
    if (value.kind === 'snapshot') {
      const view = { ofAccount: (v: string, a: string, p: number) => store.ofAccount(v, a, p, staged) };
      for (const [key, next] of closeAbsent(view, value.marker, record.partition)) emit(key, next, record.partition);
      continue;
    }
    const update = value.order;
    receivedAt.push(update.receivedAt);
    const next = reduce(current(update.orderKey), update);
    if (!next) {
      counters.unchanged++;
      continue;
    }
    emit(update.orderKey, next, record.partition);
  }
  return { outputs, staged, counters, receivedAt };
}

/** orders.canonical.v1 → orders.state.v1 (compacted, latest state per orderKey), exactly once inside Kafka. */
export function createOrderStateApp(deps: OrderStateDeps): OrderStateApp {
  const { logger } = deps;
  const store = new OrderStore();
  const counters: Counters = { updates: 0, changes: 0, unchanged: 0, deadLetters: 0 };
  let restored = 0;
  let pipeline: Pipeline | undefined;
  let progress: NodeJS.Timeout | undefined;
  let healthy = true;
  let tombstones = 0;
  let sweeper: NodeJS.Timeout | undefined;

  /** Tombstones for expired terminal orders, one transaction per owned partition, serialized with its batches. */
  async function sweep(retentionMs: number): Promise<void> {
    if (!pipeline) return;
    for (const p of [...pipeline.owned]) {
      const keys = expiredTerminal(store.ofPartition(p), nowEpochMicros(), retentionMs);
      if (keys.length === 0) continue;
      const done = await pipeline.produceFor(p, keys.map((key) => ({ topic: deps.topics.state, key, value: null, partition: p })));
      if (!done) continue;
      for (const key of keys) store.delete(key);
      tombstones += keys.length;
      logger.info({ partition: p, orders: keys.length }, 'terminal orders past retention: tombstoned');
    }
  }

  /** Loads the given partitions of the state topic into the store (read_committed): this instance's share. */
  async function restore(partitions: number[]): Promise<void> {
    const started = Date.now();
    store.dropPartitions(partitions);
    const records = await readTopicToEnd(deps.kafka, deps.topics.state, { partitions, logger });
    await deps.serde.prefetch?.(records.map((r) => r.value));
    for (const r of records) {
      const key = r.key?.toString('utf8');
      if (!key) continue;
      if (r.value === null) store.delete(key);
      else store.set(key, deps.serde.decodeState(r.value), r.partition);
    }
    restored = store.size;
    logger.info({ partitions, orders: store.size, records: records.length, ms: Date.now() - started }, 'state partitions restored');
  }

  const stats = (): OrderStateStats => ({ ...counters, restored, orders: store.size, tombstones });
  return {
    store,
    stats,
    isReady: () => healthy && (pipeline?.ready() ?? false),
    isHealthy: () => healthy,
    partitions: () => [...(pipeline?.owned ?? [])].sort((a, b) => a - b),
    async start() {
      pipeline = await startPipeline({
        kafka: deps.kafka,
        groupId: deps.groupId,
        inputTopic: deps.topics.canonical,
        logger,
        ...(deps.sessionTimeoutMs ? { sessionTimeoutMs: deps.sessionTimeoutMs } : {}),
        onFatal: (error) => {
          healthy = false;
          deps.onFatal?.(error);
        },
        prepare: restore,
        release: (partitions) => store.dropPartitions(partitions),
        ...(deps.serde.prefetch ? { beforeProcess: (records: InRecord[]) => deps.serde.prefetch?.(records.map((r) => r.value)) ?? Promise.resolve() } : {}),
        process: (records): BatchResult => {
          const { outputs, staged, counters: delta, receivedAt } = foldBatch(records, store, deps);
          return {
            outputs,
            onCommitted: () => {
              for (const [key, { state, partition }] of staged) store.set(key, state, partition);
              for (const k of Object.keys(delta) as (keyof Counters)[]) counters[k] += delta[k];
              if (receivedAt.length > 0) deps.onCommitted?.(receivedAt);
            },
          };
        },
      });
      const every = deps.progressEveryMs ?? 30_000;
      if (every > 0) progress = setInterval(() => logger.info(stats(), 'order-state progress'), every).unref();
      const retention = deps.terminalRetentionMs ?? 0;
      if (retention > 0) {
        const period = deps.retentionSweepMs ?? Math.min(Math.max(retention / 10, 100), 60_000);
        let running = false;
        sweeper = setInterval(() => {
          if (running) return;
          running = true;
          sweep(retention)
            .catch((error: unknown) => logger.warn({ err: errorMessage(error) }, 'retention sweep failed'))
            .finally(() => (running = false));
        }, period).unref();
      }
    },
    async stop() {
      clearInterval(progress);
      clearInterval(sweeper);
      await pipeline?.stop();
      logger.info(stats(), 'order-state stopped');
    },
  };
}
