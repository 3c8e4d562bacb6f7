import { describe, expect, it } from 'vitest';
import type { OrderState, OrderStatus } from '@orderstream/schemas';
import { expiredTerminal } from './retention.js';

const state = (status: OrderStatus, stateUpdatedAt: number) => ({ order: { status }, stateUpdatedAt }) as unknown as OrderState;

describe('expiredTerminal', () => {
  it('expires terminal orders older than the retention, never live ones', () => {
    const now = 1_000_000_000_000;
    const entries: [string, OrderState][] = [
      ['old-filled', state('FILLED', now - 10_000_000)],
      ['old-closed-unknown', state('CLOSED_UNKNOWN', now - 10_000_000)],
      ['fresh-canceled', state('CANCELED', now - 1_000_000)],
      ['ancient-live', state('PARTIALLY_FILLED', 0)],
      ['just-at-cutoff', state('EXPIRED', now - 5_000_000)],
    ];
    expect(expiredTerminal(entries, now, 5_000)).toEqual(['old-filled', 'old-closed-unknown']);
  });
});
