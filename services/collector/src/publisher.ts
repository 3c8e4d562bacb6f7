import type { IHeaders, Producer } from 'kafkajs';
import { backoffDelay, errorMessage, sleep, type Logger } from '@orderstream/kit';
import type { Spool } from './spool.js';

export interface PendingRecord {
  key: string;
  value: Buffer;
  headers: IHeaders;
}

const BATCH = 500;

/**
 * Publishes raw records to one topic in exactly the order they were enqueued. One send is in flight at a
 * time and a failed send is retried (with backoff) until it succeeds: nothing is dropped. While Kafka is
 * unreachable records wait in memory; `pending` says how many.
 */
export class OrderedPublisher {
  readonly #queue: PendingRecord[] = [];
  #head = 0;
  #running: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #stopping = false;
  #published = 0;
  #failures = 0;

  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
    private readonly logger: Logger,
  ) {}

  get pending(): number {
    return this.#queue.length - this.#head;
  }

  get published(): number {
    return this.#published;
  }

  enqueue(record: PendingRecord): void {
    this.#queue.push(record);
    this.#wake?.();
  }

  start(): void {
    this.#running ??= this.#loop();
  }

  /** Stops after everything enqueued so far has been published (or `timeoutMs` passed). */
  async drainAndStop(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.pending > 0 && Date.now() < deadline) await sleep(20);
    if (this.pending > 0) this.logger.error({ pending: this.pending }, 'stopping with unpublished raw frames');
    this.#stopping = true;
    this.#wake?.();
    await this.#running;
  }

  async #loop(): Promise<void> {
    while (!this.#stopping) {
      if (this.pending === 0) {
        await new Promise<void>((resolve) => (this.#wake = resolve));
        this.#wake = undefined;
        continue;
      }
      const batch = this.#queue.slice(this.#head, this.#head + BATCH);
      try {
        await this.producer.send({ topic: this.topic, acks: -1, messages: batch });
        this.#head += batch.length;
        this.#published += batch.length;
        this.#failures = 0;
        if (this.#head > 10_000) {
          this.#queue.splice(0, this.#head);
          this.#head = 0;
        }
      } catch (error) {
        const delay = backoffDelay(this.#failures++, { initialMs: 200, maxMs: 10_000, jitter: 0.3 });
        this.logger.warn({ err: errorMessage(error), pending: this.pending, retryInMs: delay }, 'publishing raw frames failed; retrying');
        await sleep(delay);
      }
    }
  }
}

/** What the collector needs of a publisher (in memory, or through the spool). */
export interface RawPublisher {
  readonly pending: number;
  readonly published: number;
  enqueue(record: PendingRecord): void;
  start(): void;
  drainAndStop(timeoutMs?: number): Promise<void>;
}

/** Figures of the spool for stats, logs and metrics. */
export interface SpoolStats {
  dir: string;
  maxBytes: number;
  /** bytes appended and not yet in Kafka */
  unpublishedBytes: number;
  diskBytes: number;
  /** true while the spool is full (or cannot be written) and the venue sockets are paused */
  full: boolean;
  /** how many times it became full */
  fullCount: number;
  /** total ms spent full */
  fullMs: number;
  /** records a previous process left, published first at start */
  recovered: number;
  /** bytes cut off a torn tail at start */
  tornBytes: number;
  /** records waiting in memory because the spool could not be written (disk error); normally 0 */
  unwritten: number;
}

export interface SpooledPublisherHooks {
  /** the spool is full (or unwritable): stop reading the sources */
  onFull(reason: string): void;
  /** back under the low-water mark: read again */
  onDrained(): void;
}

/**
 * Write-ahead publishing (issue 10, README "Outage spool"): every record is appended to the spool before it is sent,
 * and the publish loop only ever reads the spool, from its durable published position, in order. A record is
 * committed (published position moved past it) only after Kafka acknowledged it with acks=all, so a crash at any
 * moment re-sends at most the batch in flight (duplicates, never a loss). What a previous process left is simply
 * the head of the spool: it goes out first, before anything this process appends.
 *
 * Flow control: when the unpublished bytes reach the spool's bound, `onFull` asks the caller to stop reading the
 * venues; once they fall to half the bound, `onDrained` lets it read again. If a write to the spool fails (disk
 * full, I/O error), the record is kept in memory, the sources are paused the same way, and the write is retried every
 * second, in order, before any newer record.
 */
export class SpooledPublisher implements RawPublisher {
  readonly #unwritten: PendingRecord[] = [];
  #retryWrite: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #stopping = false;
  #published = 0;
  #failures = 0;
  #fullSince: number | undefined;
  #fullCount = 0;
  #fullMs = 0;
  #readFrom: number;
  #closed = false;

  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
    private readonly spool: Spool,
    private readonly logger: Logger,
    private readonly hooks: SpooledPublisherHooks,
  ) {
    this.#readFrom = spool.published;
  }

  get pending(): number {
    return this.spool.pendingRecords + this.#unwritten.length;
  }

  get published(): number {
    return this.#published;
  }

  stats(): SpoolStats {
    return {
      dir: this.spool.dir,
      maxBytes: this.spool.maxBytes,
      unpublishedBytes: this.spool.unpublishedBytes,
      diskBytes: this.spool.diskBytes,
      full: this.#fullSince !== undefined,
      fullCount: this.#fullCount,
      fullMs: this.#fullMs + (this.#fullSince !== undefined ? Date.now() - this.#fullSince : 0),
      recovered: this.spool.report.recovered,
      tornBytes: this.spool.report.tornBytes,
      unwritten: this.#unwritten.length,
    };
  }

  enqueue(record: PendingRecord): void {
    if (this.#closed) {
      // Only a programming error gets here (the app stops its sessions before the publisher): say so, loudly.
      this.logger.error({ key: record.key }, 'raw record after the spool was closed: not written');
      return;
    }
    if (this.#unwritten.length > 0) this.#unwritten.push(record);
    else this.#append(record);
    if (this.#fullSince === undefined && (this.spool.full || this.#unwritten.length > 0)) this.#becomeFull();
    this.#wake?.();
  }

  start(): void {
    this.#running ??= this.#loop();
  }

  /** Stops after everything enqueued so far was published or `timeoutMs` passed; the rest stays in the spool. */
  async drainAndStop(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.pending > 0 && Date.now() < deadline) await sleep(20);
    this.#flushUnwritten();
    if (this.pending > 0) this.logger.warn({ pending: this.pending, spool: this.spool.dir }, 'stopping with unpublished raw frames: they stay in the spool and go first at the next start');
    this.#stopping = true;
    clearTimeout(this.#retryWrite);
    this.#wake?.();
    await this.#running;
    this.#closed = true;
    this.spool.close();
  }

  #append(record: PendingRecord): void {
    try {
      this.spool.append(record);
    } catch (error) {
      this.#unwritten.push(record);
      this.#writeFailed(error);
    }
  }

  #writeFailed(error: unknown): void {
    this.logger.error({ err: errorMessage(error), spool: this.spool.dir, unwritten: this.#unwritten.length }, 'SPOOL WRITE FAILED: frames held in memory and venue sockets paused until the spool can be written');
    this.#retryWrite ??= setTimeout(() => {
      this.#retryWrite = undefined;
      this.#flushUnwritten();
      this.#checkDrained();
    }, 1_000);
  }

  /** Writes held records in order; stops at the first failure (which schedules the next try). */
  #flushUnwritten(): void {
    while (this.#unwritten.length > 0) {
      try {
        this.spool.append(this.#unwritten[0] as PendingRecord);
      } catch (error) {
        this.#writeFailed(error);
        return;
      }
      this.#unwritten.shift();
    }
    this.#wake?.();
  }

  #becomeFull(): void {
    this.#fullSince = Date.now();
    this.#fullCount++;
    const reason = this.#unwritten.length > 0
      ? `collector spool cannot be written (${this.#unwritten.length} frames held in memory)`
      : `collector spool full: ${this.spool.unpublishedBytes} bytes not yet in Kafka, bound ${this.spool.maxBytes} (COLLECTOR_SPOOL_MAX_BYTES)`;
    this.logger.error({ spool: this.spool.dir, unpublishedBytes: this.spool.unpublishedBytes, maxBytes: this.spool.maxBytes, unwritten: this.#unwritten.length }, `SPOOL FULL: venue sockets paused, nothing is dropped — ${reason}`);
    this.hooks.onFull(reason);
  }

  #checkDrained(): void {
    if (this.#fullSince === undefined || this.#unwritten.length > 0 || this.spool.unpublishedBytes > this.spool.maxBytes / 2) return;
    const fullMs = Date.now() - this.#fullSince;
    this.#fullMs += fullMs;
    this.#fullSince = undefined;
    this.logger.warn({ spool: this.spool.dir, unpublishedBytes: this.spool.unpublishedBytes, fullMs }, 'spool drained below half its bound: venue sockets resumed');
    this.hooks.onDrained();
  }

  async #loop(): Promise<void> {
    while (!this.#stopping) {
      if (this.#readFrom >= this.spool.tail) {
        await new Promise<void>((resolve) => (this.#wake = resolve));
        this.#wake = undefined;
        continue;
      }
      const { records, next } = this.spool.read(this.#readFrom, BATCH);
      if (records.length === 0) {
        // Only damaged bytes were left (logged by the spool): step over them.
        this.#readFrom = next > this.#readFrom ? next : this.spool.tail;
        this.spool.commit(this.#readFrom, 0);
        continue;
      }
      try {
        await this.producer.send({ topic: this.topic, acks: -1, messages: records });
        this.spool.commit(next, records.length);
        this.#readFrom = next;
        this.#published += records.length;
        this.#failures = 0;
        this.#checkDrained();
      } catch (error) {
        if (this.#stopping) break;
        const delay = backoffDelay(this.#failures++, { initialMs: 200, maxMs: 5_000, jitter: 0.3 });
        this.logger.warn({ err: errorMessage(error), pending: this.pending, unpublishedBytes: this.spool.unpublishedBytes, retryInMs: delay }, 'publishing raw frames failed; they wait in the spool; retrying');
        await sleep(delay);
      }
    }
  }
}
