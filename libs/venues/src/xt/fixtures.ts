import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** One recorded or constructed XT frame: `text` is the exact frame text; `note` says where it came from. */
export interface XtFixture {
  name: string;
  text: string;
  note: string;
  /** rest.jsonl: the call this body answers, as the raw record's rest-request header says it (`GET /path?query`) */
  request?: string;
  /** rest.jsonl: the HTTP status it came with */
  status?: number;
}

export const XT_FIXTURE_FILES = ['orders.jsonl', 'control.jsonl', 'malformed.jsonl', 'rest.jsonl'] as const;
export type XtFixtureFile = (typeof XT_FIXTURE_FILES)[number];

/**
 * Reads one fixture file (JSONL beside this module's source, in ./fixtures). Works when run from the TypeScript
 * sources (vitest); the JSONL files are not copied into dist/.
 */
export function readXtFixtures(file: XtFixtureFile): XtFixture[] {
  const path = fileURLToPath(new URL(`./fixtures/${file}`, import.meta.url));
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line, i) => {
      const f = JSON.parse(line) as XtFixture;
      if (typeof f.name !== 'string' || typeof f.text !== 'string' || typeof f.note !== 'string') {
        throw new Error(`${file}:${i + 1}: a fixture needs string name, text and note`);
      }
      return f;
    });
}

/** The fixture named `name` in `file`; throws if absent. */
export function xtFixture(file: XtFixtureFile, name: string): XtFixture {
  const f = readXtFixtures(file).find((x) => x.name === name);
  if (!f) throw new Error(`no XT fixture ${name} in ${file}`);
  return f;
}
