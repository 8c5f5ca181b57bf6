import path from 'node:path';
import { z } from 'zod';

/** The secret key used when none is configured: fine on a laptop, refused in production. */
export const DEV_SECRET_KEY = 'vigil-development-secret-do-not-use-in-production';

/** An integer setting whose every error says what is accepted (e.g. "expected an integer from 0 to 65535"). */
function integer(min: number, max?: number) {
  const expected = `expected an integer ${max === undefined ? `of at least ${min}` : `from ${min} to ${max}`}`;
  const n = z.coerce.number({ invalid_type_error: expected }).int(expected).min(min, expected);
  return max === undefined ? n : n.max(max, expected);
}

/** Every setting Vigil reads, with its environment variable, default and meaning (also rendered in the README). */
const schema = z.object({
  port: integer(0, 65535).default(3000),
  host: z.string().min(1).default('0.0.0.0'),
  dataDir: z.string().min(1).default('./.vigil'),
  databaseUrl: z.string().optional(),
  eventsUrl: z.string().optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  demo: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  demoSeed: integer(0, 4_294_967_295).default(42),
  trustProxy: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  ingestFlushMs: integer(10, 60_000).default(1000),
  ingestSegmentBytes: integer(64 * 1024).default(256 * 1024 * 1024),
  dedupWindowHours: integer(1, 24 * 90).default(24 * 7),
  duckdbMemoryLimit: z
    .string()
    .regex(/^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, 'a size such as 2GB')
    .optional(),
  duckdbThreads: integer(1, 256).optional(),
  queryTimeoutMs: integer(100).default(30_000),
  worker: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  schedulerTickMs: integer(100, 3_600_000).default(10_000),
  metricsLookbackBuckets: integer(0, 100).default(2),
  metricsBackfillDays: integer(1, 3650).default(30),
  metricSqlTimeoutMs: integer(100, 600_000).default(10_000),
  metricSqlMaxRows: integer(1, 10_000_000).default(100_000),
  secretKey: z.string().default(DEV_SECRET_KEY),
  secureCookies: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  corsOrigins: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    ),
  openRegistration: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  sessionDays: integer(1, 365).default(7),
  invitationDays: integer(1, 90).default(7),
  signinRateLimit: integer(1).default(20),
  ingestRateLimit: integer(1).default(6000),
  keyFailureRateLimit: integer(1).default(30),
  publicUrl: z.string().url('an absolute URL such as https://vigil.example.com').optional(),
  smtpUrl: z
    .string()
    .regex(/^smtps?:\/\/[^/]+/, 'an SMTP URL such as smtp://user:password@mail.example.com:587 or smtps://…:465')
    .optional(),
  mailFrom: z
    .string()
    .regex(
      /^(?:[^<>\r\n]*<[^\s@<>]+@[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+)$/,
      'an address such as vigil@example.com or "Vigil <vigil@example.com>"',
    )
    .optional(),
  passwordScryptLogN: integer(10, 20).default(16),
  alertsAllowPrivateUrls: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  alertsAllowHttp: z
    .enum(['true', 'false'])
    .optional()
    .transform((v) => (v === undefined ? undefined : v === 'true')),
  eventsCluster: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a ClickHouse cluster name (letters, digits, _)')
    .optional(),
});

export type Config = Omit<z.infer<typeof schema>, 'alertsAllowHttp'> & {
  /** the embedded stores' files (used when the matching server URL is not set) */
  metaFile: string;
  eventsFile: string;
  walDir: string;
  alertsAllowHttp: boolean;
  /** scaled mode: VIGIL_DATABASE_URL when it names PostgreSQL, VIGIL_EVENTS_URL when it names ClickHouse */
  postgresUrl: string | undefined;
  clickhouseUrl: string | undefined;
};
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
  demoSeed: 'VIGIL_DEMO_SEED',
  trustProxy: 'VIGIL_TRUST_PROXY',
  ingestFlushMs: 'VIGIL_INGEST_FLUSH_MS',
  ingestSegmentBytes: 'VIGIL_INGEST_SEGMENT_BYTES',
  dedupWindowHours: 'VIGIL_DEDUP_WINDOW_HOURS',
  duckdbMemoryLimit: 'VIGIL_DUCKDB_MEMORY_LIMIT',
  duckdbThreads: 'VIGIL_DUCKDB_THREADS',
  queryTimeoutMs: 'VIGIL_QUERY_TIMEOUT_MS',
  worker: 'VIGIL_WORKER',
  schedulerTickMs: 'VIGIL_SCHEDULER_TICK_MS',
  metricsLookbackBuckets: 'VIGIL_METRICS_LOOKBACK_BUCKETS',
  metricsBackfillDays: 'VIGIL_METRICS_BACKFILL_DAYS',
  metricSqlTimeoutMs: 'VIGIL_METRIC_SQL_TIMEOUT_MS',
  metricSqlMaxRows: 'VIGIL_METRIC_SQL_MAX_ROWS',
  secretKey: 'VIGIL_SECRET_KEY',
  secureCookies: 'VIGIL_SECURE_COOKIES',
  corsOrigins: 'VIGIL_CORS_ORIGINS',
  openRegistration: 'VIGIL_OPEN_REGISTRATION',
  sessionDays: 'VIGIL_SESSION_DAYS',
  invitationDays: 'VIGIL_INVITATION_DAYS',
  signinRateLimit: 'VIGIL_SIGNIN_RATE_LIMIT',
  ingestRateLimit: 'VIGIL_INGEST_RATE_LIMIT',
  keyFailureRateLimit: 'VIGIL_KEY_FAILURE_RATE_LIMIT',
  publicUrl: 'VIGIL_PUBLIC_URL',
  smtpUrl: 'VIGIL_SMTP_URL',
  mailFrom: 'VIGIL_MAIL_FROM',
  passwordScryptLogN: 'VIGIL_PASSWORD_SCRYPT_LOG_N',
  alertsAllowPrivateUrls: 'VIGIL_ALERTS_ALLOW_PRIVATE_URLS',
  alertsAllowHttp: 'VIGIL_ALERTS_ALLOW_HTTP',
  eventsCluster: 'VIGIL_EVENTS_CLUSTER',
};

export class ConfigError extends Error {}

/** A URL as it may be shown in a message: without the password of its user-info part. */
function withoutPassword(value: string): string {
  return value.replace(/^([a-z][\w+.-]*:\/\/[^/@:]*):[^/@]*@/i, '$1:***@');
}

/** Settings whose value is never repeated in a message. */
const SECRET_SETTINGS = new Set<string>(['secretKey']);
/** Shortest secret key production accepts: 32 characters carry at least 128 bits even as hex. */
const MIN_SECRET_KEY_LENGTH = 32;

/** What production refuses, one line per problem, each naming its variable (never showing the secret). */
function productionProblems(c: z.infer<typeof schema>, secretUnset: boolean): string[] {
  const problems: string[] = [];
  const key = c.secretKey.trim();
  if (secretUnset || key === '')
    problems.push(
      `${ENV_NAMES.secretKey} is not set: set it to a random string of at least ${MIN_SECRET_KEY_LENGTH} characters (e.g. \`openssl rand -hex 32\`)`,
    );
  else if (c.secretKey === DEV_SECRET_KEY)
    problems.push(
      `${ENV_NAMES.secretKey} is the development default: set it to a random string of at least ${MIN_SECRET_KEY_LENGTH} characters`,
    );
  else if (key.length < MIN_SECRET_KEY_LENGTH)
    problems.push(`${ENV_NAMES.secretKey} is too short (${key.length} characters): use at least ${MIN_SECRET_KEY_LENGTH}`);
  if (!c.secureCookies)
    problems.push(
      `${ENV_NAMES.secureCookies} is not true: session cookies would also be sent over plain HTTP; serve Vigil over HTTPS and set it to true`,
    );
  if (c.corsOrigins.includes('*'))
    problems.push(`${ENV_NAMES.corsOrigins} contains "*": list the exact origins allowed to call the API with credentials`);
  return problems;
}

/** Builds the config from the environment, with `overrides` (CLI flags) taking precedence. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: ConfigInput = {}): Config {
  const raw: Record<string, unknown> = {};
  const shown = (key: string) =>
    SECRET_SETTINGS.has(key) ? '"***"' : JSON.stringify(typeof raw[key] === 'string' ? withoutPassword(raw[key] as string) : raw[key]);
  for (const [key, envName] of Object.entries(ENV_NAMES)) {
    const value = overrides[key as keyof ConfigInput] ?? env[envName];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const key = issue.path[0] as keyof typeof ENV_NAMES;
      return `${ENV_NAMES[key] ?? key}=${shown(key)}: ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const c = parsed.data;
  // each store URL names its engine: embedded (a file) or scaled (a server)
  const fileIn = (url: string) => url.replace(/^\w+:(\/\/)?/, '');
  const stores = [
    ['databaseUrl', c.databaseUrl, 'sqlite', /^postgres(ql)?:\/\/[^/]+/],
    ['eventsUrl', c.eventsUrl, 'duckdb', /^clickhouses?:\/\/[^/]+/],
  ] as const;
  for (const [key, url, file, server] of stores) {
    if (url === undefined || server.test(url) || (url.startsWith(`${file}:`) && fileIn(url) !== '')) continue;
    const example = key === 'databaseUrl' ? 'postgres://user@host:5432/vigil' : 'clickhouse://host:8123/vigil';
    throw new ConfigError(
      `invalid configuration:\n  ${ENV_NAMES[key]}=${shown(key)}: expected ${file}:<file> (embedded) or ${example} (scaled)`,
    );
  }
  const postgresUrl = c.databaseUrl !== undefined && /^postgres/.test(c.databaseUrl) ? c.databaseUrl : undefined;
  const clickhouseUrl = c.eventsUrl !== undefined && /^clickhouse/.test(c.eventsUrl) ? c.eventsUrl : undefined;
  if (env.NODE_ENV === 'production') {
    const problems = productionProblems(c, raw.secretKey === undefined);
    if (problems.length) throw new ConfigError(`refusing to start in production (NODE_ENV=production):\n  ${problems.join('\n  ')}`);
  }
  const dataDir = path.resolve(c.dataDir);
  const fileOf = (url: string | undefined, fallback: string) => (url ? path.resolve(fileIn(url)) : path.join(dataDir, fallback));
  // alerts go out over https only in production, unless told otherwise
  const alertsAllowHttp = c.alertsAllowHttp ?? env.NODE_ENV !== 'production';
  return {
    ...c,
    alertsAllowHttp,
    dataDir,
    postgresUrl,
    clickhouseUrl,
    metaFile: fileOf(postgresUrl ? undefined : c.databaseUrl, 'meta.sqlite'),
    eventsFile: fileOf(clickhouseUrl ? undefined : c.eventsUrl, 'events.duckdb'),
    walDir: path.join(dataDir, 'wal'),
  };
}
