/** "Forgot password?": asks for the e-mail and sends a reset link (the same answer whether or not the account exists). */
import type { FormEvent } from 'react';
import { useAuthOptions, useForgotPassword } from '../api/account';
import { fieldError, formError } from '../api/client';
import { Button, FormError, Loading, TextField } from '../components';
import { Link } from '../app/router';

export default function ForgotPasswordPage() {
  const options = useAuthOptions();
  const forgot = useForgotPassword();
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    forgot.mutate({ email: String(new FormData(e.currentTarget).get('email') ?? '') });
  };
  const back = (
    <p className="muted small">
      <Link to="/sign-in">Back to sign-in</Link>
    </p>
  );

  if (options.isPending)
    return (
      <div className="auth-box">
        <Loading />
      </div>
    );
  if (options.data && !options.data.passwordResetByEmail) {
    return (
      <div className="auth-box">
        <h1>Forgot your password?</h1>
        <p>
          This instance cannot send e-mail, so it cannot send you a reset link. Ask an administrator of this Vigil to run{' '}
          <code>vigil users reset-password &lt;your e-mail&gt;</code>: it prints a link to choose a new password.
        </p>
        {back}
      </div>
    );
  }
  return (
    <div className="auth-box">
      <h1>Forgot your password?</h1>
      {forgot.isSuccess ? (
        <p role="status">{forgot.data.message}</p>
      ) : (
        <form onSubmit={submit}>
          <p>Type the e-mail you sign in with: we send a link to choose a new password.</p>
          <TextField
            label="Email"
            name="email"
            type="email"
            autoComplete="username"
            required
            autoFocus
            error={fieldError(forgot.error, 'email')}
          />
          <Button type="submit" variant="primary" busy={forgot.isPending}>
            Send the link
          </Button>
          <FormError error={formError(forgot.error, ['email'])} />
        </form>
      )}
      {back}
    </div>
  );
}
