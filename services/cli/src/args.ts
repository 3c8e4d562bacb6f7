import { ConfigError } from '@orderstream/kit';

export interface ParsedArgs {
  command: string | undefined;
  flags: Map<string, string>;
}

/** Flags that take no value (`--json`); present means "true". */
export const BOOLEAN_FLAGS: ReadonlySet<string> = new Set(['json']);

/**
 * `cmd --name value --name=value`; every flag takes a value, except BOOLEAN_FLAGS. Unknown flags are the caller's to
 * reject.
 */
export function parseArgs(argv: string[]): ParsedArgs {
  const [command, ...rest] = argv;
  const flags = new Map<string, string>();
  const problems: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] as string;
    if (!arg.startsWith('--')) {
      problems.push(`unexpected argument ${JSON.stringify(arg)}`);
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
  return { command, flags };
}

export function onlyFlags(flags: Map<string, string>, allowed: string[]): void {
  const unknown = [...flags.keys()].filter((k) => !allowed.includes(k));
  if (unknown.length > 0) {
    throw new ConfigError(unknown.map((k) => `unknown option --${k} (allowed: ${allowed.map((a) => `--${a}`).join(', ') || 'none'})`));
  }
}
