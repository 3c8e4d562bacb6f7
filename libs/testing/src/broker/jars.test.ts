import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError, createLogger } from '@orderstream/kit';
import { ensureBrokerJars } from './jars.js';
import { brokerDir } from './paths.js';

const temps: string[] = [];
function tempBrokerDir(kafkaVersion: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'orderstream-jars-test-'));
  temps.push(dir);
  writeFileSync(
    path.join(dir, 'pom.xml'),
    `<project><properties><kafka.version>${kafkaVersion}</kafka.version></properties></project>\n`,
  );
  return dir;
}
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const MODULES = ['kafka_2.13', 'kafka-clients', 'kafka-server', 'kafka-server-common', 'kafka-metadata', 'kafka-raft',
  'kafka-storage', 'kafka-group-coordinator', 'kafka-transaction-coordinator'];
const OTHERS = ['scala-library-2.13.15', 'slf4j-api-1.7.36', 'slf4j-reload4j-1.7.36', 'reload4j-1.2.25'];

/** A stand-in for Maven: "downloads" a complete jar set for `version` into <pom dir>/target/lib. */
function fakeMvn(dir: string, version: string): string {
  const jars = [...MODULES.map((m) => `${m}-${version}`), ...OTHERS].map((j) => `${j}.jar`).join(' ');
  const script = path.join(dir, 'fake-mvn');
  writeFileSync(
    script,
    `#!/bin/sh\necho "fake mvn $*"\nlib="$(dirname "$4")/target/lib"\nmkdir -p "$lib"\n` +
      `for j in ${jars}; do echo jar > "$lib/$j"; done\n`,
  );
  chmodSync(script, 0o755);
  return script;
}

describe('ensureBrokerJars', () => {
  it('reuses the jars already in broker/target/lib without running Maven', async () => {
    const jars = await ensureBrokerJars({ mvn: 'mvn-must-not-run' });
    expect(jars.fetched).toBe(false);
    expect(jars.libDir).toBe(path.join(brokerDir(), 'target', 'lib'));
    expect(readdirSync(jars.libDir).some((n) => /^kafka_2\.13-.+\.jar$/.test(n))).toBe(true);
    expect(jars.kafkaVersion).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('runs Maven when the jars are missing, streaming its output to the logger', async () => {
    const dir = tempBrokerDir('3.9.2');
    const lines: string[] = [];
    const logger = createLogger({ name: 't', level: 'info', destination: { write: (s: string) => lines.push(s) } });
    const jars = await ensureBrokerJars({ brokerDir: dir, mvn: fakeMvn(dir, '3.9.2'), logger });
    expect(jars.fetched).toBe(true);
    expect(jars.jarCount).toBe(MODULES.length + OTHERS.length);
    expect(lines.join('')).toContain('fake mvn -B -q -f');
    // Second call: complete, so no Maven.
    expect((await ensureBrokerJars({ brokerDir: dir, mvn: 'mvn-must-not-run' })).fetched).toBe(false);
  });

  it('deletes jars of another Kafka version before refetching', async () => {
    const dir = tempBrokerDir('3.9.2');
    const lib = path.join(dir, 'target', 'lib');
    mkdirSync(lib, { recursive: true });
    for (const m of MODULES) writeFileSync(path.join(lib, `${m}-3.9.1.jar`), 'old');
    for (const o of OTHERS) writeFileSync(path.join(lib, `${o}.jar`), 'x');
    await ensureBrokerJars({ brokerDir: dir, mvn: fakeMvn(dir, '3.9.2') });
    const names = readdirSync(lib);
    expect(names).toContain('kafka_2.13-3.9.2.jar');
    expect(names.filter((n) => n.includes('3.9.1'))).toEqual([]);
  });

  it('fails with BROKER_JARS_MISSING and a way forward when Maven is not installed', async () => {
    const dir = tempBrokerDir('3.9.2');
    const error = await ensureBrokerJars({ brokerDir: dir, mvn: 'mvn-not-installed-here' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('BROKER_JARS_MISSING');
    expect((error as AppError).message).toMatch(/not on PATH.*Install Maven.*KAFKA_BROKERS/s);
  });

  it('fails with BROKER_JARS_MISSING quoting Maven output when Maven fails', async () => {
    const dir = tempBrokerDir('3.9.2');
    const failing = path.join(dir, 'failing-mvn');
    writeFileSync(failing, '#!/bin/sh\necho "[ERROR] Could not resolve dependencies" >&2\nexit 1\n');
    chmodSync(failing, 0o755);
    const error = await ensureBrokerJars({ brokerDir: dir, mvn: failing }).catch((e: unknown) => e);
    expect((error as AppError).code).toBe('BROKER_JARS_MISSING');
    expect((error as AppError).message).toMatch(/exited with code 1.*Could not resolve dependencies/s);
  });
});
