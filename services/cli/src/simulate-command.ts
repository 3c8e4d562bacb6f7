import { z } from 'zod';
import { ConfigProblems, envWithoutEmpty, intFromEnv, sleep } from '@orderstream/kit';
import { BinanceUsdmSimulator, BsxSimulator, LoopringSimulator, WebseaSimulator, XtSimulator } from '@orderstream/venues';

/** The venues `simulate` can run, each as its own process (docker-compose runs all five). */
export const SIMULATED_VENUES = ['xt', 'websea', 'loopring', 'bsx', 'binance-usdm'] as const;

/** The simulator's environment (credentials it accepts, lifecycles per round). */
export const simulateEnvSchema = z.object({
  XT_SIM_API_KEY: z.string().min(1).default('sim-api-key'),
  XT_SIM_API_SECRET: z.string().min(1).default('sim-api-secret'),
  /** the other venues' credentials (WebSea: token and secret key; Loopring: API key only) */
  SIM_API_KEY: z.string().min(1).default('sim-api-key'),
  SIM_API_SECRET: z.string().min(1).default('sim-api-secret'),
  SIM_LIFECYCLES_PER_ROUND: intFromEnv(1, 1000).default(4),
});

export function venueProblem(venue: string | undefined): string | undefined {
  return (SIMULATED_VENUES as readonly string[]).includes(venue ?? '') ? undefined : `must be one of: ${SIMULATED_VENUES.join(', ')}, got ${JSON.stringify(venue ?? null)}`;
}

interface Running {
  urls: string;
  play(seed: number, count: number): Promise<unknown>;
  stop(): Promise<void>;
}

async function startVenue(venue: string, env: z.infer<typeof simulateEnvSchema>, where: { port?: number; host?: string }): Promise<Running> {
  const { SIM_API_KEY: key, SIM_API_SECRET: secret } = env;
  const paced = { intervalMs: 250 };
  switch (venue) {
    case 'xt': {
      const sim = await XtSimulator.start({ apiKey: env.XT_SIM_API_KEY, apiSecret: env.XT_SIM_API_SECRET, ...where });
      return { urls: `REST ${sim.restUrl}, WebSocket ${sim.wsUrl}`, play: (seed, n) => sim.play(sim.randomLifecycles(n, seed), paced), stop: () => sim.stop() };
    }
    case 'websea': {
      const sim = await WebseaSimulator.start({ token: key, secretKey: secret, ...where });
      return { urls: `WebSocket ${sim.wsUrl}`, play: (seed, n) => sim.play(sim.randomLifecycles(n, seed), paced), stop: () => sim.stop() };
    }
    case 'loopring': {
      const sim = await LoopringSimulator.start({ apiKey: key, ...where });
      return { urls: `REST ${sim.restUrl}, WebSocket ${sim.wsUrl}, markets ${sim.markets.join(',')}`, play: (seed, n) => sim.play(sim.randomLifecycles(n, seed), paced), stop: () => sim.stop() };
    }
    case 'bsx': {
      const sim = await BsxSimulator.start({ apiKey: key, apiSecret: secret, ...where });
      return { urls: `WebSocket ${sim.wsUrl}`, play: (seed, n) => sim.play(sim.randomLifecycles(n, seed), paced), stop: () => sim.stop() };
    }
    default: {
      const sim = await BinanceUsdmSimulator.start({ hmacKeys: [{ apiKey: key, apiSecret: secret }], ...where });
      // orders reach a client by its user data stream (config userDataStream: true), as in the demo
      return { urls: `REST ${sim.restUrl}, WebSocket API ${sim.wsUrl}`, play: (seed, n) => sim.play(sim.randomLifecycles(n, seed), paced), stop: () => sim.stop() };
    }
  }
}

/**
 * `orderstream simulate --venue <id> [--port N] [--host H]`: one venue simulator as its own process, playing a
 * steady stream of order lifecycles (pushes reach whoever is subscribed; the others are lost, as on the real
 * venue, and the collector's reconciliation finds them), until Ctrl-C. Credentials from XT_SIM_API_KEY /
 * XT_SIM_API_SECRET (XT) and SIM_API_KEY / SIM_API_SECRET (the others).
 */
export async function simulateCommand(options: { venue?: string | undefined; port?: number | undefined; host?: string | undefined }): Promise<number> {
  const problems = new ConfigProblems();
  const bad = venueProblem(options.venue);
  if (bad) problems.add('--venue', bad);
  const env = problems.check(simulateEnvSchema, envWithoutEmpty(process.env));
  problems.throwIfAny();
  if (!env) throw new Error('unreachable: configuration checked');
  const sim = await startVenue(options.venue as string, env, {
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.host !== undefined ? { host: options.host } : {}),
  });
  process.stdout.write(`${options.venue} simulator: ${sim.urls}\n`);
  let stopping = false;
  const stop = () => {
    stopping = true;
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let seed = Date.now() % 1_000_000;
  while (!stopping) {
    await sim.play(seed++, env.SIM_LIFECYCLES_PER_ROUND);
    await sleep(500);
  }
  await sim.stop();
  return 0;
}
