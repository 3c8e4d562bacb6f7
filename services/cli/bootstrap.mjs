#!/usr/bin/env node
// Entry point of `npm start`, `npm test`, `npm run broker` and `npm run bench` on a fresh clone.
// It uses nothing but Node's standard library, because it runs before dependencies are installed:
//   1. installs npm packages (npm ci) when node_modules is missing or older than package-lock.json or patches/;
//   2. builds every workspace (turbo caches, so this is quick when nothing changed);
//   3. fetches the Kafka broker's jars from Maven Central on first use (broker/pom.xml), Apicurio Registry
//      (registry/pom.xml) and, for tests, the Java consumer example's jars (test/java/pom.xml);
//   4. runs the requested command.
import { spawnSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1', TURBO_NO_UPDATE_NOTIFIER: '1' };
const step = (text) => console.error(`\u001b[1m[orderstream]\u001b[0m ${text}`);

function run(cmd, args, what) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env });
  if (r.error) {
    console.error(`[orderstream] ${what} failed: ${r.error.message}`);
    process.exit(1);
  }
  if (r.status !== 0) {
    console.error(`[orderstream] ${what} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status ?? 1);
  }
}

function ensureInstalled() {
  const marker = join(root, 'node_modules', '.package-lock.json'); // written by every npm install / npm ci
  const lock = join(root, 'package-lock.json');
  const hasLock = existsSync(lock);
  const patches = join(root, 'patches');
  // node_modules is stale when it is missing or older than the lockfile or a patch of an installed package.
  const inputs = [...(hasLock ? [lock] : []), ...(existsSync(patches) ? readdirSync(patches).map((f) => join(patches, f)) : [])];
  const stale = !existsSync(marker) || inputs.some((f) => statSync(f).mtimeMs > statSync(marker).mtimeMs);
  if (!stale) return;
  // `npm ci` installs exactly the committed lockfile and never rewrites it (it fails instead when package.json and
  // the lockfile disagree); it deletes node_modules first, hence only when stale. Both run the root's postinstall,
  // which applies patches/ (patch-package).
  if (hasLock) {
    step('installing npm packages from package-lock.json (npm ci)…');
    run('npm', ['ci', '--no-audit', '--no-fund'], 'npm ci');
  } else {
    step('installing npm packages (no package-lock.json: npm install writes one)…');
    run('npm', ['install', '--no-audit', '--no-fund'], 'npm install');
  }
}

function ensureBuilt() {
  step('building workspaces…');
  run('npx', ['--no-install', 'turbo', 'run', 'build', '--output-logs=errors-only', '--log-prefix=none'], 'build');
}

function ensureBrokerJars() {
  const lib = join(root, 'broker', 'target', 'lib');
  if (existsSync(lib) && readdirSync(lib).some((f) => f.startsWith('kafka_2.13-'))) return;
  if (process.env.KAFKA_BROKERS) return; // an external broker: no jars needed
  step('fetching the Kafka broker jars from Maven Central (first run, ~46 MB)…');
  run('mvn', ['-B', '-q', '-f', join(root, 'broker', 'pom.xml'), 'package'], 'fetching Kafka jars (needs Java 17 and Maven)');
}

// Apicurio Registry (registry/pom.xml), the local schema registry of tests, npm start and npm run broker. -C: Maven
// refuses an artifact whose checksum from Central does not match. Cached in ~/.m2 and registry/target.
function ensureRegistry() {
  const dist = join(root, 'registry', 'target', 'apicurio');
  if (existsSync(dist) && readdirSync(dist).some((f) => f.endsWith('-runner.jar'))) return;
  if (process.env.ORDERSTREAM_SCHEMA_REGISTRY_URL) return; // an external registry: nothing to fetch
  step('fetching Apicurio Registry from Maven Central (first run, ~135 MB)…');
  run('mvn', ['-B', '-q', '-C', '-f', join(root, 'registry', 'pom.xml'), 'package'], 'fetching Apicurio Registry (needs Java 17 and Maven)');
}

// The Java consumer example the tests run (test/java): its jars by Maven, its class by javac.
function ensureJavaConsumer() {
  const lib = join(root, 'test', 'java', 'target', 'lib');
  if (!(existsSync(lib) && readdirSync(lib).some((f) => f.startsWith('kafka-clients-')))) {
    step('fetching the Java consumer example\'s jars from Maven Central (first run)…');
    run('mvn', ['-B', '-q', '-C', '-f', join(root, 'test', 'java', 'pom.xml'), 'package'], 'fetching the Java consumer jars');
  }
  const src = join(root, 'test', 'java', 'src', 'main', 'java', 'dev', 'orderstream', 'example', 'OrderstreamConsumer.java');
  const cls = join(root, 'test', 'java', 'target', 'classes', 'dev', 'orderstream', 'example', 'OrderstreamConsumer.class');
  if (existsSync(cls) && statSync(cls).mtimeMs >= statSync(src).mtimeMs) return;
  run('javac', ['-d', join(root, 'test', 'java', 'target', 'classes'), '-cp', `${lib}/*`, src], 'compiling the Java consumer example');
}

/** Runs the final command in the foreground; Ctrl-C reaches it (same process group) and we wait for it. */
function exec(cmd, args) {
  const child = spawn(cmd, args, { cwd: root, stdio: 'inherit', env });
  const ignore = () => {};
  process.on('SIGINT', ignore);
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + 2 : 1)));
}

const cli = join(root, 'services', 'cli', 'bin', 'orderstream.js');
const [command, ...rest] = process.argv.slice(2);
switch (command) {
  case 'test':
    ensureInstalled();
    ensureBuilt();
    ensureBrokerJars();
    ensureRegistry();
    ensureJavaConsumer();
    exec('npx', ['--no-install', 'vitest', 'run', ...rest]);
    break;
  case 'demo':
    ensureInstalled();
    ensureBuilt();
    ensureBrokerJars();
    ensureRegistry();
    exec(process.execPath, [cli, 'demo', ...rest]);
    break;
  case 'broker':
    ensureInstalled();
    ensureBuilt();
    ensureBrokerJars();
    ensureRegistry();
    exec(process.execPath, [cli, 'broker', ...rest]);
    break;
  case 'bench': {
    // Every */benchmarks/*.bench.ts, one after another, from the TypeScript sources (vite-node + vitest's aliases).
    ensureInstalled();
    const files = ['libs', 'services']
      .flatMap((dir) => readdirSync(join(root, dir)).map((pkg) => join(dir, pkg, 'benchmarks')))
      .filter((d) => existsSync(join(root, d)))
      .flatMap((d) => readdirSync(join(root, d)).filter((f) => f.endsWith('.bench.ts')).map((f) => join(d, f)));
    for (const file of files) {
      step(`benchmark ${file}`);
      run('npx', ['--no-install', 'vite-node', '--config', 'vitest.config.ts', file], file);
    }
    step('results in bench-results/');
    break;
  }
  default:
    console.error('usage: node services/cli/bootstrap.mjs test|demo|broker|bench [args…]');
    process.exit(2);
}
