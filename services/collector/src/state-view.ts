import { errorMessage, type Logger } from '@orderstream/kit';
import { readTopicToEnd, tailTopic, type InRecord, type Kafka, type TopicNames } from '@orderstream/kafka';
import { isTerminal, type OrderState } from '@orderstream/schemas';
import type { LiveOrderRef } from '@orderstream/venues';

interface AccountView {
  /** orders the state holds live or CLOSED_UNKNOWN, by venue order id */
  open: Map<string, LiveOrderRef & { key: string }>;
  /** epoch ms of the latest update the state holds for the account */
  lastSeenMs: number | undefined;
}

export interface StateViewDeps {
  kafka: Kafka;
  topics: TopicNames;
  decodeState: (buf: Buffer) => OrderState;
  /** `venue|account` of the accounts this collector serves; other accounts' orders are not kept */
  accounts: ReadonlySet<string>;
  logger: Logger;
}

/**
 * The collector's view of orders.state.v1 for its own accounts: which orders are still open (live, or closed by
 * order-state as CLOSED_UNKNOWN) and when the account was last heard of. Reconciliation starts from it: the open
 * ones are the orders to ask about after a gap, and the last update is where a restart's gap began.
 *
 * Loaded to the topic's end before the venue sessions start, then kept current by a tail of the topic. A record
 * only replaces what the view holds for its key when its updateCount is higher (order-state counts every change
 * of an order), so the tail re-reading older records never moves an order back.
 */
export class StateView {
  readonly #accounts = new Map<string, AccountView>();
  readonly #counts = new Map<string, number>();
  #tail: { stop(): Promise<void> } | undefined;
  #loaded = 0;

  private constructor(private readonly deps: StateViewDeps) {
    for (const a of deps.accounts) this.#accounts.set(a, { open: new Map(), lastSeenMs: undefined });
  }

  static async start(deps: StateViewDeps): Promise<StateView> {
    const view = new StateView(deps);
    for (const r of await readTopicToEnd(deps.kafka, deps.topics.state, { logger: deps.logger })) view.#apply(r);
    view.#loaded = view.#counts.size;
    deps.logger.info({ orders: view.#loaded, open: view.openCount }, 'state view loaded from the state topic');
    view.#tail = await tailTopic(deps.kafka, deps.topics.state, { fromBeginning: true, onRecords: (records) => records.forEach((r) => view.#apply(r)) });
    return view;
  }

  /** Orders of the account the state holds as live or CLOSED_UNKNOWN (the candidates for detail lookups). */
  suspects(venue: string, account: string): LiveOrderRef[] {
    return [...(this.#accounts.get(`${venue}|${account}`)?.open.values() ?? [])].map(({ key: _key, ...ref }) => ref);
  }

  /** Epoch ms of the latest update the state holds for the account; undefined when it holds none. */
  lastSeenMs(venue: string, account: string): number | undefined {
    return this.#accounts.get(`${venue}|${account}`)?.lastSeenMs;
  }

  get openCount(): number {
    let n = 0;
    for (const a of this.#accounts.values()) n += a.open.size;
    return n;
  }

  async stop(): Promise<void> {
    await this.#tail?.stop();
  }

  #apply(r: InRecord): void {
    const key = r.key === null ? undefined : String(r.key);
    if (key === undefined) return;
    const second = key.indexOf('|', key.indexOf('|') + 1);
    const view = second < 0 ? undefined : this.#accounts.get(key.slice(0, second));
    if (!view) return;
    const orderId = key.slice(second + 1);
    if (!r.value) {
      // A tombstone (terminal retention): the order is gone from the state, and terminal.
      view.open.delete(orderId);
      this.#counts.set(key, Number.MAX_SAFE_INTEGER); // the tail re-reading its older records must not revive it
      return;
    }
    let state: OrderState;
    try {
      state = this.deps.decodeState(r.value);
    } catch (error) {
      this.deps.logger.warn({ partition: r.partition, offset: r.offset, err: errorMessage(error) }, 'state view: undecodable state record ignored');
      return;
    }
    if ((this.#counts.get(key) ?? 0) >= state.updateCount) return;
    this.#counts.set(key, state.updateCount);
    const o = state.order;
    const seenMs = Math.floor(o.receivedAt / 1000);
    if (view.lastSeenMs === undefined || seenMs > view.lastSeenMs) view.lastSeenMs = seenMs;
    if (isTerminal(o.status) && o.status !== 'CLOSED_UNKNOWN') {
      view.open.delete(orderId);
      return;
    }
    view.open.set(orderId, {
      key,
      orderId: o.orderId,
      symbol: o.venueSymbol,
      status: o.status,
      ...(o.clientOrderId ? { clientOrderId: o.clientOrderId } : {}),
      ...(o.createdAt !== null ? { createdAtMs: Math.floor(o.createdAt / 1000) } : {}),
    });
  }
}
