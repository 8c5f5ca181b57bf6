import path from 'node:path';
import { z } from 'zod';

/** Every setting Vigil reads, with its environment variable, default and meaning (also rendered in the README). */
const schema = z.object({
  port: z.coerce.number().int().min(0).max(65535).default(3000),
  host: z.string().min(1).default('0.0.0.0'),
  dataDir: z.string().min(1).default('./.vigil'),
  databaseUrl: z.string().optional(),
  eventsUrl: z.string().optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  demo: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  trustProxy: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  ingestFlushMs: z.coerce.number().int().min(10).max(60_000).default(1000),
  ingestSegmentBytes: z.coerce.number().int().min(64 * 1024).default(16 * 1024 * 1024),
  dedupWindowHours: z.coerce.number().int().min(1).max(24 * 90).default(24 * 7),
  duckdbMemoryLimit: z.string().regex(/^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, 'a size such as 2GB').optional(),
  duckdbThreads: z.coerce.number().int().min(1).max(256).optional(),
  queryTimeoutMs: z.coerce.number().int().min(100).default(30_000),
});

export type Config = z.infer<typeof schema> & { metaFile: string; eventsFile: string; walDir: string };
export type ConfigInput = Partial<Record<keyof z.input<typeof schema>, string | number | undefined>>;

/** Maps each setting to its VIGIL_* environment variable. */
export const ENV_NAMES: Record<keyof z.input<typeof schema>, string> = {
  port: 'VIGIL_PORT',
  host: 'VIGIL_HOST',
  dataDir: 'VIGIL_DATA_DIR',
  databaseUrl: 'VIGIL_DATABASE_URL',
  eventsUrl: 'VIGIL_EVENTS_URL',
  logLevel: 'VIGIL_LOG_LEVEL',
  demo: 'VIGIL_DEMO',
  trustProxy: 'VIGIL_TRUST_PROXY',
  ingestFlushMs: 'VIGIL_INGEST_FLUSH_MS',
  ingestSegmentBytes: 'VIGIL_INGEST_SEGMENT_BYTES',
  dedupWindowHours: 'VIGIL_DEDUP_WINDOW_HOURS',
  duckdbMemoryLimit: 'VIGIL_DUCKDB_MEMORY_LIMIT',
  duckdbThreads: 'VIGIL_DUCKDB_THREADS',
  queryTimeoutMs: 'VIGIL_QUERY_TIMEOUT_MS',
};

export class ConfigError extends Error {}

/** Builds the config from the environment, with `overrides` (CLI flags) taking precedence. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: ConfigInput = {}): Config {
  const raw: Record<string, unknown> = {};
  for (const [key, envName] of Object.entries(ENV_NAMES)) {
    const value = overrides[key as keyof ConfigInput] ?? env[envName];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const key = issue.path[0] as keyof typeof ENV_NAMES;
      return `${ENV_NAMES[key] ?? key}=${JSON.stringify(raw[key])}: ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const c = parsed.data;
  for (const [key, url] of [['databaseUrl', c.databaseUrl], ['eventsUrl', c.eventsUrl]] as const) {
    if (url && !/^(sqlite|duckdb):/.test(url)) {
      throw new ConfigError(`invalid configuration:\n  ${ENV_NAMES[key]}=${JSON.stringify(url)}: embedded mode accepts sqlite:<file> / duckdb:<file> URLs; the scaled mode (postgres://, clickhouse://) is not available in this build yet`);
    }
  }
  const dataDir = path.resolve(c.dataDir);
  const fileOf = (url: string | undefined, fallback: string) => (url ? path.resolve(url.replace(/^\w+:(\/\/)?/, '')) : path.join(dataDir, fallback));
  return { ...c, dataDir, metaFile: fileOf(c.databaseUrl, 'meta.sqlite'), eventsFile: fileOf(c.eventsUrl, 'events.duckdb'), walDir: path.join(dataDir, 'wal') };
}
