/** The signed-in user's own account: who they are, and changing the password (other sessions end). */
import { useState, type FormEvent } from 'react';
import { useChangePassword } from '../api/account';
import { fieldError, formError } from '../api/client';
import type { Me } from '../api/types';
import { Button, Card, FormError, PageHeader, TextField } from '../components';
import { NewPasswordFields, passwordsDiffer } from '../components/account/NewPasswordFields';

export default function AccountPage({ me }: { me: Me }) {
  const change = useChangePassword();
  const [mismatch, setMismatch] = useState(false);

  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    const differ = passwordsDiffer(form, 'newPassword');
    setMismatch(differ);
    const data = new FormData(form);
    if (!differ)
      change.mutate(
        { currentPassword: String(data.get('currentPassword')), newPassword: String(data.get('newPassword')) },
        { onSuccess: () => form.reset() },
      );
  };

  return (
    <>
      <PageHeader
        title="Your account"
        description={
          <>
            {me.user.name ? <>{me.user.name} · </> : null}
            {me.user.email}
          </>
        }
      />
      <Card title="Change password">
        <form onSubmit={submit} aria-label="Change password" style={{ display: 'grid', gap: '0.25rem', maxWidth: '28rem' }}>
          <TextField
            label="Current password"
            name="currentPassword"
            type="password"
            autoComplete="current-password"
            required
            error={fieldError(change.error, 'currentPassword')}
          />
          <NewPasswordFields name="newPassword" label="New password" error={fieldError(change.error, 'newPassword')} mismatch={mismatch} />
          <div style={{ marginTop: '0.75rem' }}>
            <Button type="submit" variant="primary" busy={change.isPending}>
              Change password
            </Button>
          </div>
          <FormError error={formError(change.error, ['currentPassword', 'newPassword'])} />
          {change.isSuccess && (
            <p role="status" className="muted">
              Your password is changed. Your other sessions were signed out; this one goes on.
            </p>
          )}
        </form>
      </Card>
    </>
  );
}
