import crypto from 'node:crypto';
import type { MetaDb } from '../meta-db.js';

/**
 * The daily salt, kept in the metadata store. Client IPs are never stored. Each event keeps HMAC-SHA256(salt of the UTC day, project|ip|agent)
 * instead: the same visitor gives the same hash within a day (same-day unique visitors), and once
 * the day's salt is deleted nobody can link the hash back to an address or to another day.
 */
export class IpSalts {
  private day = '';
  private saltHex = '';
  private loading: Promise<void> | null = null;

  constructor(
    private db: MetaDb,
    private now: () => number = Date.now,
  ) {}

  private static dayOf(ms: number) {
    return new Date(ms).toISOString().slice(0, 10);
  }

  /** Makes sure today's salt is loaded; call before hashing (cheap when it is). */
  async ready(): Promise<void> {
    const day = IpSalts.dayOf(this.now());
    if (day === this.day) return;
    this.loading ??= this.load(day).finally(() => (this.loading = null));
    await this.loading;
  }

  private async load(day: string) {
    const fresh = crypto.randomBytes(32).toString('hex');
    await this.db
      .insertInto('ip_salts')
      .values({ day, salt: fresh })
      .onConflict((oc) => oc.column('day').doNothing())
      .execute();
    const row = await this.db.selectFrom('ip_salts').select('salt').where('day', '=', day).executeTakeFirstOrThrow();
    // yesterday's salt is not needed any more: deleting it makes older hashes unlinkable
    await this.db.deleteFrom('ip_salts').where('day', '<', day).execute();
    this.saltHex = row.salt;
    this.day = day;
  }

  /** Today's salt, hex (loaded or created on the first call of a UTC day). */
  async currentSalt(): Promise<string> {
    await this.ready();
    return this.saltHex;
  }
}

const CACHE_LIMIT = 100_000;

/**
 * The hashing itself, for the pipeline thread. Visitors send many events a day, so each
 * (project, ip, agent) is hashed once per salt.
 */
export function createIpHash(): (saltHex: string, projectId: number, ip: string, userAgent: string) => string {
  let salt = '';
  let key = Buffer.alloc(0);
  const cache = new Map<string, string>();
  return (saltHex, projectId, ip, userAgent) => {
    if (saltHex !== salt) {
      salt = saltHex;
      key = Buffer.from(saltHex, 'hex');
      cache.clear();
    }
    const input = `${projectId}|${ip}|${userAgent}`;
    let hash = cache.get(input);
    if (hash === undefined) {
      hash = crypto.createHmac('sha256', key).update(input).digest('hex').slice(0, 32);
      if (cache.size >= CACHE_LIMIT) cache.clear();
      cache.set(input, hash);
    }
    return hash;
  };
}
