/** Sign-in with email and password; errors (wrong password, locked, rate-limited) show under the form. */
import type { FormEvent } from 'react';
import { useSignIn } from '../api/auth';
import { useAuthOptions } from '../api/account';
import { Link } from '../app/router';
import { fieldError, formError } from '../api/client';
import { Button, FormError, TextField } from '../components';

const FIELDS = ['email', 'password'];

export default function SignInPage() {
  const signIn = useSignIn();
  const options = useAuthOptions();
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const data = Object.fromEntries(new FormData(e.currentTarget)) as Record<string, string>;
    signIn.mutate({ email: data.email, password: data.password });
  };
  return (
    <div className="auth-box">
      <h1>Sign in to Vigil</h1>
      <form onSubmit={submit}>
        <TextField
          label="Email"
          name="email"
          type="email"
          autoComplete="username"
          required
          autoFocus
          error={fieldError(signIn.error, 'email')}
        />
        <TextField
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          error={fieldError(signIn.error, 'password')}
        />
        <Button type="submit" variant="primary" busy={signIn.isPending}>
          Sign in
        </Button>
        <FormError error={formError(signIn.error, FIELDS)} />
      </form>
      <p className="muted small">
        <Link to="/forgot-password">Forgot password?</Link>
      </p>
      <p className="muted small">
        {options.data?.openRegistration ? (
          <>
            No account? <Link to="/register">Create one</Link>.
          </>
        ) : (
          'No account? Ask an owner of your project for an invitation.'
        )}
      </p>
    </div>
  );
}
