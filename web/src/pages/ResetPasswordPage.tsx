/** The page a reset link opens: choose a new password (once); every session of the account ends. */
import { useState, type FormEvent } from 'react';
import { useResetLink, useResetPassword } from '../api/account';
import { fieldError, formError } from '../api/client';
import { Button, FormError, Loading } from '../components';
import { LinkProblem } from '../components/account/LinkProblem';
import { NewPasswordFields, passwordsDiffer } from '../components/account/NewPasswordFields';
import { Link } from '../app/router';

const TITLES = { used: 'This link was already used', expired: 'This link has expired', unknown: 'This link is not valid' };

export default function ResetPasswordPage({ token }: { token: string }) {
  const link = useResetLink(token);
  const reset = useResetPassword(token);
  const [mismatch, setMismatch] = useState(false);

  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const differ = passwordsDiffer(e.currentTarget);
    setMismatch(differ);
    if (!differ) reset.mutate({ password: String(new FormData(e.currentTarget).get('password')) });
  };

  if (reset.isSuccess) {
    return (
      <div className="auth-box">
        <h1>Your password is changed</h1>
        <p role="status">
          {reset.data.email} was signed out everywhere. <Link to="/sign-in">Sign in</Link> with the new password.
        </p>
      </div>
    );
  }
  if (link.isPending)
    return (
      <div className="auth-box">
        <Loading />
      </div>
    );
  if (link.error) {
    return (
      <div className="auth-box">
        <LinkProblem
          error={link.error}
          titles={TITLES}
          onRetry={() => void link.refetch()}
          next={
            <>
              <Link to="/forgot-password">Ask for a new link</Link> or <Link to="/sign-in">sign in</Link>.
            </>
          }
        />
      </div>
    );
  }
  return (
    <div className="auth-box">
      <h1>Choose a new password</h1>
      <p>
        For <strong>{link.data.email}</strong>. Setting it signs this account out everywhere.
      </p>
      <form onSubmit={submit}>
        <NewPasswordFields label="New password" error={fieldError(reset.error, 'password')} mismatch={mismatch} />
        <Button type="submit" variant="primary" busy={reset.isPending}>
          Set the password
        </Button>
        <FormError error={formError(reset.error, ['password'])} />
      </form>
    </div>
  );
}
