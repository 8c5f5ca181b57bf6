/** Accounts: creation, sign-in with lockout, password changes. */
import type { MetaDb } from '../meta-db.js';
import type { UserTable } from './tables.js';
import { VigilError, badRequest, notFound } from '../errors.js';
import { checkPasswordRules, hashPassword, verifyPassword } from './passwords.js';
import { SignInLockout } from './signin-lockout.js';

export interface User {
  id: number;
  email: string;
  name: string;
  isAdmin: boolean;
  createdAt: number;
  /** an admin disabled the account: it cannot sign in, and has no session */
  disabled: boolean;
}

/** Failed sign-ins in a row that lock an (email, address) pair, and for how long. */
export const LOCKOUT_FAILURES = 5;
export const LOCKOUT_MS = 15 * 60_000;

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

type Row = Omit<UserTable, 'id'> & { id: number };
/** An account checked and its password hashed, ready to insert (hashing is slow: never inside a transaction). */
export interface NewUser {
  email: string;
  name: string;
  passwordHash: string;
  isAdmin: boolean;
}
export const toUser = (r: Row): User => ({
  id: Number(r.id),
  email: r.email,
  name: r.name,
  isAdmin: Number(r.is_admin) === 1,
  createdAt: Number(r.created_at),
  disabled: r.disabled_at !== null,
});

export function normalizeEmail(email: string): string {
  const e = typeof email === 'string' ? email.trim().toLowerCase() : '';
  if (!EMAIL.test(e) || e.length > 320) throw badRequest(`"${String(email).slice(0, 100)}" is not an email address`, { field: 'email' });
  return e;
}

export class UserService {
  /** verified against when the email is unknown, so both failures take as long */
  private dummyHash: Promise<string>;
  private lockout: SignInLockout;

  constructor(
    private db: MetaDb,
    private scryptLogN: number,
    private now: () => number = Date.now,
  ) {
    this.dummyHash = hashPassword('not a real password at all', scryptLogN);
    this.lockout = new SignInLockout({ failures: LOCKOUT_FAILURES, lockMs: LOCKOUT_MS, now });
  }

  async count(): Promise<number> {
    const r = await this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async create(input: { email: string; password: string; name?: string; isAdmin?: boolean }): Promise<User> {
    const user = await this.prepare(input);
    if (await this.findByEmail(user.email)) throw emailTaken(user.email);
    return this.insert(user);
  }

  async prepare(input: { email: string; password: string; name?: string; isAdmin?: boolean }): Promise<NewUser> {
    const email = normalizeEmail(input.email);
    checkPasswordRules(input.password);
    return {
      email,
      name: (input.name ?? '').trim().slice(0, 200),
      passwordHash: await hashPassword(input.password, this.scryptLogN),
      isAdmin: input.isAdmin ?? false,
    };
  }

  /** Inserts a prepared account (in `db`, a transaction of the caller's, when given); a 409 when the email is taken. */
  async insert(user: NewUser, db: MetaDb = this.db): Promise<User> {
    const now = this.now();
    try {
      const row = await db
        .insertInto('users')
        .values({
          email: user.email,
          name: user.name,
          password_hash: user.passwordHash,
          is_admin: user.isAdmin ? 1 : 0,
          failed_signins: 0,
          locked_until: null,
          password_changed_at: now,
          created_at: now,
          disabled_at: null,
          last_signin_at: null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toUser(row);
    } catch (err) {
      if (isUniqueViolation(err)) throw emailTaken(user.email);
      throw err;
    }
  }

  /**
   * The instance's first owner, only while there is no user. Check and insert run in one
   * serializable transaction, so of concurrent setups exactly one commits; PostgreSQL fails the
   * others with a serialization error, SQLite runs them one after the other (one connection).
   */
  async createOwner(input: { email: string; password: string; name?: string }): Promise<User> {
    const taken = () => new VigilError('VIGIL_ERR_CONFLICT', 'this instance already has an owner; sign in instead');
    if ((await this.count()) > 0) throw taken();
    const user = await this.prepare({ ...input, isAdmin: true });
    try {
      return await this.db
        .transaction()
        .setIsolationLevel('serializable')
        .execute(async (tx) => {
          const { n } = await tx
            .selectFrom('users')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow();
          if (Number(n) > 0) throw taken();
          return this.insert(user, tx);
        });
    } catch (err) {
      if (isSerializationFailure(err) || (err instanceof VigilError && err.status === 409)) throw taken();
      throw err;
    }
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
   * The user whose email and password these are, signing in from `address`. Wrong credentials are
   * one 401 whatever was wrong, an unknown email included (same work: a dummy hash is verified);
   * the fifth failure in a row locks this email for this address for 15 minutes (a 429 with the
   * time left), whether or not the account exists. (The users table's failed_signins and
   * locked_until columns are no longer used.)
   */
  async signIn(emailInput: string, password: string, address: string): Promise<User> {
    const email = typeof emailInput === 'string' ? emailInput.trim().toLowerCase() : '';
    const left = this.lockout.lockedFor(email, address);
    if (left > 0) throw locked(left);
    const row = await this.db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
    const right = await verifyPassword(password, row?.password_hash ?? (await this.dummyHash));
    if (row && right) {
      this.lockout.succeed(email, address);
      // said only to whoever knows the password
      if (row.disabled_at !== null)
        throw new VigilError('VIGIL_ERR_FORBIDDEN', 'this account is disabled: ask the administrator of this Vigil instance');
      await this.db.updateTable('users').set({ last_signin_at: this.now() }).where('id', '=', row.id).execute();
      return toUser(row);
    }
    const lockedNow = this.lockout.fail(email, address);
    if (lockedNow) throw locked(lockedNow);
    throw new VigilError('VIGIL_ERR_UNAUTHORIZED', 'the email or the password is wrong');
  }

  /** Sign-in locks in force, per email (this process's: the lockout is kept in memory). */
  lockedEmails(): Map<string, number> {
    return this.lockout.lockedEmails();
  }

  /** Lifts the sign-in locks of an email, from every address (on this process). */
  unlock(email: string): void {
    this.lockout.unlock(email);
  }

  async changePassword(userId: number, current: string, next: string): Promise<void> {
    const row = await this.db.selectFrom('users').select(['password_hash']).where('id', '=', userId).executeTakeFirst();
    if (!row) throw notFound(`user ${userId}`);
    if (!(await verifyPassword(current, row.password_hash)))
      throw badRequest('the current password is wrong', { field: 'currentPassword' });
    if (current === next) throw badRequest('the new password must differ from the current one', { field: 'newPassword' });
    await this.setPassword(userId, next, 'newPassword');
  }

  /** Sets a password without knowing the current one (a reset link, the CLI); the caller ends the sessions. */
  async setPassword(userId: number, password: string, field = 'password'): Promise<void> {
    checkPasswordRules(password, field);
    await this.db
      .updateTable('users')
      .set({ password_hash: await hashPassword(password, this.scryptLogN), password_changed_at: this.now() })
      .where('id', '=', userId)
      .execute();
  }
}

function locked(ms: number): VigilError {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  return new VigilError(
    'VIGIL_ERR_RATE_LIMITED',
    `too many failed sign-ins for this email from this address: it is locked for ${Math.ceil(seconds / 60)} more minute(s)`,
    { retryAfterSeconds: seconds },
  );
}

const emailTaken = (email: string) =>
  new VigilError('VIGIL_ERR_CONFLICT', `a user with the email ${email} already exists`, { field: 'email' });
const errorCode = (err: unknown) => String((err as { code?: unknown })?.code ?? '');
const isUniqueViolation = (err: unknown) => errorCode(err) === '23505' || errorCode(err) === 'SQLITE_CONSTRAINT_UNIQUE';
/** PostgreSQL's serialization failure (40001); SQLite's busy snapshot when another process wrote first. */
const isSerializationFailure = (err: unknown) => errorCode(err) === '40001' || errorCode(err).startsWith('SQLITE_BUSY');
