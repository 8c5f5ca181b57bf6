/**
 * Password-reset links: a random token in a link, of which only the HMAC (under the secret key) is
 * stored, like sessions and invitations. A link works once and for an hour; using it sets the
 * password, retires the account's other links and ends every session of the account.
 */
import crypto from 'node:crypto';
import type { MetaDb } from '../meta-db.js';
import { VigilError } from '../errors.js';
import { checkPasswordRules } from './passwords.js';
import { RateLimiter } from '../http/rate-limit.js';
import type { SessionService } from './sessions.js';
import { normalizeEmail, type User, type UserService } from './users.js';

/** An hour: enough to switch to the mailbox, short for a link left in an old e-mail. */
export const RESET_LINK_LIFETIME_MS = 60 * 60_000;
/** Links asked for one address per hour: a person retries a few times; nobody floods a mailbox. */
export const RESET_REQUESTS_PER_HOUR = 3;

export interface ResetLink {
  token: string;
  expiresAt: number;
}

const unknownLink = () =>
  new VigilError(
    'VIGIL_ERR_NOT_FOUND',
    'this password-reset link is not valid: check that the whole link was copied, or ask for a new one',
  );

/** The 410 for a link that can no longer be used; details.state says why. */
function unusable(state: 'used' | 'expired', expiresAt: number): VigilError {
  if (state === 'used')
    return new VigilError(
      'VIGIL_ERR_GONE',
      'this password-reset link has already been used: sign in with the new password, or ask for a new link',
      { state },
    );
  return new VigilError('VIGIL_ERR_GONE', `this password-reset link expired on ${new Date(expiresAt).toISOString()}: ask for a new one`, {
    state,
  });
}

export class PasswordResetService {
  private requestsPerAddress: RateLimiter;

  constructor(
    private db: MetaDb,
    private users: UserService,
    private sessions: SessionService,
    private secretKey: string,
    private now: () => number = Date.now,
  ) {
    this.requestsPerAddress = new RateLimiter({ limit: RESET_REQUESTS_PER_HOUR, windowMs: 60 * 60_000, now });
  }

  private hash(token: string): string {
    return crypto.createHmac('sha256', this.secretKey).update(`password-reset:${token}`).digest('hex');
  }

  /**
   * A link for the account of `email`, or null when there is none. The limit per address is
   * charged first, so the answer (and a 429) is the same whether or not the account exists.
   */
  async request(email: string): Promise<{ user: User; link: ResetLink } | null> {
    const address = normalizeEmail(email);
    const take = this.requestsPerAddress.take(address);
    if (!take.ok) {
      const minutes = Math.ceil(take.retryAfterS / 60);
      throw new VigilError(
        'VIGIL_ERR_RATE_LIMITED',
        `too many reset links were asked for ${address}: check the mailbox, or try again in ${minutes} minute(s)`,
        { field: 'email', retryAfterSeconds: take.retryAfterS },
      );
    }
    const user = await this.users.findByEmail(address);
    return user ? { user, link: await this.create(user.id) } : null;
  }

  /** A new link for a user (the CLI's way, without the limit); only the token's HMAC is stored. */
  async create(userId: number): Promise<ResetLink> {
    const token = crypto.randomBytes(32).toString('base64url');
    const now = this.now();
    const expiresAt = now + RESET_LINK_LIFETIME_MS;
    await this.db
      .insertInto('password_resets')
      .values({ user_id: userId, token_hash: this.hash(token), created_at: now, expires_at: expiresAt, used_at: null })
      .execute();
    return { token, expiresAt };
  }

  /** The account a usable link is for: 404 when unknown, 410 (details.state used or expired) when not usable. */
  async find(token: string): Promise<{ user: User; expiresAt: number }> {
    const row = await this.db.selectFrom('password_resets').selectAll().where('token_hash', '=', this.hash(token)).executeTakeFirst();
    if (!row) throw unknownLink();
    const expiresAt = Number(row.expires_at);
    if (row.used_at !== null) throw unusable('used', expiresAt);
    if (expiresAt <= this.now()) throw unusable('expired', expiresAt);
    return { user: await this.users.get(Number(row.user_id)), expiresAt };
  }

  /**
   * Sets the password of the link's account. The link is claimed by a conditional update, so of two
   * concurrent uses one succeeds and one gets the 410; the password is checked before, so a
   * refused password leaves the link usable.
   */
  async reset(token: string, password: string): Promise<User> {
    checkPasswordRules(password);
    const now = this.now();
    const claimed = await this.db
      .updateTable('password_resets')
      .set({ used_at: now })
      .where('token_hash', '=', this.hash(token))
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .returning(['user_id'])
      .execute();
    if (claimed.length !== 1) {
      // not usable (any more): find says why
      await this.find(token);
      throw unusable('used', now);
    }
    return this.setPassword(Number(claimed[0].user_id), password);
  }

  /** Sets the password (by a link, or the CLI's without one), retires the account's unused links and ends its sessions. */
  async setPassword(userId: number, password: string): Promise<User> {
    await this.users.setPassword(userId, password);
    await this.db
      .updateTable('password_resets')
      .set({ used_at: this.now() })
      .where('user_id', '=', userId)
      .where('used_at', 'is', null)
      .execute();
    await this.sessions.revokeAll(userId);
    return this.users.get(userId);
  }
}
