import { afterEach, describe, expect, it } from 'vitest';
import { RecordingSession } from './sim/recording-session.js';
import { XtClient } from './xt/client.js';
import { XtSimulator } from './xt/simulator.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function xtSession(intervalMs: number) {
  const sim = await XtSimulator.start();
  cleanups.push(() => sim.stop());
  const client = XtClient.fromConfig({ restUrl: sim.restUrl, wsUrl: sim.wsUrl, apiKey: 'sim-api-key', apiSecret: 'sim-api-secret' });
  const rec = new RecordingSession({ client, sim, reconcile: { options: { intervalMs, requestTimeoutMs: 2_000 } } });
  cleanups.push(rec.stop);
  rec.start();
  return { sim, rec };
}

describe('reconciliation on a timer (reconcile.intervalMs)', () => {
  it('reconciles again every intervalMs while connected, each run after the previous one completed', async () => {
    const { rec } = await xtSession(300);
    await rec.until(() => rec.eventsOf('reconciled').length >= 3, 'three reconciliations', 15_000);
    const triggers = rec.eventsOf('reconciled').map((e) => (e.details as { trigger: string }).trigger);
    expect(triggers.slice(0, 3)).toEqual(['start', 'timer', 'timer']);
    expect(rec.eventsOf('connected')).toHaveLength(1); // the same connection all along
  });

  it('is off by default: one reconciliation per connection', async () => {
    const { rec } = await xtSession(0);
    await rec.until(() => rec.eventsOf('reconciled').length >= 1, 'the first reconciliation');
    const restAnswers = rec.rest().length;
    // Five periods of the first test's timer: no second run, no further REST call.
    await expect(rec.until(() => rec.eventsOf('reconciled').length >= 2, 'a second reconciliation', 1_500)).rejects.toThrow(/timed out/);
    expect(rec.rest()).toHaveLength(restAnswers);
  });
});
