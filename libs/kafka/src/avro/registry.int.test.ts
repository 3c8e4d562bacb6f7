/**
 * Registry mode against the real schema registry of the test run (Apicurio, started by global-setup.ts): subjects,
 * the Confluent wire format, decoding both encodings by the first byte, lookup mode, schema evolution in both
 * directions and both encodings, and an incompatible change refused with the field and the rule named.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { AppError } from '@orderstream/kit';
import { SCHEMA_DIR, type CanonicalOrder, type OrderState } from '@orderstream/schemas';
import { createAvroType } from './avro-type.js';
import { createOrderSerdes } from './order-serdes.js';
import { createSchemaRegistryClient } from './registry-client.js';
import { connectSchemaRegistry, explainIncompatibility, orderSubjects } from './registry-serdes.js';
import { sampleCanonicalOrder, sampleOrderState } from './test-fixtures.js';

// The registry libs/testing/src/global-setup.ts provides (@orderstream/testing depends on this package, so its
// helpers cannot be imported here without a cycle in the TypeScript build).
declare module 'vitest' {
  export interface ProvidedContext {
    schemaRegistryUrl: string;
  }
}

function testSchemaRegistryUrl(): string {
  const url = inject('schemaRegistryUrl');
  if (!url) throw new Error("no schema registry was provided to this test: run it through the repo's vitest.config.ts (global-setup.ts)");
  return url;
}

const uniqueName = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

const evolution = (file: string) => JSON.parse(readFileSync(path.join(SCHEMA_DIR, 'evolution', file), 'utf8')) as Record<string, unknown>;
const current = (file: string) => JSON.parse(readFileSync(path.join(SCHEMA_DIR, file), 'utf8')) as Record<string, unknown>;

function topicsFor(prefix: string) {
  return { canonical: `${prefix}.orders.canonical.v1`, state: `${prefix}.orders.state.v1` };
}

async function caught(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

describe('registry mode (real schema registry)', () => {
  const client = () => createSchemaRegistryClient({ url: testSchemaRegistryUrl() });

  it('registers the three subjects at FULL_TRANSITIVE and writes 00 + a schema id the registry knows', async () => {
    const topics = topicsFor(uniqueName('reg'));
    const c = client();
    const serdes = await connectSchemaRegistry({ client: c, topics, installShared: false });
    expect(serdes.encoding).toBe('confluent');
    const ids = serdes.schemaIds!;
    const order = sampleCanonicalOrder();
    const value = serdes.encodeCanonical(order);
    expect(value[0]).toBe(0);
    expect(value.readUInt32BE(1)).toBe(ids.canonical);
    expect(JSON.parse((await c.schemaById(ids.canonical))!)).toMatchObject({ name: 'CanonicalOrder', namespace: 'orderstream.v1' });
    expect(JSON.parse((await c.schemaById(ids.state))!)).toMatchObject({ name: 'OrderState' });
    expect(JSON.parse((await c.schemaById(ids.marker))!)).toMatchObject({ name: 'SnapshotMarker' });
    expect(serdes.decodeCanonical(value)).toStrictEqual(order);
    const state = sampleOrderState();
    expect(serdes.decodeState(serdes.encodeState(state))).toStrictEqual(state);
    const marker = { venue: 'bsx', account: 'a', orderKeys: ['bsx|a|1'], receivedAt: 1, source: { topic: 't', partition: 0, offset: 1 } };
    expect(serdes.decodeCanonicalTopic(serdes.encodeMarker(marker))).toStrictEqual({ kind: 'snapshot', marker });

    const subjects = orderSubjects(topics);
    expect(subjects.canonical).toBe(`${topics.canonical}-orderstream.v1.CanonicalOrder`);
    for (const s of Object.values(subjects)) {
      const res = await fetch(`${testSchemaRegistryUrl()}/config/${encodeURIComponent(s)}`);
      expect(((await res.json()) as { compatibilityLevel: string }).compatibilityLevel).toBe('FULL_TRANSITIVE');
    }
    // A second start registers nothing new: the same ids.
    const again = await connectSchemaRegistry({ client: c, topics, installShared: false });
    expect(again.schemaIds).toStrictEqual(ids);
  });

  it('decodes both encodings by the first byte; a reader without a registry names the variable to set', async () => {
    const topics = topicsFor(uniqueName('mixed'));
    const serdes = await connectSchemaRegistry({ client: client(), topics, installShared: false });
    const single = createOrderSerdes();
    const order = sampleCanonicalOrder();
    const both = [single.encodeCanonical(order), serdes.encodeCanonical(order)];
    expect(both.map((b) => b[0])).toStrictEqual([0xc3, 0x00]);
    for (const b of both) expect(serdes.decodeCanonicalTopic(b)).toStrictEqual({ kind: 'order', order });

    // A fresh registry reader fetches an id it has not seen (prefetch), then decodes synchronously.
    const reader = createOrderSerdes({ schemaRegistry: client() });
    expect(() => reader.decodeCanonical(both[1]!)).toThrow(/schema id/);
    await reader.prefetch(both);
    expect(reader.decodeCanonical(both[1]!)).toStrictEqual(order);

    let error: unknown;
    try {
      single.decodeCanonical(both[1]!);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('AVRO_UNKNOWN_SCHEMA_ID');
    expect((error as AppError).message).toMatch(/ORDERSTREAM_SCHEMA_REGISTRY_URL/);
  });

  it('lookup mode: refuses schemas that are not registered, finds the ids of those that are', async () => {
    const topics = topicsFor(uniqueName('lookup'));
    const refused = await caught(connectSchemaRegistry({ client: client(), topics, mode: 'lookup', installShared: false }));
    expect(refused.code).toBe('SCHEMA_REFUSED');
    expect(refused.message).toMatch(/not registered under subject .*orderstream\.v1\.CanonicalOrder/);
    const registered = await connectSchemaRegistry({ client: client(), topics, installShared: false });
    const looked = await connectSchemaRegistry({ client: client(), topics, mode: 'lookup', installShared: false });
    expect(looked.schemaIds).toStrictEqual(registered.schemaIds);
  });

  it('an unreachable registry fails at start with SCHEMA_REGISTRY_UNAVAILABLE, never a fallback', async () => {
    const dead = createSchemaRegistryClient({ url: 'http://127.0.0.1:9/apis/ccompat/v7', timeoutMs: 1000 });
    const error = await caught(connectSchemaRegistry({ client: dead, topics: topicsFor('x'), waitMs: 0, installShared: false }));
    expect(error.code).toBe('SCHEMA_REGISTRY_UNAVAILABLE');
    expect(error.message).toMatch(/127\.0\.0\.1:9/);
  });

  it('evolution: CanonicalOrder and OrderState gain an optional field; old and new readers read both, in both encodings', async () => {
    const topics = topicsFor(uniqueName('evolve'));
    const oldSchemas = { canonicalOrder: current('canonical-order.avsc'), orderState: current('order-state.avsc') };
    const newSchemas = { canonicalOrder: evolution('canonical-order.next.avsc'), orderState: evolution('order-state.next.avsc') };
    // Deploy order of docs/avro.md: v1 registered, then v2 registered by the upgraded service (FULL_TRANSITIVE passes).
    const v1 = await connectSchemaRegistry({ client: client(), topics, installShared: false });
    const v2 = await connectSchemaRegistry({ client: client(), topics, schemas: newSchemas, installShared: false });
    expect(v2.schemaIds!.canonical).not.toBe(v1.schemaIds!.canonical);
    expect(v2.schemaIds!.state).not.toBe(v1.schemaIds!.state);
    expect(v2.schemaIds!.marker).toBe(v1.schemaIds!.marker);

    const oldOrder: CanonicalOrder = sampleCanonicalOrder();
    const newOrder = { ...sampleCanonicalOrder(), strategyTag: 'grid-7' };
    const oldState: OrderState = sampleOrderState();
    const newState = { ...sampleOrderState(), order: { ...sampleOrderState().order, strategyTag: 'grid-7' }, replayedAt: 1_760_000_000_000_000 };

    // Confluent: every reader resolves the writer by id, whatever its version.
    const oldReader = createOrderSerdes({ schemas: oldSchemas, schemaRegistry: client() });
    const newReader = createOrderSerdes({ schemas: newSchemas, schemaRegistry: client() });
    const confluent = {
      oldOrder: v1.encodeCanonical(oldOrder), newOrder: v2.encodeCanonical(newOrder as CanonicalOrder),
      oldState: v1.encodeState(oldState), newState: v2.encodeState(newState as OrderState),
    };
    await oldReader.prefetch(Object.values(confluent));
    await newReader.prefetch(Object.values(confluent));
    expect(oldReader.decodeCanonical(confluent.newOrder)).toStrictEqual(oldOrder); // the new field is skipped
    expect(oldReader.decodeState(confluent.newState)).toStrictEqual(oldState);
    expect(newReader.decodeCanonical(confluent.oldOrder)).toStrictEqual({ ...oldOrder, strategyTag: null }); // the default
    expect(newReader.decodeState(confluent.oldState)).toStrictEqual({ ...oldState, order: { ...oldState.order, strategyTag: null }, replayedAt: null });
    expect(newReader.decodeCanonical(confluent.newOrder)).toStrictEqual(newOrder);

    // Single-object: readers know the other version's .avsc as a writer schema (docs/avro.md, "Schema evolution").
    const oldSingle = createOrderSerdes({ schemas: oldSchemas, canonicalWriterSchemas: [newSchemas.canonicalOrder], stateWriterSchemas: [newSchemas.orderState] });
    const newSingle = createOrderSerdes({ schemas: newSchemas, canonicalWriterSchemas: [oldSchemas.canonicalOrder], stateWriterSchemas: [oldSchemas.orderState] });
    expect(oldSingle.decodeCanonical(newSingle.encodeCanonical(newOrder as CanonicalOrder))).toStrictEqual(oldOrder);
    expect(oldSingle.decodeState(newSingle.encodeState(newState as OrderState))).toStrictEqual(oldState);
    expect(newSingle.decodeCanonical(oldSingle.encodeCanonical(oldOrder))).toStrictEqual({ ...oldOrder, strategyTag: null });
    expect(newSingle.decodeState(oldSingle.encodeState(oldState))).toStrictEqual({ ...oldState, order: { ...oldState.order, strategyTag: null }, replayedAt: null });
  });

  it('an incompatible change is refused at start, naming the field and the rule it broke', async () => {
    const topics = topicsFor(uniqueName('incompatible'));
    await connectSchemaRegistry({ client: client(), topics, installShared: false });
    const error = await caught(
      connectSchemaRegistry({ client: client(), topics, schemas: { canonicalOrder: evolution('canonical-order.incompatible.avsc') }, installShared: false }),
    );
    expect(error.code).toBe('SCHEMA_REFUSED');
    expect(error.message).toMatch(/subject .*orderstream\.v1\.CanonicalOrder \(compatibility FULL_TRANSITIVE\)/);
    expect(error.message).toMatch(/orderstream\.v1\.CanonicalOrder\.strategyTag is in the reader's schema without a default .*BACKWARD/);
  });
});

describe('explainIncompatibility', () => {
  const base = createAvroType(current('canonical-order.avsc'));
  it('is empty for a field added with a default, both ways', () => {
    expect(explainIncompatibility(createAvroType(evolution('canonical-order.next.avsc')), base, 'FULL_TRANSITIVE')).toStrictEqual([]);
  });
  it('names a field added without a default (BACKWARD) and a field removed without a default (FORWARD)', () => {
    const added = createAvroType(evolution('canonical-order.incompatible.avsc'));
    expect(explainIncompatibility(added, base, 'FULL')).toStrictEqual([
      expect.stringMatching(/^orderstream\.v1\.CanonicalOrder\.strategyTag .*BACKWARD/),
    ]);
    expect(explainIncompatibility(base, added, 'FORWARD', 'version 3')).toStrictEqual([
      expect.stringMatching(/^orderstream\.v1\.CanonicalOrder\.strategyTag .*FORWARD: readers still on version 3/),
    ]);
    expect(explainIncompatibility(added, base, 'NONE')).toStrictEqual([]);
  });
  it('names a type change Avro cannot resolve', () => {
    const schema = current('canonical-order.avsc');
    const fields = (schema.fields as Array<{ name: string; type: unknown }>).map((f) => (f.name === 'venue' ? { ...f, type: 'int' } : f));
    const changed = createAvroType({ ...schema, fields });
    expect(explainIncompatibility(changed, base, 'BACKWARD')).toStrictEqual([expect.stringMatching(/^orderstream\.v1\.CanonicalOrder\.venue changed from string to int/)]);
  });
});
