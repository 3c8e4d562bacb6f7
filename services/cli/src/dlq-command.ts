import { headerString, readTopicToEnd } from '@orderstream/kafka';
import { orderSerdes } from '@orderstream/kafka';
import { loadReferenceData, mapperLookup } from '@orderstream/venues';
import { replayDeadLetters, type DlqReplayReport } from '@orderstream/normalizer';
import { bytesText, opsContext, table, type OpsContext } from './ops.js';

export interface DlqListOptions {
  code?: string | undefined;
  json: boolean;
  /** newest examples per code (default 3) */
  examples?: number;
}

export interface DlqCodeSummary {
  code: string;
  count: number;
  examples: { partition: number; offset: string; key: string | null; venue: string | undefined; message: string | undefined; preview: string }[];
}

const PREVIEW = 120;

/** `orderstream dlq list [--code C]`: dead letters counted by code, with the newest examples of each. */
export async function dlqListCommand(options: DlqListOptions, env: NodeJS.ProcessEnv = process.env, output: NodeJS.WritableStream = process.stdout, ctx?: OpsContext): Promise<DlqCodeSummary[]> {
  const { kafka, topics } = ctx ?? opsContext('dlq', env);
  const byCode = new Map<string, DlqCodeSummary>();
  for (const r of await readTopicToEnd(kafka, topics.dlq)) {
    const code = headerString(r.headers, 'dlq-code') ?? '?';
    if (options.code && code !== options.code) continue;
    const s = byCode.get(code) ?? { code, count: 0, examples: [] };
    s.count++;
    const text = bytesText(r.value) ?? '';
    s.examples.unshift({
      partition: r.partition, offset: r.offset, key: r.key?.toString('utf8') ?? null, venue: headerString(r.headers, 'venue'),
      message: headerString(r.headers, 'dlq-message'), preview: text.length > PREVIEW ? `${text.slice(0, PREVIEW)}…` : text,
    });
    s.examples.length = Math.min(s.examples.length, options.examples ?? 3);
    byCode.set(code, s);
  }
  const summary = [...byCode.values()].sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));
  if (options.json) for (const s of summary) output.write(`${JSON.stringify(s)}\n`);
  else if (summary.length === 0) output.write('no dead letters\n');
  else {
    output.write(`${table(['code', 'count'], summary.map((s) => [s.code, String(s.count)]))}\n`);
    for (const s of summary) {
      output.write(`\n${s.code}, newest first:\n`);
      for (const e of s.examples) output.write(`  [${e.partition}]@${e.offset} ${e.key ?? ''}: ${e.message ?? ''}\n    ${e.preview}\n`);
    }
  }
  return summary;
}

export interface DlqReplayOptions {
  code?: string | undefined;
  dryRun: boolean;
  json: boolean;
}

/**
 * `orderstream dlq replay [--code C] [--dry-run]`: re-normalizes dead letters with today's mappers, exactly once
 * (docs/dead-letters.md). Reads REFERENCE_DATA_FILE like the normalizer.
 */
export async function dlqReplayCommand(options: DlqReplayOptions, env: NodeJS.ProcessEnv = process.env, output: NodeJS.WritableStream = process.stdout, ctx?: OpsContext): Promise<DlqReplayReport> {
  const c = ctx ?? opsContext('dlq', env);
  const serde = (await c.schemaRegistry?.('writer')) ?? orderSerdes(); // writes like the normalizer (registry mode)
  const report = await replayDeadLetters({
    kafka: c.kafka, topics: c.topics, lookup: mapperLookup, reference: loadReferenceData(env.REFERENCE_DATA_FILE), serde, logger: c.logger,
    ...(options.code ? { code: options.code } : {}), dryRun: options.dryRun,
  });
  if (options.json) output.write(`${JSON.stringify({ dryRun: options.dryRun, ...report })}\n`);
  else {
    output.write(
      `${options.dryRun ? 'dry run (nothing written): ' : ''}${report.replayed} dead letter(s) re-normalized` +
        `${options.code ? ` (code ${options.code})` : ''}: ${report.canonical} canonical record(s), ${report.skipped} now skipped, ${report.failedAgain} failed again\n`,
    );
  }
  return report;
}
