import { isTerminal, type OrderState } from '@orderstream/schemas';

/**
 * Terminal retention (off unless configured): a terminal order whose state last changed more than `retentionMs`
 * ago gets a tombstone on orders.state.v1, so the compacted topic does not grow forever. "Last changed" is the
 * state's `stateUpdatedAt` (collector receive time of the update that last changed it, epoch µs).
 * Live orders are never expired, however old.
 */
export function expiredTerminal(entries: Iterable<[string, OrderState]>, nowMicros: number, retentionMs: number): string[] {
  const cutoff = nowMicros - retentionMs * 1_000;
  const expired: string[] = [];
  for (const [key, state] of entries) {
    if (isTerminal(state.order.status) && state.stateUpdatedAt < cutoff) expired.push(key);
  }
  return expired;
}
