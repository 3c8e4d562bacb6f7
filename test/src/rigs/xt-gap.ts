import { silentLogger } from '@orderstream/kit';
import { XtClient, xtClientConfigSchema, xtExpectedCanonical, XtSimulator, type XtFill, type XtLifecycle } from '@orderstream/venues';
import { gapRig } from './gap-rig.js';
import type { GapRig } from './types.js';

/** Executions per order the rig aims at: each fill of a lifecycle split into up to this many pieces at its price. */
const PIECES = 6;

/**
 * The simulator's random lifecycles with every fill split into smaller executions (same total, same prices, so the
 * same final average): orders that trade in several pieces stay live longer, long enough for the state to see them
 * live before a gap ends them (XT pushes cumulative figures, so every piece is one more PARTIALLY_FILLED push).
 */
function inPieces(lcs: readonly XtLifecycle[]): XtLifecycle[] {
  return lcs.map((lc) => {
    if (!lc.fills || lc.fills.length === 0) return lc;
    const per = Math.max(1, Math.ceil(PIECES / lc.fills.length));
    const fills: XtFill[] = lc.fills.flatMap((f) => {
      const qty = BigInt(f.qty);
      const n = qty < BigInt(per) ? qty : BigInt(per);
      const base = qty / n;
      return Array.from({ length: Number(n) }, (_, i) => ({ qty: (i === 0 ? base + (qty % n) : base).toString(), price: f.price }));
    });
    return { ...lc, fills };
  });
}

/**
 * XT in the gap scenario: the simulator keeps playing lifecycles while no client is subscribed (their pushes are
 * lost, the truth moves on), serves order/list, order/detail and order/list-history with signature checks, and
 * faults them on demand (sim.restFaults). Pushes are duplicated and reordered across orders now and then, as XT's
 * sharded publishers may.
 */
export async function xtGapRig(account: string): Promise<GapRig> {
  const sim = await XtSimulator.start({ apiKey: 'gap-xt-key', apiSecret: 'gap-xt-secret' });
  const accountConfig = { restUrl: sim.restUrl, wsUrl: sim.wsUrl, apiKey: 'gap-xt-key', apiSecret: 'gap-xt-secret' };
  const client = new XtClient(xtClientConfigSchema.parse(accountConfig), { logger: silentLogger() });
  const reference = sim.referenceData();
  sim.faults.duplicateRate = 0.1;
  sim.faults.reorder = 0.2;
  return gapRig(sim, {
    venue: 'xt',
    account,
    client,
    accountConfig,
    reference,
    play: async (count, { intervalMs, seed }) => {
      // randomLifecycles derives ids from the seed: each seed of the scenario gives ids never used before.
      await sim.play(inPieces(sim.randomLifecycles(count, seed)), { intervalMs });
    },
    expectedOf: (t) => xtExpectedCanonical(t, account, reference.xt?.[t.symbol]?.contractSize),
  });
}
