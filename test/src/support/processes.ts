import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@orderstream/testing';

export type ServiceName = 'collector' | 'normalizer' | 'order-state';

/** A service running as its own OS process (built code, as in production), restartable, killable. */
export class ServiceProcess {
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  starts = 0;

  constructor(
    readonly name: ServiceName,
    private readonly env: Record<string, string>,
    private readonly logFile: string,
  ) {
    const main = ServiceProcess.mainOf(name);
    if (!existsSync(main)) throw new Error(`${main} is missing: build first (npm test does; or npx turbo run build)`);
  }

  static mainOf(name: ServiceName): string {
    return join(repoRoot(), 'services', name, 'dist', 'main.js');
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  start(): void {
    const fd = openSync(this.logFile, 'a');
    try {
      const child = spawn(process.execPath, [ServiceProcess.mainOf(this.name)], {
        env: { PATH: process.env.PATH ?? '', ...this.env },
        stdio: ['ignore', fd, fd],
      });
      this.#child = child;
      this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
      this.starts++;
    } finally {
      closeSync(fd);
    }
  }

  /** SIGKILL: no shutdown hook runs, open transactions stay open until the next owner fences them. */
  async kill(): Promise<void> {
    this.#child?.kill('SIGKILL');
    await this.#exited;
  }

  async stop(): Promise<void> {
    this.#child?.kill('SIGTERM');
    const timer = setTimeout(() => this.#child?.kill('SIGKILL'), 15_000);
    await this.#exited;
    clearTimeout(timer);
  }
}
