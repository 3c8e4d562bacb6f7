/**
 * A local schema registry for tests, `npm start` and `npm run broker`: Apicurio Registry 2.6.13.Final (in-memory
 * storage, a Confluent-compatible API under /apis/ccompat/v7), fetched from Maven Central by registry/pom.xml like
 * the broker's jars, started as a child JVM on a free port of 127.0.0.1, with the broker's watchdog so that it never
 * outlives this process.
 *
 * Why 2.6.13.Final: 3.0.9's parent pom is not served by Maven Central (the unpack fails to resolve it) and 3.3.x
 * needs Java 21+; 2.6.13.Final resolves and runs on Java 17. It opens no management port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { AppError, silentLogger, sleep, type Logger } from '@orderstream/kit';
import { registerBroker, startWatchdog, unregisterBroker } from '../broker/lifecycle.js';
import { repoRoot } from '../broker/paths.js';
import { findFreePort, LOOPBACK } from '../broker/ports.js';

/** The path of the Confluent-compatible API in Apicurio Registry. */
export const CCOMPAT_PATH = '/apis/ccompat/v7';

export interface SchemaRegistry {
  readonly kind: 'env' | 'local';
  /** Base URL of the Confluent-compatible API: ORDERSTREAM_SCHEMA_REGISTRY_URL. */
  readonly url: string;
  stop(): Promise<void>;
}

export interface LocalSchemaRegistry extends SchemaRegistry {
  readonly kind: 'local';
  readonly port: number;
  readonly pid: number;
  readonly logFile: string;
  /** Milliseconds from the call to ready (dist check included). */
  readonly startupMs: number;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface LocalRegistryOptions {
  /** HTTP port on 127.0.0.1; 0 or omitted: a free one. */
  port?: number;
  logger?: Logger;
  /** Default 120 s (a busy 2-core machine). */
  readyTimeoutMs?: number;
  /** Max heap in MiB. Default 256. */
  heapMb?: number;
  keepProcessAlive?: boolean;
}

/** `<repo>/registry/target/apicurio`: the unpacked Apicurio distribution. */
export function registryDistDir(): string {
  return path.join(repoRoot(), 'registry', 'target', 'apicurio');
}

function runnerJar(dir: string): string | undefined {
  try {
    const jar = readdirSync(dir).find((n) => /^apicurio-registry-app-.+-runner\.jar$/.test(n));
    return jar === undefined ? undefined : path.join(dir, jar);
  } catch {
    return undefined;
  }
}

let inFlight: Promise<string> | undefined;

/** Makes sure the Apicurio distribution is unpacked (runs `mvn -B -q -f registry/pom.xml package` once); its runner jar. */
export function ensureRegistryDist(logger: Logger = silentLogger()): Promise<string> {
  inFlight ??= (async () => {
    const dir = registryDistDir();
    const wanted = /<apicurio\.version>\s*([^<\s]+)\s*<\/apicurio\.version>/.exec(readFileSync(path.join(repoRoot(), 'registry', 'pom.xml'), 'utf8'))?.[1];
    let jar = runnerJar(dir);
    if (jar !== undefined && wanted !== undefined && !jar.includes(`-${wanted}-`)) {
      logger.warn({ dir, wanted }, 'the unpacked registry is another version: deleting it before refetching');
      rmSync(dir, { recursive: true, force: true });
      rmSync(path.join(repoRoot(), 'registry', 'target', 'markers'), { recursive: true, force: true });
      jar = undefined;
    }
    if (jar !== undefined && existsSync(path.join(dir, 'lib'))) return jar;
    logger.info('fetching Apicurio Registry with Maven (only needed once)');
    await runMaven(path.join(repoRoot(), 'registry', 'pom.xml'), logger);
    jar = runnerJar(dir);
    if (jar === undefined) throw new AppError('BROKER_JARS_MISSING', `Maven finished but ${dir} holds no apicurio-registry-app runner jar`);
    return jar;
  })().finally(() => {
    inFlight = undefined;
  });
  return inFlight;
}

function runMaven(pom: string, logger: Logger): Promise<void> {
  const args = ['-B', '-q', '-C', '-f', pom, 'package'];
  const tail: string[] = [];
  return new Promise((resolve, reject) => {
    const child = spawn('mvn', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const onLine = (line: string) => {
      tail.push(line);
      if (tail.length > 30) tail.shift();
      logger.info({ mvn: line }, 'mvn');
    };
    createInterface({ input: child.stdout }).on('line', onLine);
    createInterface({ input: child.stderr }).on('line', onLine);
    child.once('error', (e) => reject(new AppError('BROKER_JARS_MISSING', `cannot run mvn ${args.join(' ')}: ${e.message}`, { cause: e })));
    child.once('close', (code) => {
      if (code === 0) resolve();
      else reject(new AppError('BROKER_JARS_MISSING', `fetching Apicurio Registry failed: mvn ${args.join(' ')} exited ${code}:\n${tail.join('\n')}`));
    });
  });
}

/**
 * The registry of a test run or the demo: ORDERSTREAM_SCHEMA_REGISTRY_URL if set (stop() does nothing), else a local
 * Apicurio JVM.
 */
export async function startSchemaRegistry(
  options: LocalRegistryOptions & { env?: Readonly<Record<string, string | undefined>> } = {},
): Promise<SchemaRegistry> {
  const fromEnv = (options.env ?? process.env).ORDERSTREAM_SCHEMA_REGISTRY_URL?.trim();
  if (fromEnv) {
    options.logger?.info({ url: fromEnv, kind: 'env' }, 'using the schema registry named by ORDERSTREAM_SCHEMA_REGISTRY_URL');
    return { kind: 'env', url: fromEnv, stop: () => Promise.resolve() };
  }
  return startLocalRegistry(options);
}

/** Starts Apicurio Registry on 127.0.0.1 and resolves once its Confluent-compatible API answers. */
export async function startLocalRegistry(options: LocalRegistryOptions = {}): Promise<LocalSchemaRegistry> {
  const started = Date.now();
  const logger = options.logger ?? silentLogger();
  const jar = await ensureRegistryDist(logger);
  const port = options.port || (await findFreePort());
  const dir = await mkdtemp(path.join(os.tmpdir(), 'orderstream-registry-'));
  const logFile = path.join(dir, 'registry.log');
  const java = process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
  const args = [
    `-Xmx${options.heapMb ?? 256}m`,
    '-Xms32m',
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    '-XX:-UsePerfData',
    '-XX:+ExitOnOutOfMemoryError',
    `-Dquarkus.http.host=${LOOPBACK}`,
    `-Dquarkus.http.port=${port}`,
    // Both interfaces on loopback, whatever a version's defaults (3.x opens a management port on 0.0.0.0:9000).
    `-Dquarkus.management.host=${LOOPBACK}`,
    '-Dquarkus.management.enabled=false',
    '-Dquarkus.http.access-log.enabled=false',
    '-Dquarkus.log.level=WARN',
    '-Dquarkus.log.category."io.quarkus".level=INFO',
    '-jar',
    jar,
  ];
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(java, args, { cwd: dir, stdio: ['ignore', fd, fd], detached: true });
  } finally {
    closeSync(fd);
  }
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', () => resolve({ code: null, signal: null }));
  });
  void exited.then((e) => (exit = e));
  const pid = child.pid;
  if (pid === undefined) throw new AppError('BROKER_START_FAILED', `cannot run ${java} for the schema registry`);
  if (!options.keepProcessAlive) child.unref();
  const watchdog = startWatchdog(pid, dir);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (exit === undefined) {
        child.ref();
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // gone
        }
        const timer = setTimeout(() => {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // gone
          }
        }, 10_000);
        await exited;
        clearTimeout(timer);
      }
      watchdog?.dismiss();
      unregisterBroker(registration);
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    })();
    return stopping;
  };
  const registration = { pid, stop, running: () => exit === undefined };
  registerBroker(registration);

  const url = `http://${LOOPBACK}:${port}${CCOMPAT_PATH}`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 120_000);
  for (;;) {
    if (exit !== undefined) {
      const log = readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n');
      await stop();
      throw new AppError('BROKER_START_FAILED', `the schema registry exited during start-up (${exit.signal ?? `code ${exit.code}`}):\n${log}`);
    }
    try {
      const res = await fetch(`${url}/subjects`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) break;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new AppError('BROKER_START_FAILED', `the schema registry did not answer on ${url} within ${options.readyTimeoutMs ?? 120_000} ms; log: ${logFile}`);
    }
    await sleep(100);
  }
  const startupMs = Date.now() - started;
  logger.info({ url, pid, ms: startupMs }, 'local schema registry ready');
  return { kind: 'local', url, port, pid, logFile, startupMs, exited, stop };
}
