import { describe, expect, it } from 'vitest';
import avro from 'avsc';
import { readSchema } from '@orderstream/schemas';
import {
  canonicalForm,
  crc64Avro,
  fingerprintFromBytes,
  fingerprintHex,
  fingerprintToBytes,
  fingerprintToSignedLong,
  schemaFingerprint,
} from './fingerprint.js';

/**
 * Test vectors of Apache Avro: share/test/data/schema-tests.txt in github.com/apache/avro (read at commit
 * 0ea74a36cebb2e5fbc37e599814a05c33cb7d424). Each case gives a schema (<<INPUT), its Parsing Canonical Form
 * (<<canonical) and, for most, the CRC-64-AVRO fingerprint of that form (<<fingerprint, as Java's signed long).
 * `avscRejects` marks inputs that avsc 5.7.9 refuses to parse at all (see the test below).
 */
interface Vector {
  id: string;
  input: string;
  canonical: string;
  fingerprint?: string;
  avscRejects?: string;
}

const VECTORS: Vector[] = [
  { id: '000', input: '"null"', canonical: '"null"', fingerprint: '7195948357588979594' },
  { id: '001', input: '{"type":"null"}', canonical: '"null"' },
  { id: '002', input: '"boolean"', canonical: '"boolean"', fingerprint: '-6970731678124411036' },
  { id: '003', input: '{"type":"boolean"}', canonical: '"boolean"' },
  { id: '004', input: '"int"', canonical: '"int"', fingerprint: '8247732601305521295' },
  { id: '005', input: '{"type":"int"}', canonical: '"int"' },
  { id: '006', input: '"long"', canonical: '"long"', fingerprint: '-3434872931120570953' },
  { id: '007', input: '{"type":"long"}', canonical: '"long"' },
  { id: '008', input: '"float"', canonical: '"float"', fingerprint: '5583340709985441680' },
  { id: '009', input: '{"type":"float"}', canonical: '"float"' },
  { id: '010', input: '"double"', canonical: '"double"', fingerprint: '-8181574048448539266' },
  { id: '011', input: '{"type":"double"}', canonical: '"double"' },
  { id: '012', input: '"bytes"', canonical: '"bytes"', fingerprint: '5746618253357095269' },
  { id: '013', input: '{"type":"bytes"}', canonical: '"bytes"' },
  { id: '014', input: '"string"', canonical: '"string"', fingerprint: '-8142146995180207161' },
  { id: '015', input: '{"type":"string"}', canonical: '"string"' },
  { id: '016', input: '[  ]', canonical: '[]', fingerprint: '-1241056759729112623', avscRejects: 'empty union' },
  { id: '017', input: '[ "int"  ]', canonical: '["int"]', fingerprint: '-5232228896498058493' },
  {
    id: '018',
    input: '[ "int" , {"type":"boolean"} ]',
    canonical: '["int","boolean"]',
    fingerprint: '5392556393470105090',
  },
  {
    id: '019',
    input: '{"fields":[], "type":"record", "name":"foo"}',
    canonical: '{"name":"foo","type":"record","fields":[]}',
    fingerprint: '-4824392279771201922',
  },
  {
    id: '020',
    input: '{"fields":[], "type":"record", "name":"foo", "namespace":"x.y"}',
    canonical: '{"name":"x.y.foo","type":"record","fields":[]}',
    fingerprint: '5916914534497305771',
  },
  {
    id: '021',
    input: '{"fields":[], "type":"record", "name":"a.b.foo", "namespace":"x.y"}',
    canonical: '{"name":"a.b.foo","type":"record","fields":[]}',
    fingerprint: '-4616218487480524110',
  },
  {
    id: '022',
    input: '{"fields":[], "type":"record", "name":"foo", "doc":"Useful info"}',
    canonical: '{"name":"foo","type":"record","fields":[]}',
    fingerprint: '-4824392279771201922',
  },
  {
    id: '023',
    input: '{"fields":[], "type":"record", "name":"foo", "aliases":["foo","bar"]}',
    canonical: '{"name":"foo","type":"record","fields":[]}',
    fingerprint: '-4824392279771201922',
  },
  {
    id: '024',
    input: '{"fields":[], "type":"record", "name":"foo", "doc":"foo", "aliases":["foo","bar"]}',
    canonical: '{"name":"foo","type":"record","fields":[]}',
    fingerprint: '-4824392279771201922',
  },
  {
    id: '025',
    input: '{"fields":[{"type":{"type":"boolean"}, "name":"f1"}], "type":"record", "name":"foo"}',
    canonical: '{"name":"foo","type":"record","fields":[{"name":"f1","type":"boolean"}]}',
    fingerprint: '7843277075252814651',
  },
  {
    id: '026',
    input:
      '{ "fields":[{"type":"boolean", "aliases":[], "name":"f1", "default":"true"},\n' +
      '            {"order":"descending","name":"f2","doc":"Hello","type":"int"}],\n' +
      '  "type":"record", "name":"foo"\n}',
    canonical: '{"name":"foo","type":"record","fields":[{"name":"f1","type":"boolean"},{"name":"f2","type":"int"}]}',
    fingerprint: '-4860222112080293046',
    avscRejects: 'incompatible field default',
  },
  {
    id: '027',
    input: '{"type":"enum", "name":"foo", "symbols":["A1"]}',
    canonical: '{"name":"foo","type":"enum","symbols":["A1"]}',
    fingerprint: '-6342190197741309591',
  },
  {
    id: '028',
    input: '{"namespace":"x.y.z", "type":"enum", "name":"foo", "doc":"foo bar", "symbols":["A1", "A2"]}',
    canonical: '{"name":"x.y.z.foo","type":"enum","symbols":["A1","A2"]}',
    fingerprint: '-4448647247586288245',
  },
  {
    id: '029',
    input: '{"name":"foo","type":"fixed","size":15}',
    canonical: '{"name":"foo","type":"fixed","size":15}',
    fingerprint: '1756455273707447556',
  },
  {
    id: '030',
    input: '{"namespace":"x.y.z", "type":"fixed", "name":"foo", "doc":"foo bar", "size":32}',
    canonical: '{"name":"x.y.z.foo","type":"fixed","size":32}',
    fingerprint: '-3064184465700546786',
  },
  {
    id: '031',
    input: '{ "items":{"type":"null"}, "type":"array"}',
    canonical: '{"type":"array","items":"null"}',
    fingerprint: '-589620603366471059',
  },
  {
    id: '032',
    input: '{ "values":"string", "type":"map"}',
    canonical: '{"type":"map","values":"string"}',
    fingerprint: '-8732877298790414990',
  },
  {
    id: '033',
    input:
      '{"name":"PigValue","type":"record",\n' +
      '   "fields":[{"name":"value", "type":["null", "int", "long", "PigValue"]}]}',
    canonical: '{"name":"PigValue","type":"record","fields":[{"name":"value","type":["null","int","long","PigValue"]}]}',
    fingerprint: '-1759257747318642341',
  },
];

const parseable = VECTORS.filter((v) => v.avscRejects === undefined);
const withFingerprint = VECTORS.filter((v): v is Vector & { fingerprint: string } => v.fingerprint !== undefined);

describe('CRC-64-AVRO over the canonical text (all vectors with a fingerprint)', () => {
  it('has the vectors', () => {
    expect(VECTORS).toHaveLength(34);
    expect(withFingerprint).toHaveLength(26);
  });

  it.each(withFingerprint)('vector $id: $canonical', (v) => {
    const fp = crc64Avro(v.canonical);
    expect(fingerprintToSignedLong(fp)).toBe(BigInt(v.fingerprint));
    expect(fp).toBe(BigInt.asUintN(64, BigInt(v.fingerprint)));
  });

  it('of bytes equals of the same string', () => {
    expect(crc64Avro(Buffer.from('"null"'))).toBe(crc64Avro('"null"'));
  });

  it('of no bytes is the spec EMPTY value', () => {
    expect(crc64Avro('')).toBe(0xc15d213aa4d7a795n);
  });
});

describe('Parsing Canonical Form from avsc Type#schema()', () => {
  it.each(parseable)('vector $id: $input', (v) => {
    expect(canonicalForm(JSON.parse(v.input) as Record<string, unknown>)).toBe(v.canonical);
  });

  it.each(parseable.filter((v) => v.fingerprint !== undefined))('vector $id fingerprint end to end', (v) => {
    const fp = schemaFingerprint(JSON.parse(v.input) as Record<string, unknown>);
    expect(fingerprintToSignedLong(fp)).toBe(BigInt(v.fingerprint!));
  });

  it('agrees for inputs given as avsc Types', () => {
    const t = avro.Type.forSchema({ type: 'record', name: 'foo', namespace: 'x.y', fields: [] });
    expect(canonicalForm(t)).toBe('{"name":"x.y.foo","type":"record","fields":[]}');
  });

  // avsc refuses these two inputs outright, so they can never be a schema of ours; their fingerprints are still
  // checked above from the canonical text.
  it.each(VECTORS.filter((v) => v.avscRejects !== undefined))('vector $id is rejected by avsc ($avscRejects)', (v) => {
    expect(() => canonicalForm(JSON.parse(v.input) as Record<string, unknown>)).toThrow();
  });

  it('strips logical types, defaults, docs, aliases and order, and writes full names once', () => {
    const schema = {
      type: 'record',
      name: 'Outer',
      namespace: 'a.b',
      doc: 'd',
      aliases: ['Old'],
      fields: [
        { name: 'at', type: { type: 'long', logicalType: 'timestamp-micros' }, doc: 'x', order: 'descending' },
        { name: 'e', type: { type: 'enum', name: 'E', symbols: ['X', 'Y'], default: 'X' }, default: 'Y' },
        { name: 'e2', type: ['null', 'E'], default: null },
        { name: 'm', type: { type: 'map', values: { type: 'string' } }, default: {} },
        { name: 'f', type: { type: 'fixed', name: 'c.F', size: 4 } },
        { name: 'd', type: { type: 'bytes', logicalType: 'decimal', precision: 9, scale: 2 } },
      ],
    };
    expect(canonicalForm(schema)).toBe(
      '{"name":"a.b.Outer","type":"record","fields":[' +
        '{"name":"at","type":"long"},' +
        '{"name":"e","type":{"name":"a.b.E","type":"enum","symbols":["X","Y"]}},' +
        '{"name":"e2","type":["null","a.b.E"]},' +
        '{"name":"m","type":{"type":"map","values":"string"}},' +
        '{"name":"f","type":{"name":"c.F","type":"fixed","size":4}},' +
        '{"name":"d","type":"bytes"}]}',
    );
  });
});

describe('fingerprint helpers', () => {
  const nullFp = BigInt.asUintN(64, 7195948357588979594n);

  it('writes 8 little-endian bytes', () => {
    expect(fingerprintHex(nullFp)).toBe('63dd24e7cc258f8a');
    expect(fingerprintToBytes(nullFp).toString('hex')).toBe('8a8f25cce724dd63');
    expect(fingerprintFromBytes(fingerprintToBytes(nullFp))).toBe(nullFp);
  });

  it('accepts a signed (Java long) value', () => {
    const signed = -6970731678124411036n;
    expect(fingerprintToBytes(signed)).toEqual(fingerprintToBytes(BigInt.asUintN(64, signed)));
    expect(fingerprintHex(signed)).toBe(BigInt.asUintN(64, signed).toString(16).padStart(16, '0'));
  });

  it('reads at an offset and refuses short input', () => {
    const buf = Buffer.concat([Buffer.from([0xc3, 0x01]), fingerprintToBytes(nullFp)]);
    expect(fingerprintFromBytes(buf, 2)).toBe(nullFp);
    expect(fingerprintFromBytes(new Uint8Array(buf), 2)).toBe(nullFp);
    expect(() => fingerprintFromBytes(buf, 3)).toThrow(RangeError);
  });
});

describe('the project schemas', () => {
  it('canonical forms carry no doc, default, logicalType, namespace or aliases', () => {
    for (const name of ['canonicalOrder', 'orderState'] as const) {
      const form = canonicalForm(readSchema(name));
      for (const attr of ['"doc"', '"default"', '"logicalType"', '"namespace"', '"aliases"']) {
        expect(form).not.toContain(attr);
      }
      expect(form).toContain('"name":"orderstream.v1.');
    }
  });

  it('the CanonicalOrder inside OrderState has the same canonical form as canonical-order.avsc', () => {
    expect(canonicalForm(readSchema('orderState'))).toContain(canonicalForm(readSchema('canonicalOrder')));
  });
});
