import { AppError, errorMessage, silentLogger } from '@orderstream/kit';
import { isDockerAvailable, startDockerBroker } from './docker.js';
import { startLocalBroker, type LocalBrokerOptions } from './local.js';
import type { Broker, EnvBroker } from './types.js';

export type BrokerMode = 'auto' | 'env' | 'docker' | 'local';

export interface StartBrokerOptions extends LocalBrokerOptions {
  /**
   * 'auto' (default): KAFKA_BROKERS if set, else Docker if an engine answers, else the local JVM broker.
   * The others force one way (and fail if it is not possible).
   */
  mode?: BrokerMode;
  /** Where KAFKA_BROKERS is read from. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Bound on the Docker probe. Default 2 s. */
  dockerProbeTimeoutMs?: number;
}

/**
 * One broker for a test run or the demo: an existing cluster named by KAFKA_BROKERS (comma list of host:port;
 * `stop()` does nothing), else a Docker container, else a local JVM. Logs which one it chose and why.
 * In 'auto' mode a Docker start that fails falls back to the local JVM with a warning.
 */
export async function startBroker(options: StartBrokerOptions = {}): Promise<Broker> {
  const logger = options.logger ?? silentLogger();
  const mode = options.mode ?? 'auto';
  const env = options.env ?? process.env;
  const fromEnv = env.KAFKA_BROKERS?.trim();

  if (mode === 'env' || (mode === 'auto' && fromEnv)) {
    const brokers = parseBrokerList(fromEnv ?? '');
    logger.info({ brokers, kind: 'env' }, 'using the Kafka broker(s) named by KAFKA_BROKERS');
    const broker: EnvBroker = { kind: 'env', brokers, stop: () => Promise.resolve() };
    return broker;
  }

  const dockerOptions = { port: options.port, heapMb: options.heapMb, logger };
  if (mode === 'docker') return startDockerBroker(dockerOptions);
  if (mode === 'auto') {
    const t = Date.now();
    const docker = await isDockerAvailable({ timeoutMs: options.dockerProbeTimeoutMs });
    if (docker) {
      try {
        logger.info({ kind: 'docker' }, 'Docker answers: starting the Kafka broker in a container');
        return await startDockerBroker(dockerOptions);
      } catch (error) {
        logger.warn({ err: errorMessage(error) }, 'the Kafka container failed to start: falling back to a local JVM');
      }
    } else {
      logger.info({ kind: 'local', probeMs: Date.now() - t }, 'no Docker engine answers: starting a local JVM broker');
    }
  }
  return startLocalBroker({ ...options, logger });
}

/** `host:port,host:port` → list. Throws CONFIG_INVALID on an empty list or an entry without a port. */
export function parseBrokerList(value: string): string[] {
  const brokers = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const bad = brokers.filter((b) => !/^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):\d{1,5}$/.test(b));
  if (brokers.length === 0 || bad.length > 0) {
    throw new AppError(
      'CONFIG_INVALID',
      `KAFKA_BROKERS must be a comma-separated list of host:port, got ${JSON.stringify(value)}` +
        (bad.length > 0 ? ` (bad: ${bad.join(', ')})` : ''),
    );
  }
  return brokers;
}
