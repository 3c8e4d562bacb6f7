import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** One recorded or constructed Loopring frame: `text` is the exact frame text; `note` says where it came from. */
export interface LoopringFixture {
  name: string;
  text: string;
  note: string;
}

export const LOOPRING_FIXTURE_FILES = ['orders.jsonl', 'control.jsonl', 'malformed.jsonl'] as const;
export type LoopringFixtureFile = (typeof LOOPRING_FIXTURE_FILES)[number];

/**
 * Reads one fixture file (JSONL beside this module's source, in ./fixtures). Works when run from the TypeScript
 * sources (vitest); the JSONL files are not copied into dist/.
 */
export function readLoopringFixtures(file: LoopringFixtureFile): LoopringFixture[] {
  const path = fileURLToPath(new URL(`./fixtures/${file}`, import.meta.url));
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line, i) => {
      const f = JSON.parse(line) as LoopringFixture;
      if (typeof f.name !== 'string' || typeof f.text !== 'string' || typeof f.note !== 'string') {
        throw new Error(`${file}:${i + 1}: a fixture needs string name, text and note`);
      }
      return f;
    });
}

/** The fixture named `name` in `file`; throws if absent. */
export function loopringFixture(file: LoopringFixtureFile, name: string): LoopringFixture {
  const f = readLoopringFixtures(file).find((x) => x.name === name);
  if (!f) throw new Error(`no Loopring fixture ${name} in ${file}`);
  return f;
}

/** One REST answer (fixtures/rest.jsonl): the exact body, and the request it answers as the rest-request header names it. */
export interface LoopringRestFixture extends LoopringFixture {
  path: string;
  params: Record<string, string>;
  /** HTTP status of the answer */
  status: number;
}

/** Every REST fixture (fixtures/rest.jsonl). */
export function readLoopringRestFixtures(): LoopringRestFixture[] {
  const path = fileURLToPath(new URL('./fixtures/rest.jsonl', import.meta.url));
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line, i) => {
      const f = JSON.parse(line) as LoopringRestFixture;
      if (typeof f.name !== 'string' || typeof f.text !== 'string' || typeof f.note !== 'string' || typeof f.path !== 'string' || typeof f.status !== 'number') {
        throw new Error(`rest.jsonl:${i + 1}: a REST fixture needs string name, path, text, note and a numeric status`);
      }
      return f;
    });
}

/** The REST fixture named `name`; throws if absent. */
export function loopringRestFixture(name: string): LoopringRestFixture {
  const f = readLoopringRestFixtures().find((x) => x.name === name);
  if (!f) throw new Error(`no Loopring REST fixture ${name}`);
  return f;
}
