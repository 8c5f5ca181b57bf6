/**
 * Members and their roles (owners change a role or remove someone; the server refuses to leave
 * the project without an owner), invitations by email (the link shows once), pending ones revoked.
 */
import { useState, type FormEvent } from 'react';
import { fieldError, formError } from '../../api/client';
import {
  ROLES,
  useInvitations,
  useInvite,
  useMembers,
  useRemoveMember,
  useRevokeInvitation,
  useSetRole,
  type Invitation,
  type Member,
} from '../../api/settings';
import type { Role } from '../../api/types';
import { formatDay } from '../../app/format';
import { Badge } from '../Badge';
import { Button } from '../Button';
import { Card } from '../Card';
import { Field, FormError, TextField } from '../Field';
import { Table } from '../Table';
import { CopyButton } from './CopyButton';
import { COMPACT_SELECT } from '../alerts/compact';

const INVITE_FIELDS = ['email', 'role'];
const STATE_TONE = { pending: 'info', accepted: 'good', expired: 'neutral', revoked: 'neutral' } as const;

// long because it is one screen's markup with the state its parts share
export function Members({ slug, isOwner, myUserId, timeZone }: { slug: string; isOwner: boolean; myUserId: number; timeZone: string }) {
  const members = useMembers(slug);
  const setRole = useSetRole(slug);
  const remove = useRemoveMember(slug);
  const invitations = useInvitations(slug, isOwner);
  const invite = useInvite(slug);
  const revoke = useRevokeInvitation(slug);
  const [email, setEmail] = useState('');
  const [role, setInviteRole] = useState<Role>('viewer');
  const [link, setLink] = useState<{ email: string; url: string; emailed: boolean } | null>(null);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    invite.mutate(
      { email: email.trim(), role },
      {
        onSuccess: (r) => {
          setLink({ email: r.invitation.email, url: r.url, emailed: r.emailed });
          setEmail('');
        },
      },
    );
  };

  return (
    <>
      <Card title="Members">
        <FormError error={formError(setRole.error ?? remove.error)} />
        <Table<Member>
          label="Members"
          rows={members.data?.members}
          loading={members.isPending}
          error={members.error}
          onRetry={() => void members.refetch()}
          rowKey={(m) => String(m.userId)}
          empty="No members."
          columns={[
            {
              header: 'Name',
              cell: (m) => (
                <>
                  <strong>{m.name || m.email}</strong>
                  {m.userId === myUserId && <span className="muted"> (you)</span>}
                </>
              ),
            },
            { header: 'Email', cell: (m) => m.email },
            {
              header: 'Role',
              cell: (m) =>
                isOwner ? (
                  <select
                    style={COMPACT_SELECT}
                    aria-label={`Role of ${m.email}`}
                    value={m.role}
                    disabled={setRole.isPending}
                    onChange={(e) => setRole.mutate({ userId: m.userId, role: e.target.value as Role })}
                  >
                    {ROLES.map((r) => (
                      <option key={r} value={r}>
                        {r}
                      </option>
                    ))}
                  </select>
                ) : (
                  <Badge>{m.role}</Badge>
                ),
            },
            { header: 'Since', cell: (m) => formatDay(m.since, timeZone) },
            {
              header: '',
              align: 'right',
              cell: (m) =>
                isOwner && (
                  <Button
                    size="small"
                    variant="ghost"
                    busy={remove.isPending && remove.variables === m.userId}
                    onClick={() => window.confirm(`Remove ${m.email} from this project?`) && remove.mutate(m.userId)}
                  >
                    Remove
                  </Button>
                ),
            },
          ]}
        />
      </Card>
      {isOwner && (
        <>
          <Card title="Invite someone">
            <form onSubmit={submit} aria-label="Invite" className="grid two" style={{ gap: '0 var(--space)', alignItems: 'start' }}>
              <TextField
                label="Email"
                type="email"
                value={email}
                onChange={(e) => setEmail(e.target.value)}
                error={fieldError(invite.error, 'email')}
              />
              <Field label="Role" htmlFor="invite-role" error={fieldError(invite.error, 'role')}>
                <select id="invite-role" value={role} onChange={(e) => setInviteRole(e.target.value as Role)}>
                  {ROLES.map((r) => (
                    <option key={r} value={r}>
                      {r}
                    </option>
                  ))}
                </select>
              </Field>
              <div>
                <FormError error={formError(invite.error, INVITE_FIELDS)} />
                <div style={{ marginTop: '0.75rem' }}>
                  <Button type="submit" variant="primary" busy={invite.isPending}>
                    Create invitation
                  </Button>
                </div>
              </div>
            </form>
            {link && (
              <div style={{ marginTop: '1rem' }} role="status">
                <p className="notice">
                  {link.emailed
                    ? `The invitation was e-mailed to ${link.email}. You can also send this link yourself: it is shown only this once.`
                    : `Send this link to ${link.email}: it is shown only this once.`}
                </p>
                <div style={{ display: 'flex', gap: '0.5rem', alignItems: 'center', marginTop: '0.5rem', flexWrap: 'wrap' }}>
                  <code style={{ wordBreak: 'break-all', userSelect: 'all' }}>{link.url}</code>
                  <CopyButton text={link.url} label="Copy link" />
                </div>
              </div>
            )}
          </Card>
          <Card title="Invitations">
            <FormError error={formError(revoke.error)} />
            <Table<Invitation>
              label="Invitations"
              rows={invitations.data?.invitations}
              loading={invitations.isPending}
              error={invitations.error}
              onRetry={() => void invitations.refetch()}
              rowKey={(i) => String(i.id)}
              empty="No invitations."
              columns={[
                { header: 'Email', cell: (i) => i.email },
                { header: 'Role', cell: (i) => i.role },
                { header: 'State', cell: (i) => <Badge tone={STATE_TONE[i.state]}>{i.state}</Badge> },
                { header: 'Expires', cell: (i) => formatDay(i.expiresAt, timeZone) },
                {
                  header: '',
                  align: 'right',
                  cell: (i) =>
                    i.state === 'pending' && (
                      <Button
                        size="small"
                        variant="ghost"
                        busy={revoke.isPending && revoke.variables === i.id}
                        onClick={() => revoke.mutate(i.id)}
                      >
                        Revoke
                      </Button>
                    ),
                },
              ]}
            />
          </Card>
        </>
      )}
    </>
  );
}
