/** Create an account, when the instance has open registration (VIGIL_OPEN_REGISTRATION); signs in. */
import { useState, type FormEvent } from 'react';
import { useAuthOptions, useRegister } from '../api/account';
import { fieldError, formError } from '../api/client';
import { Button, FormError, Loading, TextField } from '../components';
import { NewPasswordFields, passwordsDiffer } from '../components/account/NewPasswordFields';
import { Link, navigate } from '../app/router';

export default function RegisterPage() {
  const options = useAuthOptions();
  const register = useRegister();
  const [mismatch, setMismatch] = useState(false);
  const signInLink = (
    <p className="muted small">
      Already have an account? <Link to="/sign-in">Sign in</Link>
    </p>
  );

  if (options.isPending)
    return (
      <div className="auth-box">
        <Loading />
      </div>
    );
  if (!options.data?.openRegistration) {
    return (
      <div className="auth-box">
        <h1>Create an account</h1>
        <p>Registration is closed on this instance: people join by invitation. Ask an owner of your project to invite you.</p>
        {signInLink}
      </div>
    );
  }
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const differ = passwordsDiffer(e.currentTarget);
    setMismatch(differ);
    const data = new FormData(e.currentTarget);
    if (!differ)
      register.mutate(
        {
          email: String(data.get('email')),
          name: String(data.get('name') ?? '').trim() || undefined,
          password: String(data.get('password')),
        },
        { onSuccess: () => navigate('/', { replace: true }) },
      );
  };
  return (
    <div className="auth-box">
      <h1>Create an account</h1>
      <form onSubmit={submit}>
        <TextField
          label="Email"
          name="email"
          type="email"
          autoComplete="email"
          required
          autoFocus
          error={fieldError(register.error, 'email')}
        />
        <TextField label="Name" name="name" autoComplete="name" error={fieldError(register.error, 'name')} />
        <NewPasswordFields error={fieldError(register.error, 'password')} mismatch={mismatch} />
        <Button type="submit" variant="primary" busy={register.isPending}>
          Create the account
        </Button>
        <FormError error={formError(register.error, ['email', 'name', 'password'])} />
      </form>
      {signInLink}
    </div>
  );
}
