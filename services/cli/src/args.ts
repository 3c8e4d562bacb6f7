import { ConfigError } from '@orderstream/kit';

export interface ParsedArgs {
  command: string | undefined;
  flags: Map<string, string>;
  /** words after the command that are not flags (`tail raw`, `get <orderKey>`, `dlq list`) */
  positionals: string[];
}

/** Flags that take no value (`--json`); present means "true". */
export const BOOLEAN_FLAGS: ReadonlySet<string> = new Set(['json', 'from-beginning', 'dry-run', 'fresh']);

/**
 * `cmd --name value --name=value`; every flag takes a value, except BOOLEAN_FLAGS. Unknown flags are the caller's to
 * reject.
 */
export function parseArgs(argv: string[]): ParsedArgs {
  const [command, ...rest] = argv;
  const flags = new Map<string, string>();
  const positionals: string[] = [];
  const problems: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] as string;
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    if (BOOLEAN_FLAGS.has(arg.slice(2))) flags.set(arg.slice(2), 'true');
    else if (eq > 0) flags.set(arg.slice(2, eq), arg.slice(eq + 1));
    else {
      const value = rest[i + 1];
      if (value === undefined || value.startsWith('--')) problems.push(`${arg} needs a value`);
      else {
        flags.set(arg.slice(2), value);
        i++;
      }
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { command, flags, positionals };
}

/** At most `max` positional words; names what they are for in the error. */
export function onlyPositionals(positionals: string[], max: number, what: string): void {
  if (positionals.length > max) {
    throw new ConfigError(positionals.slice(max).map((p) => `unexpected argument ${JSON.stringify(p)}${max > 0 ? ` (${what})` : ''}`));
  }
}

export function onlyFlags(flags: Map<string, string>, allowed: string[]): void {
  const unknown = [...flags.keys()].filter((k) => !allowed.includes(k));
  if (unknown.length > 0) {
    throw new ConfigError(unknown.map((k) => `unknown option --${k} (allowed: ${allowed.map((a) => `--${a}`).join(', ') || 'none'})`));
  }
}
