import { AppError, errorMessage, type Logger } from '@orderstream/kit';
import { deadLetter, readTopicToEnd, startPipeline, type CanonicalTopicValue, type InRecord, type Kafka, type OutRecord, type Pipeline, type TopicNames } from '@orderstream/kafka';
import type { OrderState } from '@orderstream/schemas';
import { closeAbsent, reduce } from './reduce.js';
import { OrderStore } from './store.js';

export interface OrderStateSerde {
  decodeCanonicalTopic(buf: Buffer): CanonicalTopicValue;
  encodeState(state: OrderState): Buffer;
  decodeState(buf: Buffer): OrderState;
}

export interface OrderStateDeps {
  kafka: Kafka;
  topics: TopicNames;
  groupId: string;
  serde: OrderStateSerde;
  logger: Logger;
  progressEveryMs?: number;
}

export interface OrderStateStats {
  restored: number;
  updates: number;
  changes: number;
  unchanged: number;
  deadLetters: number;
  orders: number;
}

export interface OrderStateApp {
  start(): Promise<void>;
  stop(): Promise<void>;
  stats(): OrderStateStats;
  readonly store: OrderStore;
}

/** Folds one batch of canonical records into the store; returns the state records to produce. */
export function foldBatch(records: InRecord[], store: OrderStore, deps: Pick<OrderStateDeps, 'serde' | 'topics'>, stats: OrderStateStats): OutRecord[] {
  const outputs: OutRecord[] = [];
  const emit = (key: string, next: OrderState, partition: number) => {
    stats.changes++;
    store.set(key, next, partition);
    // Same partition as the canonical record: the two topics are co-partitioned by orderKey.
    outputs.push({ topic: deps.topics.state, key, value: deps.serde.encodeState(next), partition });
  };
  for (const record of records) {
    stats.updates++;
    let value: CanonicalTopicValue;
    try {
      if (!record.value) throw new AppError('AVRO_BAD_HEADER', 'canonical record has no value');
      value = deps.serde.decodeCanonicalTopic(record.value);
    } catch (error) {
      stats.deadLetters++;
      const code = error instanceof AppError ? error.code : 'INTERNAL';
      outputs.push(deadLetter(record, code, errorMessage(error), deps.topics.dlq));
      continue;
    }
    if (value.kind === 'snapshot') {
      for (const [key, next] of closeAbsent(store, value.marker, record.partition)) emit(key, next, record.partition);
      continue;
    }
    const update = value.order;
    const next = reduce(store.get(update.orderKey), update);
    if (!next) {
      stats.unchanged++;
      continue;
    }
    emit(update.orderKey, next, record.partition);
  }
  return outputs;
}

/** orders.canonical.v1 → orders.state.v1 (compacted, latest state per orderKey). */
export function createOrderStateApp(deps: OrderStateDeps): OrderStateApp {
  const { logger } = deps;
  const store = new OrderStore();
  const stats: OrderStateStats = { restored: 0, updates: 0, changes: 0, unchanged: 0, deadLetters: 0, orders: 0 };
  let pipeline: Pipeline | undefined;
  let progress: NodeJS.Timeout | undefined;

  async function restore(): Promise<void> {
    const started = Date.now();
    const records = await readTopicToEnd(deps.kafka, deps.topics.state);
    for (const r of records) {
      const key = r.key?.toString('utf8');
      if (!key) continue;
      if (r.value === null) store.delete(key);
      else store.set(key, deps.serde.decodeState(r.value), r.partition);
    }
    stats.restored = store.size;
    logger.info({ orders: store.size, records: records.length, ms: Date.now() - started }, 'store restored from state topic');
  }

  return {
    store,
    stats: () => ({ ...stats, orders: store.size }),
    async start() {
      await restore();
      pipeline = await startPipeline({
        kafka: deps.kafka,
        groupId: deps.groupId,
        inputTopic: deps.topics.canonical,
        logger,
        process: (records) => foldBatch(records, store, deps, stats),
      });
      const every = deps.progressEveryMs ?? 30_000;
      if (every > 0) progress = setInterval(() => logger.info({ ...stats, orders: store.size }, 'order-state progress'), every).unref();
    },
    async stop() {
      clearInterval(progress);
      await pipeline?.stop();
      logger.info({ ...stats, orders: store.size }, 'order-state stopped');
    },
  };
}
