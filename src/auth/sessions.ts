/**
 * Sign-in sessions: an opaque random token in an HTTP-only cookie; only its HMAC (under the secret
 * key) is stored, so a copy of the database opens no session. Expiry slides with use. The CSRF
 * token is derived from the session token, so it needs no storage and dies with the session.
 */
import crypto from 'node:crypto';
import type { MetaDb } from '../meta-db.js';

export const SESSION_COOKIE = 'vigil_session';
export const CSRF_HEADER = 'x-csrf-token';
/** expiry is pushed forward at most this often, to keep writes off most requests */
const SLIDE_EVERY_MS = 60 * 60_000;

export interface ActiveSession {
  id: number;
  userId: number;
  expiresAt: number;
  /** set when the expiry moved and the cookie must be sent again */
  renewed: boolean;
}

export class SessionService {
  constructor(
    private db: MetaDb,
    private secretKey: string,
    private lifetimeMs: number,
    private now: () => number = Date.now,
  ) {}

  private hash(token: string): string {
    return crypto.createHmac('sha256', this.secretKey).update(`session:${token}`).digest('hex');
  }

  csrfToken(token: string): string {
    return crypto.createHmac('sha256', this.secretKey).update(`csrf:${token}`).digest('base64url');
  }

  checkCsrf(token: string, presented: string | undefined): boolean {
    const expected = Buffer.from(this.csrfToken(token));
    const given = Buffer.from(presented ?? '');
    return given.length === expected.length && crypto.timingSafeEqual(given, expected);
  }

  async create(userId: number, userAgent = ''): Promise<{ token: string; expiresAt: number }> {
    const token = crypto.randomBytes(32).toString('base64url');
    const now = this.now();
    const expiresAt = now + this.lifetimeMs;
    await this.db
      .insertInto('sessions')
      .values({
        user_id: userId,
        token_hash: this.hash(token),
        created_at: now,
        last_seen_at: now,
        expires_at: expiresAt,
        user_agent: userAgent.slice(0, 500),
      })
      .execute();
    return { token, expiresAt };
  }

  /** The live session of a token, its expiry pushed forward when due; undefined when unknown or expired. */
  async resolve(token: string): Promise<ActiveSession | undefined> {
    const row = await this.db
      .selectFrom('sessions')
      .select(['id', 'user_id', 'last_seen_at', 'expires_at'])
      .where('token_hash', '=', this.hash(token))
      .executeTakeFirst();
    const now = this.now();
    if (!row || Number(row.expires_at) <= now) return undefined;
    if (now - Number(row.last_seen_at) < SLIDE_EVERY_MS)
      return { id: Number(row.id), userId: Number(row.user_id), expiresAt: Number(row.expires_at), renewed: false };
    const expiresAt = now + this.lifetimeMs;
    await this.db.updateTable('sessions').set({ last_seen_at: now, expires_at: expiresAt }).where('id', '=', row.id).execute();
    return { id: Number(row.id), userId: Number(row.user_id), expiresAt, renewed: true };
  }

  async revoke(token: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('token_hash', '=', this.hash(token)).execute();
  }

  async revokeAll(userId: number): Promise<void> {
    await this.db.deleteFrom('sessions').where('user_id', '=', userId).execute();
  }

  async prune(): Promise<void> {
    await this.db.deleteFrom('sessions').where('expires_at', '<=', this.now()).execute();
  }
}
