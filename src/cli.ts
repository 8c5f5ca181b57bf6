#!/usr/bin/env node
import fs from 'node:fs';
import { ConfigError } from './config.js';
import type { AppContext } from './app-context.js';
import { parseScopes } from './auth/api-keys.js';
import { resetPasswordCommand } from './auth/reset-password-command.js';
import { seedDemo } from './demo/seed.js';
import { exportNdjson, importNdjson } from './ingest/import-export.js';
import { exportFromServer, metricsFromServer, serverApi } from './cli/server-api.js';
import {
  LATEST_TIME_MS,
  config,
  metaConnection,
  metaStore,
  metaTarget,
  parseNumber,
  parseWhen,
  program,
  progressBar,
  readStdin,
  readableFile,
  withAccounts,
  withApp,
  withMeta,
} from './cli/program.js';
import { WalQuarantine, quarantineDir } from './ingest/wal-quarantine.js';
import { VigilError } from './errors.js';

program
  .command('serve')
  .description('run the server: every role, or those --role lists')
  .option('--port <port>', 'HTTP port (VIGIL_PORT)')
  .option('--host <host>', 'listen address (VIGIL_HOST)')
  .option(
    '--role <roles>',
    'comma-separated: api (HTTP API and web app), ingest (/v1), worker (jobs), scheduler (due checks, once per tick across processes); default all (VIGIL_ROLE)',
  )
  .action(async (o: { port?: string; host?: string; role?: string }) => {
    const c = config({ port: o.port, host: o.host });
    const [{ serve, defaultRoles }, { parseRoles }] = await Promise.all([import('./serve.js'), import('./ops/roles.js')]);
    await serve(c, { roles: parseRoles(o.role ?? process.env.VIGIL_ROLE, defaultRoles(c)) });
  });

program
  .command('migrate')
  .description('create or upgrade the stores, then exit')
  .option(
    '--events-ddl',
    'print the ClickHouse DDL for VIGIL_EVENTS_URL (ON CLUSTER, replicated and distributed tables when VIGIL_EVENTS_CLUSTER is set) and exit, to run with clickhouse-client',
  )
  .action(async (o: { eventsDdl?: boolean }) => {
    const c = config();
    if (o.eventsDdl) {
      if (!c.clickhouseUrl) throw new Error('--events-ddl needs VIGIL_EVENTS_URL=clickhouse://host:8123/db');
      const { clickhouseDdl } = await import('./storage/events/clickhouse-schema.js');
      console.log(
        clickhouseDdl(c)
          .map((statement) => `${statement.trim()};`)
          .join('\n\n'),
      );
      return;
    }
    // the metadata store first, on its own, so a scaled set-up can migrate it before any process starts
    const { migrateMeta, openPostgresMeta, openSqliteMeta, redactUrl } = await metaConnection();
    const meta = c.postgresUrl ? await openPostgresMeta(c.postgresUrl) : openSqliteMeta(c.metaFile);
    let applied: string[];
    try {
      applied = await migrateMeta(meta);
    } finally {
      await meta.close();
    }
    const where = c.postgresUrl ? `PostgreSQL at ${redactUrl(c.postgresUrl)}` : `SQLite at ${c.metaFile}`;
    console.log(`metadata store (${where}): ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'}`);
    if (c.clickhouseUrl) {
      // on a cluster the replicated and distributed tables exist only once this has run
      const { migrateClickHouse } = await import('./storage/events/clickhouse-schema.js');
      const n = await migrateClickHouse(c);
      console.log(`event store (ClickHouse${c.eventsCluster ? `, ON CLUSTER ${c.eventsCluster}` : ''}): ${n} statements applied`);
    }
    await withApp(async () => undefined);
    console.log('metadata and event stores are up to date');
  });

const projects = program.command('projects').description('manage projects');
projects
  .command('create')
  .requiredOption('--slug <slug>', 'short name used in URLs')
  .option('--name <name>', 'display name')
  .option('--tz <zone>', 'IANA time zone for buckets', 'UTC')
  .action(async (o: { slug: string; name?: string; tz: string }) => {
    const p = await withMeta(({ projects }) => projects.create({ slug: o.slug, name: o.name, timeZone: o.tz }));
    console.log(`created project ${p.slug} (id ${p.id}, time zone ${p.timeZone})`);
  });
projects.command('list').action(async () => {
  const list = await withMeta(({ projects }) => projects.list());
  console.table(list.map((p) => ({ id: p.id, slug: p.slug, name: p.name, timeZone: p.timeZone })));
});

const keys = program.command('keys').description('manage API keys (the secret is shown once)');
keys
  .command('create')
  .requiredOption('--project <slug>', 'project the key belongs to')
  .option('--scopes <list>', 'comma-separated: ingest, read, write, admin', 'ingest')
  .option('--name <name>', 'a label for the key', 'key')
  .option('--expires <when>', 'expiry: ISO 8601 or relative such as +90d')
  .action(async (o: { project: string; scopes: string; name: string; expires?: string }) => {
    const { key, secret } = await withMeta(async ({ projects, keys }) => {
      const project = await projects.getBySlug(o.project);
      return keys.create({
        projectId: project.id,
        name: o.name,
        scopes: parseScopes(o.scopes),
        expiresAt: o.expires ? parseWhen(o.expires, 'expires') : null,
      });
    });
    console.log(`created key ${key.prefix}… (id ${key.id}) with scopes ${key.scopes.join(',')}`);
    console.log(`secret (shown once): ${secret}`);
  });
keys
  .command('list')
  .option('--project <slug>')
  .action(async (o: { project?: string }) => {
    const list = await withMeta(async ({ projects, keys }) => keys.list(o.project ? (await projects.getBySlug(o.project)).id : undefined));
    const iso = (ms: number | null) => (ms === null ? '' : new Date(ms).toISOString());
    console.table(
      list.map((k) => ({
        id: k.id,
        prefix: k.prefix,
        name: k.name,
        project: k.projectId,
        scopes: k.scopes.join(','),
        expires: iso(k.expiresAt),
        revoked: iso(k.revokedAt),
        lastUsed: iso(k.lastUsedAt),
      })),
    );
  });
keys.command('revoke <idOrPrefix>').action(async (idOrPrefix: string) => {
  const key = await withMeta(({ keys }) => keys.revoke(idOrPrefix));
  console.log(`revoked key ${key.prefix}… (id ${key.id})`);
});

program
  .command('demo')
  .description('create a demo project with 30 days of realistic traffic and print its keys')
  .option('--project <slug>', 'project slug', 'demo')
  .option('--days <n>', 'days of traffic', '30')
  .option('--scale <x>', 'volume multiplier', '1')
  .option('--seed <n>', 'random seed: another seed gives other traffic and other times for the injected incidents', '42')
  .action(async (o: { project: string; days: string; scale: string; seed: string }) => {
    const days = parseNumber(o.days, 'days', { integer: true, min: 1 });
    const scale = parseNumber(o.scale, 'scale', { min: 0.001 });
    const seed = parseNumber(o.seed, 'seed', { integer: true, min: 0 });
    const bar = await progressBar('demo traffic [{bar}] {percentage}% | {value}/{total} events');
    const result = await withApp((ctx) =>
      seedDemo(ctx, { slug: o.project, days, scale, seed }, (done, total) => {
        if (!bar.getTotal()) bar.start(total, 0);
        bar.setTotal(Math.max(total, done));
        bar.update(done);
      }),
    );
    bar.stop();
    console.log(
      `project ${result.project.slug}: ${result.events} events, ${result.measurements} measurements, metrics: ${result.metrics.join(', ')}`,
    );
    for (const i of result.incidents)
      console.log(`  incident "${i.name}" ${new Date(i.startMs).toISOString()} – ${new Date(i.endMs).toISOString()}: ${i.description}`);
    console.log(`write key: ${result.writeKey}`);
    console.log(`read key:  ${result.readKey}`);
  });

const users = program.command('users').description('accounts');
users
  .command('create-owner')
  .description('create the instance owner (first run): the admin who owns every existing project')
  .requiredOption('--email <email>')
  .option('--name <name>', 'display name', '')
  .option('--password-stdin', 'read the password from standard input (else VIGIL_OWNER_PASSWORD)')
  .action(async (o: { email: string; name: string; passwordStdin?: boolean }) => {
    const password = o.passwordStdin ? (await readStdin()).replace(/\r?\n$/, '') : process.env.VIGIL_OWNER_PASSWORD;
    if (!password)
      throw new VigilError(
        'VIGIL_ERR_BAD_REQUEST',
        'give the password on standard input with --password-stdin, or in VIGIL_OWNER_PASSWORD',
      );
    const owner = await withAccounts(async ({ users, memberships, projects, audit }) => {
      if ((await users.count()) > 0)
        throw new VigilError('VIGIL_ERR_CONFLICT', 'this instance already has users; an owner invites the others');
      const user = await users.create({ email: o.email, name: o.name, password, isAdmin: true });
      for (const p of await projects.list()) await memberships.grant(p.id, user.id, 'owner');
      await audit.record(null, {
        projectId: null,
        action: 'user.create_owner',
        target: { type: 'user', id: user.id },
        after: { email: user.email },
        actor: { type: 'cli', id: null, label: 'vigil users create-owner' },
      });
      return user;
    });
    console.log(`created owner ${owner.email} (id ${owner.id}); sign in at the web app or POST /api/auth/sign-in`);
  });
users
  .command('reset-password <email>')
  .description(
    "print a single-use link (valid an hour) to choose a new password, for instances without e-mail; or set it with --password-stdin. Either way the account's sessions end once it changes",
  )
  .option('--password-stdin', 'read the new password from standard input and set it now')
  .action(async (email: string, o: { passwordStdin?: boolean }) => {
    const password = o.passwordStdin ? (await readStdin()).replace(/\r?\n$/, '') : undefined;
    const c = config();
    const meta = await (await metaStore()).openMetaStore(metaTarget(c));
    try {
      console.log(await resetPasswordCommand(meta.db, c, email, password));
    } finally {
      await meta.close();
    }
  });

program
  .command('detect')
  .description('score a CSV series (timestamp,value) with the live anomaly detector; no server or store needed')
  .requiredOption('--input <file>', 'CSV with a header naming timestamp and value')
  .option('--interval <interval>', '5m 15m 1h 6h 1d 1w (default: the most common gap between timestamps)')
  .option('--sensitivity <level>', 'low, medium, high, or a z threshold such as 3.5', 'medium')
  .option('--value-kind <kind>', 'count (Poisson noise) or fraction (default: count when every value is a whole number of at least 0)')
  .option('--output <file>', 'output CSV (default: standard output)')
  .action(async (o: { input: string; interval?: string; sensitivity: string; valueKind?: string; output?: string }) => {
    const { detectCsv, CsvInputError } = await import('./detect/csv.js');
    readableFile(o.input);
    const sensitivity = ['low', 'medium', 'high'].includes(o.sensitivity)
      ? (o.sensitivity as 'low' | 'medium' | 'high')
      : { z: parseNumber(o.sensitivity, 'sensitivity', { min: 0.1 }) };
    if (o.valueKind !== undefined && o.valueKind !== 'count' && o.valueKind !== 'fraction')
      throw new VigilError('VIGIL_ERR_BAD_REQUEST', '--value-kind must be count or fraction');
    let result: ReturnType<typeof detectCsv>;
    try {
      result = detectCsv(fs.readFileSync(o.input, 'utf8'), {
        interval: o.interval,
        sensitivity,
        valueKind: o.valueKind as 'count' | 'fraction' | undefined,
      });
    } catch (err) {
      if (err instanceof CsvInputError) throw new VigilError('VIGIL_ERR_BAD_REQUEST', `${o.input}: ${err.message}`);
      throw err;
    }
    if (o.output) fs.writeFileSync(o.output, result.csv);
    else process.stdout.write(result.csv);
    console.error(`${result.rows} rows scored, ${result.anomalies} anomalies`);
  });

const metrics = program.command('metrics').description('the metrics catalog (the server must be stopped, or --url given where offered)');
metrics
  .command('list')
  .requiredOption('--project <slug>')
  .option('--url <url>', "list through a running server's API (VIGIL_URL), with --key")
  .option('--key <key>', 'an API key of the project with the read scope (VIGIL_API_KEY)')
  .action(async (o: { project: string; url?: string; key?: string }) => {
    const api = serverApi(o);
    type Summary = Awaited<ReturnType<AppContext['catalog']['list']>>[number];
    const list = api
      ? await metricsFromServer<Summary>(api, o.project)
      : await withApp(async (ctx) => ctx.catalog.list(await ctx.projects.getBySlug(o.project)), { viaApi: true });
    console.table(
      list.map((m) => ({
        id: m.id,
        name: m.name,
        kind: m.kind,
        interval: m.interval,
        status: m.status,
        latest: m.latest?.value ?? null,
        collectedUntil: m.collectedUntil,
      })),
    );
  });
metrics
  .command('backfill <name>')
  .description("compute a metric's values over a past window, in chunks")
  .requiredOption('--project <slug>')
  .option('--from <when>', 'start (inclusive): ISO 8601, a date, or relative such as -90d', '-30d')
  .option('--to <when>', 'end (exclusive); default: the start of the current bucket')
  .action(async (name: string, o: { project: string; from: string; to?: string }) => {
    const fromMs = parseWhen(o.from, 'from');
    const toMs = o.to === undefined ? Date.now() : parseWhen(o.to, 'to');
    const bar = await progressBar(`backfill ${name} [{bar}] {percentage}% | {value}/{total} buckets`);
    const result = await withApp(async (ctx) => {
      const project = await ctx.projects.getBySlug(o.project);
      const metric = await ctx.catalog.byName(project, name);
      return ctx.catalog.backfill(project, metric, { fromMs, toMs }, (done, total) => {
        if (!bar.getTotal()) bar.start(total, 0);
        bar.update(done);
      });
    });
    bar.stop();
    console.log(
      `${name}: ${result.buckets} buckets computed from ${new Date(result.fromMs).toISOString()} to ${new Date(result.toMs).toISOString()}${result.stopped ? ' (stopped: the definition changed meanwhile)' : ''}`,
    );
  });

program
  .command('import <file>')
  .description('import Segment-format messages from an NDJSON file (the server must be stopped)')
  .requiredOption('--project <slug>')
  .action(async (file: string, o: { project: string }) => {
    const size = readableFile(file);
    const bar = await progressBar('import [{bar}] {percentage}% | {value}/{total} bytes');
    bar.start(size, 0);
    const summary = await withApp(async (ctx) =>
      importNdjson(ctx, (await ctx.projects.getBySlug(o.project)).id, file, (bytes) => bar.update(bytes)),
    );
    bar.update(size);
    bar.stop();
    console.log(
      `${summary.lines} lines: ${summary.accepted} accepted, ${summary.duplicates} duplicates skipped, ${summary.rejected.length} rejected`,
    );
    for (const r of summary.rejected.slice(0, 20)) console.log(`  line ${r.line}${r.field ? ` (${r.field})` : ''}: ${r.message}`);
    if (summary.rejected.length > 20) console.log(`  … and ${summary.rejected.length - 20} more`);
  });

program
  .command('export')
  .description("write a project's events as Segment-format NDJSON (the server must be stopped, or --url given)")
  .requiredOption('--project <slug>')
  .option('--from <when>', 'start (inclusive)', '1970-01-01')
  .option('--to <when>', 'end (exclusive); default: no end, so events with a clock-skewed future time are kept')
  .option('--out <file>', 'output file (default: standard output)')
  .option('--url <url>', "export through a running server's API (VIGIL_URL), with --key; the output is the same")
  .option('--key <key>', 'an API key of the project with the read scope (VIGIL_API_KEY)')
  .action(async (o: { project: string; from: string; to?: string; out?: string; url?: string; key?: string }) => {
    const fromMs = parseWhen(o.from, 'from');
    const toMs = o.to === undefined ? undefined : parseWhen(o.to, 'to');
    const api = serverApi(o);
    // the file is opened only once the arguments are known to be good, and synchronously so a
    // bad path is reported here rather than as an unhandled stream error
    const open = () => {
      if (!o.out) return { out: process.stdout, finish: async () => undefined };
      let fd: number;
      try {
        fd = fs.openSync(o.out, 'w');
      } catch (err) {
        throw new VigilError('VIGIL_ERR_BAD_REQUEST', `cannot write "${o.out}": ${(err as Error).message}`);
      }
      const out = fs.createWriteStream(o.out, { fd });
      return {
        out,
        finish: () => new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve()))),
      };
    };
    const count = api
      ? await exportFromServer(api, o.project, { fromMs, toMs }, open)
      : await withApp(
          async (ctx) => {
            const projectId = (await ctx.projects.getBySlug(o.project)).id;
            const { out, finish } = open();
            const written = await exportNdjson(ctx, { projectId, fromMs, toMs: toMs ?? LATEST_TIME_MS }, out);
            await finish();
            return written;
          },
          { viaApi: true },
        );
    console.error(`exported ${count} events`);
  });

const wal = program.command('wal').description("the write-ahead log's quarantine: lines of acknowledged events the event store refused");
wal
  .command('list')
  .description('list the quarantined files, their line counts and the reasons (may run while a server runs)')
  .action(() => {
    const files = new WalQuarantine(quarantineDir(config().walDir)).list();
    if (!files.length) return console.log('the quarantine is empty');
    for (const f of files) {
      console.log(`${f.path}: ${f.lines} line(s)`);
      for (const r of f.reasons.slice(0, 20)) console.log(`  line ${r.line}: ${r.reason}`);
      if (f.reasons.length > 20) console.log(`  … and ${f.reasons.length - 20} more`);
    }
  });
wal
  .command('replay [file]')
  .description(
    'load quarantined lines into the event store again (all files, or the one named); lines still refused stay (the server must be stopped)',
  )
  .option('--clean', 'first replace lone surrogates by U+FFFD and event times no store can hold by the time received')
  .action(async (file: string | undefined, o: { clean?: boolean }) => {
    const quarantine = new WalQuarantine(quarantineDir(config().walDir));
    const segments = quarantine.list().map((f) => f.segment);
    const wanted = file === undefined ? segments : segments.filter((s) => s === file || file.endsWith(`${s}.ndjson`));
    if (file !== undefined && !wanted.length)
      throw new VigilError('VIGIL_ERR_BAD_REQUEST', `"${file}" is not a quarantined file (see \`vigil wal list\`)`);
    await withApp(async (ctx) => {
      for (const segment of wanted) {
        const { loaded, left } = await quarantine.replay(ctx.events, segment, { clean: o.clean });
        console.log(`${segment}: ${loaded} line(s) loaded, ${left} still refused${left ? ' (see `vigil wal list`)' : ''}`);
      }
    });
  });

program.parseAsync().catch((err: Error) => {
  if (err instanceof ConfigError || err instanceof VigilError) console.error(err.message);
  else console.error(err.stack ?? err.message);
  process.exit(1);
});
