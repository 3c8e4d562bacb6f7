import { ConfigError, isAppError } from '@orderstream/kit';
import { onlyFlags, parseArgs } from './args.js';
import { normalizeCommand } from './normalize-command.js';

const HELP = `orderstream: one exact, replayable state of every order on many venues, on Kafka.

usage:
  orderstream normalize --venue <id> [--account <name>] [--reference <file>]
      raw venue frames on stdin (one per line) → one JSON line per frame on stdout
  orderstream demo [--port <broker port>]
      broker + simulators + collector + normalizer + order-state, live state in the terminal (npm start)
  orderstream broker [--port <port>] [--data-dir <dir>]
      a local single-node Kafka broker in the foreground (npm run broker)
  orderstream simulate --venue xt [--port <port>] [--host <address>]
      one venue simulator on its own, playing order lifecycles (docker-compose uses it)
  orderstream ensure-topics
      create missing pipeline topics and report configs that differ (reads KAFKA_BROKERS, ORDERSTREAM_*)
  orderstream reconcile --venue <id> --account <name> [--since <ISO time | epoch ms>] [--json]
      ask the venue now what the state may have missed (open orders, history, details), as the collector does
      after a gap; reads KAFKA_BROKERS, ORDERSTREAM_TOPIC_PREFIX and COLLECTOR_ACCOUNTS_FILE
  orderstream help
`;

async function main(argv: string[]): Promise<number> {
  const { command, flags } = parseArgs(argv);
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
      onlyFlags(flags, ['port']);
      const { runDemo } = await import('./demo.js');
      // Exit explicitly: a client that failed to stop must not keep the demo alive after Ctrl-C.
      return exitWith(await runDemo({ port: flags.has('port') ? Number(flags.get('port')) : undefined }));
    }
    case 'broker': {
      onlyFlags(flags, ['port', 'data-dir']);
      const { runBroker } = await import('./broker-command.js');
      return runBroker({ port: flags.has('port') ? Number(flags.get('port')) : undefined, dataDir: flags.get('data-dir') });
    }
    case 'simulate': {
      onlyFlags(flags, ['venue', 'port', 'host']);
      const { simulateCommand } = await import('./simulate-command.js');
      return simulateCommand({ venue: flags.get('venue'), port: flags.has('port') ? Number(flags.get('port')) : undefined, host: flags.get('host') });
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
      process.stdout.write(HELP);
      return 0;
    default:
      throw new ConfigError([`unknown command ${JSON.stringify(command)}; see 'orderstream help'`]);
  }
}

function exitWith(code: number): never {
  process.exit(code);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof ConfigError) process.stderr.write(`orderstream: ${error.message}\n`);
    else if (isAppError(error)) process.stderr.write(`orderstream: [${error.code}] ${error.message}\n`);
    else process.stderr.write(`orderstream: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = error instanceof ConfigError ? 2 : 1;
  },
);
