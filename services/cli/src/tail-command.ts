import { headerString, orderSerdes, tailTopic, type InRecord } from '@orderstream/kafka';
import { bytesText, opsContext, type OpsContext } from './ops.js';

export const TAIL_TOPICS = ['raw', 'canonical', 'state', 'dlq'] as const;
export type TailTopic = (typeof TAIL_TOPICS)[number];

export interface TailOptions {
  topic: string | undefined;
  fromBeginning: boolean;
  venue?: string | undefined;
  account?: string | undefined;
  order?: string | undefined;
  json: boolean;
  /** stop after this many records (scripts, tests); default: follow until Ctrl-C */
  limit?: number | undefined;
}

/** One record of any pipeline topic, decoded: what `tail` prints. */
export interface DecodedRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  /** raw and dlq: provenance (and dlq-*) headers as text */
  headers?: Record<string, string>;
  /** raw, dlq: the frame as text (base64: for binary); canonical, state: the Avro record as JSON; null: tombstone */
  value: unknown;
  /** canonical: order or snapshot */
  kind?: string;
}

const serdes = orderSerdes();

export function decodeRecord(which: TailTopic, r: InRecord): DecodedRecord {
  const base = { topic: r.topic, partition: r.partition, offset: r.offset, key: r.key === null ? null : r.key.toString('utf8') };
  if (which === 'raw' || which === 'dlq') {
    const headers = Object.fromEntries(Object.keys(r.headers).map((k) => [k, headerString(r.headers, k) ?? '']));
    return { ...base, headers, value: bytesText(r.value) };
  }
  if (r.value === null) return { ...base, value: null };
  if (which === 'state') return { ...base, value: serdes.decodeState(r.value) };
  const v = serdes.decodeCanonicalTopic(r.value);
  return { ...base, kind: v.kind, value: v.kind === 'order' ? v.order : v.marker };
}

/** A record's venue / account / order id, from its key (`venue|account[|orderId]`). */
function keyParts(key: string | null): [string, string, string] {
  const k = key ?? '';
  const a = k.indexOf('|');
  const b = a < 0 ? -1 : k.indexOf('|', a + 1);
  return [a < 0 ? k : k.slice(0, a), a < 0 ? '' : b < 0 ? k.slice(a + 1) : k.slice(a + 1, b), b < 0 ? '' : k.slice(b + 1)];
}

function line(d: DecodedRecord): string {
  const where = `${d.topic}[${d.partition}]@${d.offset}`;
  if (d.value === null) return `${where} ${d.key} (tombstone)`;
  if (d.headers) {
    const h = d.headers;
    const extra = h['dlq-code'] ? ` ${h['dlq-code']}: ${h['dlq-message']}` : h['frame-kind'] === 'rest' ? ` ${h['rest-request']} → ${h['rest-status']}` : '';
    return `${where} ${d.key} ${h['frame-kind'] ?? '?'}${extra} ${String(d.value)}`;
  }
  if (d.kind === 'snapshot') {
    const m = d.value as { orderKeys: string[] };
    return `${where} ${d.key} snapshot marker: ${m.orderKeys.length} open order(s)`;
  }
  const o = ((d.value as { order?: unknown }).order ?? d.value) as Record<string, unknown>;
  return `${where} ${d.key} ${o.status} filled ${o.filledQuantity ?? o.venueFilledQuantity ?? '-'} of ${o.quantity ?? o.venueQuantity ?? '-'} @ ${o.averagePrice ?? '-'}`;
}

/**
 * `orderstream tail <raw|canonical|state|dlq>`: follows a topic (read_committed), decoded: Avro → JSON, raw
 * frames as text with their headers. Filters by the record key. Runs until Ctrl-C, or `--limit` records.
 */
export async function tailCommand(options: TailOptions, env: NodeJS.ProcessEnv = process.env, output: NodeJS.WritableStream = process.stdout, ctx?: OpsContext): Promise<number> {
  if (!options.topic || !(TAIL_TOPICS as readonly string[]).includes(options.topic)) {
    throw new RangeError(`tail needs a topic: one of ${TAIL_TOPICS.join(', ')}`);
  }
  const which = options.topic as TailTopic;
  const c = ctx ?? opsContext('tail', env);
  const { kafka, topics } = c;
  await c.schemaRegistry?.('reader'); // orderSerdes() then decodes both encodings (registry mode)
  const topic = topics[which];
  let printed = 0;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const tail = await tailTopic(kafka, topic, {
    fromBeginning: options.fromBeginning,
    // Avro topics: fetch schema ids not seen yet before decoding (registry mode)
    ...(which === 'state' || which === 'canonical' ? { prepare: (records: InRecord[]) => serdes.prefetch(records.map((r) => r.value)) } : {}),
    onRecords: (records) => {
      for (const r of records) {
        if (options.limit !== undefined && printed >= options.limit) break;
        const [venue, account, orderId] = keyParts(r.key === null ? null : r.key.toString('utf8'));
        if ((options.venue && venue !== options.venue) || (options.account && account !== options.account) || (options.order && orderId !== options.order)) continue;
        const d = decodeRecord(which, r);
        output.write(`${options.json ? JSON.stringify(d) : line(d)}\n`);
        printed++;
      }
      if (options.limit !== undefined && printed >= options.limit) done();
    },
  });
  const stop = () => done();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await finished;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await tail.stop();
  }
  return 0;
}
