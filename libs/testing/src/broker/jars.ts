import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { KafkaError, silentLogger, type Logger } from '@orderstream/kit';
import { brokerDir as defaultBrokerDir, brokerLibDir } from './paths.js';

export interface EnsureBrokerJarsOptions {
  logger?: Logger;
  /** Folder holding pom.xml; jars go to `<brokerDir>/target/lib`. Defaults to `<repo>/broker`. */
  brokerDir?: string;
  /** Maven executable. Defaults to `mvn` on PATH. */
  mvn?: string;
  /** Give up on Maven after this long. Default 15 minutes (a cold ~/.m2 downloads ~46 MB). */
  timeoutMs?: number;
}

export interface BrokerJars {
  /** Absolute path of the jar folder; pass `<libDir>/*` to `java -cp`. */
  libDir: string;
  /** The Kafka version the jars are for (from pom.xml `kafka.version`), when the pom names one. */
  kafkaVersion: string | undefined;
  /** Number of jars in libDir. */
  jarCount: number;
  /** True when this call ran Maven; false when the jars were already there. */
  fetched: boolean;
  /** Wall time of this call. */
  ms: number;
}

/** Kafka modules the broker and StorageTool cannot start without, all at the pom's `kafka.version`. */
const KAFKA_MODULES = [
  'kafka_2.13',
  'kafka-clients',
  'kafka-server',
  'kafka-server-common',
  'kafka-metadata',
  'kafka-raft',
  'kafka-storage',
  'kafka-group-coordinator',
  'kafka-transaction-coordinator',
];
/** Other jars without which the JVM fails (Scala runtime) or logs nothing at all (the slf4j binding). */
const OTHER_REQUIRED = [/^scala-library-.+\.jar$/, /^slf4j-api-.+\.jar$/, /^slf4j-reload4j-.+\.jar$/, /^reload4j-.+\.jar$/];

const inFlight = new Map<string, Promise<BrokerJars>>();

/**
 * Makes sure `broker/target/lib` holds a complete set of broker jars for the pom's Kafka version, running
 * `mvn -B -q -f broker/pom.xml package` when it does not (first run, interrupted copy, or a version bump, in which
 * case the stale jars are deleted first because `java -cp 'lib/*'` would load both versions).
 * Throws KafkaError BROKER_JARS_MISSING when Maven is not installed or fails.
 */
export function ensureBrokerJars(options: EnsureBrokerJarsOptions = {}): Promise<BrokerJars> {
  const dir = path.resolve(options.brokerDir ?? defaultBrokerDir());
  let pending = inFlight.get(dir);
  if (!pending) {
    pending = doEnsure(dir, options).finally(() => inFlight.delete(dir));
    inFlight.set(dir, pending);
  }
  return pending;
}

async function doEnsure(dir: string, options: EnsureBrokerJarsOptions): Promise<BrokerJars> {
  const started = Date.now();
  const logger = options.logger ?? silentLogger();
  const pom = path.join(dir, 'pom.xml');
  const libDir = brokerLibDir(dir);
  const kafkaVersion = readKafkaVersion(pom);

  const before = checkJars(libDir, kafkaVersion);
  if (before.ok) {
    return { libDir, kafkaVersion, jarCount: before.jarCount, fetched: false, ms: Date.now() - started };
  }
  if (before.stale) {
    logger.warn({ libDir, kafkaVersion }, 'broker jars are for another Kafka version: deleting them before refetching');
    rmSync(libDir, { recursive: true, force: true });
  }
  logger.info({ pom, reason: before.problem }, 'fetching the Kafka broker jars with Maven (only needed once)');
  await runMaven(options.mvn ?? 'mvn', pom, logger, options.timeoutMs ?? 15 * 60_000);

  const after = checkJars(libDir, kafkaVersion);
  if (!after.ok) {
    throw new KafkaError(
      'BROKER_JARS_MISSING',
      `Maven finished but ${libDir} is still incomplete (${after.problem}). Check ${pom}.`,
      { details: { libDir, pom } },
    );
  }
  const ms = Date.now() - started;
  logger.info({ libDir, jars: after.jarCount, ms }, 'broker jars fetched');
  return { libDir, kafkaVersion, jarCount: after.jarCount, fetched: true, ms };
}

function readKafkaVersion(pom: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(pom, 'utf8');
  } catch (error) {
    throw new KafkaError('BROKER_JARS_MISSING', `cannot read ${pom}: it declares the broker's jars`, { cause: error });
  }
  return /<kafka\.version>\s*([^<\s]+)\s*<\/kafka\.version>/.exec(text)?.[1];
}

interface JarCheck {
  ok: boolean;
  stale: boolean;
  jarCount: number;
  problem: string;
}

function checkJars(libDir: string, kafkaVersion: string | undefined): JarCheck {
  let names: string[];
  try {
    names = readdirSync(libDir).filter((n) => n.endsWith('.jar'));
  } catch {
    return { ok: false, stale: false, jarCount: 0, problem: `${libDir} does not exist` };
  }
  const jarCount = names.length;
  const fail = (problem: string, stale = false): JarCheck => ({ ok: false, stale, jarCount, problem });

  const core = names.filter((n) => n.startsWith('kafka_2.13-') && n.endsWith('.jar'));
  if (core.length === 0) return fail('no kafka_2.13-*.jar');
  if (kafkaVersion !== undefined) {
    for (const module of KAFKA_MODULES) {
      const prefix = `${module}-`;
      const versions = names
        .filter((n) => n.startsWith(prefix) && /^\d/.test(n.slice(prefix.length)))
        .map((n) => n.slice(prefix.length, -'.jar'.length));
      if (versions.some((v) => v !== kafkaVersion)) {
        return fail(`${module} jars for ${versions.join(', ')} but the pom wants ${kafkaVersion}`, true);
      }
      if (versions.length === 0) return fail(`missing ${module}-${kafkaVersion}.jar`);
    }
  } else if (core.length > 1) {
    return fail(`several kafka_2.13 jars: ${core.join(', ')}`, true);
  }
  for (const pattern of OTHER_REQUIRED) {
    if (!names.some((n) => pattern.test(n))) return fail(`no jar matching ${pattern.source}`);
  }
  const empty = names.find((n) => statSync(path.join(libDir, n)).size === 0);
  if (empty !== undefined) return fail(`${empty} is empty (interrupted copy?)`);
  return { ok: true, stale: false, jarCount, problem: '' };
}

function runMaven(mvn: string, pom: string, logger: Logger, timeoutMs: number): Promise<void> {
  const args = ['-B', '-q', '-f', pom, 'package'];
  const command = `${mvn} ${args.join(' ')}`;
  const tail: string[] = [];
  return new Promise<void>((resolve, reject) => {
    const child = spawn(mvn, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => {
      tail.push(`(killed after ${timeoutMs} ms)`);
      child.kill('SIGKILL');
    }, timeoutMs);
    const onLine = (line: string) => {
      tail.push(line);
      if (tail.length > 40) tail.shift();
      logger.info({ mvn: line }, 'mvn');
    };
    createInterface({ input: child.stdout }).on('line', onLine);
    createInterface({ input: child.stderr }).on('line', onLine);
    child.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const missing = error.code === 'ENOENT';
      reject(
        new KafkaError(
          'BROKER_JARS_MISSING',
          missing
            ? `the Kafka broker's jars are not in ${path.dirname(pom)}/target/lib and Maven ('${mvn}') is not on PATH. ` +
                'Install Maven (and Java 17+) and run `npm run broker:fetch`, or point the tests at a running broker ' +
                'with KAFKA_BROKERS=host:port.'
            : `cannot run ${command}: ${error.message}`,
          { cause: error, details: { pom } },
        ),
      );
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) {
        resolve();
        return;
      }
      reject(
        new KafkaError(
          'BROKER_JARS_MISSING',
          `fetching the Kafka broker's jars failed: \`${command}\` exited with ${signal ?? `code ${code}`}. ` +
            'It needs network access to Maven Central (or a filled ~/.m2). Last output:\n' +
            (tail.length > 0 ? tail.join('\n') : '(none)'),
          { details: { pom, exitCode: code, signal } },
        ),
      );
    });
  });
}
