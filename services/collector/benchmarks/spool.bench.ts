/**
 * What the outage spool costs the collector's hot path (issue 10): every raw record is appended to the spool
 * (encode + CRC-32 + one write(2)) inside the session's sink, before it is sent; the publish loop then reads it back
 * (read + CRC check + decode) and commits the position once per batch of 500. Compared with the in-memory queue it
 * replaces (an array push). Realistic records: XT order pushes with the collector's seven provenance headers.
 *
 *   npm run bench                                  (every benchmark)
 *   npx vite-node --config vitest.config.ts services/collector/benchmarks/spool.bench.ts [frames] [rounds]
 *
 * Prints µs/frame per round for each step and writes bench-results/spool.json. The spool lives in the OS temp dir.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@orderstream/kit';
import { encodeRawHeaders, rawKey } from '@orderstream/kafka';
import { XT_API_VERSION, xtLifecycleSteps, xtOrderFrameText, xtRandomLifecycles } from '@orderstream/venues';
import type { PendingRecord } from '../src/publisher.js';
import { Spool } from '../src/spool.js';
import { encodeFrame } from '../src/spool-record.js';

const frames = Number(process.argv[2] ?? 50_000);
const rounds = Number(process.argv[3] ?? 5);
const BATCH = 500;

const records: PendingRecord[] = [];
for (let seed = 1; records.length < frames; seed++) {
  for (const lc of xtRandomLifecycles(200, seed)) {
    for (const step of xtLifecycleSteps(lc)) {
      const text = xtOrderFrameText(lc, step, { event: 'order@3BC1D71D6CF96DA3458FC35B05B633351684511731128', createdTime: 1_795_000_000_000 });
      records.push({
        key: rawKey('xt', 'bench'),
        value: Buffer.from(text),
        headers: encodeRawHeaders({
          venue: 'xt', account: 'bench', apiVersion: XT_API_VERSION, connId: '9b2f6a4e-0d7c-4a51-9a43-3f0c2d1e8b77', connSeq: records.length + 1,
          receivedAt: '1795000000000000000', frameKind: 'data',
        }),
      });
      if (records.length >= frames) break;
    }
    if (records.length >= frames) break;
  }
}
const meanBytes = records.reduce((n, r) => n + r.value.length, 0) / records.length;
const us = (ns: bigint) => Number(ns) / 1e3 / records.length;
/** CPU time (user + system) per frame: what the step costs when the machine is shared */
const cpuUs = (c: NodeJS.CpuUsage) => Number(((c.user + c.system) / records.length).toFixed(2));

const results: { round: number; memoryQueueUs: number; encodeUs: number; appendUs: number; appendCpuUs: number; readCommitUs: number; readCommitCpuUs: number; spoolBytesPerFrame: number }[] = [];
for (let round = 0; round <= rounds; round++) {
  // Baseline: the in-memory queue (OrderedPublisher.enqueue is an array push).
  const queue: PendingRecord[] = [];
  let t = process.hrtime.bigint();
  for (const r of records) queue.push(r);
  const memoryNs = process.hrtime.bigint() - t;

  // The CPU part of an append alone (framing + CRC-32), without the write(2).
  t = process.hrtime.bigint();
  let framed = 0;
  for (const r of records) framed += encodeFrame(r).length;
  const encodeNs = process.hrtime.bigint() - t;
  if (framed === 0) throw new Error('nothing encoded');

  const dir = mkdtempSync(join(tmpdir(), 'spool-bench-'));
  const spool = Spool.open({ dir, maxBytes: 2 ** 40, logger: silentLogger() });
  t = process.hrtime.bigint();
  let cpu = process.cpuUsage();
  for (const r of records) spool.append(r);
  const appendNs = process.hrtime.bigint() - t;
  const appendCpu = process.cpuUsage(cpu);
  const bytes = spool.tail;

  t = process.hrtime.bigint();
  cpu = process.cpuUsage();
  let read = 0;
  let at = spool.published;
  while (at < spool.tail) {
    const batch = spool.read(at, BATCH);
    read += batch.records.length;
    spool.commit(batch.next, batch.records.length);
    at = batch.next;
  }
  const readNs = process.hrtime.bigint() - t;
  const readCpu = process.cpuUsage(cpu);
  if (read !== records.length) throw new Error(`read back ${read} of ${records.length} records`);
  spool.close();
  rmSync(dir, { recursive: true, force: true });
  if (round === 0) continue; // warm-up
  results.push({
    round, memoryQueueUs: Number(us(memoryNs).toFixed(3)), encodeUs: Number(us(encodeNs).toFixed(2)), appendUs: Number(us(appendNs).toFixed(2)), appendCpuUs: cpuUs(appendCpu), readCommitUs: Number(us(readNs).toFixed(2)), readCommitCpuUs: cpuUs(readCpu),
    spoolBytesPerFrame: Math.round(bytes / records.length),
  });
}
const median = (k: 'memoryQueueUs' | 'encodeUs' | 'appendUs' | 'appendCpuUs' | 'readCommitUs' | 'readCommitCpuUs') => {
  const s = results.map((r) => r[k]).sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};
const summary = { memoryQueueUs: median('memoryQueueUs'), encodeUs: median('encodeUs'), appendUs: median('appendUs'), appendCpuUs: median('appendCpuUs'), readCommitUs: median('readCommitUs'), readCommitCpuUs: median('readCommitCpuUs') };

console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} cores`);
console.log(`outage spool, ${records.length} XT frames of ${meanBytes.toFixed(0)} bytes (+ 7 headers), ${rounds} rounds after a warm-up, dir in ${tmpdir()}`);
console.table(results);
console.log(
  `median: sink side ${summary.appendUs} µs/frame wall (${summary.appendCpuUs} µs CPU) to append, of which ${summary.encodeUs} µs framing + CRC (vs ${summary.memoryQueueUs} µs for the in-memory queue) = ${Math.round(1e6 / summary.appendUs)} frames/s per core; ` +
    `publish side ${summary.readCommitUs} µs/frame wall (${summary.readCommitCpuUs} µs CPU) to read back, check and commit (batches of ${BATCH})`,
);
mkdirSync('bench-results', { recursive: true });
writeFileSync(
  'bench-results/spool.json',
  `${JSON.stringify({ benchmark: 'spool', node: process.version, frames: records.length, meanFrameBytes: Math.round(meanBytes), rounds: results, median: summary, loadAverage: loadavg(), cores: cpus().length, at: new Date().toISOString() }, null, 2)}\n`,
);
