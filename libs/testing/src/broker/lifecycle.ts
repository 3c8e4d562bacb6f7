import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Socket } from 'node:net';

/**
 * Keeping broker JVMs from outliving the Node process that started them. Three layers:
 *
 * 1. `stop()` on the handle (and `stopAllBrokers()` for callers' SIGINT/SIGTERM handlers): graceful.
 * 2. A `process.on('exit')` hook sends SIGTERM to every broker still running (normal exit, `process.exit()`).
 * 3. A watchdog for deaths where no JS runs (SIGKILL, a crash, an unhandled SIGINT/SIGTERM): a tiny `sh` whose
 *    stdin is a pipe from this process. The kernel closes the pipe whenever this process dies, however it dies;
 *    the watchdog then reads EOF, sends the JVM SIGTERM, SIGKILL after 15 s, and deletes the temp data dir.
 *
 * The JVM is spawned in its own process group (`detached: true`), so Ctrl-C in a terminal reaches only Node,
 * which can stop its Kafka clients before the broker (a broker that dies first leaves clients retrying). The
 * watchdog ignores SIGINT/SIGHUP/SIGTERM so that a group-wide signal cannot take it down before the JVM is gone;
 * it is ended with SIGKILL after a normal stop.
 */

export interface LiveBroker {
  pid: number;
  /** False once the process has exited (its pid may then belong to someone else). */
  running(): boolean;
  stop(): Promise<void>;
}

const live = new Set<LiveBroker>();
let exitHookInstalled = false;

export function registerBroker(broker: LiveBroker): void {
  live.add(broker);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // Not `process.on('exit', killAllBrokersSync)`: 'exit' passes the exit code, which would become the signal.
    process.on('exit', () => killAllBrokersSync('SIGTERM'));
  }
}

export function unregisterBroker(broker: LiveBroker): void {
  live.delete(broker);
}

/**
 * Gracefully stops every broker this process started and has not stopped yet. Call it from your own SIGINT/SIGTERM
 * handler (e.g. kit's `onShutdown`) when you start brokers outside `runBrokerForeground`.
 */
export async function stopAllBrokers(): Promise<void> {
  await Promise.allSettled([...live].map((b) => b.stop()));
}

/**
 * Synchronous last resort, for `process.on('exit')`: sends `signal` to every running broker JVM and returns at
 * once. The watchdog finishes the job (SIGKILL after 15 s, temp dir removal) after this process is gone.
 */
export function killAllBrokersSync(signal: NodeJS.Signals = 'SIGTERM'): void {
  for (const broker of live) {
    if (!broker.running()) continue;
    try {
      process.kill(broker.pid, signal);
    } catch {
      // already gone
    }
  }
}

/** Whether a process exists and is not a zombie (Linux: checks /proc; elsewhere: signal 0). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
}

function isZombie(pid: number): boolean {
  if (process.platform !== 'linux') return false;
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  // "pid (comm) S ...": the state letter follows the last ')'.
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state === 'Z' || state === 'X';
}

/**
 * The watchdog, a POSIX sh script. $1 = pid to kill, $2 = directory to delete afterwards ('' = none).
 * `read` is a shell builtin, so the watchdog is a single process and SIGKILL ends it completely.
 */
export const WATCHDOG_SCRIPT = `
trap '' INT HUP TERM
while read -r _ignored; do :; done
alive() {
  kill -0 "$1" 2>/dev/null || return 1
  if [ -r "/proc/$1/stat" ]; then
    read -r st < "/proc/$1/stat" 2>/dev/null || return 1
    case "\${st##*)}" in " Z"*|" X"*) return 1 ;; esac
  fi
  return 0
}
if sleep 0.01 2>/dev/null; then step=0.2; ticks=75; else step=1; ticks=15; fi
if alive "$1"; then
  kill -TERM "$1" 2>/dev/null
  n=0
  while alive "$1" && [ "$n" -lt $((ticks + ticks / 3)) ]; do
    n=$((n + 1))
    if [ "$n" -eq "$ticks" ]; then kill -KILL "$1" 2>/dev/null; fi
    sleep "$step"
  done
fi
if [ -n "$2" ]; then rm -rf -- "$2"; fi
`;

export interface Watchdog {
  /** Ends the watchdog without it doing anything (after the JVM stopped normally). */
  dismiss(): void;
}

/**
 * Starts a watchdog that kills `pid` (and deletes `cleanupDir`, if given) once this Node process is gone.
 * Does not keep the event loop alive. Returns undefined where there is no POSIX shell (Windows).
 */
export function startWatchdog(pid: number, cleanupDir?: string): Watchdog | undefined {
  if (process.platform === 'win32') return undefined;
  let child: ChildProcess;
  try {
    child = spawn('sh', ['-c', WATCHDOG_SCRIPT, 'orderstream-broker-watchdog', String(pid), cleanupDir ?? ''], {
      stdio: ['pipe', 'ignore', 'ignore'],
      detached: false,
    });
  } catch {
    return undefined;
  }
  child.on('error', () => undefined);
  child.unref();
  const stdin = child.stdin;
  if (stdin instanceof Socket) stdin.unref();
  stdin?.on('error', () => undefined);
  return {
    dismiss() {
      // Kill first, then close the pipe: the watchdog must not see EOF while it can still act.
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
      stdin?.destroy();
    },
  };
}
