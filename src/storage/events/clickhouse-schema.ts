/** The ClickHouse event store's address and schema: its URL parsed, and the DDL `vigil migrate` runs. */
import { type ClickHouseClient, ClickHouseLogLevel, type ClickHouseSettings, createClient } from '@clickhouse/client';
import { chIdent } from './clickhouse-escape.js';
import { eventsDdl, sandboxDatabase } from './clickhouse-sql.js';

export interface ClickHouseTarget {
  httpUrl: string;
  username: string;
  password: string;
  database: string;
}

/** Splits a clickhouse:// URL into the HTTP endpoint, credentials and database (`vigil` when none is named). */
export function parseClickHouseUrl(url: string): ClickHouseTarget {
  const u = new URL(url.replace(/^clickhouse(s?):/, 'http$1:'));
  const database = decodeURIComponent(u.pathname.replace(/^\/+|\/+$/g, '')) || 'vigil';
  chIdent(database); // throws for a name that is not letters, digits and _
  return {
    httpUrl: `${u.protocol}//${u.host}`,
    username: decodeURIComponent(u.username) || 'default',
    password: decodeURIComponent(u.password),
    database,
  };
}

/** The statements `vigil migrate` runs (or prints) for the ClickHouse event store of `config`. */
export function clickhouseDdl(config: { clickhouseUrl?: string; eventsCluster?: string }): string[] {
  if (!config.clickhouseUrl) return [];
  return eventsDdl(parseClickHouseUrl(config.clickhouseUrl).database, config.eventsCluster);
}

/** Runs `clickhouseDdl(config)` (`vigil migrate`): on a cluster, the only way the tables get created. */
export async function migrateClickHouse(config: { clickhouseUrl?: string; eventsCluster?: string }): Promise<number> {
  const statements = clickhouseDdl(config);
  if (!statements.length) return 0;
  const t = parseClickHouseUrl(config.clickhouseUrl!);
  const admin = createClient({ url: t.httpUrl, username: t.username, password: t.password, log: { level: ClickHouseLogLevel.OFF } });
  try {
    for (const query of statements) await admin.command({ query });
  } finally {
    await admin.close();
  }
  return statements.length;
}

/** Drops a database and its user-SQL sandbox (tests create one per app), on every node of `cluster` when given. */
export async function dropClickHouseDatabase(url: string, cluster?: string): Promise<void> {
  const t = parseClickHouseUrl(url);
  const client = createClient({ url: t.httpUrl, username: t.username, password: t.password, log: { level: ClickHouseLogLevel.OFF } });
  const onCluster = cluster ? ` ON CLUSTER ${chIdent(cluster)}` : '';
  try {
    for (const db of [t.database, sandboxDatabase(t.database)])
      await client.command({ query: `DROP DATABASE IF EXISTS ${chIdent(db)}${onCluster}` });
  } finally {
    await client.close();
  }
}

export interface ClickHouseOptions {
  /** clickhouse://[user[:password]@]host:8123/database (clickhouses:// for HTTPS) */
  url: string;
  /** VIGIL_EVENTS_CLUSTER: the tables are Distributed over this cluster and created by `vigil migrate` */
  cluster?: string;
  queryTimeoutMs?: number;
}

export interface ClickHouseConnection {
  /** reads and writes in the events database */
  client: ClickHouseClient;
  /** metric SQL, in the sandbox database */
  userSqlClient: ClickHouseClient;
  database: string;
  timeoutMs: number;
}

/** Connects to the event store of `opts`, creating its tables (on one server) or checking that `vigil migrate` did (on a cluster). */
export async function connectClickHouse(opts: ClickHouseOptions): Promise<ClickHouseConnection> {
  const t = parseClickHouseUrl(opts.url);
  const timeoutMs = opts.queryTimeoutMs ?? 30_000;
  // errors are thrown to the caller, which reports them: the client logs nothing itself
  const common = {
    url: t.httpUrl,
    username: t.username,
    password: t.password,
    request_timeout: timeoutMs + 30_000,
    log: { level: ClickHouseLogLevel.OFF },
    clickhouse_settings: { output_format_json_quote_64bit_integers: 0 } as ClickHouseSettings,
  };
  const admin = createClient(common);
  try {
    if (!opts.cluster) {
      for (const statement of eventsDdl(t.database)) await admin.command({ query: statement });
    } else {
      const exists = await (await admin.query({ query: `EXISTS TABLE ${chIdent(t.database)}.events`, format: 'TabSeparated' })).text();
      if (exists.trim() !== '1')
        throw new Error(
          `the ClickHouse table ${t.database}.events does not exist on cluster ${opts.cluster}: run \`vigil migrate\` first (it creates the replicated and distributed tables ON CLUSTER)`,
        );
    }
  } catch (err) {
    await admin.close();
    if (
      err instanceof Error &&
      /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|socket hang up/.test(err.message + String((err as { code?: string }).code))
    ) {
      throw new Error(`cannot reach ClickHouse at ${t.httpUrl} (VIGIL_EVENTS_URL): ${err.message}`, { cause: err });
    }
    throw err;
  }
  await admin.close();
  // on a cluster, a subquery over `events` inside IN (breakdowns' top keys, top-event counts) runs
  // as GLOBAL IN: its result is sent to the shards (the default, 'deny', refuses such queries)
  const client = createClient({
    ...common,
    database: t.database,
    clickhouse_settings: { ...common.clickhouse_settings, ...(opts.cluster ? { distributed_product_mode: 'global' } : {}) },
  });
  const userSqlClient = createClient({ ...common, database: sandboxDatabase(t.database) });
  return { client, userSqlClient, database: t.database, timeoutMs };
}
