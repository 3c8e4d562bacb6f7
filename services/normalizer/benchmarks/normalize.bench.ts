/**
 * The normalizer's per-frame hot path, end to end in one process and without Kafka: provenance headers →
 * parse + validate (zod) → map → Avro single-object encode, i.e. `normalizeRecord` with the real XT mapper and
 * the real serde, over realistic frames from the XT simulator's lifecycles.
 *
 *   npm run bench                                  (every benchmark)
 *   npx vite-node --config vitest.config.ts services/normalizer/benchmarks/normalize.bench.ts [frames] [rounds]
 *
 * Prints frames/s and µs/frame per round and the heap used, and writes bench-results/normalize.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { encodeRawHeaders, orderSerdes, topicNames, type InRecord } from '@orderstream/kafka';
import { mapperLookup, XT_API_VERSION, XT_SIM_INSTRUMENTS, xtLifecycleSteps, xtOrderFrameText, xtRandomLifecycles } from '@orderstream/venues';
import { normalizeRecord, type NormalizeDeps } from '../src/normalize.js';

const frames = Number(process.argv[2] ?? 50_000);
const rounds = Number(process.argv[3] ?? 5);
const topics = topicNames();
const serdes = orderSerdes();
const deps: NormalizeDeps = {
  lookup: mapperLookup,
  reference: { xt: Object.fromEntries(XT_SIM_INSTRUMENTS.map((i) => [i.symbol, { contractSize: i.contractSize }])) },
  topics,
  encode: serdes.encodeCanonical,
  encodeMarker: serdes.encodeMarker,
  canonicalPartitions: 3,
};

// Realistic input: every push of enough random lifecycles, as exact frame text.
const records: InRecord[] = [];
let seq = 0;
for (let seed = 1; records.length < frames; seed++) {
  for (const lc of xtRandomLifecycles(200, seed)) {
    for (const step of xtLifecycleSteps(lc)) {
      const text = xtOrderFrameText(lc, step, { event: 'order@3BC1D71D6CF96DA3458FC35B05B633351684511731128', createdTime: 1_795_000_000_000 });
      records.push({
        topic: topics.raw, partition: 0, offset: String(seq), key: Buffer.from('xt|bench'), value: Buffer.from(text),
        headers: encodeRawHeaders({ venue: 'xt', account: 'bench', apiVersion: XT_API_VERSION, connId: 'c', connSeq: ++seq, receivedAt: '1795000000000000000', frameKind: 'data' }),
      });
      if (records.length >= frames) break;
    }
    if (records.length >= frames) break;
  }
}
const meanBytes = records.reduce((n, r) => n + (r.value?.length ?? 0), 0) / records.length;

let outputs = 0;
const results: { round: number; framesPerSec: number; usPerFrame: number }[] = [];
for (let round = 0; round <= rounds; round++) {
  const start = process.hrtime.bigint();
  for (const r of records) outputs += normalizeRecord(r, deps).outputs.length;
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  if (round === 0) continue; // warm-up
  results.push({ round, framesPerSec: Math.round(records.length / secs), usPerFrame: Number(((secs * 1e6) / records.length).toFixed(2)) });
}
const heapMb = Number((process.memoryUsage().heapUsed / 2 ** 20).toFixed(1));
const sorted = results.map((r) => r.usPerFrame).sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)] as number;

console.log(`normalizeRecord (XT order push → CanonicalOrder Avro), ${records.length} frames of ${meanBytes.toFixed(0)} bytes, ${rounds} rounds after a warm-up`);
console.table(results);
console.log(`median ${median} µs/frame = ${Math.round(1e6 / median)} frames/s per core; heap used ${heapMb} MiB; outputs ${outputs}`);
mkdirSync('bench-results', { recursive: true });
writeFileSync(
  'bench-results/normalize.json',
  `${JSON.stringify({ benchmark: 'normalize', node: process.version, frames: records.length, meanFrameBytes: Math.round(meanBytes), rounds: results, medianUsPerFrame: median, heapUsedMiB: heapMb, at: new Date().toISOString() }, null, 2)}\n`,
);
