import { compareDecimals } from '@orderstream/kit';
import { isTerminal, type CanonicalOrder, type OrderState, type OrderStatus } from '@orderstream/schemas';

/**
 * The merge rules (DESIGN.md §5). They make the final state independent of arrival order and duplicates:
 *  1. a terminal state is never left;
 *  2. filled quantity never goes down;
 *  3. among equal fills, the later lifecycle rank wins;
 *  4. venue update time breaks ties; then the raw offset (the collector's arrival order) does;
 *  5. an update that changes nothing emits nothing.
 * The winner's fields are taken; fields it leaves null keep the other's value (venues omit fields on some
 * updates). Fill figures (filled, average price, fee, last fill) come as one group from the higher fill.
 */
const RANK: Record<OrderStatus, number> = {
  PENDING_NEW: 0,
  UNTRIGGERED: 1,
  NEW: 2,
  PARTIALLY_FILLED: 3,
  PENDING_CANCEL: 4,
  FILLED: 5,
  CANCELED: 5,
  REJECTED: 5,
  EXPIRED: 5,
};

/** Cumulative fill in the venue's own unit when given (same unit on every update), else in base units. */
function filledOf(o: CanonicalOrder): string {
  return o.venueFilledQuantity ?? o.filledQuantity ?? '0';
}

/** >0 when `a` is further along than `b`, <0 when behind, 0 when the rules cannot tell them apart. */
export function compareProgress(a: CanonicalOrder, b: CanonicalOrder): number {
  const terminal = Number(isTerminal(a.status)) - Number(isTerminal(b.status));
  if (terminal !== 0) return terminal;
  const fill = compareDecimals(filledOf(a), filledOf(b));
  if (fill !== 0) return fill;
  const rank = RANK[a.status] - RANK[b.status];
  if (rank !== 0) return rank;
  const time = (a.updatedAt ?? 0) - (b.updatedAt ?? 0);
  if (time !== 0) return time;
  if (a.source.topic === b.source.topic && a.source.partition === b.source.partition) return a.source.offset - b.source.offset;
  return 0;
}

const FILL_FIELDS = [
  'filledQuantity', 'venueFilledQuantity', 'filledQuoteQuantity', 'averagePrice', 'fee', 'feeAsset',
  'lastFillQuantity', 'lastFillPrice', 'lastFillFee', 'lastFillId',
] as const satisfies readonly (keyof CanonicalOrder)[];

/** Fields that describe where an update came from rather than what the order is. */
const PROVENANCE = new Set<keyof CanonicalOrder>(['source', 'receivedAt']);

const FILL_SET = new Set<keyof CanonicalOrder>(FILL_FIELDS);

function mergeOrders(winner: CanonicalOrder, loser: CanonicalOrder): CanonicalOrder {
  const merged = { ...winner } as Record<keyof CanonicalOrder, unknown>;
  for (const key of Object.keys(winner) as (keyof CanonicalOrder)[]) {
    if (!FILL_SET.has(key) && merged[key] === null && loser[key] !== null) merged[key] = loser[key];
  }
  // The fill figures describe one fill level, so they move as a group, from the update with the higher
  // fill (rule 2: a terminal winner may report less fill than a live update seen before it). Between equal
  // fills they describe the same level, and one update's gaps are filled from the other.
  const fill = compareDecimals(filledOf(winner), filledOf(loser));
  const from = fill > 0 ? winner : fill < 0 ? loser : undefined;
  for (const key of FILL_FIELDS) merged[key] = from ? from[key] : (winner[key] ?? loser[key]);
  merged.extras = { ...loser.extras, ...winner.extras };
  return merged as CanonicalOrder;
}

function sameOrder(a: CanonicalOrder, b: CanonicalOrder): boolean {
  for (const key of Object.keys(a) as (keyof CanonicalOrder)[]) {
    if (PROVENANCE.has(key)) continue;
    if (key === 'extras') {
      const ea = a.extras;
      const eb = b.extras;
      const ka = Object.keys(ea);
      if (ka.length !== Object.keys(eb).length || ka.some((k) => ea[k] !== eb[k])) return false;
    } else if (a[key] !== b[key]) return false;
  }
  return true;
}

/**
 * Folds one canonical update into the current state. Returns the new state, or undefined when the update
 * changes nothing (a duplicate, or an older update that arrived late).
 */
export function reduce(current: OrderState | undefined, update: CanonicalOrder): OrderState | undefined {
  if (!current) {
    return { order: update, updateCount: 1, stateUpdatedAt: update.receivedAt, executions: [], note: null };
  }
  const progress = compareProgress(update, current.order);
  const next = progress > 0 ? mergeOrders(update, current.order) : mergeOrders(current.order, update);
  if (sameOrder(next, current.order)) return undefined;
  return {
    order: next,
    updateCount: current.updateCount + 1,
    stateUpdatedAt: Math.max(current.stateUpdatedAt, update.receivedAt),
    executions: current.executions,
    note: current.note,
  };
}
