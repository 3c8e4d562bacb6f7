import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/**
 * A credential that prints as `[redacted]` wherever it ends up: logs, JSON, template strings, util.inspect.
 * Only `reveal()` gives the value, and only signing code should call it.
 */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return REDACTED;
  }
  toJSON(): string {
    return REDACTED;
  }
  [inspect.custom](): string {
    return REDACTED;
  }
}
