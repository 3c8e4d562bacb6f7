import { existsSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { KafkaError, silentLogger, type Logger } from '@orderstream/kit';
import { assertPortFree, canConnect, findFreePort, validatePort } from './ports.js';
import { FIXED_CLUSTER_ID, NODE_ID, TEST_BROKER_SETTINGS, toDockerEnv } from './settings.js';
import type { DockerBroker } from './types.js';

/** Same Kafka version as broker/pom.xml (keep the two in step). */
export const KAFKA_DOCKER_IMAGE = 'apache/kafka:3.9.2';

export interface DockerProbeOptions {
  /** Give up and answer false after this long. Default 2 s. */
  timeoutMs?: number;
}

/**
 * Whether a Docker (or compatible) engine answers, decided quickly. A cheap probe runs first (DOCKER_HOST, else
 * the usual socket paths: no socket file means no daemon, answered in well under a millisecond); only when an
 * engine answers `/_ping` does testcontainers get to look, itself bounded by `timeoutMs` so that its strategies
 * can never stall a test run. `~/.testcontainers.properties` or TESTCONTAINERS_HOST_OVERRIDE skip the cheap probe.
 */
export async function isDockerAvailable(options: DockerProbeOptions = {}): Promise<boolean> {
  const timeoutMs = options.timeoutMs ?? 2_000;
  const deadline = Date.now() + timeoutMs;
  const customised =
    process.env.TESTCONTAINERS_HOST_OVERRIDE !== undefined ||
    existsSync(path.join(os.homedir(), '.testcontainers.properties'));
  if (!customised && !(await engineAnswers(timeoutMs))) return false;
  const left = Math.max(deadline - Date.now(), 250);
  const probe = import('testcontainers')
    .then(({ getContainerRuntimeClient }) => getContainerRuntimeClient())
    .then(() => true);
  return withTimeout(probe, left, false);
}

async function engineAnswers(timeoutMs: number): Promise<boolean> {
  const dockerHost = process.env.DOCKER_HOST;
  if (dockerHost !== undefined && dockerHost !== '') {
    if (dockerHost.startsWith('unix://')) return ping({ socketPath: dockerHost.slice('unix://'.length) }, timeoutMs);
    if (dockerHost.startsWith('tcp://')) {
      const url = new URL(dockerHost.replace(/^tcp:/, 'http:'));
      const port = Number(url.port || '2375');
      // TLS daemons (DOCKER_TLS_VERIFY) would need certificates: a TCP connect is enough to say "something is there".
      return canConnect(port, url.hostname, timeoutMs);
    }
    return true; // ssh:// and others: let testcontainers decide, within the timeout
  }
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  const candidates = [
    '/var/run/docker.sock',
    process.env.XDG_RUNTIME_DIR ? path.join(process.env.XDG_RUNTIME_DIR, 'docker.sock') : undefined,
    uid !== undefined ? `/run/user/${uid}/docker.sock` : undefined,
    path.join(os.homedir(), '.docker', 'run', 'docker.sock'),
    path.join(os.homedir(), '.docker', 'desktop', 'docker.sock'),
  ].filter((p): p is string => p !== undefined && existsSync(p));
  for (const socketPath of candidates) {
    if (await ping({ socketPath }, timeoutMs)) return true;
  }
  return false;
}

function ping(target: { socketPath: string }, timeoutMs: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const request = http.request({ ...target, path: '/_ping', method: 'GET', timeout: timeoutMs }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(false));
    request.end();
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  return new Promise<T>((resolve) => {
    const timer = setTimeout(() => resolve(fallback), ms);
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      () => {
        clearTimeout(timer);
        resolve(fallback);
      },
    );
  });
}

export interface DockerBrokerOptions {
  /** Host port for clients. 0 or omitted: a free port. A taken fixed port fails with BROKER_PORT_IN_USE. */
  port?: number;
  /** Max heap of the broker JVM in the container, MiB. Default 512. */
  heapMb?: number;
  logger?: Logger;
  /** Default KAFKA_DOCKER_IMAGE. */
  image?: string;
  /** How long to wait for "Kafka Server started" once the container runs (an image pull comes on top). Default 120 s. */
  startupTimeoutMs?: number;
}

/** Port the host-facing listener uses inside the container; published on the host at the chosen port. */
const CONTAINER_CLIENT_PORT = 9092;

/**
 * A single-node KRaft broker in an `apache/kafka` container (testcontainers' GenericContainer; the Node
 * `@testcontainers/kafka` module only supports confluentinc/cp-kafka). The client listener is published on a fixed
 * host port and advertised as `<docker host>:<that port>`, so the address clients get back in metadata works from
 * the host. Same test profile as the local broker. testcontainers' reaper removes the container if Node dies.
 */
export async function startDockerBroker(options: DockerBrokerOptions = {}): Promise<DockerBroker> {
  const startedAt = Date.now();
  const logger = options.logger ?? silentLogger();
  const { GenericContainer, Wait, getContainerRuntimeClient } = await import('testcontainers');
  const client = await getContainerRuntimeClient();
  const runtimeHost = client.info.containerRuntime.host;
  const host = runtimeHost === 'localhost' ? '127.0.0.1' : runtimeHost;
  const local = host === '127.0.0.1' || host === '::1';

  const requested = options.port ?? 0;
  validatePort(requested, 'PLAINTEXT (client) listener');
  if (requested !== 0 && local) await assertPortFree(requested, 'PLAINTEXT (client) listener');
  const hostPort = requested !== 0 ? requested : await findFreePort();
  const heapMb = options.heapMb ?? 512;
  const image = options.image ?? KAFKA_DOCKER_IMAGE;

  const environment: Record<string, string> = {
    CLUSTER_ID: FIXED_CLUSTER_ID,
    KAFKA_NODE_ID: String(NODE_ID),
    KAFKA_PROCESS_ROLES: 'broker,controller',
    KAFKA_LISTENERS: `CONTROLLER://:29093,PLAINTEXT_HOST://:${CONTAINER_CLIENT_PORT},PLAINTEXT://:19092`,
    KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT_HOST://${host}:${hostPort},PLAINTEXT://localhost:19092`,
    KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,PLAINTEXT_HOST:PLAINTEXT',
    KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
    KAFKA_CONTROLLER_QUORUM_VOTERS: `${NODE_ID}@localhost:29093`,
    KAFKA_INTER_BROKER_LISTENER_NAME: 'PLAINTEXT',
    KAFKA_LOG_DIRS: '/tmp/kraft-combined-logs',
    KAFKA_HEAP_OPTS: `-Xms64m -Xmx${heapMb}m`,
    ...toDockerEnv(TEST_BROKER_SETTINGS),
  };

  logger.info({ image, hostPort }, 'starting a Kafka broker container');
  const started = await new GenericContainer(image)
    .withEnvironment(environment)
    .withExposedPorts({ container: CONTAINER_CLIENT_PORT, host: hostPort })
    .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
    .withStartupTimeout(options.startupTimeoutMs ?? 120_000)
    .start()
    .catch((error: unknown) => {
      throw new KafkaError('BROKER_START_FAILED', `the Kafka container (${image}) did not start: ${String(error)}`, {
        cause: error,
        details: { image, hostPort },
      });
    });
  let stopping: Promise<void> | undefined;
  const broker: DockerBroker = {
    kind: 'docker',
    brokers: [`${host}:${hostPort}`],
    containerId: started.getId(),
    stop() {
      stopping ??= started.stop({ timeout: 10_000 }).then(() => undefined);
      return stopping;
    },
  };
  logger.info({ brokers: broker.brokers, ms: Date.now() - startedAt }, 'Kafka broker container ready');
  return broker;
}
