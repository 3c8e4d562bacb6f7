import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** One recorded or constructed WebSea frame: `text` is the exact frame text; `note` says where it came from. */
export interface WebseaFixture {
  name: string;
  text: string;
  note: string;
}

export const WEBSEA_FIXTURE_FILES = ['orders.jsonl', 'control.jsonl', 'malformed.jsonl'] as const;
export type WebseaFixtureFile = (typeof WEBSEA_FIXTURE_FILES)[number];

/**
 * Reads one fixture file (JSONL beside this module's source, in ./fixtures). Works when run from the TypeScript
 * sources (vitest); the JSONL files are not copied into dist/.
 */
export function readWebseaFixtures(file: WebseaFixtureFile): WebseaFixture[] {
  const path = fileURLToPath(new URL(`./fixtures/${file}`, import.meta.url));
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line, i) => {
      const f = JSON.parse(line) as WebseaFixture;
      if (typeof f.name !== 'string' || typeof f.text !== 'string' || typeof f.note !== 'string') {
        throw new Error(`${file}:${i + 1}: a fixture needs string name, text and note`);
      }
      return f;
    });
}

/** The fixture named `name` in `file`; throws if absent. */
export function webseaFixture(file: WebseaFixtureFile, name: string): WebseaFixture {
  const f = readWebseaFixtures(file).find((x) => x.name === name);
  if (!f) throw new Error(`no WebSea fixture ${name} in ${file}`);
  return f;
}

/** One documented or constructed REST answer: the request it answers, its HTTP status and exact body text. */
export interface WebseaRestFixture {
  name: string;
  request: { method: string; path: string; params: Record<string, string> };
  status: number;
  text: string;
  note: string;
}

/** The REST answers in ./fixtures/rest.jsonl (sources in ./fixtures/README.md). */
export function readWebseaRestFixtures(): WebseaRestFixture[] {
  const path = fileURLToPath(new URL('./fixtures/rest.jsonl', import.meta.url));
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line) => JSON.parse(line) as WebseaRestFixture);
}

/** The REST fixture named `name`; throws if absent. */
export function webseaRestFixture(name: string): WebseaRestFixture {
  const f = readWebseaRestFixtures().find((x) => x.name === name);
  if (!f) throw new Error(`no WebSea REST fixture ${name}`);
  return f;
}
