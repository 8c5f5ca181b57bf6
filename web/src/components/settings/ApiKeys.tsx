/**
 * API keys: create (the answer shows the secret this once, with a copy button), the list with
 * what each may do and when it was last used, and revoke.
 */
import { useState, type FormEvent } from 'react';
import { fieldError, formError } from '../../api/client';
import { KEY_SCOPES, useApiKeys, useCreateApiKey, useRevokeApiKey, type ApiKey, type KeyScope } from '../../api/settings';
import { formatAgo, formatDay } from '../../app/format';
import { Badge } from '../Badge';
import { Button } from '../Button';
import { Card } from '../Card';
import { Field, FormError, TextField } from '../Field';
import { Table } from '../Table';
import { CopyButton } from './CopyButton';

const SCOPE_HINT: Record<KeyScope, string> = {
  ingest: 'send events (the SDK, /v1)',
  read: 'read, as a viewer',
  write: 'change, as an editor',
  admin: 'act as an owner, except keys, members and the audit log',
};
const FIELDS = ['name', 'scopes', 'expiresAt'];

export function keyState(k: ApiKey): { label: string; tone: 'good' | 'bad' | 'neutral' } {
  if (k.revokedAt) return { label: 'revoked', tone: 'neutral' };
  if (k.expiresAt && Date.parse(k.expiresAt) <= Date.now()) return { label: 'expired', tone: 'bad' };
  return { label: 'active', tone: 'good' };
}

// long because it is one screen's markup with the state its parts share
export function ApiKeys({
  slug,
  timeZone,
  onCreated,
}: {
  slug: string;
  timeZone: string;
  onCreated: (key: ApiKey, secret: string) => void;
}) {
  const keys = useApiKeys(slug);
  const create = useCreateApiKey(slug);
  const revoke = useRevokeApiKey(slug);
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<KeyScope[]>(['ingest']);
  const [expiresAt, setExpiresAt] = useState('');
  const [created, setCreated] = useState<{ key: ApiKey; secret: string } | null>(null);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate(
      { name: name.trim(), scopes, ...(expiresAt.trim() && { expiresAt: expiresAt.trim() }) },
      {
        onSuccess: (r) => {
          setCreated(r);
          onCreated(r.key, r.secret);
          setName('');
          setExpiresAt('');
        },
      },
    );
  };

  return (
    <>
      {created && (
        <Card
          title={`Key "${created.key.name}" created`}
          actions={
            <Button size="small" variant="ghost" onClick={() => setCreated(null)}>
              Done
            </Button>
          }
        >
          <p className="notice">Copy the secret now: it is shown only this once. Vigil keeps only its hash.</p>
          <div style={{ display: 'flex', gap: '0.5rem', alignItems: 'center', marginTop: '0.75rem', flexWrap: 'wrap' }}>
            <code
              role="status"
              aria-label="New key secret"
              data-testid="new-key-secret"
              style={{
                padding: '0.4rem 0.6rem',
                background: 'var(--neutral-bg)',
                borderRadius: 6,
                userSelect: 'all',
                wordBreak: 'break-all',
              }}
            >
              {created.secret}
            </code>
            <CopyButton text={created.secret} label="Copy secret" />
          </div>
        </Card>
      )}
      <Card title="New API key">
        <form onSubmit={submit} aria-label="New API key">
          <div className="grid two" style={{ gap: '0 var(--space)' }}>
            <TextField
              label="Name"
              value={name}
              onChange={(e) => setName(e.target.value)}
              placeholder="website SDK"
              error={fieldError(create.error, 'name')}
            />
            <TextField
              label="Expires (optional)"
              value={expiresAt}
              onChange={(e) => setExpiresAt(e.target.value)}
              placeholder="+90d or 2030-01-31T00:00:00Z"
              hint="Empty: never"
              error={fieldError(create.error, 'expiresAt')}
            />
          </div>
          <Field label="Scopes" htmlFor="key-scopes" error={fieldError(create.error, 'scopes')}>
            <div id="key-scopes" role="group" aria-label="Scopes" style={{ display: 'flex', gap: '1rem', flexWrap: 'wrap' }}>
              {KEY_SCOPES.map((s) => (
                <label
                  key={s}
                  title={SCOPE_HINT[s]}
                  style={{ display: 'inline-flex', gap: '0.35rem', alignItems: 'center', fontWeight: 400 }}
                >
                  <input
                    type="checkbox"
                    style={{ width: 'auto' }}
                    checked={scopes.includes(s)}
                    onChange={(e) => setScopes((v) => (e.target.checked ? [...v, s] : v.filter((x) => x !== s)))}
                  />
                  {s} <span className="muted small">({SCOPE_HINT[s]})</span>
                </label>
              ))}
            </div>
          </Field>
          <FormError error={formError(create.error, FIELDS)} />
          <div style={{ marginTop: '1rem' }}>
            <Button type="submit" variant="primary" busy={create.isPending}>
              Create key
            </Button>
          </div>
        </form>
      </Card>
      <Card title="API keys">
        <FormError error={formError(revoke.error)} />
        <Table<ApiKey>
          label="API keys"
          rows={keys.data?.keys}
          loading={keys.isPending}
          error={keys.error}
          onRetry={() => void keys.refetch()}
          rowKey={(k) => String(k.id)}
          empty="No API keys yet. Create an ingest key for the SDK, or a read key for scripts."
          columns={[
            { header: 'Name', cell: (k) => <strong>{k.name}</strong> },
            { header: 'Key', cell: (k) => <code>{k.prefix}…</code> },
            {
              header: 'Scopes',
              cell: (k) => (
                <span className="badges">
                  {k.scopes.map((s) => (
                    <Badge key={s} tone="info">
                      {s}
                    </Badge>
                  ))}
                </span>
              ),
            },
            { header: 'State', cell: (k) => <Badge tone={keyState(k).tone}>{keyState(k).label}</Badge> },
            { header: 'Created', cell: (k) => formatDay(k.createdAt, timeZone) },
            { header: 'Expires', cell: (k) => (k.expiresAt ? formatDay(k.expiresAt, timeZone) : 'never') },
            { header: 'Last used', cell: (k) => (k.lastUsedAt ? formatAgo(k.lastUsedAt) : <span className="muted">never</span>) },
            {
              header: '',
              align: 'right',
              cell: (k) =>
                !k.revokedAt && (
                  <Button
                    size="small"
                    variant="ghost"
                    busy={revoke.isPending && revoke.variables === k.id}
                    onClick={() =>
                      window.confirm(`Revoke the key "${k.name}" (${k.prefix}…)? Whatever uses it stops working.`) && revoke.mutate(k.id)
                    }
                  >
                    Revoke
                  </Button>
                ),
            },
          ]}
        />
      </Card>
    </>
  );
}
