/**
 * Avro single-object encoding throughput for orderstream's records (not part of the test suite).
 *
 *   npx vite-node --config vitest.config.ts libs/kafka/benchmarks/avro.bench.ts [iterations]
 *
 * (run from the repo root; the vitest config maps @orderstream/* to the TypeScript sources). Prints ops/s and
 * µs/op per operation, with avsc's own toBuffer/fromBuffer of the bare body as a baseline for the framing cost.
 *
 * The same file also runs under `npx vitest bench --run libs/kafka/benchmarks` (tinybench: hz = ops/s, mean in ms).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createOrderSerdes } from '../src/avro/index.js';
import { sampleCanonicalOrder, sampleOrderState } from '../src/avro/test-fixtures.js';

const iterations = Number(process.argv[2] ?? process.env.AVRO_BENCH_N ?? 200_000);
if (!Number.isInteger(iterations) || iterations <= 0) throw new Error(`bad iteration count: ${process.argv[2]}`);

const serdes = createOrderSerdes();
const order = sampleCanonicalOrder();
const state = sampleOrderState();
const orderMsg = serdes.encodeCanonical(order);
const stateMsg = serdes.encodeState(state);
const orderBody = serdes.canonicalType.toBuffer(order);

let sink = 0;
const cases: Array<[name: string, bytes: number, op: () => void]> = [
  ['encodeCanonical', orderMsg.length, () => { sink += serdes.encodeCanonical(order).length; }],
  ['decodeCanonical', orderMsg.length, () => { sink += serdes.decodeCanonical(orderMsg).receivedAt & 1; }],
  ['encode+decode canonical', orderMsg.length, () => { sink += serdes.decodeCanonical(serdes.encodeCanonical(order)).source.partition; }],
  ['encodeState', stateMsg.length, () => { sink += serdes.encodeState(state).length; }],
  ['decodeState', stateMsg.length, () => { sink += serdes.decodeState(stateMsg).updateCount; }],
  ['baseline avsc toBuffer (body only)', orderBody.length, () => { sink += serdes.canonicalType.toBuffer(order).length; }],
  ['baseline avsc fromBuffer (body only)', orderBody.length, () => { sink += (serdes.canonicalType.fromBuffer(orderBody) as { receivedAt: number }).receivedAt & 1; }],
];

if (process.env.VITEST) {
  const { bench, describe } = await import('vitest');
  describe('avro single-object encoding', () => {
    for (const [name, , op] of cases) bench(name, op);
  });
} else {
  runManually();
}

function runManually(): void {
  function run(op: () => void, n: number): number {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) op();
    return Number(process.hrtime.bigint() - start) / 1e9;
  }

  console.log(`node ${process.version}, ${iterations} iterations per case (after ${Math.min(iterations, 50_000)} warm-up)`);
  console.log('case'.padEnd(40) + 'bytes'.padStart(7) + 'ops/s'.padStart(14) + 'µs/op'.padStart(10));
  const results: { case: string; bytes: number; opsPerSec: number; usPerOp: number }[] = [];
  for (const [name, bytes, op] of cases) {
    run(op, Math.min(iterations, 50_000));
    const seconds = run(op, iterations);
    const opsPerSec = iterations / seconds;
    results.push({ case: name, bytes, opsPerSec: Math.round(opsPerSec), usPerOp: Number(((seconds * 1e6) / iterations).toFixed(3)) });
    console.log(
      name.padEnd(40) +
        String(bytes).padStart(7) +
        Math.round(opsPerSec).toLocaleString('en-US').padStart(14) +
        ((seconds * 1e6) / iterations).toFixed(3).padStart(10),
    );
  }
  if (sink === -1) console.log('(unreachable)');
  mkdirSync('bench-results', { recursive: true });
  writeFileSync('bench-results/avro.json', `${JSON.stringify({ benchmark: 'avro', node: process.version, iterations, results, at: new Date().toISOString() }, null, 2)}\n`);
}
