import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where things live. Everything is found from this module's own path, never from `process.cwd()`, so the
 * harness works the same from `src/` (vitest) and from `dist/` (node), whatever directory the caller is in.
 */

let cachedRoot: string | undefined;

/** The repository root: the nearest ancestor of this file that holds `broker/pom.xml`. */
export function repoRoot(): string {
  if (cachedRoot !== undefined) return cachedRoot;
  const start = path.dirname(fileURLToPath(import.meta.url));
  let dir = start;
  for (;;) {
    if (existsSync(path.join(dir, 'broker', 'pom.xml'))) {
      cachedRoot = dir;
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new Error(`cannot find the orderstream repository root (no broker/pom.xml above ${start})`);
    }
    dir = parent;
  }
}

/** `<repo>/broker`: pom.xml, log4j.properties, and the Maven output under target/. */
export function brokerDir(): string {
  return path.join(repoRoot(), 'broker');
}

/** `<repo>/broker/target/lib`: the broker's jars, copied there by `mvn package`. */
export function brokerLibDir(dir: string = brokerDir()): string {
  return path.join(dir, 'target', 'lib');
}

/** The reload4j configuration passed to every broker and StorageTool JVM. */
export function brokerLog4jFile(): string {
  return path.join(brokerDir(), 'log4j.properties');
}

/** Default data dir of the human-facing broker (`npm run broker`, the demo): `<repo>/.local/kafka`. */
export function defaultForegroundDataDir(): string {
  return path.join(repoRoot(), '.local', 'kafka');
}
