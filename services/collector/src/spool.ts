import {
  closeSync, fdatasync, fdatasyncSync, fstatSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, unlinkSync, writeFileSync, writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { ConfigError, errorMessage, type Logger } from '@orderstream/kit';
import { decodeFrame, encodeFrame, FRAME_PREFIX, type SpoolRecord } from './spool-record.js';

/**
 * The collector's outage spool: an append-only write-ahead log of every raw record, on local disk, with a durable
 * "published up to" position. Rules, in the order the code applies them:
 *
 * 1. Every record is appended (one write(2) of length + CRC-32 + body, spool-record.ts) before it is sent to Kafka.
 *    Once `append` returns, the bytes are in the kernel: a crash of the process (SIGKILL, OOM) loses nothing.
 *    A crash of the machine loses at most what was written since the last fdatasync (`fsyncIntervalMs`).
 * 2. Positions are spool-wide byte offsets that only grow. Segment files are named by the position of their first
 *    byte (`<20 digits>.seg`); a new segment starts once the current one holds `segmentBytes`.
 * 3. `commit(p)` records that everything before position `p` is in Kafka: the position is written to `published`
 *    (8 bytes + CRC, via a temporary file and rename, so it is either the old or the new value). Segments wholly
 *    before it are deleted.
 * 4. On open, records from the published position to the end are read back and checked. A frame that is short or
 *    fails its CRC in the last segment is a write torn by a crash: the segment is truncated there (logged). The same
 *    in an earlier segment is damage: the rest of that segment is skipped, loudly.
 * 5. The bound: `unpublishedBytes` (tail − published) ≥ `maxBytes` makes `full` true. The spool itself never refuses
 *    a record; the caller stops reading its sources when full (the bytes already on their way still land, so the
 *    bound is exceeded by at most what was in flight). Disk use is at most unpublished bytes + one segment.
 * 6. One process per directory: a `LOCK` file holds the owner's pid; a lock whose process is gone is taken over.
 */
export interface SpoolOptions {
  dir: string;
  maxBytes: number;
  /** default: maxBytes / 8, between 1 MiB and 64 MiB */
  segmentBytes?: number;
  /** fdatasync the active segment this often (0: never; the OS writes back on its own) */
  fsyncIntervalMs?: number;
  logger: Logger;
}

export interface SpoolReadResult {
  records: SpoolRecord[];
  /** position just after the last record returned (the value to commit once they are published) */
  next: number;
}

export interface SpoolOpenReport {
  /** records left unpublished by a previous process */
  recovered: number;
  recoveredBytes: number;
  /** bytes cut off a torn tail */
  tornBytes: number;
  /** bytes skipped as damaged (not a torn tail) */
  damagedBytes: number;
}

interface Segment {
  base: number;
  size: number;
}

const POSITION_FILE = 'published';
const LOCK_FILE = 'LOCK';
/** bytes read from a segment at a time */
const READ_CHUNK = 256 * 1024;
const READ_MAX_BYTES = 1024 * 1024;

function segmentName(base: number): string {
  return `${String(base).padStart(20, '0')}.seg`;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class Spool {
  readonly dir: string;
  readonly maxBytes: number;
  readonly segmentBytes: number;
  readonly #log: Logger;
  readonly #segments: Segment[] = [];
  #fd: number;
  #tail: number;
  #published: number;
  #pendingRecords = 0;
  #dirty = false;
  /** descriptors with an fdatasync in flight, and those to close once it is done */
  readonly #syncing = new Set<number>();
  readonly #closeWhenSynced = new Set<number>();
  #fsync: NodeJS.Timeout | undefined;
  /** read cursor cache: the segment open for reading */
  #reader: { base: number; fd: number } | undefined;
  #closed = false;
  readonly report: SpoolOpenReport;

  private constructor(options: SpoolOptions) {
    this.dir = options.dir;
    this.maxBytes = options.maxBytes;
    this.segmentBytes = options.segmentBytes ?? Math.min(64 * 2 ** 20, Math.max(2 ** 20, Math.floor(options.maxBytes / 8)));
    this.#log = options.logger;
    mkdirSync(this.dir, { recursive: true });
    this.#lock();
    for (const name of readdirSync(this.dir)) {
      const m = /^(\d{20})\.seg$/.exec(name);
      if (m) this.#segments.push({ base: Number(m[1]), size: fstatSizeOf(join(this.dir, name)) });
    }
    this.#segments.sort((a, b) => a.base - b.base);
    const stored = this.#readPosition();
    const first = this.#segments[0];
    const last = this.#segments.at(-1);
    this.#published = Math.max(stored ?? 0, first?.base ?? 0);
    if (!last) {
      this.#segments.push({ base: this.#published, size: 0 });
    }
    this.report = this.#recover();
    const active = this.#segments.at(-1) as Segment;
    this.#tail = active.base + active.size;
    if (this.#published > this.#tail) this.#published = this.#tail;
    this.#fd = openSync(join(this.dir, segmentName(active.base)), 'a');
    this.#deletePublishedSegments();
    const every = options.fsyncIntervalMs ?? 0;
    if (every > 0) {
      this.#fsync = setInterval(() => this.#sync(), every);
      this.#fsync.unref();
    }
  }

  /** Opens (or creates) the spool in `dir`, checks what a previous process left and cuts a torn tail. */
  static open(options: SpoolOptions): Spool {
    return new Spool(options);
  }

  /** position of the end of the last record */
  get tail(): number {
    return this.#tail;
  }

  /** everything before this position is in Kafka */
  get published(): number {
    return this.#published;
  }

  get unpublishedBytes(): number {
    return this.#tail - this.#published;
  }

  /** records appended and not yet committed */
  get pendingRecords(): number {
    return this.#pendingRecords;
  }

  get full(): boolean {
    return this.unpublishedBytes >= this.maxBytes;
  }

  /** bytes of the segment files on disk */
  get diskBytes(): number {
    return this.#segments.reduce((n, s) => n + s.size, 0);
  }

  /** Appends one record durably against a process crash (rule 1); returns its end position. Throws on I/O errors. */
  append(record: SpoolRecord): number {
    this.#assertOpen();
    const frame = encodeFrame(record);
    let active = this.#segments.at(-1) as Segment;
    if (active.size >= this.segmentBytes) active = this.#roll();
    let written = 0;
    try {
      while (written < frame.length) written += writeSync(this.#fd, frame, written, frame.length - written);
    } catch (error) {
      // A partial write (disk full) would leave a torn frame in the middle of the file: cut it off now.
      if (written > 0) ftruncateSync(this.#fd, active.size);
      throw error;
    }
    active.size += frame.length;
    this.#tail += frame.length;
    this.#pendingRecords++;
    this.#dirty = true;
    return this.#tail;
  }

  /**
   * Reads records from `from` (a record boundary: `published` or a previous `next`) up to the tail: at most
   * `maxRecords` records and about `maxBytes` bytes (at least one record).
   */
  read(from: number, maxRecords = 500, maxBytes = READ_MAX_BYTES): SpoolReadResult {
    this.#assertOpen();
    const records: SpoolRecord[] = [];
    let at = from;
    let bytes = 0;
    while (at < this.#tail && records.length < maxRecords && bytes < maxBytes) {
      const seg = this.#segmentOf(at);
      if (!seg) break;
      const segEnd = seg.base + seg.size;
      if (at >= segEnd) {
        // End of this segment: the next one starts here (or it was skipped as damaged).
        const next = this.#segments.find((s) => s.base >= segEnd && s.base > seg.base);
        if (!next) break;
        at = next.base;
        continue;
      }
      const fd = this.#readerFor(seg.base);
      const want = Math.min(segEnd - at, READ_CHUNK, Math.max(maxBytes - bytes, FRAME_PREFIX));
      let buf = Buffer.allocUnsafe(want);
      let got = readSync(fd, buf, 0, want, at - seg.base);
      let off = 0;
      while (off < got && records.length < maxRecords) {
        const r = decodeFrame(buf.subarray(0, got), off);
        if (r.ok) {
          records.push(r.record);
          off += r.size;
          continue;
        }
        if (r.why === 'short' && off === 0) {
          // One record larger than the chunk: read exactly it.
          buf = Buffer.allocUnsafe(r.need);
          got = readSync(fd, buf, 0, r.need, at - seg.base);
          if (got < r.need) throw new Error(`spool segment ${segmentName(seg.base)} ends inside a record at ${at}`);
          continue;
        }
        if (r.why === 'short') break;
        // Damage after open's check (the file was changed under us): skip the rest of this segment, loudly.
        this.#log.error({ dir: this.dir, segment: segmentName(seg.base), at, detail: r.detail, skippedBytes: segEnd - at - off }, 'spool record damaged; skipping the rest of its segment');
        off = segEnd - at;
        break;
      }
      at += off;
      bytes += off;
    }
    return { records, next: at };
  }

  /** Everything before `position` is in Kafka (rule 3). `records`: how many records that covered. */
  commit(position: number, records: number): void {
    this.#assertOpen();
    if (position <= this.#published) return;
    if (position > this.#tail) throw new RangeError(`commit ${position} beyond the spool tail ${this.#tail}`);
    const buf = Buffer.allocUnsafe(12);
    buf.writeBigUInt64BE(BigInt(position), 0);
    buf.writeUInt32BE(crc32(buf.subarray(0, 8)), 8);
    const tmp = join(this.dir, `${POSITION_FILE}.tmp`);
    writeFileSync(tmp, buf);
    renameSync(tmp, join(this.dir, POSITION_FILE));
    this.#published = position;
    this.#pendingRecords = Math.max(0, this.#pendingRecords - records);
    this.#deletePublishedSegments();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#fsync);
    this.#syncNow();
    this.#closeFd(this.#fd);
    if (this.#reader) closeSync(this.#reader.fd);
    this.#reader = undefined;
    try {
      unlinkSync(join(this.dir, LOCK_FILE));
    } catch {
      // already gone
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error(`spool ${this.dir} is closed`);
  }

  #sync(): void {
    if (!this.#dirty || this.#closed) return;
    this.#dirty = false;
    const fd = this.#fd;
    this.#syncing.add(fd);
    fdatasync(fd, (error) => {
      this.#syncing.delete(fd);
      if (this.#closeWhenSynced.delete(fd)) closeSync(fd);
      if (error) this.#log.warn({ dir: this.dir, err: errorMessage(error) }, 'spool fdatasync failed');
    });
  }

  /** Closes a segment descriptor, after the asynchronous fdatasync on it (if any) finished. */
  #closeFd(fd: number): void {
    if (this.#syncing.has(fd)) this.#closeWhenSynced.add(fd);
    else closeSync(fd);
  }

  #syncNow(): void {
    if (!this.#dirty) return;
    this.#dirty = false;
    try {
      fdatasyncSync(this.#fd);
    } catch (error) {
      this.#log.warn({ dir: this.dir, err: errorMessage(error) }, 'spool fdatasync failed');
    }
  }

  #lock(): void {
    const path = join(this.dir, LOCK_FILE);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(path, String(process.pid), { flag: 'wx' });
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const pid = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
        throw new ConfigError([`COLLECTOR_SPOOL_DIR: ${this.dir} is in use by process ${pid} (one collector per spool directory)`]);
      }
      this.#log.warn({ dir: this.dir, previousPid: pid }, 'spool lock left by a process that is gone; taking it over');
      unlinkSync(path);
    }
    throw new ConfigError([`COLLECTOR_SPOOL_DIR: cannot lock ${this.dir}`]);
  }

  #readPosition(): number | undefined {
    let buf: Buffer;
    try {
      buf = readFileSync(join(this.dir, POSITION_FILE));
    } catch {
      return undefined;
    }
    if (buf.length !== 12 || crc32(buf.subarray(0, 8)) !== buf.readUInt32BE(8)) {
      // Cannot happen through rename; if it does, publishing everything again is the safe side (duplicates, no loss).
      this.#log.error({ dir: this.dir }, 'spool position file damaged; publishing the whole spool again');
      return undefined;
    }
    return Number(buf.readBigUInt64BE(0));
  }

  /** Rule 4: reads every unpublished record once; cuts a torn tail, skips damage. */
  #recover(): SpoolOpenReport {
    const report: SpoolOpenReport = { recovered: 0, recoveredBytes: 0, tornBytes: 0, damagedBytes: 0 };
    for (let i = 0; i < this.#segments.length; i++) {
      const seg = this.#segments[i] as Segment;
      const isLast = i === this.#segments.length - 1;
      const segEnd = seg.base + seg.size;
      if (segEnd <= this.#published) continue;
      const path = join(this.dir, segmentName(seg.base));
      const start = Math.max(0, this.#published - seg.base);
      const content = seg.size > 0 ? readFileSync(path) : Buffer.alloc(0);
      let off = start;
      let bad: string | undefined;
      while (off < content.length) {
        const r = decodeFrame(content, off);
        if (!r.ok) {
          bad = r.why === 'short' ? 'short record at the end' : r.detail;
          break;
        }
        off += r.size;
        report.recovered++;
      }
      report.recoveredBytes += off - start;
      if (bad === undefined) continue;
      const cut = content.length - off;
      if (isLast) {
        report.tornBytes += cut;
        this.#log.warn({ dir: this.dir, segment: segmentName(seg.base), at: seg.base + off, cutBytes: cut, why: bad }, 'spool tail torn by a crash; cut off');
        const fd = openSync(path, 'r+');
        try {
          ftruncateSync(fd, off);
        } finally {
          closeSync(fd);
        }
        seg.size = off;
      } else {
        report.damagedBytes += cut;
        this.#log.error({ dir: this.dir, segment: segmentName(seg.base), at: seg.base + off, skippedBytes: cut, why: bad }, 'spool segment damaged; the rest of it is skipped');
        seg.size = off;
      }
    }
    this.#pendingRecords = report.recovered;
    if (report.recovered > 0) this.#log.info({ dir: this.dir, records: report.recovered, bytes: report.recoveredBytes }, 'spool holds records a previous process did not publish; they go first');
    return report;
  }

  #segmentOf(position: number): Segment | undefined {
    let found: Segment | undefined;
    for (const s of this.#segments) {
      if (s.base <= position) found = s;
      else break;
    }
    return found;
  }

  #readerFor(base: number): number {
    if (this.#reader?.base === base) return this.#reader.fd;
    if (this.#reader) closeSync(this.#reader.fd);
    const fd = openSync(join(this.dir, segmentName(base)), 'r');
    this.#reader = { base, fd };
    return fd;
  }

  #roll(): Segment {
    // Synchronously: an asynchronous fdatasync must not outlive the descriptor (once per segment, not per record).
    this.#syncNow();
    this.#closeFd(this.#fd);
    const seg = { base: this.#tail, size: 0 };
    this.#fd = openSync(join(this.dir, segmentName(seg.base)), 'a');
    this.#segments.push(seg);
    return seg;
  }

  #deletePublishedSegments(): void {
    while (this.#segments.length > 1) {
      const first = this.#segments[0] as Segment;
      const next = this.#segments[1] as Segment;
      if (next.base > this.#published) break;
      if (this.#reader?.base === first.base) {
        closeSync(this.#reader.fd);
        this.#reader = undefined;
      }
      try {
        unlinkSync(join(this.dir, segmentName(first.base)));
      } catch (error) {
        this.#log.warn({ dir: this.dir, segment: segmentName(first.base), err: errorMessage(error) }, 'could not delete a published spool segment');
      }
      this.#segments.shift();
    }
  }
}

function fstatSizeOf(path: string): number {
  const fd = openSync(path, 'r');
  try {
    return fstatSync(fd).size;
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads every intact record of a spool directory, oldest first, without taking its lock or changing anything
 * (inspection and tests, while a collector may be appending). Stops at the first short or damaged frame of a segment.
 * `published`: the position the directory's `published` file holds (undefined when there is none).
 */
export function readSpoolDir(dir: string): { records: (SpoolRecord & { position: number })[]; published: number | undefined } {
  const records: (SpoolRecord & { position: number })[] = [];
  const segments = readdirSync(dir).filter((n) => /^\d{20}\.seg$/.test(n)).sort();
  for (const name of segments) {
    const base = Number(name.slice(0, 20));
    const content = readFileSync(join(dir, name));
    let off = 0;
    for (;;) {
      const r = decodeFrame(content, off);
      if (!r.ok) break;
      records.push({ ...r.record, position: base + off });
      off += r.size;
    }
  }
  let published: number | undefined;
  try {
    const buf = readFileSync(join(dir, POSITION_FILE));
    if (buf.length === 12 && crc32(buf.subarray(0, 8)) === buf.readUInt32BE(8)) published = Number(buf.readBigUInt64BE(0));
  } catch {
    // no position yet
  }
  return { records, published };
}
