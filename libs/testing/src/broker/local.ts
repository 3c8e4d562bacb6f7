import { spawn, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { AppError, KafkaError, silentLogger, sleep, type Logger } from '@orderstream/kit';
import { planCds, type CdsPlan } from './cds.js';
import { ensureBrokerJars } from './jars.js';
import { isProcessAlive, registerBroker, startWatchdog, unregisterBroker, type Watchdog } from './lifecycle.js';
import { brokerLog4jFile } from './paths.js';
import { assertPortFree, canConnect, findFreePort, LOOPBACK, validatePort } from './ports.js';
import { FIXED_CLUSTER_ID, randomClusterId, renderServerProperties, type BrokerSettings } from './settings.js';
import type { BrokerExit, LocalBroker } from './types.js';

export interface LocalBrokerOptions {
  /** PLAINTEXT (client) port on 127.0.0.1. 0 or omitted: a free port. A taken fixed port fails with BROKER_PORT_IN_USE. */
  port?: number;
  /** CONTROLLER port on 127.0.0.1. 0 or omitted: a free port. */
  controllerPort?: number;
  /**
   * Omitted: a fresh temp dir, deleted by `stop()`. Given (relative to the cwd): created if needed and reused on
   * later starts (formatted once with a fixed cluster id), e.g. `.local/kafka` for the demo.
   */
  dataDir?: string;
  /** Max heap of the broker JVM in MiB. Default 512. */
  heapMb?: number;
  logger?: Logger;
  /** Extra server.properties settings, winning over the test profile (TEST_BROKER_SETTINGS). */
  overrides?: BrokerSettings;
  /** How long to wait for the broker to accept connections. Default 60 s. */
  readyTimeoutMs?: number;
  /** How long `stop()` waits after SIGTERM before SIGKILL. Default 15 s. */
  stopTimeoutMs?: number;
  /** java executable. Default `$JAVA_HOME/bin/java`, else `java` on PATH. */
  java?: string;
  /** Extra JVM flags, appended after the harness's own. */
  jvmArgs?: string[];
  /** Use / write a JDK class-data archive in broker/target/cds (see cds.ts). Default true. */
  classDataSharing?: boolean;
  /**
   * Keep the Node event loop alive while the broker runs. Default false: a forgotten broker does not hang the
   * process; the exit hook and the watchdog stop it when Node exits. `runBrokerForeground` sets it.
   */
  keepProcessAlive?: boolean;
}

/** The line `KafkaRaftServer` logs once the broker is unfenced and serving (kept at INFO by broker/log4j.properties). */
export const BROKER_STARTED_LINE = 'Kafka Server started';

const LOG_FILE = 'broker.log';
const PID_FILE = 'broker.pid';
const PROPERTIES_FILE = 'server.properties';
const LOG_DIR = 'kraft-logs';

/**
 * Starts a single-node KRaft Kafka broker as a child JVM from the jars in broker/target/lib (fetched with Maven on
 * first use), bound to 127.0.0.1 only, and resolves once it accepts client connections.
 *
 * Ready means: the PLAINTEXT port accepts TCP (Kafka 3.9 opens it only after the broker is unfenced) and the log
 * says "Kafka Server started". The JVM's stdout/stderr go straight to `<dataDir>/broker.log` (a file, not a pipe,
 * so a busy event loop can never block the broker's logging); errors quote its last lines.
 */
export async function startLocalBroker(options: LocalBrokerOptions = {}): Promise<LocalBroker> {
  const startedAt = Date.now();
  const logger = options.logger ?? silentLogger();
  const heapMb = options.heapMb ?? 512;
  if (!Number.isInteger(heapMb) || heapMb < 128) {
    throw new AppError('CONFIG_INVALID', `heapMb must be an integer >= 128, got ${heapMb}`);
  }
  const fixedPort = options.port ?? 0;
  const fixedControllerPort = options.controllerPort ?? 0;
  validatePort(fixedPort, 'PLAINTEXT (client) listener');
  validatePort(fixedControllerPort, 'CONTROLLER listener');
  if (fixedPort !== 0 && fixedPort === fixedControllerPort) {
    throw new AppError('CONFIG_INVALID', `port and controllerPort must differ (both ${fixedPort})`);
  }
  // Fail fast, before Maven or a JVM: a taken fixed port is the most common reason a start fails.
  if (fixedPort !== 0) await assertPortFree(fixedPort, 'PLAINTEXT (client) listener');
  if (fixedControllerPort !== 0) await assertPortFree(fixedControllerPort, 'CONTROLLER listener');

  const jars = await ensureBrokerJars({ logger });
  const java = options.java ?? defaultJava();
  const temporary = options.dataDir === undefined;
  const dataDir =
    options.dataDir === undefined
      ? await mkdtemp(path.join(os.tmpdir(), 'orderstream-kafka-'))
      : path.resolve(options.dataDir);

  try {
    mkdirSync(dataDir, { recursive: true });
    if (!temporary) assertDataDirFree(dataDir);
    const files = {
      dataDir,
      logDir: path.join(dataDir, LOG_DIR),
      logFile: path.join(dataDir, LOG_FILE),
      propertiesFile: path.join(dataDir, PROPERTIES_FILE),
      pidFile: path.join(dataDir, PID_FILE),
    };
    writeFileSync(files.logFile, '');
    const cds = planCds(options.classDataSharing ?? true, jars.libDir, java, logger);
    const jvm: JvmSetup = {
      java,
      classpath: `${jars.libDir}${path.sep}*`,
      log4j: pathToFileURL(brokerLog4jFile()).href,
      cds,
    };

    const autoPorts = fixedPort === 0 || fixedControllerPort === 0;
    let formatted = false;
    let formatMs = 0;
    for (let attempt = 1; ; attempt++) {
      const port = fixedPort !== 0 ? fixedPort : await findFreePort();
      let controllerPort = fixedControllerPort !== 0 ? fixedControllerPort : await findFreePort();
      while (controllerPort === port) controllerPort = await findFreePort();
      writeFileSync(
        files.propertiesFile,
        renderServerProperties({ port, controllerPort, logDir: files.logDir, overrides: options.overrides }),
      );
      if (attempt === 1) {
        if (existsSync(path.join(files.logDir, 'meta.properties'))) {
          logger.debug({ dataDir }, 'data dir already formatted: reusing it');
        } else {
          const t = Date.now();
          await formatStorage(jvm, files, temporary ? randomClusterId() : FIXED_CLUSTER_ID, temporary);
          formatted = true;
          formatMs = Date.now() - t;
        }
      }
      try {
        const broker = await launch({
          jvm,
          files,
          port,
          controllerPort,
          heapMb,
          temporary,
          formatted,
          options,
          logger,
          startedAt,
        });
        logger.info(
          { brokers: broker.brokers, pid: broker.pid, dataDir, formatted, formatMs, ms: broker.startupMs },
          'local Kafka broker ready',
        );
        return broker;
      } catch (error) {
        const retry =
          error instanceof KafkaError &&
          error.code === 'BROKER_PORT_IN_USE' &&
          autoPorts &&
          attempt < 3 &&
          error.details.port !== fixedPort &&
          error.details.port !== fixedControllerPort;
        if (!retry) throw error;
        logger.warn({ port: error.details.port }, 'a port picked for the broker was taken meanwhile: retrying');
      }
    }
  } catch (error) {
    if (temporary) rmSync(dataDir, { recursive: true, force: true, maxRetries: 3 });
    throw error;
  }
}

function defaultJava(): string {
  const home = process.env.JAVA_HOME;
  return home ? path.join(home, 'bin', process.platform === 'win32' ? 'java.exe' : 'java') : 'java';
}

interface JvmSetup {
  java: string;
  classpath: string;
  log4j: string;
  cds: CdsPlan;
}

interface BrokerFiles {
  dataDir: string;
  logDir: string;
  logFile: string;
  propertiesFile: string;
  pidFile: string;
}

/**
 * JVM flags measured on a 2-core box (see broker/README.md): SerialGC avoids G1's helper threads, C1 only
 * (TieredStopAtLevel=1) cuts start-up by ~0.3 s, a small initial heap keeps RSS down, no hsperfdata files.
 */
function commonJvmFlags(jvm: JvmSetup, dataDir: string): string[] {
  return [
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    '-XX:-UsePerfData',
    '-XX:+ExitOnOutOfMemoryError',
    `-XX:ErrorFile=${path.join(dataDir, 'hs_err_pid%p.log')}`,
    '-Djava.awt.headless=true',
    `-Dlog4j.configuration=${jvm.log4j}`,
  ];
}

/** `kafka.tools.StorageTool format` with static voters (no --standalone); appends its output to broker.log. */
async function formatStorage(jvm: JvmSetup, files: BrokerFiles, clusterId: string, temporary: boolean): Promise<void> {
  const args = [
    '-Xms32m',
    '-Xmx256m',
    ...commonJvmFlags(jvm, files.dataDir),
    ...jvm.cds.toolArgs,
    '-cp',
    jvm.classpath,
    'kafka.tools.StorageTool',
    'format',
    '--cluster-id',
    clusterId,
    '--config',
    files.propertiesFile,
    '--ignore-formatted',
  ];
  const { child, exited } = spawnJvm(jvm.java, args, files);
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const exit = await exited;
  clearTimeout(timer);
  if (exit.error) throw javaNotRunnable(jvm.java, exit.error);
  if (exit.code !== 0) {
    throw new KafkaError(
      'BROKER_START_FAILED',
      `formatting the broker's data dir ${files.dataDir} failed (StorageTool exited with ` +
        `${exit.signal ?? `code ${exit.code}`}).${temporary ? '' : ' If the dir holds another cluster, delete it.'}\n` +
        logExcerpt(files.logFile),
      { details: { dataDir: files.dataDir, logFile: files.logFile } },
    );
  }
}

interface SpawnedJvm {
  child: ChildProcess;
  exited: Promise<BrokerExit & { error?: Error }>;
}

/** A JVM with stdout and stderr appended to broker.log through its own file descriptor (no pipes to Node). */
function spawnJvm(java: string, args: string[], files: BrokerFiles): SpawnedJvm {
  const fd = openSync(files.logFile, 'a');
  let child: ChildProcess;
  try {
    // Own process group: a terminal's Ctrl-C reaches only Node, which stops its clients before the broker
    // (the demo's order). The exit hook and the watchdog still end the JVM whenever Node ends.
    child = spawn(java, args, { cwd: files.dataDir, stdio: ['ignore', fd, fd], detached: true });
  } finally {
    closeSync(fd);
  }
  const exited = new Promise<BrokerExit & { error?: Error }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.on('error', (error) => resolve({ code: null, signal: null, error }));
  });
  return { child, exited };
}

function javaNotRunnable(java: string, error: Error): KafkaError {
  return new KafkaError(
    'BROKER_START_FAILED',
    `cannot run '${java}' (${error.message}): the local Kafka broker needs Java 17+. Install a JDK or set JAVA_HOME, ` +
      'or point the tests at a running broker with KAFKA_BROKERS=host:port.',
    { cause: error },
  );
}

interface LaunchInput {
  jvm: JvmSetup;
  files: BrokerFiles;
  port: number;
  controllerPort: number;
  heapMb: number;
  temporary: boolean;
  formatted: boolean;
  options: LocalBrokerOptions;
  logger: Logger;
  startedAt: number;
}

async function launch(input: LaunchInput): Promise<LocalBroker> {
  const { jvm, files, port, controllerPort, options, logger } = input;
  const args = [
    '-Xms64m',
    `-Xmx${input.heapMb}m`,
    ...commonJvmFlags(jvm, files.dataDir),
    ...jvm.cds.brokerArgs,
    ...(options.jvmArgs ?? []),
    '-cp',
    jvm.classpath,
    'kafka.Kafka',
    files.propertiesFile,
  ];
  const logOffset = fileSize(files.logFile);
  const { child, exited } = spawnJvm(jvm.java, args, files);
  const pid = child.pid;
  if (pid === undefined) {
    const exit = await exited;
    throw javaNotRunnable(jvm.java, exit.error ?? new Error('spawn failed'));
  }
  if (!options.keepProcessAlive) child.unref();
  const watchdog: Watchdog | undefined = startWatchdog(pid, input.temporary ? files.dataDir : undefined);
  if (!input.temporary) writeFileSync(files.pidFile, `${pid}\n`);

  let exit: (BrokerExit & { error?: Error }) | undefined;
  void exited.then((e) => {
    exit = e;
  });

  let stopping: Promise<void> | undefined;
  const stopTimeoutMs = options.stopTimeoutMs ?? 15_000;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      let clean = true;
      if (exit === undefined) {
        child.ref(); // an unref'd child's exit would not keep Node alive while we wait for it
        signal(child, 'SIGTERM');
        if (!(await settlesWithin(exited, stopTimeoutMs))) {
          clean = false;
          logger.warn({ pid, stopTimeoutMs }, 'broker did not stop after SIGTERM: sending SIGKILL');
          signal(child, 'SIGKILL');
          await exited;
        }
      } else {
        clean = false;
      }
      watchdog?.dismiss();
      unregisterBroker(registration);
      jvm.cds.afterExit(clean);
      rmSync(files.pidFile, { force: true });
      if (input.temporary) rmSync(files.dataDir, { recursive: true, force: true, maxRetries: 3 });
      logger.debug({ pid, dataDir: files.dataDir }, 'local Kafka broker stopped');
    })();
    return stopping;
  };
  const registration = { pid, stop, running: () => exit === undefined };
  registerBroker(registration);

  try {
    await waitUntilReady(input, logOffset, () => exit);
  } catch (error) {
    child.ref();
    signal(child, 'SIGKILL');
    await exited;
    watchdog?.dismiss();
    unregisterBroker(registration);
    jvm.cds.afterExit(false);
    rmSync(files.pidFile, { force: true });
    throw error;
  }
  jvm.cds.checkLog(readLogSince(files.logFile, logOffset));

  const broker: LocalBroker = {
    kind: 'local',
    brokers: [`${LOOPBACK}:${port}`],
    dataDir: files.dataDir,
    port,
    controllerPort,
    pid,
    logFile: files.logFile,
    formatted: input.formatted,
    temporary: input.temporary,
    startupMs: Date.now() - input.startedAt,
    exited: exited.then(({ code, signal: s }) => ({ code, signal: s })),
    stop,
  };
  return broker;
}

async function waitUntilReady(
  input: LaunchInput,
  logOffset: number,
  exitOf: () => (BrokerExit & { error?: Error }) | undefined,
): Promise<void> {
  const { files, port } = input;
  const timeoutMs = input.options.readyTimeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  let tcpOpen = false;
  for (;;) {
    const exit = exitOf();
    if (exit !== undefined) {
      if (exit.error) throw javaNotRunnable(input.jvm.java, exit.error);
      const log = readLogSince(files.logFile, logOffset);
      const bind = /failed to bind to [^\s:]+:(\d+)/i.exec(log);
      if (bind !== null || /Address already in use/.test(log)) {
        const taken = bind?.[1] === undefined ? port : Number(bind[1]);
        throw new KafkaError(
          'BROKER_PORT_IN_USE',
          `the broker could not bind port ${taken} on ${LOOPBACK}: it is in use. Choose another port (0 picks a ` +
            `free one).\n${logExcerpt(files.logFile)}`,
          { details: { port: taken, logFile: files.logFile } },
        );
      }
      throw new KafkaError(
        'BROKER_START_FAILED',
        `the Kafka broker exited during start-up (${exit.signal ?? `code ${exit.code}`}).\n${logExcerpt(files.logFile)}`,
        { details: { dataDir: files.dataDir, logFile: files.logFile, exitCode: exit.code } },
      );
    }
    if (Date.now() > deadline) {
      throw new KafkaError(
        'BROKER_START_FAILED',
        `the Kafka broker did not become ready on ${LOOPBACK}:${port} within ${timeoutMs} ms ` +
          `(port open: ${tcpOpen}).\n${logExcerpt(files.logFile)}`,
        { details: { dataDir: files.dataDir, logFile: files.logFile, port } },
      );
    }
    if (!tcpOpen) tcpOpen = await canConnect(port, LOOPBACK, 500);
    if (tcpOpen && readLogSince(files.logFile, logOffset).includes(BROKER_STARTED_LINE)) return;
    await sleep(100);
  }
}

/** Whether `promise` settles within `ms`; leaves no timer behind (a pending timer would hold the event loop). */
function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    const done = () => {
      clearTimeout(timer);
      resolve(true);
    };
    promise.then(done, done);
  });
}

function signal(child: ChildProcess, name: NodeJS.Signals): void {
  try {
    child.kill(name);
  } catch {
    // already gone
  }
}

/** Refuses a reused data dir whose broker from an earlier run is still alive (it holds the dir's lock). */
function assertDataDirFree(dataDir: string): void {
  const pidFile = path.join(dataDir, PID_FILE);
  const text = readText(pidFile).trim();
  if (text === '') return;
  const pid = Number(text);
  if (Number.isInteger(pid) && pid > 0 && isProcessAlive(pid) && looksLikeBroker(pid)) {
    throw new KafkaError(
      'BROKER_START_FAILED',
      `the data dir ${dataDir} is in use by a Kafka broker from an earlier run (pid ${pid}). ` +
        `Stop it (\`kill ${pid}\`) or use another data dir.`,
      { details: { dataDir, pid } },
    );
  }
  rmSync(pidFile, { force: true });
}

function looksLikeBroker(pid: number): boolean {
  if (process.platform !== 'linux') return true;
  return readText(`/proc/${pid}/cmdline`).includes('kafka.Kafka');
}

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** What this launch appended to the log (an earlier attempt's output must not be mistaken for this one's). */
function readLogSince(file: string, offset: number): string {
  try {
    return readFileSync(file).subarray(offset).toString('utf8');
  } catch {
    return '';
  }
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** The last lines of the broker's log, for error messages. */
export function logExcerpt(logFile: string, maxLines = 30, maxBytes = 16_384): string {
  let text = '';
  try {
    const fd = openSync(logFile, 'r');
    try {
      const size = fstatSync(fd).size;
      const length = Math.min(size, maxBytes);
      const buffer = Buffer.alloc(length);
      readSync(fd, buffer, 0, length, size - length);
      text = buffer.toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return `(no broker log at ${logFile})`;
  }
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const tail = lines.slice(-maxLines).join('\n');
  return `--- last lines of ${logFile} ---\n${tail === '' ? '(empty)' : tail}`;
}
