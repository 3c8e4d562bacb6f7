import type { Logger } from '@orderstream/kit';
import { headerString, partitionCount, replayRange, type InRecord, type Kafka, type OutRecord, type TopicNames } from '@orderstream/kafka';
import type { CanonicalOrder, SnapshotMarker } from '@orderstream/schemas';
import type { ReferenceData } from '@orderstream/venues';
import { normalizeRecord, type MapperLookup, type NormalizeDeps } from './normalize.js';

/** Headers a dead letter adds to the raw record's own (libs/kafka/src/dead-letter.ts). */
const DLQ_HEADERS = ['dlq-code', 'dlq-message', 'dlq-source-topic', 'dlq-source-partition', 'dlq-source-offset', 'dlq-replayed-from'];

/**
 * The raw record a dead letter was made from: its bytes, its provenance headers, and its place in orders.raw.v1
 * (so the canonical records a replay produces name the same source as a first-time success would have).
 */
export function originalOf(deadLetter: InRecord): InRecord {
  const headers: InRecord['headers'] = {};
  for (const [k, v] of Object.entries(deadLetter.headers)) if (!DLQ_HEADERS.includes(k)) headers[k] = v;
  const partition = Number(headerString(deadLetter.headers, 'dlq-source-partition'));
  return {
    topic: headerString(deadLetter.headers, 'dlq-source-topic') ?? deadLetter.topic,
    partition: Number.isInteger(partition) ? partition : deadLetter.partition,
    offset: headerString(deadLetter.headers, 'dlq-source-offset') ?? deadLetter.offset,
    key: deadLetter.key,
    value: deadLetter.value,
    headers,
  };
}

export interface DlqReplayDeps {
  kafka: Kafka;
  topics: TopicNames;
  lookup: MapperLookup;
  reference: ReferenceData;
  serde: { encodeCanonical(order: CanonicalOrder): Buffer; encodeMarker(marker: SnapshotMarker): Buffer };
  logger: Logger;
  /** only dead letters with this dlq-code */
  code?: string;
  /** say what would happen; write nothing */
  dryRun?: boolean;
}

export interface DlqReplayReport {
  /** dead letters looked at (those of other codes included) */
  examined: number;
  /** dead letters re-normalized */
  replayed: number;
  /** canonical records written (orders and snapshot markers) */
  canonical: number;
  /** frames now recognised as carrying no order */
  skipped: number;
  /** dead letters that failed again (written to the dead-letter topic again, with today's reason) */
  failedAgain: number;
  byCode: Record<string, number>;
}

/** The consumer group of a replay: one per code filter, so `--code X` and a full replay each keep their own place. */
export function replayGroupId(code?: string): string {
  return code ? `orderstream-dlq-replay.${code}` : 'orderstream-dlq-replay';
}

/**
 * `orderstream dlq replay`: re-normalizes dead letters with today's mappers, exactly once (libs/kafka replayRange:
 * outputs and the replay group's offsets in one transaction per chunk). What maps now goes to orders.canonical.v1;
 * what still fails goes to orders.dlq.v1 again with today's reason and a `dlq-replayed-from` header, and is looked
 * at again by the next run (after the next fix). A second run with nothing new does nothing.
 */
export async function replayDeadLetters(deps: DlqReplayDeps): Promise<DlqReplayReport> {
  const recordDeps: NormalizeDeps = {
    lookup: deps.lookup,
    reference: deps.reference,
    topics: deps.topics,
    encode: deps.serde.encodeCanonical,
    encodeMarker: deps.serde.encodeMarker,
    canonicalPartitions: await partitionCount(deps.kafka, deps.topics.canonical),
  };
  const report: DlqReplayReport = { examined: 0, replayed: 0, canonical: 0, skipped: 0, failedAgain: 0, byCode: {} };
  await replayRange({
    kafka: deps.kafka,
    topic: deps.topics.dlq,
    groupId: replayGroupId(deps.code),
    logger: deps.logger,
    ...(deps.dryRun ? { dryRun: true } : {}),
    process: (records) => {
      const outputs: OutRecord[] = [];
      for (const r of records) {
        report.examined++;
        const code = headerString(r.headers, 'dlq-code') ?? '?';
        if (deps.code && code !== deps.code) continue;
        report.replayed++;
        report.byCode[code] = (report.byCode[code] ?? 0) + 1;
        const { outcome, outputs: out } = normalizeRecord(originalOf(r), recordDeps);
        if (outcome.kind === 'dlq') {
          report.failedAgain++;
          for (const o of out) outputs.push({ ...o, headers: { ...o.headers, 'dlq-replayed-from': `${r.partition}:${r.offset}` } });
          continue;
        }
        if (outcome.kind === 'skipped') report.skipped++;
        report.canonical += out.length;
        outputs.push(...out);
      }
      return outputs;
    },
  });
  return report;
}
