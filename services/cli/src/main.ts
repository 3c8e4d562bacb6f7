import { ConfigError, ConfigProblems, envWithoutEmpty, host, intFromEnv, runMain } from '@orderstream/kit';
import { onlyFlags, onlyPositionals, parseArgs } from './args.js';
import { OPS_HELP, runOpsCommand } from './ops-commands.js';
import { normalizeCommand } from './normalize-command.js';

const HELP = `orderstream: one exact, replayable state of every order on many venues, on Kafka.

usage:
  orderstream normalize --venue <id> [--account <name>] [--reference <file>]
      raw venue frames on stdin, one per line (split on LF only; a CR before the LF is dropped) → exactly one JSON
      line per input line on stdout (a blank line: {"skipped":"blank line"})
  orderstream demo [--port <broker port>] [--http-port <port>] [--fresh]
      broker + simulators + collector + normalizer + order-state, live state in the terminal, the web blotter and
      query API on --http-port (default 8080), metrics of every service (npm start; --fresh: empty broker first)
  orderstream broker [--port <port>] [--data-dir <dir>]
      a local single-node Kafka broker in the foreground (npm run broker)
  orderstream simulate --venue xt|websea|loopring|bsx|binance-usdm [--port <port>] [--host <address>]
      one venue simulator on its own, playing order lifecycles (docker-compose uses it)
  orderstream ensure-topics
      create missing pipeline topics and report configs that differ (reads KAFKA_BROKERS, ORDERSTREAM_*)
  orderstream reconcile --venue <id> --account <name> [--since <ISO time | epoch ms>] [--json]
      ask the venue now what the state may have missed (open orders, history, details), as the collector does
      after a gap; reads KAFKA_BROKERS, ORDERSTREAM_TOPIC_PREFIX and COLLECTOR_ACCOUNTS_FILE
  orderstream help
`;

/**
 * Checks the flags a command takes (ports, hosts) and, where given, the command's environment; every problem of
 * both in one ConfigError (exit 2). Returns the flags' parsed values.
 */
function checkFlags(flags: Map<string, string>, checks: { port?: { min: number }; host?: boolean }, more?: (p: ConfigProblems) => void) {
  const problems = new ConfigProblems();
  let port: number | undefined;
  let hostValue: string | undefined;
  if (checks.port && flags.has('port')) port = problems.check(intFromEnv(checks.port.min, 65_535), flags.get('port'), '--port');
  if (checks.host && flags.has('host')) hostValue = problems.check(host(), flags.get('host'), '--host');
  more?.(problems);
  problems.throwIfAny();
  return { port, host: hostValue };
}

async function main(argv: string[]): Promise<number> {
  const { command, flags, positionals } = parseArgs(argv);
  const ops = command === undefined ? undefined : await runOpsCommand(command, flags, positionals);
  if (ops !== undefined) return ops;
  onlyPositionals(positionals, 0, '');
  switch (command) {
    case 'normalize': {
      onlyFlags(flags, ['venue', 'account', 'reference']);
      await normalizeCommand({
        venue: flags.get('venue'),
        account: flags.get('account'),
        referenceFile: flags.get('reference'),
        input: process.stdin,
        output: process.stdout,
      });
      return 0;
    }
    case 'demo': {
      onlyFlags(flags, ['port', 'http-port', 'fresh']);
      let httpPort: number | undefined;
      const { port } = checkFlags(flags, { port: { min: 1 } }, (p) => {
        if (flags.has('http-port')) httpPort = p.check(intFromEnv(0, 65_535), flags.get('http-port'), '--http-port');
      });
      const { runDemo } = await import('./demo.js');
      // Exit explicitly: a client that failed to stop must not keep the demo alive after Ctrl-C.
      return exitWith(await runDemo({ port, httpPort, fresh: flags.has('fresh') }));
    }
    case 'broker': {
      onlyFlags(flags, ['port', 'data-dir']);
      const { port } = checkFlags(flags, { port: { min: 1 } });
      const { runBroker } = await import('./broker-command.js');
      return runBroker({ port, dataDir: flags.get('data-dir') });
    }
    case 'simulate': {
      onlyFlags(flags, ['venue', 'port', 'host']);
      const { simulateCommand, simulateEnvSchema, venueProblem } = await import('./simulate-command.js');
      const { port, host: h } = checkFlags(flags, { port: { min: 0 }, host: true }, (p) => {
        const bad = venueProblem(flags.get('venue'));
        if (bad) p.add('--venue', bad);
        p.check(simulateEnvSchema, envWithoutEmpty(process.env));
      });
      return simulateCommand({ venue: flags.get('venue'), port, host: h });
    }
    case 'ensure-topics': {
      onlyFlags(flags, []);
      const { ensureTopicsCommand } = await import('./ensure-topics-command.js');
      return ensureTopicsCommand();
    }
    case 'reconcile': {
      onlyFlags(flags, ['venue', 'account', 'since', 'json']);
      const { reconcileCommand } = await import('./reconcile-command.js');
      return reconcileCommand({ venue: flags.get('venue'), account: flags.get('account'), since: flags.get('since'), json: flags.has('json') });
    }
    case undefined:
    case 'help':
    case '--help':
      process.stdout.write(HELP + OPS_HELP);
      return 0;
    default:
      throw new ConfigError([`unknown command ${JSON.stringify(command)}; see 'orderstream help'`]);
  }
}

function exitWith(code: number): never {
  process.exit(code);
}

// Exit codes: README "Configuration" → "Exit codes" (2 configuration or usage, 3 ensure-topics differences,
// 69 Kafka unreachable).
runMain('orderstream', () => main(process.argv.slice(2)));
