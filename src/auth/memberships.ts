/** Who may do what in a project: owner, editor or viewer. */
import type { MetaDb } from '../meta-db.js';
import { VigilError, notFound } from '../errors.js';

export const ROLES = ['viewer', 'editor', 'owner'] as const;
export type Role = (typeof ROLES)[number];
export const roleRank = (r: Role) => ROLES.indexOf(r);

export interface Member {
  userId: number;
  email: string;
  name: string;
  role: Role;
  since: number;
}

export class MembershipService {
  constructor(
    private db: MetaDb,
    private now: () => number = Date.now,
  ) {}

  async roleOf(projectId: number, userId: number, db: MetaDb = this.db): Promise<Role | undefined> {
    const row = await db
      .selectFrom('memberships')
      .select('role')
      .where('project_id', '=', projectId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return row?.role as Role | undefined;
  }

  /** Adds a member, or changes the role of one (never lowering it: an invitation for less keeps the more); in `db`, a caller's transaction, when given. */
  async grant(projectId: number, userId: number, role: Role, db: MetaDb = this.db): Promise<void> {
    const current = await this.roleOf(projectId, userId, db);
    if (current && roleRank(current) >= roleRank(role)) return;
    if (current)
      await db.updateTable('memberships').set({ role }).where('project_id', '=', projectId).where('user_id', '=', userId).execute();
    else await db.insertInto('memberships').values({ project_id: projectId, user_id: userId, role, created_at: this.now() }).execute();
  }

  async list(projectId: number): Promise<Member[]> {
    const rows = await this.db
      .selectFrom('memberships')
      .innerJoin('users', 'users.id', 'memberships.user_id')
      .select(['memberships.user_id', 'users.email', 'users.name', 'memberships.role', 'memberships.created_at'])
      .where('memberships.project_id', '=', projectId)
      .orderBy('users.email')
      .execute();
    return rows.map((r) => ({
      userId: Number(r.user_id),
      email: r.email,
      name: r.name,
      role: r.role as Role,
      since: Number(r.created_at),
    }));
  }

  async projectsOf(userId: number): Promise<{ projectId: number; role: Role }[]> {
    const rows = await this.db.selectFrom('memberships').select(['project_id', 'role']).where('user_id', '=', userId).execute();
    return rows.map((r) => ({ projectId: Number(r.project_id), role: r.role as Role }));
  }

  private async member(projectId: number, userId: number): Promise<Member> {
    const m = (await this.list(projectId)).find((x) => x.userId === userId);
    if (!m) throw notFound(`member ${userId}`);
    return m;
  }

  /** A project always keeps at least one owner. */
  private async assertOtherOwner(projectId: number, userId: number) {
    const owners = (await this.list(projectId)).filter((m) => m.role === 'owner' && m.userId !== userId);
    if (!owners.length) throw new VigilError('VIGIL_ERR_CONFLICT', 'a project needs at least one owner: make someone else owner first');
  }

  async setRole(projectId: number, userId: number, role: Role): Promise<{ before: Member; after: Member }> {
    const before = await this.member(projectId, userId);
    if (before.role === 'owner' && role !== 'owner') await this.assertOtherOwner(projectId, userId);
    await this.db.updateTable('memberships').set({ role }).where('project_id', '=', projectId).where('user_id', '=', userId).execute();
    return { before, after: { ...before, role } };
  }

  async remove(projectId: number, userId: number): Promise<Member> {
    const before = await this.member(projectId, userId);
    if (before.role === 'owner') await this.assertOtherOwner(projectId, userId);
    await this.db.deleteFrom('memberships').where('project_id', '=', projectId).where('user_id', '=', userId).execute();
    return before;
  }
}
