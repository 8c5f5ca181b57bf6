import crypto from 'node:crypto';
import type { MetaDb } from '../meta-db.js';
import { badRequest, notFound } from '../errors.js';
import { rateLimited, type RateLimiter } from '../http/rate-limit.js';

export const SCOPES = ['ingest', 'read', 'write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export interface ApiKey {
  id: number;
  projectId: number;
  name: string;
  prefix: string;
  scopes: Scope[];
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
  lastUsedAt: number | null;
}

/** How long a verified key is trusted without looking at the database again (a revoke takes effect within it). */
const CACHE_MS = 10_000;
/** last_used_at is written at most this often per key, to keep writes off the ingest path. */
const TOUCH_MS = 60_000;

export function hashSecret(secret: string): string {
  return crypto.createHash('sha256').update(secret).digest('hex');
}

export function parseScopes(text: string): Scope[] {
  const scopes = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
  if (unknown.length || !scopes.length)
    throw badRequest(`scopes must be a comma-separated list of ${SCOPES.join(', ')}; got "${text}"`, { field: 'scopes' });
  return [...new Set(scopes)] as Scope[];
}

type Row = {
  id: number;
  project_id: number;
  name: string;
  prefix: string;
  scopes: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
};
const num = (v: number | null) => (v === null ? null : Number(v));
function toKey(r: Row): ApiKey {
  return {
    id: Number(r.id),
    projectId: Number(r.project_id),
    name: r.name,
    prefix: r.prefix,
    scopes: r.scopes.split(',') as Scope[],
    createdAt: Number(r.created_at),
    expiresAt: num(r.expires_at),
    revokedAt: num(r.revoked_at),
    lastUsedAt: num(r.last_used_at),
  };
}
const COLUMNS = ['id', 'project_id', 'name', 'prefix', 'scopes', 'created_at', 'expires_at', 'revoked_at', 'last_used_at'] as const;

export class ApiKeyService {
  private cache = new Map<string, { key: ApiKey | null; at: number }>();
  private touched = new Map<number, number>();

  /** failedLookups: failed lookups allowed per address (none: unlimited) */
  constructor(
    private db: MetaDb,
    private now: () => number = Date.now,
    private failedLookups?: RateLimiter,
  ) {}

  /** Creates a key; the secret is returned once and only its SHA-256 is kept. */
  async create(input: {
    projectId: number;
    name?: string;
    scopes: Scope[];
    expiresAt?: number | null;
  }): Promise<{ key: ApiKey; secret: string }> {
    const secret = 'vk_' + crypto.randomBytes(24).toString('base64url');
    const row = await this.db
      .insertInto('api_keys')
      .values({
        project_id: input.projectId,
        name: input.name ?? 'key',
        prefix: secret.slice(0, 10),
        secret_hash: hashSecret(secret),
        scopes: input.scopes.join(','),
        created_at: this.now(),
        expires_at: input.expiresAt ?? null,
      })
      .returning(COLUMNS)
      .executeTakeFirstOrThrow();
    return { key: toKey(row), secret };
  }

  async list(projectId?: number): Promise<ApiKey[]> {
    let q = this.db.selectFrom('api_keys').select(COLUMNS).orderBy('id');
    if (projectId !== undefined) q = q.where('project_id', '=', projectId);
    return (await q.execute()).map(toKey);
  }

  /** Revokes by id or by display prefix. */
  async revoke(idOrPrefix: string | number): Promise<ApiKey> {
    const q = this.db.updateTable('api_keys').set({ revoked_at: this.now() }).where('revoked_at', 'is', null);
    const rows = await (typeof idOrPrefix === 'number' || /^\d+$/.test(idOrPrefix)
      ? q.where('id', '=', Number(idOrPrefix))
      : q.where('prefix', '=', idOrPrefix)
    )
      .returning(COLUMNS)
      .execute();
    if (rows.length !== 1) throw notFound(`active API key "${idOrPrefix}"`);
    this.cache.clear();
    return toKey(rows[0]);
  }

  /**
   * The active key a secret sent from `address` belongs to, else null. Only failed lookups are
   * charged to the address; past its allowance every lookup from it, good keys included, is a 429
   * before the secret is looked at, so keys cannot be guessed at speed (nor told apart by the answer).
   */
  async verifyFrom(secret: string, address: string): Promise<ApiKey | null> {
    const limiter = this.failedLookups;
    const wait = limiter?.waitFor(address) ?? 0;
    if (wait) throw rateLimited('too many requests with an unknown, revoked or expired API key from this address', wait);
    const key = await this.verify(secret);
    if (!key) limiter?.take(address);
    return key;
  }

  /** Returns the key a secret belongs to if it is active (not revoked, not expired), else null. */
  async verify(secret: string): Promise<ApiKey | null> {
    const hash = hashSecret(secret);
    const now = this.now();
    let entry = this.cache.get(hash);
    if (!entry || now - entry.at > CACHE_MS) {
      const row = await this.db.selectFrom('api_keys').select(COLUMNS).where('secret_hash', '=', hash).executeTakeFirst();
      entry = { key: row ? toKey(row) : null, at: now };
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(hash, entry);
    }
    const key = entry.key;
    if (!key || key.revokedAt !== null || (key.expiresAt !== null && key.expiresAt <= now)) return null;
    this.touch(key.id, now);
    return key;
  }

  private touch(id: number, now: number) {
    if (now - (this.touched.get(id) ?? 0) < TOUCH_MS) return;
    this.touched.set(id, now);
    this.db
      .updateTable('api_keys')
      .set({ last_used_at: now })
      .where('id', '=', id)
      .execute()
      .catch(() => {
        // best effort: a missed last_used_at update must never fail a request
      });
  }
}
