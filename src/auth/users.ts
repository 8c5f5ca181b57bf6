/** Accounts: creation, sign-in with lockout, password changes. */
import type { MetaDb, UserTable } from '../storage/meta/db.js';
import { VigilError, badRequest, notFound } from '../errors.js';
import { checkPasswordRules, hashPassword, verifyPassword } from './passwords.js';

export interface User {
  id: number;
  email: string;
  name: string;
  isAdmin: boolean;
  createdAt: number;
}

/** Failed sign-ins in a row that lock an account, and for how long. */
export const LOCKOUT_FAILURES = 5;
export const LOCKOUT_MS = 15 * 60_000;

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

type Row = Omit<UserTable, 'id'> & { id: number };
const toUser = (r: Row): User => ({ id: Number(r.id), email: r.email, name: r.name, isAdmin: Number(r.is_admin) === 1, createdAt: Number(r.created_at) });

export function normalizeEmail(email: string): string {
  const e = typeof email === 'string' ? email.trim().toLowerCase() : '';
  if (!EMAIL.test(e) || e.length > 320) throw badRequest(`"${String(email).slice(0, 100)}" is not an email address`, { field: 'email' });
  return e;
}

export class UserService {
  /** verified against when the email is unknown, so both failures take as long */
  private dummyHash: Promise<string>;

  constructor(private db: MetaDb, private scryptLogN: number, private now: () => number = Date.now) {
    this.dummyHash = hashPassword('not a real password at all', scryptLogN);
  }

  async count(): Promise<number> {
    const r = await this.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async create(input: { email: string; password: string; name?: string; isAdmin?: boolean }): Promise<User> {
    const email = normalizeEmail(input.email);
    checkPasswordRules(input.password);
    if (await this.findByEmail(email)) throw new VigilError('VIGIL_ERR_CONFLICT', `a user with the email ${email} already exists`, { field: 'email' });
    const now = this.now();
    const row = await this.db.insertInto('users')
      .values({ email, name: (input.name ?? '').trim().slice(0, 200), password_hash: await hashPassword(input.password, this.scryptLogN), is_admin: input.isAdmin ? 1 : 0, failed_signins: 0, locked_until: null, password_changed_at: now, created_at: now })
      .returningAll().executeTakeFirstOrThrow();
    return toUser(row);
  }

  async findByEmail(email: string): Promise<User | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('email', '=', email.trim().toLowerCase()).executeTakeFirst();
    return row && toUser(row);
  }

  async get(id: number): Promise<User> {
    const row = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound(`user ${id}`);
    return toUser(row);
  }

  /**
   * The user whose email and password these are. Wrong credentials are one 401 whatever was wrong;
   * the fifth failure in a row locks the account for 15 minutes (a 429 with the time left).
   */
  async signIn(emailInput: string, password: string): Promise<User> {
    const wrong = () => new VigilError('VIGIL_ERR_UNAUTHORIZED', 'the email or the password is wrong');
    const email = typeof emailInput === 'string' ? emailInput.trim().toLowerCase() : '';
    const row = await this.db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
    if (!row) {
      await verifyPassword(password, await this.dummyHash);
      throw wrong();
    }
    const now = this.now();
    const lockedUntil = row.locked_until === null ? 0 : Number(row.locked_until);
    if (lockedUntil > now) throw locked(lockedUntil - now);
    if (await verifyPassword(password, row.password_hash)) {
      if (row.failed_signins !== 0 || row.locked_until !== null) await this.db.updateTable('users').set({ failed_signins: 0, locked_until: null }).where('id', '=', row.id).execute();
      return toUser(row);
    }
    const failures = Number(row.failed_signins) + 1;
    const lock = failures >= LOCKOUT_FAILURES;
    await this.db.updateTable('users').set({ failed_signins: lock ? 0 : failures, locked_until: lock ? now + LOCKOUT_MS : null }).where('id', '=', row.id).execute();
    if (lock) throw locked(LOCKOUT_MS);
    throw wrong();
  }

  async changePassword(userId: number, current: string, next: string): Promise<void> {
    const row = await this.db.selectFrom('users').select(['password_hash']).where('id', '=', userId).executeTakeFirst();
    if (!row) throw notFound(`user ${userId}`);
    if (!(await verifyPassword(current, row.password_hash))) throw badRequest('the current password is wrong', { field: 'currentPassword' });
    if (current === next) throw badRequest('the new password must differ from the current one', { field: 'newPassword' });
    await this.setPassword(userId, next, 'newPassword');
  }

  /** Sets a password without knowing the current one (a reset link, the CLI); the caller ends the sessions. */
  async setPassword(userId: number, password: string, field = 'password'): Promise<void> {
    checkPasswordRules(password, field);
    await this.db.updateTable('users').set({ password_hash: await hashPassword(password, this.scryptLogN), password_changed_at: this.now() }).where('id', '=', userId).execute();
  }
}

function locked(ms: number): VigilError {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  return new VigilError('VIGIL_ERR_RATE_LIMITED', `too many failed sign-ins: this account is locked for ${Math.ceil(seconds / 60)} more minute(s)`, { retryAfterSeconds: seconds });
}
