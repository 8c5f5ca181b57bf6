/**
 * Every page of the app. Adding a page is one file in pages/ (a default-exported component that
 * takes `PageProps`) and one line here; the sidebar, the URL (`/p/<project>/<path>`), lazy
 * loading, the loading state and the error boundary come with it.
 */
import { lazy, type ComponentType } from 'react';
import type { Project, Role } from '../api/types';
import { matchPath } from './router';

export interface PageProps {
  project: Project;
  /** the `:name` parts of the page's path */
  params: Record<string, string>;
}

export type NavGroup = 'Analytics' | 'Monitoring' | 'Project';

/** A lazily loaded page whose chunk can be fetched ahead of rendering (`preload()`). */
export type PageComponent = ComponentType<PageProps> & { preload(): Promise<unknown> };

/**
 * React.lazy suspends on a component's first render even when its chunk is already here, and
 * React holds a revealed Suspense fallback for 300 ms; so once the chunk has loaded (preloaded
 * with the session check, see preloadPage) the page renders directly instead.
 */
function lazyPage(load: () => Promise<{ default: ComponentType<PageProps> }>): PageComponent {
  let loaded: ComponentType<PageProps> | null = null;
  const preload = () => load().then((m) => (loaded = m.default));
  const Lazy = lazy(() => preload().then((component) => ({ default: component })));
  // biome-ignore lint/correctness/noComponentHookFactories: made once per page at module load, never during a render
  const Page = (props: PageProps) => {
    const Loaded = loaded;
    return Loaded ? <Loaded {...props} /> : <Lazy {...props} />;
  };
  return Object.assign(Page, { preload });
}

export interface ProjectPage {
  /** under /p/<slug>/: `overview`, `metrics/:id` */
  path: string;
  /** the document title */
  title: string;
  component: PageComponent;
  /** listed in the sidebar, in this order within its group, when set */
  nav?: { label: string; group: NavGroup };
  /** the least role that may open it (the sidebar hides it from others); any member when unset */
  role?: Role;
}

/** the page `/` and a bare `/p/<slug>` open */
export const HOME_PATH = 'overview';

export const PROJECT_PAGES: ProjectPage[] = [
  {
    path: 'overview',
    title: 'Overview',
    nav: { label: 'Overview', group: 'Analytics' },
    component: lazyPage(() => import('../pages/OverviewPage')),
  },
  { path: 'live', title: 'Live', nav: { label: 'Live', group: 'Analytics' }, component: lazyPage(() => import('../pages/LivePage')) },
  {
    path: 'events',
    title: 'Events',
    nav: { label: 'Events', group: 'Analytics' },
    component: lazyPage(() => import('../pages/EventsPage')),
  },
  {
    path: 'tracking-plan',
    title: 'Tracking plan',
    nav: { label: 'Tracking plan', group: 'Analytics' },
    component: lazyPage(() => import('../pages/TrackingPlanPage')),
  },
  {
    path: 'metrics',
    title: 'Metrics',
    nav: { label: 'Metrics', group: 'Monitoring' },
    component: lazyPage(() => import('../pages/MetricsPage')),
  },
  { path: 'metrics/new', title: 'New metric', component: lazyPage(() => import('../pages/MetricFormPage')) },
  { path: 'metrics/:id/edit', title: 'Edit metric', component: lazyPage(() => import('../pages/MetricFormPage')) },
  { path: 'metrics/:id', title: 'Metric', component: lazyPage(() => import('../pages/MetricPage')) },
  {
    path: 'monitors',
    title: 'Monitors',
    nav: { label: 'Monitors', group: 'Monitoring' },
    component: lazyPage(() => import('../pages/MonitorsPage')),
  },
  // next: { path: 'metrics', ... group: 'Monitoring' }, 'metrics/new', 'metrics/:id', 'monitors',
  // 'incidents', 'incidents/:id', 'alerts' (group 'Monitoring'); 'settings' (group 'Project', role 'owner' for keys/members)
  {
    path: 'incidents',
    title: 'Incidents',
    nav: { label: 'Incidents', group: 'Monitoring' },
    component: lazyPage(() => import('../pages/IncidentsPage')),
  },
  { path: 'incidents/:id', title: 'Incident', component: lazyPage(() => import('../pages/IncidentPage')) },
  {
    path: 'alerts',
    title: 'Alerts',
    nav: { label: 'Alerts', group: 'Monitoring' },
    component: lazyPage(() => import('../pages/AlertsPage')),
  },
  {
    path: 'settings',
    title: 'Settings',
    nav: { label: 'Settings', group: 'Project' },
    component: lazyPage(() => import('../pages/SettingsPage')),
  },
  { path: 'jobs', title: 'Jobs', nav: { label: 'Jobs', group: 'Project' }, component: lazyPage(() => import('../pages/JobsPage')) },
];

/** Pages outside the signed-in shell. */
export const FirstRunPage = lazy(() => import('../pages/FirstRunPage'));
export const SignInPage = lazy(() => import('../pages/SignInPage'));
export const RegisterPage = lazy(() => import('../pages/RegisterPage'));
export const ForgotPasswordPage = lazy(() => import('../pages/ForgotPasswordPage'));
/** `/reset-password/<token>` */
export const ResetPasswordPage = lazy(() => import('../pages/ResetPasswordPage'));
/** `/invite/<token>`, signed in or not */
export const InvitePage = lazy(() => import('../pages/InvitePage'));
/** `/account`, in the signed-in shell */
export const AccountPage = lazy(() => import('../pages/AccountPage'));
/** `/new-project` and `/admin/users`, for the instance admin, in the signed-in shell */
export const NewProjectPage = lazy(() => import('../pages/NewProjectPage'));
export const UsersPage = lazy(() => import('../pages/UsersPage'));

/**
 * Started before the session is known: the page chunk of the URL, so it loads alongside the
 * auth requests instead of after them (the app's first render needs both).
 */
export function preloadPage(pathname: string): void {
  const rest = /^\/p\/[^/]+\/(.+)$/.exec(pathname)?.[1] ?? (pathname === '/' ? HOME_PATH : null);
  const page = rest === null ? undefined : PROJECT_PAGES.find((p) => matchPath(p.path, rest));
  // a failed preload is retried (and reported) when the page renders
  page?.component.preload().catch(() => undefined);
}

/** `/p/<slug>/<path>` */
export const projectUrl = (slug: string, path = HOME_PATH) => `/p/${encodeURIComponent(slug)}/${path}`;
