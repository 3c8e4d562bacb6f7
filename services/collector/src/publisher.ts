import type { IHeaders, Producer } from 'kafkajs';
import { backoffDelay, errorMessage, sleep, type Logger } from '@orderstream/kit';

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
