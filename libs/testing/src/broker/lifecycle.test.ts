import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../wait.js';
import { isProcessAlive, startWatchdog } from './lifecycle.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'orderstream-watchdog-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/**
 * Runs the real lifecycle.ts (transpiled, it only imports node builtins) in a separate Node process that starts a
 * stand-in "broker" (`sleep`) under a watchdog, then prints the stand-in's pid.
 */
function startOwner(cleanupDir: string) {
  const source = readFileSync(new URL('./lifecycle.ts', import.meta.url), 'utf8');
  const js = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  writeFileSync(path.join(work, 'lifecycle.mjs'), js);
  writeFileSync(
    path.join(work, 'owner.mjs'),
    `import { spawn } from 'node:child_process';
import { startWatchdog } from './lifecycle.mjs';
const victim = spawn('sleep', ['300'], { stdio: 'ignore' });
startWatchdog(victim.pid, process.argv[2]);
process.stdout.write(JSON.stringify({ victim: victim.pid }) + '\\n');
setInterval(() => {}, 60_000);
`,
  );
  const owner = spawn(process.execPath, [path.join(work, 'owner.mjs'), cleanupDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const victim = new Promise<number>((resolve, reject) => {
    createInterface({ input: owner.stdout }).once('line', (line) => resolve((JSON.parse(line) as { victim: number }).victim));
    owner.once('exit', (code) => reject(new Error(`owner exited early (${code})`)));
  });
  return { owner, victim };
}

describe('watchdog', () => {
  it('kills the child and deletes its temp dir when the owning Node process is SIGKILLed', async () => {
    const dataDir = path.join(work, 'data');
    mkdirSync(dataDir);
    writeFileSync(path.join(dataDir, 'file'), 'x');
    const { owner, victim } = startOwner(dataDir);
    const pid = await victim;
    expect(isProcessAlive(pid)).toBe(true);

    owner.kill('SIGKILL');
    await waitFor(() => !isProcessAlive(pid) && !existsSync(dataDir), {
      timeoutMs: 10_000,
      description: `pid ${pid} to be killed and ${dataDir} removed by the watchdog`,
    });
  });

  it('does nothing once dismissed', async () => {
    const child = spawn('sleep', ['300'], { stdio: 'ignore' });
    const pid = child.pid as number;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const watchdog = startWatchdog(pid);
    expect(watchdog).toBeDefined();
    watchdog?.dismiss();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(isProcessAlive(pid)).toBe(true);
    child.kill('SIGKILL');
    await exited;
  });
});
