import type { OrderState } from '@orderstream/schemas';

export interface Entry {
  state: OrderState;
  /** the partition of orders.canonical.v1 / orders.state.v1 the order lives on (co-partitioned by orderKey) */
  partition: number;
}

/** A change of one order in the store: `after` undefined when it was removed, `before` when it is new. */
export type StoreListener = (key: string, before: OrderState | undefined, after: OrderState | undefined) => void;

/**
 * The in-memory current state, one entry per orderKey. It is a cache of orders.state.v1: on start it is
 * rebuilt from that topic, so it is never the only copy of anything.
 */
export class OrderStore {
  readonly #orders = new Map<string, Entry>();
  readonly #listeners = new Set<StoreListener>();

  /** Calls `listener` after every change of an order (set, delete, dropped partition); returns the unsubscribe. */
  subscribe(listener: StoreListener): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  #changed(key: string, before: OrderState | undefined, after: OrderState | undefined): void {
    for (const l of this.#listeners) l(key, before, after);
  }

  get(key: string): OrderState | undefined {
    return this.#orders.get(key)?.state;
  }

  set(key: string, state: OrderState, partition: number): void {
    const before = this.#listeners.size > 0 ? this.#orders.get(key)?.state : undefined;
    this.#orders.set(key, { state, partition });
    if (this.#listeners.size > 0) this.#changed(key, before, state);
  }

  delete(key: string): void {
    const before = this.#orders.get(key)?.state;
    this.#orders.delete(key);
    if (before && this.#listeners.size > 0) this.#changed(key, before, undefined);
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
    for (const [key, e] of this.#orders) {
      if (!drop.has(e.partition)) continue;
      this.#orders.delete(key);
      if (this.#listeners.size > 0) this.#changed(key, e.state, undefined);
    }
  }
}
