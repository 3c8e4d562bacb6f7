import { performance } from 'node:perf_hooks';
import type { Logger } from '@orderstream/kit';
import { headerString, partitionCount, startPipeline, type Kafka, type Pipeline, type TopicNames } from '@orderstream/kafka';
import type { CanonicalOrder, SnapshotMarker } from '@orderstream/schemas';
import type { ReferenceData } from '@orderstream/venues';
import { normalizeRecord, type MapperLookup, type NormalizeDeps } from './normalize.js';

export interface NormalizerDeps {
  kafka: Kafka;
  topics: TopicNames;
  groupId: string;
  lookup: MapperLookup;
  reference: ReferenceData;
  serde: { encodeCanonical(order: CanonicalOrder): Buffer; encodeMarker(marker: SnapshotMarker): Buffer };
  logger: Logger;
  /** how often to log progress; 0 disables */
  progressEveryMs?: number;
  sessionTimeoutMs?: number;
  /** the consumer stopped for good (services exit so a supervisor restarts them) */
  onFatal?: (error: Error) => void;
  /**
   * called for every raw record with its outcome, the time normalizing it took, its dead-letter code, and the
   * seconds since the collector received it (from its received-at header; undefined without one) (metrics.ts)
   */
  observeFrame?: (outcome: FrameOutcome, seconds: number, dlqCode?: string, ageSeconds?: number) => void;
}

/** What became of one raw record. */
export type FrameOutcome = 'orders' | 'skipped' | 'session' | 'dlq';

export interface NormalizerStats {
  frames: number;
  orders: number;
  skipped: number;
  sessionEvents: number;
  deadLetters: number;
}

export interface NormalizerApp {
  start(): Promise<void>;
  stop(): Promise<void>;
  stats(): NormalizerStats;
}

/** orders.raw.v1 → orders.canonical.v1 (+ orders.dlq.v1). */
export function createNormalizerApp(deps: NormalizerDeps): NormalizerApp {
  const { logger } = deps;
  const stats: NormalizerStats = { frames: 0, orders: 0, skipped: 0, sessionEvents: 0, deadLetters: 0 };
  let pipeline: Pipeline | undefined;
  let progress: NodeJS.Timeout | undefined;

  return {
    stats: () => ({ ...stats }),
    async start() {
      const canonicalPartitions = await partitionCount(deps.kafka, deps.topics.canonical);
      const recordDeps: NormalizeDeps = {
        lookup: deps.lookup,
        reference: deps.reference,
        topics: deps.topics,
        encode: deps.serde.encodeCanonical,
        encodeMarker: deps.serde.encodeMarker,
        canonicalPartitions,
      };
      pipeline = await startPipeline({
        kafka: deps.kafka,
        groupId: deps.groupId,
        inputTopic: deps.topics.raw,
        logger,
        ...(deps.sessionTimeoutMs ? { sessionTimeoutMs: deps.sessionTimeoutMs } : {}),
        ...(deps.onFatal ? { onFatal: deps.onFatal } : {}),
        process: (records) => ({
          outputs: records.flatMap((record) => {
            const began = performance.now();
            const { outcome, outputs } = normalizeRecord(record, recordDeps);
            if (deps.observeFrame) {
              const receivedNs = headerString(record.headers, 'received-at');
              const age = receivedNs && /^\d{1,19}$/.test(receivedNs) ? Math.max(0, Date.now() / 1000 - Number(BigInt(receivedNs) / 1_000_000n) / 1000) : undefined;
              deps.observeFrame(outcome.kind, (performance.now() - began) / 1000, outcome.kind === 'dlq' ? outcome.code : undefined, age);
            }
            stats.frames++;
            switch (outcome.kind) {
              case 'orders':
                stats.orders += outcome.orders.length;
                break;
              case 'skipped':
                stats.skipped++;
                break;
              case 'session':
                stats.sessionEvents++;
                break;
              case 'dlq':
                stats.deadLetters++;
                logger.warn({ code: outcome.code, partition: record.partition, offset: record.offset }, `dead letter: ${outcome.message}`);
                break;
            }
            return outputs;
          }),
        }),
      });
      const every = deps.progressEveryMs ?? 30_000;
      if (every > 0) progress = setInterval(() => logger.info(stats, 'normalizer progress'), every).unref();
    },
    async stop() {
      clearInterval(progress);
      await pipeline?.stop();
      logger.info(stats, 'normalizer stopped');
    },
  };
}
