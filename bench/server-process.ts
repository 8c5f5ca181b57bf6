// Starts a real Vigil server as a child process on a fresh data dir, with a project and keys.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { loadConfig } from '../src/config.js';
import { openMeta } from '../src/app-context.js';
import { ProjectService } from '../src/projects/service.js';
import { ApiKeyService } from '../src/auth/api-keys.js';

export interface BenchServer {
  url: string;
  child: ChildProcess;
  writeKey: string;
  readKey: string;
  dataDir: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export async function startServer(env: Record<string, string> = {}): Promise<BenchServer> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-'));
  const meta = await openMeta(loadConfig({}, { dataDir }));
  const project = await new ProjectService(meta.db).create({ slug: 'bench' });
  const keys = new ApiKeyService(meta.db);
  const writeKey = (await keys.create({ projectId: project.id, scopes: ['ingest'] })).secret;
  const readKey = (await keys.create({ projectId: project.id, scopes: ['read'] })).secret;
  await meta.close();
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      ...(process.env.NODE_PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] : []),
      ...(process.env.NODE_FLAGS ?? '--max-semi-space-size=64').split(' ').filter(Boolean),
      'dist/src/cli.js',
      'serve',
    ],
    {
      env: {
        ...process.env,
        VIGIL_DATA_DIR: dataDir,
        VIGIL_PORT: String(port),
        VIGIL_HOST: '127.0.0.1',
        VIGIL_DEMO: 'false',
        VIGIL_LOG_LEVEL: 'warn',
        ...env,
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    if (i > 300) throw new Error('server did not become ready');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    child,
    writeKey,
    readKey,
    dataDir,
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Peak resident memory of a process, from /proc (Linux). */
export function peakRssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
export function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
