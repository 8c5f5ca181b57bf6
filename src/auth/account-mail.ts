/** The texts of the e-mails accounts receive: an invitation to a project, a password-reset link. */
import type { MailMessage } from './mailer.js';

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const article = (role: string) => (role === 'editor' || role === 'owner' ? 'an' : 'a');
const when = (ms: number) => new Date(ms).toUTCString();

function message(to: string, subject: string, paragraphs: string[], link: { url: string; label: string }): MailMessage {
  const text = [...paragraphs.slice(0, 1), link.url, ...paragraphs.slice(1)].join('\n\n');
  const html = [
    '<!doctype html><html><body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;font-size:14px;color:#111">',
    `<p>${escapeHtml(paragraphs[0])}</p>`,
    `<p><a href="${escapeHtml(link.url)}">${escapeHtml(link.label)}</a></p>`,
    ...paragraphs.slice(1).map((p) => `<p style="color:#555">${escapeHtml(p)}</p>`),
    '</body></html>',
  ].join('\n');
  return { to, subject, text: `${text}\n`, html };
}

export function invitationMail(input: {
  to: string;
  projectName: string;
  role: string;
  url: string;
  expiresAt: number;
  invitedBy?: string;
}): MailMessage {
  const by = input.invitedBy ? `${input.invitedBy} invited you` : 'You are invited';
  return message(
    input.to,
    `You are invited to ${input.projectName} on Vigil`,
    [
      `${by} to join the project ${input.projectName} on Vigil as ${article(input.role)} ${input.role}. Open this link to accept:`,
      `The link works once, until ${when(input.expiresAt)}. If it has expired, ask a project owner for a new invitation.`,
    ],
    { url: input.url, label: `Join ${input.projectName}` },
  );
}

export function passwordResetMail(input: { to: string; url: string; expiresAt: number }): MailMessage {
  return message(
    input.to,
    'Reset your Vigil password',
    [
      `Someone (we hope you) asked to reset the password of the Vigil account ${input.to}. Open this link to choose a new password:`,
      `The link works once, until ${when(input.expiresAt)}. Setting a new password signs the account out everywhere.`,
      'If you did not ask for this, ignore this e-mail: your password stays as it is.',
    ],
    { url: input.url, label: 'Choose a new password' },
  );
}
