import { addDecimals, compareDecimals, divDecimals, mulDecimals } from '@orderstream/kit';
import { isTerminal, type CanonicalOrder, type Execution, type OrderState, type OrderStatus, type SnapshotMarker } from '@orderstream/schemas';

/**
 * The merge rules (DESIGN.md §5). They make the final state independent of arrival order and duplicates:
 *  1. a terminal state is never left (except CLOSED_UNKNOWN, order-state's own, for the venue's real outcome);
 *  2. filled quantity never goes down;
 *  3. among equal fills, the later lifecycle rank wins;
 *  4. venue update time breaks ties; then the raw offset (the collector's arrival order) does;
 *  5. an update that changes nothing emits nothing.
 * The winner's fields are taken; fields it leaves null keep the other's value (venues omit fields on some
 * updates). Fill figures (filled, average price, fee, last fill) come as one group from the higher fill.
 *
 * Venues that report only each execution (WebSea: `lastFillId` set, no cumulative figures) are summed instead:
 *  6. Per-execution venues: the state keeps the set of distinct executions, and cumulative filled quantity, filled
 *     notional, average price and fee (a missing fee counts 0) are derived from that set, so a repeated push never
 *     counts twice and order does not matter. An order with no execution has filled 0. The venue's REST answers
 *     (reconciliation, DESIGN.md decision 10) join in without double counting:
 *     a. An execution id `<fingerprint>#<trade id>` comes from the venue's trade list; a pushed execution's id is the
 *        bare fingerprint (order, second, quantity, price, fee). A pushed execution counts only while no trade of the
 *        list carries its fingerprint: the same execution seen both ways counts once, executions lost in a gap are
 *        restored by the list, and two executions the pushes cannot tell apart (same second and figures) count
 *        twice, told apart by their trade ids. The counted set depends only on the ids seen, never on their order.
 *     b. A trade-list record (`extras.executionOnly`) knows no order status, side or type: it adds its execution
 *        and never decides an order field. If it is all the state has seen, it stands in until the first other
 *        update, which replaces it entirely.
 *     c. An update with a cumulative filled quantity (a REST order answer: filled so far and average price) is the
 *        venue's claim. The highest claim is kept (`venueFilledQuantity`, its average in
 *        `extras.venueAveragePrice`); it never adds to the executions. While it exceeds the executions' sum (some
 *        executions not yet known: the trade list is on its way), the state reports the claim (filled, average,
 *        notional = filled × average; fee = the known executions' fees, a lower bound) and says so in `note`; once
 *        the executions reach it, they decide again.
 *     d. Status and the other order fields follow rules 1, 3, 4 and 5 (there is no cumulative fill to compare in
 *        rule 2); the last fill is the winner's own. A REST order answer has no update time of its own: its venue
 *        time is its receipt (the order as of then), so it wins ties against the earlier pushes it has seen past.
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
  CLOSED_UNKNOWN: 5,
};

/** 0 live, 1 closed with unknown outcome (order-state's own guess), 2 terminal as the venue said. */
function terminalLevel(status: OrderStatus): number {
  return status === 'CLOSED_UNKNOWN' ? 1 : isTerminal(status) ? 2 : 0;
}

/** Decimals of an average price derived from summed executions (half-even); exact when the quotient ends sooner. */
export const DERIVED_AVERAGE_PRICE_SCALE = 12;

/** Cumulative fill in the venue's own unit when given (same unit on every update), else in base units. */
function filledOf(o: CanonicalOrder): string {
  return o.venueFilledQuantity ?? o.filledQuantity ?? '0';
}

/**
 * Venues whose order pushes report each execution and never a cumulative fill (libs/venues/src/websea/README.md).
 * Every update of theirs is summed, including those with no execution (an order that never traded has filled 0).
 */
export const PER_EXECUTION_VENUES: ReadonlySet<string> = new Set(['websea']);

/** An update of a venue that reports executions one by one, with no cumulative figures. */
export function isPerExecution(o: CanonicalOrder): boolean {
  if (PER_EXECUTION_VENUES.has(o.venue)) return true;
  return o.lastFillId !== null && o.filledQuantity === null && o.venueFilledQuantity === null;
}

/** Rule 6b: a record that carries one execution from a venue's trade list and no order fields. */
export const EXECUTION_ONLY_EXTRA = 'executionOnly';
function isExecutionOnly(o: CanonicalOrder): boolean {
  return o.extras[EXECUTION_ONLY_EXTRA] === 'true';
}

/** Rule 6a: a trade-list execution id is `<fingerprint>#<trade id>`; a pushed one is the bare fingerprint. */
function fingerprintOf(id: string): string | undefined {
  const hash = id.lastIndexOf('#');
  return hash < 0 ? undefined : id.slice(0, hash);
}

/** Rule 6a: the executions that count, sorted by id. */
function countedExecutions(all: readonly Execution[]): Execution[] {
  const listed = new Set<string>();
  for (const e of all) {
    const f = fingerprintOf(e.id);
    if (f !== undefined) listed.add(f);
  }
  const byId = new Map<string, Execution>();
  for (const e of all) if (!byId.has(e.id) && (fingerprintOf(e.id) !== undefined || !listed.has(e.id))) byId.set(e.id, e);
  return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Rule 6c: the venue's claim (cumulative filled, average) an update carries, if any. */
function claimOf(o: CanonicalOrder): { filled: string; average: string | null } | undefined {
  if (isExecutionOnly(o)) return undefined;
  const filled = o.filledQuantity ?? o.venueFilledQuantity;
  if (filled === null) return undefined;
  return { filled, average: o.averagePrice };
}

/** Rule 6c: the highest claim a per-execution state has kept. */
function keptClaimOf(o: CanonicalOrder): { filled: string; average: string | null } | undefined {
  return o.venueFilledQuantity === null ? undefined : { filled: o.venueFilledQuantity, average: o.extras.venueAveragePrice ?? null };
}

function higherClaim(a: { filled: string; average: string | null } | undefined, b: { filled: string; average: string | null } | undefined) {
  if (!a) return b;
  if (!b) return a;
  const c = compareDecimals(a.filled, b.filled);
  if (c !== 0) return c > 0 ? a : b;
  return (a.average ?? '') >= (b.average ?? '') ? a : b;
}

const SHORTFALL_NOTE = 'the venue reports more filled than the executions known so far: filled and average are the venue\'s figures, fee covers the known executions only, until its trade list arrives';

/**
 * >0 when `a` is further along than `b`, <0 when behind, 0 when the rules cannot tell them apart.
 * `byFill` is false for per-execution venues, whose updates carry no cumulative fill to compare.
 */
export function compareProgress(a: CanonicalOrder, b: CanonicalOrder, byFill = true): number {
  const terminal = terminalLevel(a.status) - terminalLevel(b.status);
  if (terminal !== 0) return terminal;
  if (byFill) {
    const fill = compareDecimals(filledOf(a), filledOf(b));
    if (fill !== 0) return fill;
  }
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
const FILL_SET = new Set<keyof CanonicalOrder>(FILL_FIELDS);

/** Fields that describe where an update came from rather than what the order is. */
const PROVENANCE = new Set<keyof CanonicalOrder>(['source', 'receivedAt']);

function mergeOrders(winner: CanonicalOrder, loser: CanonicalOrder, byFill: boolean): CanonicalOrder {
  const merged = { ...winner } as Record<keyof CanonicalOrder, unknown>;
  for (const key of Object.keys(winner) as (keyof CanonicalOrder)[]) {
    if (FILL_SET.has(key) || merged[key] !== null || loser[key] === null) continue;
    merged[key] = loser[key];
  }
  // Per-execution venues: the last fill is the winner's own (cumulative figures are derived afterwards).
  if (!byFill) return { ...(merged as CanonicalOrder), extras: { ...loser.extras, ...winner.extras } };
  {
    // The fill figures describe one fill level, so they move as a group, from the update with the higher
    // fill (rule 2: a terminal winner may report less fill than a live update seen before it). Between equal
    // fills they describe the same level, and one update's gaps are filled from the other.
    const fill = compareDecimals(filledOf(winner), filledOf(loser));
    const from = fill > 0 ? winner : fill < 0 ? loser : undefined;
    for (const key of FILL_FIELDS) merged[key] = from ? from[key] : (winner[key] ?? loser[key]);
  }
  merged.extras = { ...loser.extras, ...winner.extras };
  return merged as CanonicalOrder;
}

/** The execution an update reports, if it is a per-execution update with a complete fill. */
function executionOf(u: CanonicalOrder): Execution | undefined {
  if (!isPerExecution(u) || u.lastFillId === null || u.lastFillQuantity === null || u.lastFillPrice === null) return undefined;
  return { id: u.lastFillId as string, quantity: u.lastFillQuantity, price: u.lastFillPrice, fee: u.lastFillFee };
}

/**
 * Cumulative figures from the counted executions (rule 6), or from the venue's claim while it exceeds them
 * (rule 6c). Executions are sorted by id so the stored state does not depend on arrival order.
 */
function withExecutionTotals(order: CanonicalOrder, executions: Execution[], claim?: { filled: string; average: string | null }): CanonicalOrder {
  let qty = '0';
  let notional = '0';
  let fee = '0';
  for (const e of executions) {
    qty = addDecimals(qty, e.quantity);
    notional = addDecimals(notional, mulDecimals(e.quantity, e.price));
    if (e.fee !== null) fee = addDecimals(fee, e.fee);
  }
  const extras = { ...order.extras };
  delete extras.venueAveragePrice;
  if (claim?.average) extras.venueAveragePrice = claim.average;
  const venueFilledQuantity = claim ? claim.filled : null;
  if (claim && compareDecimals(claim.filled, qty) > 0) {
    return {
      ...order,
      filledQuantity: claim.filled,
      venueFilledQuantity,
      filledQuoteQuantity: claim.average === null ? null : mulDecimals(claim.filled, claim.average),
      averagePrice: claim.average,
      fee,
      extras,
    };
  }
  return {
    ...order,
    filledQuantity: qty,
    venueFilledQuantity,
    filledQuoteQuantity: notional,
    averagePrice: compareDecimals(qty, '0') === 0 ? null : divDecimals(notional, qty, DERIVED_AVERAGE_PRICE_SCALE),
    fee,
    extras,
  };
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
  const execution = executionOf(update);
  const perExecution = isPerExecution(update) || (current?.executions.length ?? 0) > 0;
  if (!perExecution) {
    if (!current) return { order: update, updateCount: 1, stateUpdatedAt: update.receivedAt, executions: [], note: null };
    const progress = compareProgress(update, current.order, true);
    const next = progress > 0 ? mergeOrders(update, current.order, true) : mergeOrders(current.order, update, true);
    if (sameOrder(next, current.order)) return undefined;
    return { order: next, updateCount: current.updateCount + 1, stateUpdatedAt: Math.max(current.stateUpdatedAt, update.receivedAt), executions: current.executions, note: current.note };
  }
  // Rule 6.
  const claim = higherClaim(current ? (current.executions.length > 0 || isPerExecution(current.order) ? keptClaimOf(current.order) : claimOf(current.order)) : undefined, claimOf(update));
  const seen = current?.executions ?? [];
  let executions = execution && !seen.some((e) => e.id === execution.id) ? countedExecutions([...seen, execution]) : seen;
  if (executions.length === seen.length && executions.every((e, i) => e.id === seen[i]?.id)) executions = seen;
  let fields: CanonicalOrder;
  if (!current) fields = update;
  else if (isExecutionOnly(update) && !isExecutionOnly(current.order)) fields = current.order; // 6b
  else if (isExecutionOnly(current.order) && !isExecutionOnly(update)) fields = update; // 6b: the stand-in is replaced
  else {
    const progress = compareProgress(update, current.order, false);
    fields = progress > 0 ? mergeOrders(update, current.order, false) : mergeOrders(current.order, update, false);
  }
  const order = withExecutionTotals(fields, executions, claim);
  const shortfall = claim !== undefined && order.filledQuantity === claim.filled && compareDecimals(claim.filled, executions.reduce((q, e) => addDecimals(q, e.quantity), '0')) > 0;
  const note = shortfall ? SHORTFALL_NOTE : current?.note === SHORTFALL_NOTE ? null : (current?.note ?? null);
  if (!current) return { order, updateCount: 1, stateUpdatedAt: update.receivedAt, executions, note };
  if (executions === current.executions && note === current.note && sameOrder(order, current.order)) return undefined;
  return {
    order,
    updateCount: current.updateCount + 1,
    stateUpdatedAt: Math.max(current.stateUpdatedAt, update.receivedAt),
    executions,
    note,
  };
}

/**
 * A venue sent a complete list of an account's open orders (BSX, on every subscribe). Orders this partition holds
 * as live, absent from that list and last heard of before it, closed while the stream was down: they become
 * CLOSED_UNKNOWN, with a note, instead of staying open forever. A later real terminal update still replaces it.
 */
export function closeAbsent(
  store: { ofAccount(venue: string, account: string, partition: number): Iterable<[string, OrderState]> },
  marker: SnapshotMarker,
  partition: number,
): [string, OrderState][] {
  const listed = new Set(marker.orderKeys);
  const closed: [string, OrderState][] = [];
  for (const [key, state] of store.ofAccount(marker.venue, marker.account, partition)) {
    if (listed.has(key) || isTerminal(state.order.status) || state.order.receivedAt >= marker.receivedAt) continue;
    closed.push([
      key,
      {
        ...state,
        order: { ...state.order, status: 'CLOSED_UNKNOWN', receivedAt: marker.receivedAt, source: marker.source },
        updateCount: state.updateCount + 1,
        stateUpdatedAt: Math.max(state.stateUpdatedAt, marker.receivedAt),
        note: `absent from the venue's snapshot of open orders received at ${new Date(marker.receivedAt / 1000).toISOString()}: closed while the stream was down; final status unknown (was ${state.order.status})`,
      },
    ]);
  }
  return closed;
}
