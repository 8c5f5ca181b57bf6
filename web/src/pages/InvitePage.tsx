/**
 * The page an invitation link opens: what it invites to, then one of three ways in: a new person
 * sets name and password; someone with an account signs in to accept; someone signed in as the
 * invited e-mail accepts with one click. Expired, used and revoked links say so and what to do.
 */
import { useState, type FormEvent } from 'react';
import { useAcceptInvitation, useInvitationLink, useSignInAndAccept, type Accepted, type InvitationLink } from '../api/account';
import { useSignOut } from '../api/auth';
import { ApiError, fieldError, formError } from '../api/client';
import type { Me } from '../api/types';
import { Button, FormError, Loading, TextField } from '../components';
import { LinkProblem } from '../components/account/LinkProblem';
import { NewPasswordFields, passwordsDiffer } from '../components/account/NewPasswordFields';
import { Link, navigate } from '../app/router';
import { projectUrl } from '../app/routes';

const TITLES = {
  accepted: 'This invitation was already used',
  revoked: 'This invitation was revoked',
  expired: 'This invitation has expired',
  unknown: 'This invitation link is not valid',
};

const article = (role: string) => (role === 'viewer' ? 'a' : 'an');

export default function InvitePage({ token, me }: { token: string; me: Me | null }) {
  const link = useInvitationLink(token);
  const accept = useAcceptInvitation(token);
  // here, not in the sign-in form: signing in re-renders this page as signed in
  const signInAndAccept = useSignInAndAccept(token);
  const open = (r: Accepted) => navigate(projectUrl(r.project.slug), { replace: true });

  if (accept.isSuccess || signInAndAccept.isSuccess)
    return (
      <div className="auth-box">
        <Loading label="Opening the project…" />
      </div>
    );
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
          unknown="check that the whole link was copied from the e-mail, or ask a project owner for a new invitation"
          onRetry={() => void link.refetch()}
          next={me ? <Link to="/">Go to your projects</Link> : <Link to="/sign-in">Sign in</Link>}
        />
      </div>
    );
  }
  const invitation = link.data;
  const acceptHere = (body: { name?: string; password?: string } = {}) => accept.mutate(body, { onSuccess: open });
  return (
    <div className="auth-box">
      <h1>Join {invitation.project.name}</h1>
      <p>
        You are invited to the project <strong>{invitation.project.name}</strong> as {article(invitation.role)}{' '}
        <strong>{invitation.role}</strong>, with the e-mail <strong>{invitation.email}</strong>.
      </p>
      {me ? (
        <SignedInAccept me={me} invitation={invitation} accept={acceptHere} busy={accept.isPending} error={accept.error} />
      ) : invitation.accountExists ? (
        <SignInToAccept
          invitation={invitation}
          signIn={(password) => signInAndAccept.mutate({ email: invitation.email, password }, { onSuccess: open })}
          busy={signInAndAccept.isPending}
          error={signInAndAccept.error}
        />
      ) : (
        <NewAccount accept={acceptHere} busy={accept.isPending} error={accept.error} />
      )}
    </div>
  );
}

function SignedInAccept({
  me,
  invitation,
  accept,
  busy,
  error,
}: {
  me: Me;
  invitation: InvitationLink;
  accept: () => void;
  busy: boolean;
  error: unknown;
}) {
  const signOut = useSignOut();
  if (me.user.email !== invitation.email) {
    return (
      <>
        <p className="notice">
          You are signed in as {me.user.email}, but this invitation is for {invitation.email}. Sign out, then accept it as{' '}
          {invitation.email}.
        </p>
        <Button busy={signOut.isPending} onClick={() => signOut.mutate()}>
          Sign out
        </Button>
      </>
    );
  }
  return (
    <>
      <Button variant="primary" busy={busy} onClick={() => accept()}>
        Accept the invitation
      </Button>
      <FormError error={formError(error)} />
    </>
  );
}

function SignInToAccept({
  invitation,
  signIn,
  busy,
  error,
}: {
  invitation: InvitationLink;
  signIn: (password: string) => void;
  busy: boolean;
  error: unknown;
}) {
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    signIn(String(new FormData(e.currentTarget).get('password')));
  };
  // the e-mail is given: a wrong sign-in is about the password
  const passwordError = error instanceof ApiError && error.status === 401 ? error.message : fieldError(error, 'password');
  return (
    <form onSubmit={submit}>
      <p>You already have an account: sign in to accept.</p>
      <TextField label="Email" name="email" type="email" autoComplete="username" value={invitation.email} readOnly />
      <TextField
        label="Password"
        name="password"
        type="password"
        autoComplete="current-password"
        required
        autoFocus
        error={passwordError}
      />
      <Button type="submit" variant="primary" busy={busy}>
        Sign in and accept
      </Button>
      <FormError error={passwordError ? undefined : formError(error)} />
      <p className="muted small">
        <Link to="/forgot-password">Forgot password?</Link>
      </p>
    </form>
  );
}

function NewAccount({
  accept,
  busy,
  error,
}: {
  accept: (body: { name?: string; password: string }) => void;
  busy: boolean;
  error: unknown;
}) {
  const [mismatch, setMismatch] = useState(false);
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const differ = passwordsDiffer(e.currentTarget);
    setMismatch(differ);
    const data = new FormData(e.currentTarget);
    if (!differ) accept({ name: String(data.get('name') ?? '').trim() || undefined, password: String(data.get('password')) });
  };
  return (
    <form onSubmit={submit}>
      <p>Create your account to accept.</p>
      <TextField label="Name" name="name" autoComplete="name" autoFocus error={fieldError(error, 'name')} />
      <NewPasswordFields error={fieldError(error, 'password')} mismatch={mismatch} />
      <Button type="submit" variant="primary" busy={busy}>
        Create the account and join
      </Button>
      <FormError error={formError(error, ['name', 'password'])} />
    </form>
  );
}
