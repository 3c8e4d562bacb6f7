import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** One recorded or constructed Binance USDⓈ-M frame: `text` is the exact frame text; `note` says where it came from. */
export interface BinanceUsdmFixture {
  name: string;
  text: string;
  note: string;
  /** rest.jsonl only: the REST path the body answers (MapContext.rest.path) */
  path?: string;
  /** rest.jsonl only: the HTTP status it came with */
  status?: number;
}

/**
 * - `orders.jsonl`: order.status success answers (one canonical order each)
 * - `errors.jsonl`: error answers (skipped by the mapper, acted on by the client)
 * - `malformed.jsonl`: input the mapper must reject, each with the expected FrameError code in its note
 * - `requests.jsonl`: frames the client *sends* (the doc example and ours, with independently computed signatures)
 * - `rest.jsonl`: REST answer bodies of the reconciliation, each with its `path` and HTTP `status`
 * - `uds-orders.jsonl`: user data stream ORDER_TRADE_UPDATE / ALGO_UPDATE events (one canonical order each)
 * - `uds-other.jsonl`: user data stream events that carry no order (skipped)
 * - `uds-malformed.jsonl`: user data stream input the mapper must reject (expected code first in the note)
 */
export const BINANCE_USDM_FIXTURE_FILES = [
  'orders.jsonl', 'errors.jsonl', 'malformed.jsonl', 'requests.jsonl', 'rest.jsonl', 'uds-orders.jsonl', 'uds-other.jsonl', 'uds-malformed.jsonl',
] as const;
export type BinanceUsdmFixtureFile = (typeof BINANCE_USDM_FIXTURE_FILES)[number];

/**
 * Reads one fixture file (JSONL beside this module's source, in ./fixtures). Works when run from the TypeScript
 * sources (vitest); the JSONL files are not copied into dist/.
 */
export function readBinanceUsdmFixtures(file: BinanceUsdmFixtureFile): BinanceUsdmFixture[] {
  const path = fileURLToPath(new URL(`./fixtures/${file}`, import.meta.url));
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line, i) => {
      const f = JSON.parse(line) as BinanceUsdmFixture;
      if (typeof f.name !== 'string' || typeof f.text !== 'string' || typeof f.note !== 'string') {
        throw new Error(`${file}:${i + 1}: a fixture needs string name, text and note`);
      }
      return f;
    });
}

/** The fixture named `name` in `file`; throws if absent. */
export function binanceUsdmFixture(file: BinanceUsdmFixtureFile, name: string): BinanceUsdmFixture {
  const f = readBinanceUsdmFixtures(file).find((x) => x.name === name);
  if (!f) throw new Error(`no Binance USDⓈ-M fixture ${name} in ${file}`);
  return f;
}
