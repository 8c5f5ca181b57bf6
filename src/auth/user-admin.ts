/**
 * The instance admin's view of every account: the list with each one's state, disabling and
 * enabling (a disabled account cannot sign in and its sessions end), lifting sign-in locks, and
 * password-reset links to hand over.
 */
import type { MetaDb } from '../meta-db.js';
import { VigilError, notFound } from '../errors.js';
import type { PasswordResetService, ResetLink } from './password-reset.js';
import type { SessionService } from './sessions.js';
import { toUser, type User, type UserService } from './users.js';

export interface UserSummary extends User {
  disabledAt: number | null;
  /** when the latest sign-in lock of the email ends, from any address (null: not locked) */
  lockedUntil: number | null;
  /** recorded since migration 0015 */
  lastSignInAt: number | null;
  /** projects the user is a member of */
  projects: number;
}

export class UserAdmin {
  constructor(
    private db: MetaDb,
    private users: UserService,
    private sessions: SessionService,
    private resets: PasswordResetService,
    private now: () => number = Date.now,
  ) {}

  /** Every account, by email. */
  list(): Promise<UserSummary[]> {
    return this.summaries();
  }

  async get(id: number): Promise<UserSummary> {
    const [user] = await this.summaries(id);
    if (!user) throw notFound(`user ${id}`);
    return user;
  }

  private async summaries(id?: number): Promise<UserSummary[]> {
    const rows = await this.db
      .selectFrom('users')
      .selectAll()
      .$if(id !== undefined, (q) => q.where('id', '=', id!))
      .orderBy('email')
      .execute();
    const counts = await this.db
      .selectFrom('memberships')
      .select(['user_id', (eb) => eb.fn.countAll<number>().as('n')])
      .$if(id !== undefined, (q) => q.where('user_id', '=', id!))
      .groupBy('user_id')
      .execute();
    const projects = new Map(counts.map((c) => [Number(c.user_id), Number(c.n)]));
    const locked = this.users.lockedEmails();
    return rows.map((r) => {
      const user = toUser(r);
      return {
        ...user,
        disabledAt: r.disabled_at === null ? null : Number(r.disabled_at),
        lockedUntil: locked.get(user.email) ?? null,
        lastSignInAt: r.last_signin_at === null ? null : Number(r.last_signin_at),
        projects: projects.get(user.id) ?? 0,
      };
    });
  }

  /** Disables (every session ends) or enables an account; nobody disables their own. */
  async setDisabled(id: number, disabled: boolean, by: User): Promise<UserSummary> {
    if (disabled && id === by.id)
      throw new VigilError('VIGIL_ERR_CONFLICT', 'you cannot disable your own account: another admin would have to enable it again');
    await this.get(id);
    await this.db
      .updateTable('users')
      .set({ disabled_at: disabled ? this.now() : null })
      .where('id', '=', id)
      .execute();
    if (disabled) await this.sessions.revokeAll(id);
    return this.get(id);
  }

  async unlock(id: number): Promise<UserSummary> {
    this.users.unlock((await this.users.get(id)).email);
    return this.get(id);
  }

  /** A single-use link (an hour) for the user to choose a new password; the admin hands it over. */
  async resetLink(id: number): Promise<{ user: User; link: ResetLink }> {
    const user = await this.users.get(id);
    return { user, link: await this.resets.create(user.id) };
  }
}
