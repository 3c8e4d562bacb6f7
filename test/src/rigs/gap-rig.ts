import { orderKeyOf } from '@orderstream/schemas';
import type { CanonicalOrder } from '@orderstream/schemas';
import type { RestFaults } from '@orderstream/venues';
import type { GapRig } from './types.js';

/** What a gap rig needs from a venue simulator: gaps, REST faults, live orders and the truth per order. */
export interface GapSimulator<Truth> {
  interrupt(): unknown;
  resume(): void;
  liveOrderIds(): string[];
  readonly restFaults: RestFaults;
  truth(): Map<string, Truth>;
  waitForSubscribers?(n: number, timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

/** What differs per venue: the client and its config, how to play and what the state must become. */
export type GapRigParts<Truth> = Pick<GapRig, 'venue' | 'account' | 'client' | 'accountConfig' | 'reference' | 'play'> & {
  /** the canonical fields orders.state.v1 must hold for one order of the simulator's truth */
  expectedOf(truth: Truth): Partial<CanonicalOrder> & { orderKey: string };
  /** default: the simulator has one subscriber (30 s at the most) */
  ready?: GapRig['ready'];
};

/** A GapRig around a simulator: gaps, live orders, REST faults, expected state and stop come from the simulator. */
export function gapRig<Truth>(sim: GapSimulator<Truth>, parts: GapRigParts<Truth>): GapRig {
  const { expectedOf, ready, ...rest } = parts;
  const subscribed = () => {
    if (!sim.waitForSubscribers) throw new Error(`${parts.venue} gap rig: the simulator cannot wait for subscribers; give ready()`);
    return sim.waitForSubscribers(1, 30_000);
  };
  return {
    ...rest,
    ready: ready ?? subscribed,
    interrupt: () => {
      sim.interrupt();
    },
    resume: () => sim.resume(),
    liveOrderIds: () => sim.liveOrderIds(),
    restFaults: sim.restFaults,
    expected: () =>
      new Map(
        [...sim.truth().values()].map((t) => {
          const e = expectedOf(t);
          return [e.orderKey, e];
        }),
      ),
    orderKeyOf: (orderId) => orderKeyOf(parts.venue, parts.account, orderId),
    stop: () => sim.stop(),
  };
}
