import { expect } from 'vitest';
import { orderSerdes, readTopicToEnd, type Kafka, type TopicNames } from '@orderstream/kafka';
import type { CanonicalOrder } from '@orderstream/schemas';
import { mapperLookup, type ReferenceData } from '@orderstream/venues';
import { normalizeRecord } from '@orderstream/normalizer';
import { waitFor } from '@orderstream/testing';
import { pickChecked, type VenueRig } from '../rigs/types.js';

const serdes = orderSerdes();

export function expectedOf(rigs: VenueRig[]): Map<string, Partial<CanonicalOrder>> {
  const expected = new Map<string, Partial<CanonicalOrder>>();
  for (const rig of rigs) for (const [key, e] of rig.expected()) expected.set(key, pickChecked(e));
  return expected;
}

/** Waits until the latest record per key of orders.state.v1 (read_committed, from offset 0) equals the truth. */
export async function waitForStateTopic(kafka: Kafka, topics: TopicNames, expected: Map<string, Partial<CanonicalOrder>>, timeoutMs = 120_000): Promise<void> {
  let diff: [string, Partial<CanonicalOrder>, unknown][] = [];
  await waitFor(
    async () => {
      const latest = new Map<string, CanonicalOrder>();
      for (const r of await readTopicToEnd(kafka, topics.state)) latest.set(String(r.key), serdes.decodeState(r.value as Buffer).order);
      diff = [];
      for (const [key, want] of expected) {
        const got = latest.get(key) as unknown as Record<string, unknown> | undefined;
        if (!got || Object.entries(want).some(([k, v]) => got[k] !== v)) diff.push([key, want, got ? pickChecked(got as Partial<CanonicalOrder>) : undefined]);
      }
      return diff.length === 0;
    },
    { timeoutMs, intervalMs: 2_000, description: "orders.state.v1 to equal the simulators' truth" },
  ).catch((error: unknown) => {
    throw new Error(`${String(error)}; ${diff.length} orders differ, e.g. ${JSON.stringify(diff[0])}`);
  });
}

/**
 * Exactly once between raw and canonical: every raw record's canonical records (orders and snapshot markers, of data
 * and REST frames and of reconciliation events,
 * as the normalizer's own code computes them) are in orders.canonical.v1 once; nothing is there without one.
 * Returns how many canonical records that is.
 */
export async function expectCanonicalExactlyOnce(kafka: Kafka, topics: TopicNames, reference: ReferenceData, canonicalPartitions: number): Promise<{ records: number; frames: number }> {
  const want = new Map<string, number>();
  let records = 0;
  for (const r of await readTopicToEnd(kafka, topics.raw)) {
    const outputs = normalizeRecord(r, {
      lookup: mapperLookup, reference, topics, encode: serdes.encodeCanonical, encodeMarker: serdes.encodeMarker, canonicalPartitions,
    }).outputs.filter((o) => o.topic === topics.canonical);
    if (outputs.length > 0) want.set(`${r.partition}:${r.offset}`, outputs.length);
    records += outputs.length;
  }
  const got = new Map<string, number>();
  for (const r of await readTopicToEnd(kafka, topics.canonical)) {
    const v = serdes.decodeCanonicalTopic(r.value as Buffer);
    const source = v.kind === 'order' ? v.order.source : v.marker.source;
    const id = `${source.partition}:${source.offset}`;
    got.set(id, (got.get(id) ?? 0) + 1);
  }
  const wrong = [...new Set([...want.keys(), ...got.keys()])].filter((id) => want.get(id) !== got.get(id));
  expect(wrong.slice(0, 5).map((id) => `${id}: want ${want.get(id) ?? 0}, got ${got.get(id) ?? 0}`)).toEqual([]);
  return { records, frames: want.size };
}

/**
 * No state change applied twice or lost: per order, the committed state records carry updateCount 1, 2, 3… in
 * offset order. (Read before compaction removes older records; with compaction, counts only rise.)
 */
export async function expectStateProgression(kafka: Kafka, topics: TopicNames): Promise<number> {
  const last = new Map<string, number>();
  const broken: string[] = [];
  let records = 0;
  for (const r of await readTopicToEnd(kafka, topics.state)) {
    if (!r.value) continue;
    records++;
    const key = String(r.key);
    const count = serdes.decodeState(r.value).updateCount;
    const prev = last.get(key);
    if (prev !== undefined && count <= prev) broken.push(`${key}: updateCount ${count} after ${prev} (offset ${r.partition}:${r.offset})`);
    last.set(key, count);
  }
  expect(broken.slice(0, 5)).toEqual([]);
  return records;
}
