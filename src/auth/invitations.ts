/**
 * Invitations to a project: a random token in a link, of which only the HMAC (under the secret key)
 * is stored, like sessions. A link works once, until it expires or an owner revokes it.
 */
import crypto from 'node:crypto';
import type { InvitationTable } from './tables.js';
import type { MetaDb } from '../meta-db.js';
import type { Project, ProjectService } from '../projects/service.js';
import { VigilError, badRequest, notFound } from '../errors.js';
import { ROLES, type MembershipService, type Role } from './memberships.js';
import { normalizeEmail, type User, type UserService } from './users.js';

export type InvitationState = 'pending' | 'accepted' | 'expired' | 'revoked';

export interface Invitation {
  id: number;
  projectId: number;
  email: string;
  role: Role;
  invitedBy: number | null;
  createdAt: number;
  expiresAt: number;
  acceptedAt: number | null;
  revokedAt: number | null;
  state: InvitationState;
}

type Row = Omit<InvitationTable, 'id'> & { id: number };
const num = (v: number | null) => (v === null ? null : Number(v));

function stateOf(r: Row, now: number): InvitationState {
  if (r.accepted_at !== null) return 'accepted';
  if (r.revoked_at !== null) return 'revoked';
  return Number(r.expires_at) <= now ? 'expired' : 'pending';
}

function toInvitation(r: Row, now: number): Invitation {
  return {
    id: Number(r.id),
    projectId: Number(r.project_id),
    email: r.email,
    role: r.role as Role,
    invitedBy: num(r.invited_by),
    createdAt: Number(r.created_at),
    expiresAt: Number(r.expires_at),
    acceptedAt: num(r.accepted_at),
    revokedAt: num(r.revoked_at),
    state: stateOf(r, now),
  };
}

/** The 410 for a link that can no longer be used, saying why (details.state: accepted, revoked or expired). */
function unusable(inv: Invitation): VigilError {
  const gone = (message: string) => new VigilError('VIGIL_ERR_GONE', message, { state: inv.state });
  if (inv.state === 'accepted') return gone('this invitation has already been accepted; sign in to open the project');
  if (inv.state === 'revoked') return gone('this invitation has been revoked; ask a project owner for a new one');
  return gone(`this invitation expired on ${new Date(inv.expiresAt).toISOString()}; ask a project owner for a new one`);
}

/** Where accepting an invitation makes the account and grants the membership. */
export interface InvitationAccounts {
  users: Pick<UserService, 'findByEmail' | 'prepare' | 'insert'>;
  memberships: Pick<MembershipService, 'grant' | 'roleOf'>;
}

/** An accepted invitation: the project, the role the user now has (never lowered by it), and the user. */
export interface Acceptance {
  project: { slug: string; name: string };
  role: Role;
  user: User;
}

export class InvitationService {
  constructor(
    private db: MetaDb,
    private projects: ProjectService,
    private secretKey: string,
    private lifetimeMs: number,
    private now: () => number = Date.now,
  ) {}

  private hash(token: string): string {
    return crypto.createHmac('sha256', this.secretKey).update(`invitation:${token}`).digest('hex');
  }

  /** A new invitation; the token is returned once (it goes into the link) and only its HMAC is kept. */
  async create(
    projectId: number,
    input: { email: string; role: Role },
    invitedBy: number | null,
    now = this.now(),
  ): Promise<{ invitation: Invitation; token: string }> {
    const email = normalizeEmail(input.email);
    if (!(ROLES as readonly string[]).includes(input.role)) throw badRequest(`role must be one of ${ROLES.join(', ')}`, { field: 'role' });
    const token = crypto.randomBytes(32).toString('base64url');
    const row = await this.db
      .insertInto('invitations')
      .values({
        project_id: projectId,
        email,
        role: input.role,
        token_hash: this.hash(token),
        invited_by: invitedBy,
        created_at: now,
        expires_at: now + this.lifetimeMs,
        accepted_at: null,
        revoked_at: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return { invitation: toInvitation(row, now), token };
  }

  /** A project's invitations, newest first, each with its state. */
  async list(projectId: number): Promise<Invitation[]> {
    const now = this.now();
    const rows = await this.db.selectFrom('invitations').selectAll().where('project_id', '=', projectId).orderBy('id', 'desc').execute();
    return rows.map((r) => toInvitation(r, now));
  }

  async get(projectId: number, id: number): Promise<Invitation> {
    const row = await this.db
      .selectFrom('invitations')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) throw notFound(`invitation ${id}`);
    return toInvitation(row, this.now());
  }

  /** Revokes a pending (or expired) invitation; revoking twice changes nothing, an accepted one is a 409. */
  async revoke(projectId: number, id: number): Promise<{ before: Invitation; after: Invitation }> {
    const before = await this.get(projectId, id);
    if (before.state === 'accepted')
      throw new VigilError('VIGIL_ERR_CONFLICT', `invitation ${id} has already been accepted: remove the member instead`);
    if (before.state === 'revoked') return { before, after: before };
    await this.db
      .updateTable('invitations')
      .set({ revoked_at: this.now() })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .where('accepted_at', 'is', null)
      .execute();
    return { before, after: await this.get(projectId, id) };
  }

  /** The pending invitation a token is for, with its project: 404 when unknown, 410 when expired, revoked or accepted. */
  async find(token: string): Promise<{ invitation: Invitation; project: Project }> {
    const row = await this.db.selectFrom('invitations').selectAll().where('token_hash', '=', this.hash(token)).executeTakeFirst();
    if (!row) throw notFound('invitation');
    const invitation = toInvitation(row, this.now());
    if (invitation.state !== 'pending') throw unusable(invitation);
    return { invitation, project: await this.projects.getById(invitation.projectId) };
  }

  /**
   * Marks the token's invitation accepted and runs `then` (create the account, grant the
   * membership) in the same transaction, so an invitation is never used up without what it grants:
   * if `then` fails, it stays pending. Only one caller can accept: the update is conditional on the
   * invitation still being pending, so two concurrent accepts get one success and one 410.
   * `then` must use only the transaction it is given (SQLite has one connection).
   */
  async accept<T>(token: string, then: (tx: MetaDb, invitation: Invitation) => Promise<T>): Promise<T> {
    const now = this.now();
    const done = await this.db.transaction().execute(async (tx) => {
      const rows = await tx
        .updateTable('invitations')
        .set({ accepted_at: now })
        .where('token_hash', '=', this.hash(token))
        .where('accepted_at', 'is', null)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', now)
        .returningAll()
        .execute();
      return rows.length === 1 ? { value: await then(tx, toInvitation(rows[0], now)) } : null;
    });
    if (done) return done.value;
    // not pending (any more): find says why
    const { invitation } = await this.find(token);
    throw unusable(invitation);
  }

  /** `found` (see find) accepted by the signed-in user it is for. */
  async acceptAsUser(
    token: string,
    found: { invitation: Invitation; project: Project },
    user: User,
    accounts: InvitationAccounts,
  ): Promise<Acceptance> {
    const { invitation } = found;
    if (user.email !== invitation.email)
      throw new VigilError(
        'VIGIL_ERR_FORBIDDEN',
        `this invitation is for ${invitation.email}, but you are signed in as ${user.email}: sign out, then open the link again`,
      );
    const result = await this.accept(token, (tx) => this.grant(found, user.id, accounts, tx));
    return { ...result, user };
  }

  /**
   * `found` (see find) accepted with a new account for the invited email. One transaction claims
   * the link, makes the account and grants the membership: an accept of another link for the same
   * email at the same moment gets a 409 and leaves its link unused.
   */
  async acceptWithNewAccount(
    token: string,
    found: { invitation: Invitation; project: Project },
    input: { name?: string; password?: string },
    accounts: InvitationAccounts,
  ): Promise<Acceptance> {
    const { invitation } = found;
    const accountExists = () =>
      new VigilError(
        'VIGIL_ERR_CONFLICT',
        `an account for ${invitation.email} already exists: sign in as ${invitation.email}, then open the link again`,
      );
    if (await accounts.users.findByEmail(invitation.email)) throw accountExists();
    if (input.password === undefined)
      throw badRequest('choose a password for your new account (at least 12 characters)', { field: 'password' });
    const newUser = await accounts.users.prepare({ email: invitation.email, password: input.password, name: input.name });
    return this.accept(token, async (tx) => {
      const user = await accounts.users.insert(newUser, tx).catch((err) => {
        throw err instanceof VigilError && err.status === 409 ? accountExists() : err;
      });
      return { ...(await this.grant(found, user.id, accounts, tx)), user };
    });
  }

  private async grant(
    { invitation, project }: { invitation: Invitation; project: Project },
    userId: number,
    accounts: InvitationAccounts,
    tx: MetaDb,
  ): Promise<Omit<Acceptance, 'user'>> {
    await accounts.memberships.grant(project.id, userId, invitation.role, tx);
    // grant never lowers a role: report the one the user now has
    return {
      project: { slug: project.slug, name: project.name },
      role: (await accounts.memberships.roleOf(project.id, userId, tx)) ?? invitation.role,
    };
  }
}
