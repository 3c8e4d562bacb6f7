import type { OrderState } from '@orderstream/schemas';

/**
 * The in-memory current state, one entry per orderKey. It is a cache of orders.state.v1: on start it is
 * rebuilt from that topic, so it is never the only copy of anything.
 */
export class OrderStore {
  readonly #orders = new Map<string, OrderState>();

  get(key: string): OrderState | undefined {
    return this.#orders.get(key);
  }

  set(key: string, state: OrderState): void {
    this.#orders.set(key, state);
  }

  delete(key: string): void {
    this.#orders.delete(key);
  }

  get size(): number {
    return this.#orders.size;
  }

  values(): IterableIterator<OrderState> {
    return this.#orders.values();
  }
}
