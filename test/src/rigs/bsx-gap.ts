import { silentLogger, sleep } from '@orderstream/kit';
import { BsxClient, bsxExpectedCanonical, BsxSimulator, type BsxFinishOutcome, type BsxLifecycle } from '@orderstream/venues';
import { gapRig } from './gap-rig.js';
import type { GapRig } from './types.js';

/**
 * BSX in the gap scenario: the simulator keeps playing lifecycles while no client is subscribed (their pushes are
 * lost, the truth moves on), sends a snapshot of the live orders on every subscribe, serves GET /orders,
 * /orders/{id} and /order-history with the bsx-key/bsx-secret check, and faults them on demand (sim.restFaults).
 * Pushes are duplicated now and then and several orders share an update frame, as on BSX.
 *
 * BSX lifecycles are short (2 to 5 updates, several orders per frame), so a play of a dozen orders is over in about
 * a second: shorter than the time the pipeline takes to show them, after which the scenario opens its gaps. In a
 * play of at least RESTING_MIN_COUNT orders, the cancels (and TP/SL cancels) therefore rest on the book and are
 * cancelled later, and resting orders end over the second half of RESTING_HOLD_MS after the play's frames: the
 * venue has live orders, finishing one after another, while the gaps come and go. Small plays (the ones inside a
 * gap) end everything at once.
 */
export async function bsxGapRig(account: string): Promise<GapRig> {
  const sim = await BsxSimulator.start({ apiKey: 'gap-bsx-key', apiSecret: 'gap-bsx-secret' });
  const accountConfig = { wsUrl: sim.wsUrl, restUrl: sim.httpUrl, apiKey: 'gap-bsx-key', apiSecret: 'gap-bsx-secret' };
  const client = BsxClient.fromConfig(accountConfig, { logger: silentLogger() });
  sim.faults.duplicateRate = 0.1;
  sim.multiOrderRate = 0.3;
  const seeds = new Set<number>();
  const RESTING_MIN_COUNT = 10;
  const RESTING_HOLD_MS = 4_000;
  return gapRig(sim, {
    venue: 'bsx',
    account,
    client,
    accountConfig,
    reference: {},
    play: async (count, { intervalMs, seed }) => {
      // randomLifecycles derives ids from the seed: each seed gives ids never used before.
      if (seeds.has(seed)) throw new Error(`bsx gap rig: seed ${seed} was already played (its ids are taken)`);
      seeds.add(seed);
      const hold = count >= RESTING_MIN_COUNT;
      const outcome = new Map<string, BsxFinishOutcome>();
      const lifecycles = sim.randomLifecycles(count, seed).map((lc): BsxLifecycle => {
        if (hold && lc.kind === 'cancel') {
          outcome.set(lc.id, 'cancel');
          return { ...lc, kind: 'rest' };
        }
        if (hold && lc.kind === 'stop-cancel') {
          outcome.set(lc.id, 'cancel');
          return { ...lc, kind: 'stop-rest' };
        }
        if (lc.kind === 'rest' || lc.kind === 'stop-rest') outcome.set(lc.id, outcome.size % 2 === 0 ? 'fill' : 'cancel');
        return lc;
      });
      await sim.play(lifecycles, { intervalMs });
      // Resting lifecycles stay live: end them too, so every order of the play reaches a final state.
      const resting = [...outcome.keys()];
      for (let k = 0; k < resting.length; k++) {
        if (hold) await sleep(Math.round(RESTING_HOLD_MS * (k === 0 ? 0.5 : 0.5 / resting.length)));
        sim.finishOrders([resting[k] as string], outcome.get(resting[k] as string) as BsxFinishOutcome);
      }
    },
    expectedOf: (t) => bsxExpectedCanonical(t, account),
  });
}
