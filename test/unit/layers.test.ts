/**
 * The layering of src/, as a test (ARCHITECTURE.md draws it). Each module sits in a layer; a module
 * imports only from its own layer and the layers below. Across domains, a module imports only what
 * the other domain offers: its services, types and schemas (PUBLIC below). Nothing imports the
 * composition root but the entry points.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { circles, importGraph, type ImportEdge } from '../helpers/import-graph.js';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));

/** Lowest first. A folder ends in '/'. */
const LAYERS: [name: string, members: string[]][] = [
  ['ground', ['errors.ts', 'config.ts', 'bus.ts', 'domain-module.ts', 'http-schemas.ts', 'time/', 'detect/', 'format/', 'http/']],
  // each domain's table row types (tables.ts, types only): the schema meta-db.ts composes
  ['tables', ['*/tables.ts']],
  ['storage', ['storage/', 'meta-db.ts']],
  ['accounts', ['auth/', 'projects/']],
  ['jobs', ['jobs/']],
  // the process's Prometheus registry lives with ingest, which fills most of it
  ['ingest', ['ingest/', 'ops/metrics.ts']],
  ['analytics', ['analytics/']],
  ['metrics', ['metrics/']],
  ['signals', ['signals/']],
  ['tracking-plan', ['tracking-plan/']],
  ['incidents', ['incidents/']],
  ['alerts', ['alerts/']],
  ['entry', ['app-context.ts', 'domain-events.ts', 'server.ts', 'serve.ts', 'cli.ts', 'cli/', 'ops/', 'demo/', 'web/']],
];

/** What a domain offers the others: its services, types and schemas. Everything else in it is its own. */
const PUBLIC: Record<string, RegExp> = {
  auth: /^auth\/(access|api-keys|audit|memberships|request-auth|users|sessions|module)\.ts$/,
  projects: /^projects\/(service|module)\.ts$/,
  jobs: /^jobs\/(index|queue|worker|module)\.ts$/,
  ingest: /^ingest\/(service|measurement-store|module)\.ts$/,
  analytics: /^analytics\/(service|live|module)\.ts$/,
  metrics: /^metrics\/(service|schemas|store|module)\.ts$/,
  signals: /^signals\/(service|schemas|store|explain|drift\/drift|drift\/drift-jobs|threshold\/threshold-rules|module)\.ts$/,
  'tracking-plan': /^tracking-plan\/(tracking-plan|module)\.ts$/,
  incidents: /^incidents\/(service|schemas|types|module)\.ts$/,
  alerts: /^alerts\/(service|schemas|module)\.ts$/,
};

/** Imports allowed against the rules above, each with its reason. */
const EXCEPTIONS: { from: string; to: string; why: string }[] = [];

const isMember = (file: string, m: string) =>
  m === '*/tables.ts' ? /^[a-z-]+\/tables\.ts$/.test(file) : m.endsWith('/') ? file.startsWith(m) : file === m;
// a file's layer is the first that names it (a domain's tables.ts before the domain's folder)
const layerOf = (file: string) => LAYERS.findIndex(([, members]) => members.some((m) => isMember(file, m)));
const domainOf = (file: string) => (file.includes('/') ? file.split('/')[0] : null);
const excepted = (e: ImportEdge) => EXCEPTIONS.some((x) => x.from === e.from && x.to === e.to);
const show = (e: ImportEdge) => `${e.from}:${e.line} imports ${e.to}`;

const edges = importGraph(SRC);

test('every module of src/ has a layer', () => {
  const files = [...new Set(edges.flatMap((e) => [e.from, e.to]))].filter((f) => !f.startsWith('..'));
  assert.deepEqual(
    files.filter((f) => layerOf(f) < 0),
    [],
  );
});

test('no module imports from a layer above its own', () => {
  const upward = edges.filter((e) => layerOf(e.to) > layerOf(e.from) && !excepted(e));
  assert.deepEqual(upward.map(show), []);
});

test('storage imports no domain, and ground modules import nothing above them', () => {
  const storage = layerOf('storage/');
  const wrong = edges.filter((e) => layerOf(e.from) <= storage && layerOf(e.to) > layerOf(e.from));
  assert.deepEqual(wrong.map(show), []);
});

test('a domain reaches another only through its services, types and schemas', () => {
  const reaching = edges.filter((e) => {
    const [from, to] = [domainOf(e.from), domainOf(e.to)];
    if (!from || !to || from === to || !PUBLIC[from] || !PUBLIC[to]) return false;
    return !PUBLIC[to].test(e.to) && !excepted(e);
  });
  assert.deepEqual(reaching.map(show), []);
});

test('nothing imports the composition root but the entry points', () => {
  const entry = new Set(['server.ts', 'serve.ts', 'cli.ts', 'cli/program.ts']);
  const importers = edges.filter((e) => e.to === 'app-context.ts' && !entry.has(e.from));
  assert.deepEqual(importers.map(show), []);
});

test('no circles of imports', () => {
  // migrations import the table types of the store that runs them: type-only, so no circle at run time
  const runtime = edges.filter((e) => !e.typeOnly);
  assert.deepEqual(circles(runtime), []);
});

test('the exceptions are still needed', () => {
  for (const x of EXCEPTIONS)
    assert.ok(
      edges.some((e) => e.from === x.from && e.to === x.to),
      `${x.from} no longer imports ${x.to}`,
    );
});
