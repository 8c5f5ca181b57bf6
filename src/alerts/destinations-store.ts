/**
 * The alert_destinations table: settings in the clear, secrets sealed (secrets.ts) and never read
 * back out through the API — it shows which secret fields are set, nothing more. A PATCH without
 * secrets keeps them; a secret field set to null removes it. Only the alerts service calls this.
 */
import type { Selectable } from 'kysely';
import type { AlertDestinationTable } from './tables.js';
import type { MetaDb } from '../meta-db.js';
import { VigilError, badRequest, notFound } from '../errors.js';
import { decryptSecrets, encryptSecrets } from './secrets.js';
import { hasPlainHeaders, maskHeaders, openHeaders, sealHeaders, unmaskHeaders } from './header-secrets.js';
import { checkDestination, driverFor } from './destinations/index.js';
import type { UrlPolicy } from './outbound.js';
import { DESTINATION_KINDS, type Destination, type DestinationKind } from './destinations/types.js';

export interface DestinationView {
  id: number;
  projectId: number;
  name: string;
  kind: DestinationKind;
  config: Record<string, unknown>;
  /** which secret fields hold a value; never the values */
  secrets: Record<string, 'set'>;
  /** false when the stored secrets cannot be decrypted (VIGIL_SECRET_KEY changed): enter them again */
  secretsReadable: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface DestinationInput {
  name?: unknown;
  kind?: unknown;
  config?: unknown;
  secrets?: unknown;
}

const MAX_NAME = 200;
const MAX_CONFIG_CHARS = 20_000;
/** Levels of objects and arrays a config may have (headers are one level down); JSON.stringify overflows the stack thousands deep. */
const MAX_CONFIG_DEPTH = 8;

/** Whether a parsed JSON value nests deeper than `max` levels (iteratively: the value may be too deep to recurse into). */
function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= max) return true;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
type Row = Selectable<AlertDestinationTable>;

/** The parts of a destination a request may set, checked field by field (400s name the field). */
export function parseDestination(
  input: DestinationInput,
  base?: { name: string; kind: DestinationKind; config: Record<string, unknown>; secrets: Record<string, string> },
) {
  const name = input.name ?? base?.name;
  if (typeof name !== 'string' || name.trim() === '' || name.length > MAX_NAME)
    throw badRequest(`name must be 1-${MAX_NAME} characters`, { field: 'name' });
  if (base && input.kind !== undefined && input.kind !== base.kind)
    throw badRequest('kind cannot be changed: create another destination', { field: 'kind' });
  const kind = input.kind ?? base?.kind;
  if (typeof kind !== 'string' || !(DESTINATION_KINDS as readonly string[]).includes(kind))
    throw badRequest(`kind must be one of ${DESTINATION_KINDS.join(', ')}`, { field: 'kind' });
  const driver = driverFor(kind as DestinationKind);
  const config = input.config === undefined ? (base?.config ?? {}) : input.config;
  if (!isObject(config)) throw badRequest('config must be an object', { field: 'config' });
  if (nestsDeeperThan(config, MAX_CONFIG_DEPTH))
    throw badRequest(`config is nested too deeply (at most ${MAX_CONFIG_DEPTH} levels of objects and arrays)`, { field: 'config' });
  if (JSON.stringify(config).length > MAX_CONFIG_CHARS)
    throw badRequest(`config is too large (at most ${MAX_CONFIG_CHARS} characters of JSON)`, { field: 'config' });
  for (const k of Object.keys(config)) {
    if (driver.secretFields.includes(k))
      throw badRequest(`config.${k} is a secret: send it in secrets, where it is stored encrypted`, { field: `config.${k}` });
  }
  const secrets: Record<string, string> = { ...(base?.secrets ?? {}) };
  if (input.secrets !== undefined) {
    if (!isObject(input.secrets)) throw badRequest('secrets must be an object of strings', { field: 'secrets' });
    for (const [k, v] of Object.entries(input.secrets)) {
      if (!driver.secretFields.includes(k)) {
        throw badRequest(
          `secrets.${k} is not a secret of a ${kind} destination${driver.secretFields.length ? ` (its secrets: ${driver.secretFields.join(', ')})` : ' (it has none)'}`,
          { field: `secrets.${k}` },
        );
      }
      if (v === null || v === '') delete secrets[k];
      else if (typeof v !== 'string') throw badRequest(`secrets.${k} must be a string (or null to remove it)`, { field: `secrets.${k}` });
      else secrets[k] = v;
    }
  }
  driver.validate(config, secrets);
  return { name: name.trim(), kind: kind as DestinationKind, config, secrets };
}

export class DestinationStore {
  constructor(
    private db: MetaDb,
    private secretKey: string,
    private policy: UrlPolicy = { allowPrivate: false, allowHttp: false },
  ) {}

  /** The settings parsed, then checked as the driver and the outbound guard see them (URLs, hosts). */
  async check(input: DestinationInput, base?: Parameters<typeof parseDestination>[1]) {
    const d = parseDestination(input, base);
    await checkDestination(d.kind, d.config, d.secrets, this.policy);
    return d;
  }

  private view(r: Row): DestinationView {
    let names: string[] = [];
    let secretsReadable = true;
    try {
      names = Object.keys(decryptSecrets(r.secrets, this.secretKey));
    } catch {
      secretsReadable = false;
    }
    const { config, secretNames } = maskHeaders(JSON.parse(r.config) as Record<string, unknown>, names);
    return {
      id: Number(r.id),
      projectId: Number(r.project_id),
      name: r.name,
      kind: r.kind as DestinationKind,
      config,
      secrets: Object.fromEntries(secretNames.map((k) => [k, 'set' as const])),
      secretsReadable,
      createdAt: Number(r.created_at),
      updatedAt: Number(r.updated_at),
    };
  }

  /** The settings and secrets as a driver sees them (custom headers back in config); throws when the secrets cannot be decrypted. */
  private open(r: Row) {
    return openHeaders(JSON.parse(r.config) as Record<string, unknown>, decryptSecrets(r.secrets, this.secretKey));
  }

  /** The destination as a driver sees it (secrets decrypted); throws when they cannot be. */
  toDestination(r: Row): Destination {
    return { id: Number(r.id), projectId: Number(r.project_id), name: r.name, kind: r.kind as DestinationKind, ...this.open(r) };
  }

  private async row(projectId: number, id: number): Promise<Row | undefined> {
    const r = await this.db
      .selectFrom('alert_destinations')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .executeTakeFirst();
    return r && this.sealPlainHeaders(r);
  }

  /** Moves header values an older version kept in the clear into the secrets (see header-secrets.ts). */
  private async sealPlainHeaders(r: Row): Promise<Row> {
    if (!hasPlainHeaders(JSON.parse(r.config) as Record<string, unknown>)) return r;
    let opened: ReturnType<typeof this.open>;
    try {
      opened = this.open(r);
    } catch {
      return r; // unreadable secrets: the row is moved once they are entered again
    }
    const sealed = sealHeaders(opened.config, opened.secrets);
    const stored = { config: JSON.stringify(sealed.config), secrets: encryptSecrets(sealed.secrets, this.secretKey) };
    await this.db.updateTable('alert_destinations').set(stored).where('id', '=', r.id).execute();
    return { ...r, ...stored };
  }

  private async rowOrThrow(projectId: number, id: number): Promise<Row> {
    const r = await this.row(projectId, id);
    if (!r) throw notFound(`alert destination ${id}`);
    return r;
  }

  async list(projectId: number): Promise<DestinationView[]> {
    const rows = await this.db.selectFrom('alert_destinations').selectAll().where('project_id', '=', projectId).orderBy('id').execute();
    return Promise.all(rows.map(async (r) => this.view(await this.sealPlainHeaders(r))));
  }

  async get(projectId: number, id: number): Promise<DestinationView> {
    return this.view(await this.rowOrThrow(projectId, id));
  }

  /** The sendable destination (decrypted), or undefined when it was deleted. */
  async forSend(projectId: number, id: number): Promise<Destination | undefined> {
    const r = await this.row(projectId, id);
    return r && this.toDestination(r);
  }

  /** Kinds of the project's destinations among `ids`, by id (missing ids are absent). */
  async kinds(projectId: number, ids: number[]): Promise<Map<number, DestinationKind>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('alert_destinations')
      .select(['id', 'kind'])
      .where('project_id', '=', projectId)
      .where('id', 'in', ids)
      .execute();
    return new Map(rows.map((r) => [Number(r.id), r.kind as DestinationKind]));
  }

  private async assertNameFree(projectId: number, name: string, except?: number) {
    const other = await this.db
      .selectFrom('alert_destinations')
      .select('id')
      .where('project_id', '=', projectId)
      .where('name', '=', name)
      .executeTakeFirst();
    if (other && Number(other.id) !== except)
      throw new VigilError('VIGIL_ERR_CONFLICT', `a destination named "${name}" already exists in this project`, { field: 'name' });
  }

  async create(projectId: number, input: DestinationInput, now: number): Promise<DestinationView> {
    const d = await this.check(input);
    await this.assertNameFree(projectId, d.name);
    const sealed = sealHeaders(d.config, d.secrets);
    const row = await this.db
      .insertInto('alert_destinations')
      .values({
        project_id: projectId,
        name: d.name,
        kind: d.kind,
        config: JSON.stringify(sealed.config),
        secrets: encryptSecrets(sealed.secrets, this.secretKey),
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return this.view(row);
  }

  async update(projectId: number, id: number, input: DestinationInput, now: number): Promise<DestinationView> {
    const r = await this.rowOrThrow(projectId, id);
    let current: { config: Record<string, unknown>; secrets: Record<string, string> } = {
      config: JSON.parse(r.config) as Record<string, unknown>,
      secrets: {},
    };
    try {
      current = this.open(r);
    } catch (err) {
      // unreadable secrets (the key changed) must be entered again; a change that sends them all works
      if (input.secrets === undefined) throw badRequest(`${err instanceof Error ? err.message : String(err)}`, { field: 'secrets' });
    }
    const d = await this.check(
      { ...input, config: unmaskHeaders(input.config, current.config) },
      { name: r.name, kind: r.kind as DestinationKind, ...current },
    );
    await this.assertNameFree(projectId, d.name, id);
    const sealed = sealHeaders(d.config, d.secrets);
    const row = await this.db
      .updateTable('alert_destinations')
      .set({
        name: d.name,
        config: JSON.stringify(sealed.config),
        secrets: encryptSecrets(sealed.secrets, this.secretKey),
        updated_at: now,
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    return this.view(row);
  }

  async remove(projectId: number, id: number): Promise<DestinationView> {
    const r = await this.rowOrThrow(projectId, id);
    await this.db.deleteFrom('alert_destinations').where('id', '=', id).execute();
    return this.view(r);
  }
}
