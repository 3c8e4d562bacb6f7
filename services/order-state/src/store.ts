import type { OrderState } from '@orderstream/schemas';

export interface Entry {
  state: OrderState;
  /** the partition of orders.canonical.v1 / orders.state.v1 the order lives on (co-partitioned by orderKey) */
  partition: number;
}

/**
 * The in-memory current state, one entry per orderKey. It is a cache of orders.state.v1: on start it is
 * rebuilt from that topic, so it is never the only copy of anything.
 */
export class OrderStore {
  readonly #orders = new Map<string, Entry>();

  get(key: string): OrderState | undefined {
    return this.#orders.get(key)?.state;
  }

  set(key: string, state: OrderState, partition: number): void {
    this.#orders.set(key, { state, partition });
  }

  delete(key: string): void {
    this.#orders.delete(key);
  }

  get size(): number {
    return this.#orders.size;
  }

  *entries(): IterableIterator<[string, OrderState]> {
    for (const [key, e] of this.#orders) yield [key, e.state];
  }

  *values(): IterableIterator<OrderState> {
    for (const e of this.#orders.values()) yield e.state;
  }

  /**
   * Orders of one venue account on one partition; `overlay` (changes staged but not yet committed) wins over the
   * store.
   */
  *ofAccount(venue: string, account: string, partition: number, overlay?: ReadonlyMap<string, Entry>): Generator<[string, OrderState]> {
    const prefix = `${venue}|${account}|`;
    for (const [key, e] of this.#orders) {
      if (e.partition === partition && key.startsWith(prefix)) yield [key, overlay?.get(key)?.state ?? e.state];
    }
    for (const [key, e] of overlay ?? []) {
      if (!this.#orders.has(key) && e.partition === partition && key.startsWith(prefix)) yield [key, e.state];
    }
  }

  /** Orders on one partition. */
  *ofPartition(partition: number): Generator<[string, OrderState]> {
    for (const [key, e] of this.#orders) if (e.partition === partition) yield [key, e.state];
  }

  /** Forgets the orders of partitions this instance no longer owns (or must restore again). */
  dropPartitions(partitions: readonly number[]): void {
    if (partitions.length === 0) return;
    const drop = new Set(partitions);
    for (const [key, e] of this.#orders) if (drop.has(e.partition)) this.#orders.delete(key);
  }
}
