/**
 * The app: the auth gate (first run → sign-in → the shell), then the page for the URL.
 *
 *   /setup               first run (create the owner) while the instance has no user
 *   /sign-in             sign-in (any URL shows it while signed out, and stays the URL after)
 *   /register, /forgot-password    while signed out: registration (when open), asking for a reset link
 *   /invite/<token>, /reset-password/<token>    links from e-mails, signed in or not
 *   /account             the signed-in user's account (password change)
 *   /new-project, /admin/users    the instance admin's: a new project, every user
 *   /                    the remembered (or first) project's home page
 *   /p/<slug>/<path>     a page of routes.tsx PROJECT_PAGES
 */
import { Suspense, useEffect } from 'react';
import { useMe, useSetupStatus } from '../api/auth';
import { useProject } from '../api/projects';
import type { Me } from '../api/types';
import { ErrorBoundary, ErrorState, Loading, PageHeader } from '../components';
import { Layout } from './Layout';
import { navigate, matchPath, useLocation, Link } from './router';
import {
  AccountPage,
  FirstRunPage,
  ForgotPasswordPage,
  HOME_PATH,
  InvitePage,
  NewProjectPage,
  PROJECT_PAGES,
  RegisterPage,
  ResetPasswordPage,
  SignInPage,
  UsersPage,
  projectUrl,
} from './routes';
import { pickProject, rememberProject } from './project';

/** Replaces the URL after render (navigating during render is not allowed). */
function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}

function FullPage({ children }: { children: React.ReactNode }) {
  return <main className="full-page">{children}</main>;
}

export function App() {
  const setup = useSetupStatus();
  const me = useMe();
  const { path } = useLocation();

  if (setup.error || me.error) {
    return (
      <FullPage>
        <ErrorState error={setup.error ?? me.error} onRetry={() => void Promise.all([setup.refetch(), me.refetch()])} />
      </FullPage>
    );
  }
  if (setup.isPending || me.isPending)
    return (
      <FullPage>
        <Loading />
      </FullPage>
    );
  if (path === '/setup' || setup.data.needsOwner) {
    if (me.data && !setup.data.needsOwner) return <Redirect to="/" />;
    return (
      <FullPage>
        {path !== '/setup' && <Redirect to="/setup" />}
        <Suspense fallback={<Loading />}>
          <FirstRunPage />
        </Suspense>
      </FullPage>
    );
  }
  const linkPage = emailLinkPage(path, me.data);
  if (linkPage)
    return (
      <FullPage>
        <Suspense fallback={<Loading />}>{linkPage}</Suspense>
      </FullPage>
    );
  if (!me.data) {
    const Page = path === '/register' ? RegisterPage : path === '/forgot-password' ? ForgotPasswordPage : SignInPage;
    return (
      <FullPage>
        <Suspense fallback={<Loading />}>
          <Page />
        </Suspense>
      </FullPage>
    );
  }
  if (['/sign-in', '/register', '/forgot-password'].includes(path))
    return <Redirect to={new URLSearchParams(location.search).get('next') ?? '/'} />;
  return <SignedIn me={me.data} path={path} />;
}

/** The pages of links in e-mails: an invitation, a password reset. */
function emailLinkPage(path: string, me: Me | null) {
  const [, kind, token] = /^\/(invite|reset-password)\/([^/]+)$/.exec(path) ?? [];
  if (kind === 'invite') return <InvitePage token={decodeURIComponent(token)} me={me} />;
  if (kind === 'reset-password') return <ResetPasswordPage token={decodeURIComponent(token)} />;
  return null;
}

function SignedIn({ me, path }: { me: Me; path: string }) {
  const slugs = me.projects.map((p) => p.slug);
  const instancePage =
    path === '/account' ? (
      <AccountPage me={me} />
    ) : me.user.isAdmin && path === '/new-project' ? (
      <NewProjectPage />
    ) : me.user.isAdmin && path === '/admin/users' ? (
      <UsersPage me={me} />
    ) : null;
  if (instancePage) {
    return (
      <Layout me={me} slug={pickProject(slugs) ?? null}>
        <Suspense fallback={<Loading />}>{instancePage}</Suspense>
      </Layout>
    );
  }
  const m = /^\/p\/([^/]+)\/?(.*)$/.exec(path);
  if (!m) {
    const slug = pickProject(slugs);
    if (path === '/' && slug) return <Redirect to={projectUrl(slug)} />;
    return (
      <Layout me={me} slug={null}>
        {slug ? (
          <NotFound />
        ) : (
          <PageHeader
            title="No projects yet"
            description={
              me.user.isAdmin ? (
                <>
                  You are not a member of any project. <Link to="/new-project">Create a project</Link>.
                </>
              ) : (
                'You are not a member of any project. Ask an owner of one for an invitation.'
              )
            }
          />
        )}
      </Layout>
    );
  }
  const slug = decodeURIComponent(m[1]);
  const rest = m[2] || '';
  if (!rest) return <Redirect to={projectUrl(slug, HOME_PATH)} />;
  return (
    <Layout me={me} slug={slug}>
      {slugs.includes(slug) ? (
        <ProjectPage slug={slug} rest={rest} />
      ) : (
        <PageHeader title="Project not found" description={`There is no project "${slug}", or you are not a member of it.`} />
      )}
    </Layout>
  );
}

function ProjectPage({ slug, rest }: { slug: string; rest: string }) {
  const project = useProject(slug);
  useEffect(() => rememberProject(slug), [slug]);
  const route = PROJECT_PAGES.map((p) => ({ page: p, params: matchPath(p.path, rest) })).find((r) => r.params);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the title depends on these three values, not on the route object made anew each render
  useEffect(() => {
    document.title = route ? `${route.page.title} · ${project.data?.name ?? slug} · Vigil` : 'Vigil';
  }, [route?.page.title, project.data?.name, slug]);
  if (!route?.params) return <NotFound />;
  if (project.error) return <ErrorState error={project.error} onRetry={() => void project.refetch()} />;
  if (!project.data) return <Loading />;
  const Page = route.page.component;
  return (
    <ErrorBoundary resetKey={rest}>
      <Suspense fallback={<Loading />}>
        <Page project={project.data} params={route.params} />
      </Suspense>
    </ErrorBoundary>
  );
}

function NotFound() {
  return (
    <PageHeader
      title="Page not found"
      description={
        <>
          Nothing lives at this address. <Link to="/">Go to the overview</Link>.
        </>
      }
    />
  );
}
