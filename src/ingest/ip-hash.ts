import crypto from 'node:crypto';
import type { MetaDb } from '../storage/meta/db.js';

/**
 * Client IPs are never stored. Each event keeps HMAC-SHA256(salt of the UTC day, project|ip|agent)
 * instead: the same visitor gives the same hash within a day (same-day unique visitors), and once
 * the day's salt is deleted nobody can link the hash back to an address or to another day.
 */
const CACHE_LIMIT = 100_000;

export class IpHasher {
  private day = '';
  private salt: Buffer = Buffer.alloc(0);
  private loading: Promise<void> | null = null;
  /** visitors send many events a day: their hash is computed once per salt */
  private cache = new Map<string, string>();

  constructor(private db: MetaDb, private now: () => number = Date.now) {}

  private static dayOf(ms: number) {
    return new Date(ms).toISOString().slice(0, 10);
  }

  /** Makes sure today's salt is loaded; call before hashing (cheap when it is). */
  async ready(): Promise<void> {
    const day = IpHasher.dayOf(this.now());
    if (day === this.day) return;
    this.loading ??= this.load(day).finally(() => (this.loading = null));
    await this.loading;
  }

  private async load(day: string) {
    const fresh = crypto.randomBytes(32).toString('hex');
    await this.db.insertInto('ip_salts').values({ day, salt: fresh }).onConflict((oc) => oc.column('day').doNothing()).execute();
    const row = await this.db.selectFrom('ip_salts').select('salt').where('day', '=', day).executeTakeFirstOrThrow();
    // yesterday's salt is not needed any more: deleting it makes older hashes unlinkable
    await this.db.deleteFrom('ip_salts').where('day', '<', day).execute();
    this.salt = Buffer.from(row.salt, 'hex');
    this.cache.clear();
    this.day = day;
  }

  hash(projectId: number, ip: string, userAgent: string): string {
    const input = `${projectId}|${ip}|${userAgent}`;
    let hash = this.cache.get(input);
    if (hash === undefined) {
      hash = crypto.createHmac('sha256', this.salt).update(input).digest('hex').slice(0, 32);
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(input, hash);
    }
    return hash;
  }
}
