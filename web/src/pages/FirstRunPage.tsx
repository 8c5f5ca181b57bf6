/** First run: while the instance has no user, create the owner (POST /api/setup signs them in). */
import { useState, type FormEvent } from 'react';
import { useCreateOwner, useSetupStatus } from '../api/auth';
import { fieldError, formError } from '../api/client';
import { Button, FormError, TextField } from '../components';
import { Link, navigate } from '../app/router';

const FIELDS = ['email', 'name', 'password'];

export default function FirstRunPage() {
  const setup = useSetupStatus();
  const create = useCreateOwner();
  const [mismatch, setMismatch] = useState(false);

  if (setup.data && !setup.data.needsOwner) {
    return (
      <div className="auth-box">
        <h1>Welcome to Vigil</h1>
        <p>
          This instance already has an owner. <Link to="/sign-in">Sign in</Link>, or ask an owner for an invitation.
        </p>
      </div>
    );
  }

  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const data = Object.fromEntries(new FormData(e.currentTarget)) as Record<string, string>;
    setMismatch(data.password !== data.confirm);
    if (data.password !== data.confirm) return;
    create.mutate(
      { email: data.email, name: data.name || undefined, password: data.password },
      { onSuccess: () => navigate('/', { replace: true }) },
    );
  };

  return (
    <div className="auth-box">
      <h1>Welcome to Vigil</h1>
      <p>Create the owner account. The owner manages this instance and owns the projects that exist now (the demo).</p>
      <form onSubmit={submit}>
        <TextField label="Email" name="email" type="email" autoComplete="email" required error={fieldError(create.error, 'email')} />
        <TextField label="Name" name="name" autoComplete="name" error={fieldError(create.error, 'name')} />
        <TextField
          label="Password"
          name="password"
          type="password"
          autoComplete="new-password"
          minLength={12}
          required
          hint="At least 12 characters."
          error={fieldError(create.error, 'password')}
        />
        <TextField
          label="Password again"
          name="confirm"
          type="password"
          autoComplete="new-password"
          required
          error={mismatch ? 'The two passwords differ.' : undefined}
        />
        <Button type="submit" variant="primary" busy={create.isPending}>
          Create the owner
        </Button>
        <FormError error={formError(create.error, FIELDS)} />
      </form>
    </div>
  );
}
