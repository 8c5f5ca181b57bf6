import type { MetaDb } from '../meta-db.js';
import { VigilError, badRequest, notFound } from '../errors.js';
import { isValidTimeZone } from '../time/index.js';

export interface Project {
  id: number;
  slug: string;
  name: string;
  timeZone: string;
  createdAt: number;
}

const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;

function toProject(row: { id: number; slug: string; name: string; time_zone: string; created_at: number }): Project {
  return { id: Number(row.id), slug: row.slug, name: row.name, timeZone: row.time_zone, createdAt: Number(row.created_at) };
}

/** Projects change rarely and are read on every request, so they are cached per process. */
export class ProjectService {
  private bySlug = new Map<string, Project>();
  private byId = new Map<number, Project>();

  constructor(
    private db: MetaDb,
    private now: () => number = Date.now,
  ) {}

  async create(input: { slug: string; name?: string; timeZone?: string }): Promise<Project> {
    if (!SLUG.test(input.slug))
      throw badRequest('slug must be 1-63 lowercase letters, digits or dashes, starting with a letter or digit', { field: 'slug' });
    const timeZone = input.timeZone ?? 'UTC';
    if (!isValidTimeZone(timeZone))
      throw badRequest(`unknown time zone "${timeZone}" (use an IANA name such as Europe/Berlin)`, { field: 'timeZone' });
    if (await this.findBySlug(input.slug)) throw new VigilError('VIGIL_ERR_CONFLICT', `project "${input.slug}" already exists`);
    const row = await this.db
      .insertInto('projects')
      .values({ slug: input.slug, name: input.name ?? input.slug, time_zone: timeZone, created_at: this.now() })
      .returningAll()
      .executeTakeFirstOrThrow();
    return this.remember(toProject(row));
  }

  async list(): Promise<Project[]> {
    const rows = await this.db.selectFrom('projects').selectAll().orderBy('id').execute();
    return rows.map((r) => this.remember(toProject(r)));
  }

  async findBySlug(slug: string): Promise<Project | undefined> {
    const cached = this.bySlug.get(slug);
    if (cached) return cached;
    const row = await this.db.selectFrom('projects').selectAll().where('slug', '=', slug).executeTakeFirst();
    return row ? this.remember(toProject(row)) : undefined;
  }

  async getBySlug(slug: string): Promise<Project> {
    const project = await this.findBySlug(slug);
    if (!project) throw notFound(`project "${slug}"`);
    return project;
  }

  async getById(id: number): Promise<Project> {
    const cached = this.byId.get(id);
    if (cached) return cached;
    const row = await this.db.selectFrom('projects').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound(`project ${id}`);
    return this.remember(toProject(row));
  }

  /** The project's detection defaults as stored (the signals domain gives them their meaning). */
  async detectionSettings(id: number): Promise<unknown> {
    const row = await this.db.selectFrom('projects').select('detection').where('id', '=', id).executeTakeFirst();
    try {
      return row ? JSON.parse(row.detection) : {};
    } catch {
      return {};
    }
  }

  async setDetectionSettings(id: number, settings: unknown): Promise<void> {
    await this.db
      .updateTable('projects')
      .set({ detection: JSON.stringify(settings) })
      .where('id', '=', id)
      .execute();
  }

  /** Renames a project or changes its time zone. */
  async update(id: number, input: { name?: string; timeZone?: string }): Promise<Project> {
    const current = await this.getById(id);
    const name = input.name === undefined ? current.name : input.name.trim();
    if (!name || name.length > 200) throw badRequest('name must be 1-200 characters', { field: 'name' });
    const timeZone = input.timeZone ?? current.timeZone;
    if (!isValidTimeZone(timeZone))
      throw badRequest(`unknown time zone "${timeZone}" (use an IANA name such as Europe/Berlin)`, { field: 'timeZone' });
    const row = await this.db
      .updateTable('projects')
      .set({ name, time_zone: timeZone })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    if (!row) throw notFound(`project ${id}`);
    return this.remember(toProject(row));
  }

  /**
   * Deletes the project's row; every table keyed by project_id but the audit log goes with it
   * (foreign keys cascade). The whole deletion, events included, is deletion.ts.
   */
  async delete(id: number): Promise<void> {
    const current = await this.getById(id);
    await this.db.deleteFrom('projects').where('id', '=', id).execute();
    this.bySlug.delete(current.slug);
    this.byId.delete(id);
  }

  private remember(p: Project): Project {
    this.bySlug.set(p.slug, p);
    this.byId.set(p.id, p);
    return p;
  }
}
