/**
 * `vigil users reset-password <email>`, for instances without e-mail: prints a single-use reset
 * link (an hour), or with a password given sets it at once. Either way, once the password changes
 * every session of the account ends.
 */
import type { Config } from '../config.js';
import type { MetaDb } from '../meta-db.js';
import { VigilError } from '../errors.js';
import { AppLinks } from '../http/app-links.js';
import { AuditLog } from './audit.js';
import { PasswordResetService } from './password-reset.js';
import { SessionService } from './sessions.js';
import { UserService, normalizeEmail } from './users.js';

/** Does what the command asks and returns what to print. */
export async function resetPasswordCommand(db: MetaDb, config: Config, email: string, password?: string): Promise<string> {
  const users = new UserService(db, config.passwordScryptLogN);
  const user = await users.findByEmail(normalizeEmail(email));
  if (!user) throw new VigilError('VIGIL_ERR_NOT_FOUND', `there is no account with the e-mail ${email.trim()}`);
  const resets = new PasswordResetService(
    db,
    users,
    new SessionService(db, config.secretKey, config.sessionDays * 86_400_000),
    config.secretKey,
  );
  if (password === undefined) {
    const link = await resets.create(user.id);
    return `Send this link to ${user.email}; it sets a new password once, until ${new Date(link.expiresAt).toISOString()}:\n${new AppLinks(config).origin()}/reset-password/${link.token}`;
  }
  await resets.setPassword(user.id, password);
  await new AuditLog(db).record(null, {
    projectId: null,
    action: 'user.reset_password',
    target: { type: 'user', id: user.id },
    actor: { type: 'cli', id: null, label: 'vigil users reset-password' },
  });
  return `The password of ${user.email} is changed; every session of the account has ended.`;
}
