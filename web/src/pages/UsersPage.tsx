/**
 * `/admin/users` (instance admin): every account with its state; disable or enable one (a disabled
 * account cannot sign in, its sessions end), lift a sign-in lock, hand over a password-reset link.
 */
import { useState } from 'react';
import { useInstanceUsers, useResetLink, useUserAction, type InstanceUser } from '../api/admin';
import { formError } from '../api/client';
import type { Me } from '../api/types';
import { formatAgo, formatTime } from '../app/format';
import { Badge, Button, Card, FormError, PageHeader, Table } from '../components';
import { CopyButton } from '../components/settings/CopyButton';

function UserState({ user }: { user: InstanceUser }) {
  if (user.disabledAt)
    return (
      <Badge tone="bad" title={`since ${formatTime(user.disabledAt)}`}>
        disabled
      </Badge>
    );
  if (user.lockedUntil) return <Badge tone="warn">sign-in locked until {formatTime(user.lockedUntil, undefined, false)}</Badge>;
  return <Badge tone="good">active</Badge>;
}

// long because it is one screen's markup with the state its parts share
export default function UsersPage({ me }: { me: Me }) {
  const users = useInstanceUsers();
  const act = useUserAction();
  const reset = useResetLink();
  const [link, setLink] = useState<{ email: string; url: string } | null>(null);
  const busy = (id: number, action: string) => act.isPending && act.variables?.id === id && act.variables.action === action;

  return (
    <>
      <PageHeader
        title="Users"
        description="Every account of this Vigil instance. Projects' members and roles are in each project's Settings."
      />
      {link && (
        <Card title="Password-reset link">
          <div role="status">
            <p className="notice">
              Send this link to {link.email}: it works once, for an hour, and is shown only now. Their password and sessions stay until it
              is used.
            </p>
            <div style={{ display: 'flex', gap: '0.5rem', alignItems: 'center', marginTop: '0.5rem', flexWrap: 'wrap' }}>
              <code style={{ wordBreak: 'break-all', userSelect: 'all' }}>{link.url}</code>
              <CopyButton text={link.url} label="Copy link" />
            </div>
          </div>
        </Card>
      )}
      <Card>
        <FormError error={formError(act.error ?? reset.error)} />
        <Table<InstanceUser>
          label="Users"
          rows={users.data?.users}
          loading={users.isPending}
          error={users.error}
          onRetry={() => void users.refetch()}
          rowKey={(u) => String(u.id)}
          empty="No users."
          columns={[
            {
              header: 'User',
              cell: (u) => (
                <>
                  <strong>{u.name || u.email}</strong>
                  {u.id === me.user.id && <span className="muted"> (you)</span>}
                  {u.name && <div className="muted small">{u.email}</div>}
                </>
              ),
            },
            { header: 'Role', cell: (u) => (u.isAdmin ? <Badge tone="info">admin</Badge> : <span className="muted">user</span>) },
            { header: 'State', cell: (u) => <UserState user={u} /> },
            {
              header: 'Last sign-in',
              cell: (u) =>
                u.lastSignInAt ? (
                  <span title={formatTime(u.lastSignInAt)}>{formatAgo(u.lastSignInAt)}</span>
                ) : (
                  <span className="muted">unknown</span>
                ),
            },
            { header: 'Projects', align: 'right', cell: (u) => u.projects },
            {
              header: '',
              align: 'right',
              cell: (u) => (
                <div style={{ display: 'flex', gap: '0.25rem', justifyContent: 'flex-end', flexWrap: 'wrap' }}>
                  {u.lockedUntil && (
                    <Button size="small" busy={busy(u.id, 'unlock')} onClick={() => act.mutate({ id: u.id, action: 'unlock' })}>
                      Unlock
                    </Button>
                  )}
                  <Button
                    size="small"
                    busy={reset.isPending && reset.variables === u.id}
                    aria-label={`Reset link for ${u.email}`}
                    onClick={() => reset.mutate(u.id, { onSuccess: (r) => setLink({ email: u.email, url: r.url }) })}
                  >
                    Reset link
                  </Button>
                  {u.disabledAt ? (
                    <Button size="small" busy={busy(u.id, 'enable')} onClick={() => act.mutate({ id: u.id, action: 'enable' })}>
                      Enable
                    </Button>
                  ) : (
                    u.id !== me.user.id && (
                      <Button
                        size="small"
                        variant="ghost"
                        busy={busy(u.id, 'disable')}
                        onClick={() =>
                          window.confirm(`Disable ${u.email}? They are signed out at once and cannot sign in until enabled again.`) &&
                          act.mutate({ id: u.id, action: 'disable' })
                        }
                      >
                        Disable
                      </Button>
                    )
                  )}
                </div>
              ),
            },
          ]}
        />
      </Card>
    </>
  );
}
