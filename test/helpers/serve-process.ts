/** `vigil serve` as a real child process on a free loopback port (the scaled mode's tests). */
import fs from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { tempDir } from './app.js';

const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));

export interface Served {
  url: string;
  proc: ChildProcess;
  exited: Promise<number | null>;
  dataDir: string;
}

const running: Served[] = [];

/** Starts `vigil serve <args>` with its own data folder; resolves once it listens. */
export async function serveProcess(args: string[], env: Record<string, string> = {}): Promise<Served> {
  const dataDir = tempDir('vigil-serve-');
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', CLI, '--data-dir', dataDir, 'serve', '--port', '0', '--host', '127.0.0.1', ...args],
    {
      env: { ...process.env, VIGIL_LOG_LEVEL: 'info', VIGIL_DEMO: 'false', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let stderr = '';
    proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
      if (m) resolve(m[1]);
    });
    void exited.then((code) => reject(new Error(`vigil serve exited (${code}) before listening: ${stderr}`)));
  });
  const served = { url, proc, exited, dataDir };
  running.push(served);
  return served;
}

/** SIGTERM, then the exit code. */
export async function stopProcess(s: Served): Promise<number | null> {
  s.proc.kill('SIGTERM');
  return s.exited;
}

/** Kills what is still running and removes the data folders (a file's `after` hook). */
export async function cleanUpProcesses(): Promise<void> {
  for (const s of running) if (s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill('SIGKILL');
  await Promise.all(running.map((s) => s.exited));
  for (const s of running.splice(0)) fs.rmSync(s.dataDir, { recursive: true, force: true });
}
