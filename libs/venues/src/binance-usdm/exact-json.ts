/**
 * Digit-preserving reads of JSON text.
 *
 * `JSON.parse` turns every number into a double: an int64 order id above 2^53 (9007199254740993) comes back as
 * 9007199254740992. Binance sends `orderId` as a JSON integer (LONG), so the exact digits must be read from the
 * frame text itself. `rawJsonValueAt` walks the text with a small tokenizer (strings, escapes, nesting: no regex
 * over the whole frame, so a key inside a string value or in another object can never match) and returns the raw
 * text of the value at a path, exactly as it was sent. The frame has already passed `JSON.parse` when this runs,
 * so the tokenizer only needs to be correct for valid JSON; it still refuses anything malformed it meets.
 */

export type JsonPath = readonly (string | number)[];

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);
/** number, true, false, null: matched in place (sticky), no slicing */
const SCALAR_RE = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y;

class Scanner {
  pos = 0;
  constructor(readonly text: string) {}

  skipWs(): void {
    while (this.pos < this.text.length && WS.has(this.text.charCodeAt(this.pos))) this.pos++;
  }

  fail(what: string): never {
    throw new SyntaxError(`JSON scan: ${what} at position ${this.pos}`);
  }

  expect(ch: string): void {
    if (this.text[this.pos] !== ch) this.fail(`expected ${JSON.stringify(ch)}`);
    this.pos++;
  }

  /** Scans a string token starting at `"` and returns its decoded value. */
  string(): string {
    const start = this.pos;
    this.expect('"');
    let escaped = false;
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos++);
      if (c === 0x5c) escaped = true; // backslash: decode the whole token with JSON.parse below
      else if (c === 0x22) {
        const raw = this.text.slice(start, this.pos);
        return escaped ? (JSON.parse(raw) as string) : raw.slice(1, -1);
      }
      if (c === 0x5c) this.pos++; // skip the escaped character (\" must not end the string)
    }
    return this.fail('unterminated string');
  }

  /** Skips one value of any kind; returns [start, end) of its text. */
  value(): [number, number] {
    this.skipWs();
    const start = this.pos;
    const c = this.text[this.pos];
    if (c === '{') this.object(undefined, 0);
    else if (c === '[') this.array(undefined, 0);
    else if (c === '"') this.string();
    else {
      SCALAR_RE.lastIndex = this.pos;
      const m = SCALAR_RE.exec(this.text);
      if (!m) this.fail('expected a value');
      this.pos += m[0].length;
    }
    return [start, this.pos];
  }

  /**
   * Scans an object; when `path` is given, records the raw text of the member at path[level] (descending
   * further when the path goes on). Duplicate keys: the last one wins, as with JSON.parse.
   */
  object(path: JsonPath | undefined, level: number, found?: { raw?: string }): void {
    this.expect('{');
    this.skipWs();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return;
    }
    for (;;) {
      this.skipWs();
      const key = this.string();
      this.skipWs();
      this.expect(':');
      this.skipWs();
      if (path && found && key === path[level]) this.descend(path, level + 1, found);
      else this.value();
      this.skipWs();
      const c = this.text[this.pos++];
      if (c === '}') return;
      if (c !== ',') this.fail('expected "," or "}"');
    }
  }

  array(path: JsonPath | undefined, level: number, found?: { raw?: string }): void {
    this.expect('[');
    this.skipWs();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return;
    }
    for (let i = 0; ; i++) {
      this.skipWs();
      if (path && found && i === path[level]) this.descend(path, level + 1, found);
      else this.value();
      this.skipWs();
      const c = this.text[this.pos++];
      if (c === ']') return;
      if (c !== ',') this.fail('expected "," or "]"');
    }
  }

  /** At a value that matched path[0..level): record it if the path ends here, else go one level deeper. */
  descend(path: JsonPath, level: number, found: { raw?: string }): void {
    if (level === path.length) {
      const [s, e] = this.value();
      found.raw = this.text.slice(s, e);
      return;
    }
    const c = this.text[this.pos];
    if (c === '{' && typeof path[level] === 'string') this.object(path, level, found);
    else if (c === '[' && typeof path[level] === 'number') this.array(path, level, found);
    else this.value();
  }
}

/**
 * The raw text of the JSON value at `path` (object keys as strings, array indices as numbers), exactly as it
 * appears in `text`; undefined when the path does not exist. Throws SyntaxError for malformed JSON.
 */
export function rawJsonValueAt(text: string, path: JsonPath): string | undefined {
  const s = new Scanner(text);
  const found: { raw?: string } = {};
  s.skipWs();
  s.descend(path, 0, found);
  return found.raw;
}

const INTEGER_RE = /^-?\d+$/;

/**
 * The exact digits of the JSON integer at `path` (a number token, or a string holding digits), or undefined when
 * the path is absent, null, or holds anything else (a fraction, an exponent, a word). Never goes through a double.
 */
export function exactIntegerAt(text: string, path: JsonPath): string | undefined {
  const raw = rawJsonValueAt(text, path);
  if (raw === undefined || raw === 'null') return undefined;
  const digits = raw.startsWith('"') ? (JSON.parse(raw) as string) : raw;
  return INTEGER_RE.test(digits) ? digits : undefined;
}

/** Largest int64, the range of Binance LONG parameters (orderId). */
export const INT64_MAX = 9_223_372_036_854_775_807n;

/** True for a canonical non-negative int64 in decimal (no sign, no leading zeros unless "0"). */
export function isInt64Digits(s: string): boolean {
  return /^(0|[1-9]\d{0,18})$/.test(s) && BigInt(s) <= INT64_MAX;
}

/**
 * The raw text of every element of the top-level JSON array in `text`, in order, in one pass (a REST list answer:
 * each element is then read like a single order, its int64 digits taken from its own text). Throws SyntaxError when
 * the text is not an array.
 */
export function rawArrayElements(text: string): string[] {
  const s = new Scanner(text);
  s.skipWs();
  if (text[s.pos] !== '[') s.fail('expected "["');
  s.pos++;
  const out: string[] = [];
  s.skipWs();
  if (text[s.pos] === ']') return out;
  for (;;) {
    const [start, end] = s.value();
    out.push(text.slice(start, end));
    s.skipWs();
    const c = text[s.pos++];
    if (c === ']') return out;
    if (c !== ',') s.fail('expected "," or "]"');
  }
}
