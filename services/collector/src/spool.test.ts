import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '@orderstream/kit';
import type { Producer } from 'kafkajs';
import { SpooledPublisher } from './publisher.js';
import { Spool } from './spool.js';
import { decodeFrame, encodeFrame, type SpoolRecord } from './spool-record.js';

const logger = silentLogger();

async function waitFor(cond: () => boolean, { timeoutMs, description }: { timeoutMs: number; description: string }): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${description}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
const dirs: string[] = [];
function freshDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'spool-test-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function rec(i: number, size = 20): SpoolRecord {
  return {
    key: `xt|acct${i % 3}`,
    value: Buffer.from(`{"n":${i},"pad":"${'x'.repeat(size)}"}`),
    headers: { venue: 'xt', account: `acct${i % 3}`, 'conn-seq': String(i), 'frame-kind': 'data' },
  };
}
const text = (r: SpoolRecord) => r.value.toString('utf8');
const header = (r: SpoolRecord, name: string) => String(r.headers[name]);

function readAll(spool: Spool, from = spool.published): SpoolRecord[] {
  const out: SpoolRecord[] = [];
  let at = from;
  while (at < spool.tail) {
    const { records, next } = spool.read(at, 7);
    expect(next).toBeGreaterThan(at);
    out.push(...records);
    at = next;
  }
  return out;
}

describe('spool record format', () => {
  it('round-trips key, exact value bytes and headers; a flipped byte or a short tail is detected', () => {
    const r: SpoolRecord = { key: 'websea|spot', value: Buffer.from([0, 255, 10, 13, 0x7b]), headers: { a: 'x', b: Buffer.from([1, 2]), c: ['1', '2'] } };
    const frame = encodeFrame(r);
    const back = decodeFrame(frame);
    expect(back.ok).toBe(true);
    if (!back.ok) return;
    expect(back.size).toBe(frame.length);
    expect(back.record.key).toBe('websea|spot');
    expect(back.record.value.equals(r.value)).toBe(true);
    expect(String(back.record.headers.a)).toBe('x');
    expect(back.record.headers.b).toEqual(Buffer.from([1, 2]));
    expect((back.record.headers.c as Buffer[]).map(String)).toEqual(['1', '2']);
    for (let i = 0; i < frame.length; i++) {
      const bad = Buffer.from(frame);
      bad[i] = (bad[i] as number) ^ 0x40;
      expect(decodeFrame(bad).ok, `byte ${i} flipped`).toBe(false);
    }
    for (let n = 0; n < frame.length; n++) expect(decodeFrame(frame.subarray(0, n))).toMatchObject({ ok: false, why: 'short' });
  });
});

describe('Spool', () => {
  it('reads back what was appended, in order, across segments', () => {
    const dir = freshDir();
    const spool = Spool.open({ dir, maxBytes: 1 << 20, segmentBytes: 1_000, logger });
    for (let i = 0; i < 300; i++) spool.append(rec(i));
    expect(readdirSync(dir).filter((n) => n.endsWith('.seg')).length).toBeGreaterThan(5);
    const back = readAll(spool);
    expect(back.map(text)).toEqual(Array.from({ length: 300 }, (_, i) => text(rec(i))));
    expect(back.map((r) => header(r, 'conn-seq'))).toEqual(Array.from({ length: 300 }, (_, i) => String(i)));
    expect(spool.pendingRecords).toBe(300);
    spool.close();
  });

  it('fdatasyncs on a timer without disturbing appends or segment rolls', async () => {
    const dir = freshDir();
    const complaints: unknown[] = [];
    const noisy = { ...silentLogger(), warn: (...a: unknown[]) => complaints.push(a), error: (...a: unknown[]) => complaints.push(a) } as unknown as typeof logger;
    const spool = Spool.open({ dir, maxBytes: 1 << 20, segmentBytes: 2_000, fsyncIntervalMs: 1, logger: noisy });
    for (let i = 0; i < 200; i++) {
      spool.append(rec(i));
      if (i % 5 === 0) await new Promise((r) => setTimeout(r, 1)); // let the timer and its fdatasync run between rolls
    }
    expect(readAll(spool).map(text)).toEqual(Array.from({ length: 200 }, (_, i) => text(rec(i))));
    spool.close();
    await new Promise((r) => setTimeout(r, 20)); // fdatasyncs still in flight complete (and close their descriptors)
    expect(complaints).toEqual([]);
  });

  it('keeps the published position across a restart and deletes published segments', () => {
    const dir = freshDir();
    let spool = Spool.open({ dir, maxBytes: 1 << 20, segmentBytes: 1_000, logger });
    for (let i = 0; i < 100; i++) spool.append(rec(i));
    const { records, next } = spool.read(spool.published, 60, 1 << 20);
    expect(records.length).toBe(60);
    spool.commit(next, 60);
    const segmentsBefore = readdirSync(dir).filter((n) => n.endsWith('.seg')).length;
    // No close(): the process dies (the lock is left behind, the fd closes with the process).
    spool = Spool.open({ dir, maxBytes: 1 << 20, segmentBytes: 1_000, logger });
    expect(spool.published).toBe(next);
    expect(spool.report.recovered).toBe(40);
    expect(spool.pendingRecords).toBe(40);
    expect(readAll(spool).map(text)).toEqual(Array.from({ length: 40 }, (_, i) => text(rec(60 + i))));
    expect(readdirSync(dir).filter((n) => n.endsWith('.seg')).length).toBeLessThanOrEqual(segmentsBefore);
    // Appends after the restart follow what was left.
    spool.append(rec(100));
    expect(readAll(spool).map(text).at(-1)).toBe(text(rec(100)));
    spool.commit(spool.tail, 41);
    expect(spool.unpublishedBytes).toBe(0);
    expect(readdirSync(dir).filter((n) => n.endsWith('.seg')).length).toBe(1);
    spool.close();
    spool = Spool.open({ dir, maxBytes: 1 << 20, segmentBytes: 1_000, logger });
    expect(spool.report.recovered).toBe(0);
    expect(spool.read(spool.published).records).toEqual([]);
    spool.close();
  });

  it('cuts off a torn tail (short write or garbage) at open, and appends after it', () => {
    const dir = freshDir();
    let spool = Spool.open({ dir, maxBytes: 1 << 20, logger });
    for (let i = 0; i < 10; i++) spool.append(rec(i));
    const goodEnd = spool.tail;
    spool.append(rec(10));
    const seg = join(dir, readdirSync(dir).find((n) => n.endsWith('.seg')) as string);
    // A crash in the middle of the 11th record's write: only part of it reached the file.
    truncateSync(seg, goodEnd + 13);
    spool = Spool.open({ dir, maxBytes: 1 << 20, logger });
    expect(spool.report).toMatchObject({ recovered: 10, tornBytes: 13 });
    expect(statSync(seg).size).toBe(goodEnd);
    expect(spool.tail).toBe(goodEnd);
    // Garbage of the right length with a wrong checksum.
    const fake = encodeFrame(rec(99));
    fake[fake.length - 1] = (fake[fake.length - 1] as number) ^ 1;
    appendFileSync(seg, fake);
    spool = Spool.open({ dir, maxBytes: 1 << 20, logger });
    expect(spool.report).toMatchObject({ recovered: 10, tornBytes: fake.length });
    spool.append(rec(11));
    expect(readAll(spool).map(text)).toEqual([...Array.from({ length: 10 }, (_, i) => text(rec(i))), text(rec(11))]);
    spool.close();
  });

  it('is full at its bound and not before', () => {
    const dir = freshDir();
    const one = encodeFrame(rec(0)).length;
    const spool = Spool.open({ dir, maxBytes: one * 10, logger });
    for (let i = 0; i < 9; i++) spool.append(rec(0));
    expect(spool.full).toBe(false);
    spool.append(rec(0));
    expect(spool.full).toBe(true);
    expect(spool.unpublishedBytes).toBe(one * 10);
    const { next } = spool.read(spool.published, 1);
    spool.commit(next, 1);
    expect(spool.full).toBe(false);
    spool.close();
  });

  it('refuses a directory a live process holds, takes over one whose process is gone', () => {
    const dir = freshDir();
    const a = Spool.open({ dir, maxBytes: 1 << 20, logger });
    expect(() => Spool.open({ dir, maxBytes: 1 << 20, logger: silentLogger() })).not.toThrow(); // same pid: a restart inside one process
    a.close();
    writeFileSync(join(dir, 'LOCK'), String(process.ppid));
    expect(() => Spool.open({ dir, maxBytes: 1 << 20, logger })).toThrow(/in use by process/);
    writeFileSync(join(dir, 'LOCK'), '2147483646');
    const b = Spool.open({ dir, maxBytes: 1 << 20, logger });
    expect(readFileSync(join(dir, 'LOCK'), 'utf8')).toBe(String(process.pid));
    b.close();
  });
});

describe('SpooledPublisher', () => {
  /** A producer whose sends fail while `down` is true. */
  function fakeProducer() {
    const sent: { key: string; value: string }[] = [];
    const state = { down: false, sends: 0 };
    const producer = {
      send: async ({ messages }: { messages: { key: string; value: Buffer }[] }) => {
        state.sends++;
        await Promise.resolve();
        if (state.down) throw new Error('broker unreachable');
        for (const m of messages) sent.push({ key: String(m.key), value: m.value.toString('utf8') });
        return [];
      },
    } as unknown as Producer;
    return { producer, sent, state };
  }

  it('publishes in order through an outage, pauses at the bound and resumes when drained, and a restart sends what was left first', async () => {
    const dir = freshDir();
    const one = encodeFrame(rec(0)).length;
    const { producer, sent, state } = fakeProducer();
    const events: string[] = [];
    const hooks = { onFull: () => events.push('full'), onDrained: () => events.push('drained') };
    const spool = Spool.open({ dir, maxBytes: one * 50, logger });
    const pub = new SpooledPublisher(producer, 'raw', spool, logger, hooks);
    pub.start();
    for (let i = 0; i < 20; i++) pub.enqueue(rec(i));
    await waitFor(() => sent.length === 20, { timeoutMs: 5_000, description: 'first records published' });
    state.down = true;
    for (let i = 20; i < 80; i++) pub.enqueue(rec(i));
    expect(events).toEqual(['full']);
    expect(pub.stats()).toMatchObject({ full: true, fullCount: 1 });
    state.down = false;
    await waitFor(() => sent.length >= 80, { timeoutMs: 10_000, description: 'backlog published after the outage' });
    expect(events).toEqual(['full', 'drained']);
    expect(sent.map((s) => s.value)).toEqual(Array.from({ length: 80 }, (_, i) => text(rec(i))));
    expect(pub.stats()).toMatchObject({ full: false, unpublishedBytes: 0 });

    // The process dies while the broker is away again: the next one publishes the leftovers first.
    state.down = true;
    for (let i = 80; i < 90; i++) pub.enqueue(rec(i));
    await pub.drainAndStop(0);
    const { producer: producer2, sent: sent2 } = fakeProducer();
    const pub2 = new SpooledPublisher(producer2, 'raw', Spool.open({ dir, maxBytes: one * 50, logger }), logger, hooks);
    expect(pub2.stats().recovered).toBe(10);
    pub2.start();
    pub2.enqueue(rec(90));
    await waitFor(() => sent2.length === 11, { timeoutMs: 5_000, description: 'leftovers and the new record published' });
    expect(sent2.map((s) => s.value)).toEqual(Array.from({ length: 11 }, (_, i) => text(rec(80 + i))));
    await pub2.drainAndStop(1_000);
  });

  it('holds records in memory while the spool cannot be written (disk full), pauses, and writes them in order later', async () => {
    const dir = freshDir();
    const { producer, sent } = fakeProducer();
    const events: string[] = [];
    const spool = Spool.open({ dir, maxBytes: 1 << 20, logger });
    const pub = new SpooledPublisher(producer, 'raw', spool, logger, { onFull: (reason) => events.push(`full: ${reason}`), onDrained: () => events.push('drained') });
    pub.start();
    const append = spool.append.bind(spool);
    let failures = 3;
    spool.append = (r) => {
      if (failures > 0) {
        failures--;
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      }
      return append(r);
    };
    for (let i = 0; i < 10; i++) pub.enqueue(rec(i));
    expect(events).toEqual([expect.stringMatching(/spool cannot be written \(1 frames held in memory\)/)]);
    expect(pub.stats()).toMatchObject({ full: true, unwritten: 10 });
    expect(pub.pending).toBe(10);
    await waitFor(() => sent.length === 10, { timeoutMs: 10_000, description: 'held records written and published' });
    expect(sent.map((s) => s.value)).toEqual(Array.from({ length: 10 }, (_, i) => text(rec(i))));
    await waitFor(() => events.length === 2, { timeoutMs: 5_000, description: 'resume after the spool could be written again' });
    expect(events[1]).toBe('drained');
    expect(pub.stats()).toMatchObject({ full: false, unwritten: 0 });
    await pub.drainAndStop(1_000);
  });
});
