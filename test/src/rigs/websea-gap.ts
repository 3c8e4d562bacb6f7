import { mulDecimals, shiftDecimal, silentLogger } from '@orderstream/kit';
import { WEBSEA_SIM_INSTRUMENTS, WebseaClient, webseaExpectedState, WebseaSimulator, type WebseaLifecycle } from '@orderstream/venues';
import { gapRig } from './gap-rig.js';
import type { GapRig } from './types.js';

/**
 * Each execution of 3 lots or more split in three (whole lots, same price): orders fill in more steps, so they live
 * long enough for the state to hold them live when a gap begins, and trade lists are longer.
 */
function inMoreExecutions(lc: WebseaLifecycle): WebseaLifecycle {
  const decimals = WEBSEA_SIM_INSTRUMENTS.find((i) => i.symbol === lc.symbol)?.qtyDecimals;
  if (!lc.executions || decimals === undefined) return lc;
  const lot = shiftDecimal('1', decimals);
  const executions = lc.executions.flatMap((e) => {
    const lots = BigInt(shiftDecimal(e.qty, -decimals).split('.')[0] as string);
    if (lots < 3n || shiftDecimal(e.qty, -decimals).includes('.')) return [e];
    const third = lots / 3n;
    return [third, third, lots - 2n * third].map((n) => ({ qty: mulDecimals(n.toString(), lot), price: e.price }));
  });
  return { ...lc, executions };
}

/**
 * WebSea in the gap scenario: the simulator keeps playing lifecycles while no client is subscribed (pushes lost, the
 * truth moves on: fills, cancels, partial cancels), serves currentList, historyList, status and deal with the same
 * token/nonce/SHA1 checks as the socket, and faults them on demand (sim.restFaults). Pushes are repeated now and
 * then: executions are summed by distinct id, and the REST trade list must not count any of them twice.
 */
export async function webseaGapRig(account: string): Promise<GapRig> {
  const sim = await WebseaSimulator.start({ token: 'gap-websea-token', secretKey: 'gap-websea-secret', binaryFrames: true });
  const accountConfig = { wsUrl: sim.wsUrl, restUrl: sim.httpUrl, token: 'gap-websea-token', secretKey: 'gap-websea-secret' };
  const client = WebseaClient.fromConfig(accountConfig, { logger: silentLogger() });
  sim.faults.duplicateRate = 0.1;
  return gapRig(sim, {
    venue: 'websea',
    account,
    client,
    accountConfig,
    reference: {},
    play: async (count, { intervalMs, seed }) => {
      // randomLifecycles derives ids from the seed: each seed of the scenario gives ids never used before.
      await sim.play(sim.randomLifecycles(count, seed).map(inMoreExecutions), { intervalMs });
    },
    expectedOf: (t) => webseaExpectedState(t, account).order,
  });
}
