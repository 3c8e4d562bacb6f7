import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** One BSX frame from the docs or made by us: `text` is the exact frame text; `note` says where it came from. */
export interface BsxFixture {
  name: string;
  text: string;
  note: string;
  /** rest.jsonl only: the request the answer belongs to (as the raw rest-request header names it) and its HTTP status */
  rest?: { method: string; path: string; params: Record<string, string>; status: number };
}

export const BSX_FIXTURE_FILES = ['orders.jsonl', 'control.jsonl', 'malformed.jsonl', 'rest.jsonl'] as const;
export type BsxFixtureFile = (typeof BSX_FIXTURE_FILES)[number];

/**
 * Reads one fixture file (JSONL beside this module's source, in ./fixtures). Works when run from the TypeScript
 * sources (vitest); the JSONL files are not copied into dist/.
 */
export function readBsxFixtures(file: BsxFixtureFile): BsxFixture[] {
  const path = fileURLToPath(new URL(`./fixtures/${file}`, import.meta.url));
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line, i) => {
      const f = JSON.parse(line) as BsxFixture;
      if (typeof f.name !== 'string' || typeof f.text !== 'string' || typeof f.note !== 'string') {
        throw new Error(`${file}:${i + 1}: a fixture needs string name, text and note`);
      }
      return f;
    });
}

/** The fixture named `name` in `file`; throws if absent. */
export function bsxFixture(file: BsxFixtureFile, name: string): BsxFixture {
  const f = readBsxFixtures(file).find((x) => x.name === name);
  if (!f) throw new Error(`no BSX fixture ${name} in ${file}`);
  return f;
}
