/** The signed-in shell: the sidebar (project switcher, the pages of routes.tsx, the user) and the page. */
import { useEffect, useState, type ReactNode } from 'react';
import { useSignOut } from '../api/auth';
import type { Me, Role } from '../api/types';
import { Button } from '../components';
import { Link, navigate, useLocation } from './router';
import { PROJECT_PAGES, projectUrl, type NavGroup } from './routes';
import { rememberProject } from './project';

const GROUPS: NavGroup[] = ['Analytics', 'Monitoring', 'Project'];
const RANK: Record<Role, number> = { viewer: 0, editor: 1, owner: 2 };

// long because it is one screen's markup with the state its parts share
export function Layout({ me, slug, children }: { me: Me; slug: string | null; children: ReactNode }) {
  const { path } = useLocation();
  const signOut = useSignOut();
  const role = me.projects.find((p) => p.slug === slug)?.role;
  const current = slug ? path.slice(projectUrl(slug, '').length) : '';

  const switchTo = (next: string) => {
    rememberProject(next);
    // the same page in the other project, when it is a list page (a detail page's id means nothing there)
    const page = PROJECT_PAGES.find((p) => p.nav && p.path === current);
    navigate(projectUrl(next, page?.path));
  };

  // on a phone the sidebar folds into a menu; choosing a page folds it again
  const [menuOpen, setMenuOpen] = useState(false);
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when the path changes, which is the point
  useEffect(() => setMenuOpen(false), [path]);

  return (
    <div className="shell">
      <nav className={menuOpen ? 'sidebar open' : 'sidebar'} aria-label="Main">
        <div className="sidebar-top">
          <Link to="/" className="brand">
            Vigil
          </Link>
          <button
            type="button"
            className="menu-button"
            aria-expanded={menuOpen}
            aria-controls="sidebar-body"
            onClick={() => setMenuOpen((o) => !o)}
          >
            Menu
          </button>
        </div>
        <div className="sidebar-body" id="sidebar-body">
          <label className="switcher">
            <span>Project</span>
            <select value={slug ?? ''} onChange={(e) => switchTo(e.target.value)} aria-label="Project">
              {!slug && <option value="">Choose…</option>}
              {me.projects.map((p) => (
                <option key={p.slug} value={p.slug}>
                  {p.name}
                </option>
              ))}
            </select>
          </label>
          {me.user.isAdmin && (
            <Link to="/new-project" className="muted small" aria-current={path === '/new-project' ? 'page' : undefined}>
              + New project
            </Link>
          )}
          {slug &&
            GROUPS.map((group) => {
              const pages = PROJECT_PAGES.filter((p) => p.nav?.group === group && (!p.role || (role && RANK[role] >= RANK[p.role])));
              if (!pages.length) return null;
              return (
                <div className="nav-group" key={group}>
                  <div className="nav-group-title">{group}</div>
                  {pages.map((p) => {
                    const active = current === p.path || current.startsWith(p.path + '/');
                    return (
                      <Link
                        key={p.path}
                        to={projectUrl(slug, p.path)}
                        className={active ? 'nav-link active' : 'nav-link'}
                        aria-current={active ? 'page' : undefined}
                      >
                        {p.nav!.label}
                      </Link>
                    );
                  })}
                </div>
              );
            })}
          {me.user.isAdmin && (
            <div className="nav-group">
              <div className="nav-group-title">Instance</div>
              <Link
                to="/admin/users"
                className={path === '/admin/users' ? 'nav-link active' : 'nav-link'}
                aria-current={path === '/admin/users' ? 'page' : undefined}
              >
                Users
              </Link>
            </div>
          )}
          <div className="sidebar-foot">
            <div className="muted small">
              Signed in as <strong>{me.user.email}</strong>
              {role && <> · {role}</>}
            </div>
            <Link to="/account" className="muted small" aria-current={path === '/account' ? 'page' : undefined}>
              Your account
            </Link>
            <Button
              size="small"
              variant="ghost"
              busy={signOut.isPending}
              onClick={() => signOut.mutate(undefined, { onSuccess: () => navigate('/sign-in') })}
            >
              Sign out
            </Button>
            <a className="muted small" href="/api/docs">
              API reference
            </a>
          </div>
        </div>
      </nav>
      <main className="content">{children}</main>
    </div>
  );
}
