import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ERROR_CODES } from '@orderstream/kit';
import { orderSerdes } from '@orderstream/kafka';
import type { CanonicalOrder } from '@orderstream/schemas';
import { registeredVenues, venueModule, type RestContext, type VenueId, type VenueMapper } from '@orderstream/venues';
import { normalizeFrame, MAX_DLQ_MESSAGE_CHARS, type NormalizeOutcome } from './normalize.js';
import { contextFor, venueCorpus, type CorpusFrame } from './fuzz-support.js';

/**
 * Fuzzing every venue mapper through normalizeFrame (the normalizer's and the CLI's one code path), pushes and REST
 * answers alike: random JSON, random text and mutated fixture frames must each end as
 *   - canonical orders that encode as valid Avro with the real serde (orderSerdes().encodeCanonical), or
 *   - a `skipped` with a short description, or
 *   - a dead letter with a documented FRAME_* code (docs/errors.md), from a FrameError (never a mapper crash), whose
 *     message is one line of well-formed text of bounded length;
 * and none may take more than a few milliseconds.
 */

/** Fixed in CI (reproducible), random locally (more coverage over time); FC_SEED=<n> replays a failure. */
const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : process.env.CI ? 20261206 : Date.now() % 2 ** 31;
const RUNS = process.env.FC_RUNS ? Number(process.env.FC_RUNS) : 600;

/** A frame that takes longer than this (its best of 3 re-runs, so a busy machine's pauses do not count) fails. */
const MAX_FRAME_MS = 50;

const DOC = readFileSync(fileURLToPath(new URL('../../../docs/errors.md', import.meta.url)), 'utf8');
const DOCUMENTED = new Set([...DOC.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1] as string));
/** Codes a frame's own content can earn. */
const FRAME_CODES = new Set(ERROR_CODES.filter((c) => c.startsWith('FRAME_') && DOCUMENTED.has(c)));

const serdes = orderSerdes();
const timings: number[] = [];
// eslint-disable-next-line no-control-regex
const UNSAFE_RE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function run(mapper: VenueMapper, venue: VenueId, text: string, rest: RestContext | undefined): NormalizeOutcome {
  const ctx = contextFor(venue, rest);
  const t0 = performance.now();
  let outcome = normalizeFrame(mapper, text, ctx);
  let ms = performance.now() - t0;
  if (ms > MAX_FRAME_MS / 5) {
    // the slow case again, best of 3: a busy machine's pause (or a GC) is not the frame's fault; a frame slow every time is
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      outcome = normalizeFrame(mapper, text, ctx);
      ms = Math.min(ms, performance.now() - t);
    }
  }
  timings.push(ms);
  expect(ms, `frame took ${ms.toFixed(1)} ms: ${text.slice(0, 200)}`).toBeLessThan(MAX_FRAME_MS);
  return outcome;
}

/** The property every outcome must satisfy. */
function checkOutcome(outcome: NormalizeOutcome, text: string): void {
  switch (outcome.kind) {
    case 'orders':
      for (const order of outcome.orders) {
        // valid Avro, and read back unchanged (a lone surrogate would come back as U+FFFD)
        expect(serdes.decodeCanonical(serdes.encodeCanonical(order))).toEqual(order);
        expect(limitsBroken(order), `${order.orderKey.slice(0, 200)} from ${text.slice(0, 300)}`).toEqual([]);
      }
      return;
    case 'skipped':
      expect(typeof outcome.what).toBe('string');
      expect(outcome.what.length).toBeGreaterThan(0);
      return;
    case 'dlq':
      expect(FRAME_CODES, `${outcome.code}: ${outcome.message} for ${text.slice(0, 300)}`).toContain(outcome.code);
      expect(outcome.message, `a mapper crashed on ${text.slice(0, 300)}`).not.toMatch(/^mapper failed:/);
      // the guard's FRAME_UNMAPPABLE means a mapper built a record it must not (wrong key, enum, decimal form)
      if (outcome.code === 'FRAME_UNMAPPABLE') expect(outcome.message, `a mapper bug on ${text.slice(0, 300)}`).not.toMatch(/^canonical order/);
      expect(outcome.message.length).toBeLessThanOrEqual(MAX_DLQ_MESSAGE_CHARS + 40);
      expect(outcome.message).not.toMatch(UNSAFE_RE);
      return;
    default:
      expect.unreachable(`unknown outcome ${JSON.stringify(outcome)}`);
  }
}

/** The input limits (docs/decisions.md → Input limits), restated independently of guard.ts: what an order breaks. */
function limitsBroken(o: CanonicalOrder): string[] {
  const broken: string[] = [];
  const ids: [string, string | null, number][] = [
    ['orderId', o.orderId, 128], ['account', o.account, 64], ['venueSymbol', o.venueSymbol, 64], ['clientOrderId', o.clientOrderId, 128],
    ['symbol', o.symbol, 64], ['venueStatus', o.venueStatus, 64], ['venueOrderType', o.venueOrderType, 64], ['feeAsset', o.feeAsset, 64],
    ['lastFillId', o.lastFillId, 256],
  ];
  for (const [name, v, max] of ids) {
    if (v === null) continue;
    if (v.length > max) broken.push(`${name} longer than ${max}`);
    if (UNSAFE_RE.test(v.replace(/[\u2028\u2029]/g, ''))) broken.push(`${name} has a control character or lone surrogate`);
  }
  if (o.orderId === '' || o.account === '') broken.push('empty orderId or account');
  for (const [name, v] of [['orderId', o.orderId], ['account', o.account], ['venueSymbol', o.venueSymbol]] as const) if (v.includes('|')) broken.push(`${name} contains |`);
  if (o.orderKey !== `${o.venue}|${o.account}|${o.orderId}` || o.orderKey.length > 256) broken.push('orderKey');
  const decimals = { price: o.price, triggerPrice: o.triggerPrice, quantity: o.quantity, venueQuantity: o.venueQuantity, quoteQuantity: o.quoteQuantity,
    filledQuantity: o.filledQuantity, venueFilledQuantity: o.venueFilledQuantity, filledQuoteQuantity: o.filledQuoteQuantity, averagePrice: o.averagePrice,
    fee: o.fee, lastFillQuantity: o.lastFillQuantity, lastFillPrice: o.lastFillPrice, lastFillFee: o.lastFillFee };
  for (const [name, v] of Object.entries(decimals)) {
    if (v === null) continue;
    const m = /^(-?)(0|[1-9]\d{0,39})(?:\.(\d{0,39}[1-9]))?$/.exec(v);
    if (!m || v === '-0') broken.push(`${name} ${v.slice(0, 50)} is not a normal decimal within 40.40 digits`);
    else if (m[1] === '-' && name !== 'fee' && name !== 'lastFillFee') broken.push(`${name} is negative`);
  }
  for (const [name, v] of [['createdAt', o.createdAt], ['updatedAt', o.updatedAt]] as const) {
    if (v !== null && !(Number.isSafeInteger(v) && v >= Date.UTC(2000, 0, 1) * 1000 && v < Date.UTC(2100, 0, 1) * 1000)) broken.push(`${name} ${v} out of range`);
  }
  if (Object.keys(o.extras).length > 64 || Object.entries(o.extras).some(([k, v]) => k.length > 64 || v.length > 1024)) broken.push('extras too large');
  return broken;
}

// ---- mutations of fixture frames --------------------------------------------------------------------------------

/** A raw JSON number token, spliced into the text after JSON.stringify (JSON.stringify cannot write 1e400). */
const RAW = (token: string) => `@@RAW:${token}@@`;
const unRaw = (text: string) => text.replace(/"@@RAW:([^@]*)@@"/g, '$1');

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    '', ' ', '0', '-0', '-1', '1e400', '-1e400', '1e-400', '1E+30', '0x10', 'NaN', 'Infinity', '+1', '.5', '5.', '1.', '١٢٣',
    '9'.repeat(99), `0.${'0'.repeat(60)}1`, 'a'.repeat(129), 'a'.repeat(5000), 'a|b', '|', 'a\nb', 'a\rb', '\u0000', 'a\u007fb',
    '\u0085', '\u2028', '\ud800', 'x\udc00', '\ud83d\ude00', 'null', 'true', '{}', '[]', '[object Object]', '__proto__',
    RAW('1e400'), RAW('-1e400'), RAW('1e-400'), RAW('9007199254740993'), RAW('123456789012345678901234567890'), RAW('-0'),
    RAW('1.5e300'), RAW('0.1'),
    -1, 0, 1.5, 2 ** 53, -(2 ** 31), 1e21, null, true, false, {}, [], { a: 1 }, [1, 2], { __proto__: null, x: 'y' },
  ),
  fc.string({ maxLength: 40, unit: 'grapheme' }),
  fc.string({ maxLength: 20, unit: 'binary' }),
  fc.integer(),
  fc.double(),
  fc.jsonValue({ maxDepth: 2 }),
);

type Json = unknown;

/** Every path to a value inside `root` (objects and arrays), the root itself excluded. */
function paths(root: Json, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (Array.isArray(root)) root.forEach((v, i) => { out.push([...prefix, i]); paths(v, [...prefix, i], out); });
  else if (root !== null && typeof root === 'object') {
    for (const [k, v] of Object.entries(root)) { out.push([...prefix, k]); paths(v, [...prefix, k], out); }
  }
  return out;
}

function parentOf(root: Json, path: (string | number)[]): Record<string | number, Json> {
  let v = root as Record<string | number, Json>;
  for (const k of path.slice(0, -1)) v = v[k] as Record<string | number, Json>;
  return v;
}

type Mutation =
  | { op: 'set'; at: number; value: unknown }
  | { op: 'delete'; at: number }
  | { op: 'add'; at: number; key: string; value: unknown }
  | { op: 'duplicate'; at: number }
  | { op: 'truncate'; at: number }
  | { op: 'splice'; at: number; text: string };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: hostileValue }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('add' as const), at: fc.nat(), key: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('__proto__', 'constructor', 'orderId', 'id', 'status')), value: hostileValue }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('duplicate' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('splice' as const), at: fc.nat(), text: fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom('"', '{', ']', ',', '\\', '\u0000', '\r', '\n', 'e400')) }) },
);

/** Applies `mutations` to a fixture frame: structurally on its JSON when it is JSON, as text otherwise. */
function mutate(text: string, mutations: Mutation[]): string {
  let json: Json;
  let isJson = true;
  try {
    json = JSON.parse(text) as Json;
  } catch {
    isJson = false;
  }
  let out = text;
  for (const m of mutations) {
    if (m.op === 'truncate' || m.op === 'splice' || !isJson) {
      if (isJson) out = unRaw(JSON.stringify(json));
      isJson = false;
      const at = out.length === 0 ? 0 : m.at % (out.length + 1);
      out = m.op === 'truncate' ? out.slice(0, at) : `${out.slice(0, at)}${m.op === 'splice' ? m.text : ''}${out.slice(at)}`;
      continue;
    }
    const all = paths(json);
    if (all.length === 0) {
      json = m.op === 'set' ? m.value : json;
      continue;
    }
    const path = all[m.at % all.length] as (string | number)[];
    const parent = parentOf(json, path);
    const key = path[path.length - 1] as string | number;
    if (m.op === 'set') parent[key] = m.value;
    else if (m.op === 'delete') {
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
    } else if (m.op === 'add') {
      const target = parent[key];
      if (target !== null && typeof target === 'object' && !Array.isArray(target)) Object.defineProperty(target, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
      else parent[key] = { [m.key]: m.value };
    } else if (m.op === 'duplicate') {
      if (Array.isArray(parent)) parent.splice(key as number, 0, structuredClone(parent[key]));
      else parent[key] = [parent[key], parent[key]];
    }
  }
  return isJson ? unRaw(JSON.stringify(json)) : out;
}

// ---- the properties, per venue ----------------------------------------------------------------------------------

const VENUES = registeredVenues();

describe.each(VENUES)('fuzzing the %s mapper', (venue) => {
  const mapper = venueModule(venue)?.mapper as VenueMapper;
  const corpus = venueCorpus(venue);
  const restContexts: RestContext[] = [...new Map(corpus.filter((f) => f.rest && f.rest.status < 300).map((f) => [`${f.rest?.method} ${f.rest?.path}`, f.rest as RestContext])).values()];
  const anyContext = fc.constantFrom<RestContext | undefined>(undefined, ...restContexts);

  it('has fixtures to start from, pushes and REST answers', () => {
    expect(corpus.filter((f) => !f.rest).length).toBeGreaterThan(10);
    expect(restContexts.length).toBeGreaterThan(0);
  });

  it('maps every fixture as before: the input limits refuse no real frame', () => {
    for (const f of corpus) {
      if (f.rest && f.rest.status >= 300) continue;
      let before: string;
      try {
        before = mapper.map(f.text, contextFor(venue, f.rest)).kind;
      } catch {
        before = 'dlq';
      }
      const outcome = run(mapper, venue, f.text, f.rest);
      const after = outcome.kind === 'dlq' ? `dlq ${outcome.code}: ${outcome.message}` : outcome.kind;
      expect(after.startsWith('dlq') ? 'dlq' : after, `${f.name}: ${after}`).toBe(before);
      checkOutcome(outcome, f.text);
    }
  });

  it('mutated fixture frames (pushes and REST answers, each with its own request or another of the venue)', () => {
    const frames: CorpusFrame[] = corpus.filter((f) => !f.rest || f.rest.status < 300);
    fc.assert(
      fc.property(fc.constantFrom(...frames), fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.boolean(), anyContext, (frame, mutations, ownContext, other) => {
        const text = mutate(frame.text, mutations);
        const rest = frame.rest && (ownContext || other === undefined) ? frame.rest : other;
        checkOutcome(run(mapper, venue, text, rest), text);
      }),
      { seed: SEED, numRuns: RUNS * 3 },
    );
  });

  it('random JSON, as a push and as each REST answer', () => {
    fc.assert(
      fc.property(fc.json({ maxDepth: 4 }), anyContext, (text, rest) => {
        checkOutcome(run(mapper, venue, text, rest), text);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('random JSON objects shaped like the venue envelopes (known keys, random values)', () => {
    const keys = [...new Set(corpus.flatMap((f) => [...f.text.matchAll(/"([A-Za-z_:]+)"\s*:/g)].map((m) => m[1] as string)))];
    const envelope: fc.Arbitrary<unknown> = fc.letrec<{ node: unknown }>((tie) => ({
      node: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        hostileValue,
        fc.dictionary(fc.constantFrom(...keys), tie('node'), { maxKeys: 8 }),
        fc.array(tie('node'), { maxLength: 3 }),
      ),
    })).node;
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...keys), envelope, { minKeys: 1, maxKeys: 8 }), anyContext, (obj, rest) => {
        const text = unRaw(JSON.stringify(obj));
        checkOutcome(run(mapper, venue, text, rest), text);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('random text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200, unit: 'binary' }), fc.constantFrom('', ' ', 'pong', 'ping', '\r\n', 'null', '[]', '{', '"x"', '1e400')), anyContext, (text, rest) => {
        checkOutcome(run(mapper, venue, text, rest), text);
      }),
      { seed: SEED, numRuns: RUNS / 2 },
    );
  });
});

afterAll(() => {
  const sorted = [...timings].sort((a, b) => a - b);
  const at = (q: number) => (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0).toFixed(3);
  console.log(`fuzz (seed ${SEED}): ${sorted.length} frames through normalizeFrame; median ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms per frame`);
});
