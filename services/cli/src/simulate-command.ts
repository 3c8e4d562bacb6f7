import { z } from 'zod';
import { ConfigProblems, envWithoutEmpty, intFromEnv, sleep } from '@orderstream/kit';
import { XtSimulator } from '@orderstream/venues';

/** The simulator's environment (credentials it accepts, lifecycles per round). */
export const simulateEnvSchema = z.object({
  XT_SIM_API_KEY: z.string().min(1).default('sim-api-key'),
  XT_SIM_API_SECRET: z.string().min(1).default('sim-api-secret'),
  SIM_LIFECYCLES_PER_ROUND: intFromEnv(1, 1000).default(4),
});

/**
 * `orderstream simulate --venue xt [--port N] [--host H]`: one venue simulator as its own process, playing a
 * steady stream of order lifecycles to whoever subscribes, until Ctrl-C. Credentials from XT_SIM_API_KEY /
 * XT_SIM_API_SECRET.
 */
export async function simulateCommand(options: { venue?: string | undefined; port?: number | undefined; host?: string | undefined }): Promise<number> {
  const problems = new ConfigProblems();
  if (options.venue !== 'xt') problems.add('--venue', `must be one of: xt, got ${JSON.stringify(options.venue ?? null)}`);
  const env = problems.check(simulateEnvSchema, envWithoutEmpty(process.env));
  problems.throwIfAny();
  if (!env) throw new Error('unreachable: configuration checked');
  const sim = await XtSimulator.start({
    apiKey: env.XT_SIM_API_KEY,
    apiSecret: env.XT_SIM_API_SECRET,
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.host !== undefined ? { host: options.host } : {}),
  });
  process.stdout.write(`XT simulator: REST ${sim.restUrl}, WebSocket ${sim.wsUrl}\n`);
  let stopping = false;
  const stop = () => {
    stopping = true;
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let seed = Date.now() % 1_000_000;
  while (!stopping) {
    if (sim.subscriberCount > 0) await sim.play(sim.randomLifecycles(env.SIM_LIFECYCLES_PER_ROUND, seed++), { intervalMs: 250 });
    await sleep(500);
  }
  await sim.stop();
  return 0;
}
