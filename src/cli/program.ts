/** What every `vigil` command shares: the program, its configuration, and the stores a command opens. */
import fs from 'node:fs';
import { Command } from 'commander';
import type { FastifyBaseLogger } from 'fastify';
import { loadConfig, type Config, type ConfigInput } from '../config.js';
import type { AppContext } from '../app-context.js';
import { ProjectService } from '../projects/service.js';
import { ApiKeyService } from '../auth/api-keys.js';
import { UserService } from '../auth/users.js';
import { MembershipService } from '../auth/memberships.js';
import { AuditLog } from '../auth/audit.js';
import { storeInUseError } from './server-api.js';
import { parseTimeInput } from '../time/index.js';
import { VigilError } from '../errors.js';

export const program = new Command('vigil').description('Vigil: product analytics and metric monitoring').showHelpAfterError();
program.option('--data-dir <dir>', 'data directory (VIGIL_DATA_DIR)').option('--log-level <level>', 'log level (VIGIL_LOG_LEVEL)');

export function config(extra: ConfigInput = {}): Config {
  const o = program.opts<{ dataDir?: string; logLevel?: string }>();
  return loadConfig(process.env, { dataDir: o.dataDir, logLevel: o.logLevel, ...extra });
}

export const quietLogger = async (c: Config) => (await import('pino')).pino({ level: c.logLevel === 'info' ? 'warn' : c.logLevel });

// The event store's native module, Fastify and their plugins take about a second to load: they are
// loaded on first use, so the metadata commands (projects, keys) start without them; the metadata
// store (Kysely, SQLite, PostgreSQL) is loaded on first use too, so `vigil detect` loads only the detector.
export const metaStore = () => import('../meta-db.js');
export const metaConnection = () => import('../storage/meta/db.js');
export const createAppContext = async (c: Config, log: FastifyBaseLogger): Promise<AppContext> =>
  (await import('../app-context.js')).createAppContext(c, log);
export const progressBar = async (format: string) => {
  const { default: cliProgress } = await import('cli-progress');
  return new cliProgress.SingleBar({ format }, cliProgress.Presets.shades_classic);
};

/** The metadata store: PostgreSQL when VIGIL_DATABASE_URL names it (scaled mode), else the SQLite file. */
export const metaTarget = (c: Config) => c.postgresUrl ?? c.metaFile;

/** Commands that only touch metadata (projects, keys) may run while a server is running. */
export async function withMeta<T>(fn: (m: { projects: ProjectService; keys: ApiKeyService }) => Promise<T>): Promise<T> {
  const meta = await (await metaStore()).openMetaStore(metaTarget(config()));
  try {
    return await fn({ projects: new ProjectService(meta.db), keys: new ApiKeyService(meta.db) });
  } finally {
    await meta.close();
  }
}

/** Account commands touch only metadata, so they may run while a server is running. */
export async function withAccounts<T>(
  fn: (a: { users: UserService; memberships: MembershipService; projects: ProjectService; audit: AuditLog }) => Promise<T>,
): Promise<T> {
  const c = config();
  const meta = await (await metaStore()).openMetaStore(metaTarget(c));
  try {
    return await fn({
      users: new UserService(meta.db, c.passwordScryptLogN),
      memberships: new MembershipService(meta.db),
      projects: new ProjectService(meta.db),
      audit: new AuditLog(meta.db),
    });
  } finally {
    await meta.close();
  }
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Commands that read or write events own the event store, so no server may be running: when one
 * holds it, a one-line message says so (and, `viaApi`, that --url goes through the server instead).
 */
export async function withApp<T>(fn: (ctx: AppContext) => Promise<T>, opts: { viaApi?: boolean } = {}): Promise<T> {
  const c = config();
  let ctx: AppContext;
  try {
    ctx = await createAppContext(c, await quietLogger(c));
  } catch (err) {
    throw storeInUseError(err, { viaApi: opts.viaApi ?? false }) ?? err;
  }
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}

/** A numeric option, checked: commander passes the text as given. */
export function parseNumber(value: string, name: string, rule: { integer?: boolean; min: number }): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < rule.min || (rule.integer && !Number.isInteger(n))) {
    throw new VigilError(
      'VIGIL_ERR_BAD_REQUEST',
      `--${name} "${value}" must be ${rule.integer ? 'an integer' : 'a number'} of at least ${rule.min}`,
    );
  }
  return n;
}

/** A file the command reads: a missing one is a short message, not a stack trace. */
export function readableFile(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch (err) {
    throw new VigilError(
      'VIGIL_ERR_BAD_REQUEST',
      `cannot read "${file}": ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`,
    );
  }
}

/** The latest instant a JavaScript Date can hold (year 275760). */
export const LATEST_TIME_MS = 8.64e15;

export function parseWhen(value: string, name: string): number {
  const ms = parseTimeInput(value, Date.now());
  if (ms === null)
    throw new VigilError('VIGIL_ERR_BAD_REQUEST', `--${name} "${value}" is not a time (ISO 8601, epoch ms, or relative such as -7d)`);
  return ms;
}
