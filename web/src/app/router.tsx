/**
 * A small history router (no dependency): the location as state, `navigate()`, `<Link>`, and
 * `matchPath()` for patterns such as `metrics/:id`. Query parameters live in the URL too, so a
 * filtered page can be linked to and survives a reload (`useSearchParam`).
 */
import { useCallback, useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from 'react';

const CHANGE = 'vigil:navigate';

function subscribe(onChange: () => void) {
  window.addEventListener('popstate', onChange);
  window.addEventListener(CHANGE, onChange);
  return () => {
    window.removeEventListener('popstate', onChange);
    window.removeEventListener(CHANGE, onChange);
  };
}

const snapshot = () => window.location.pathname + window.location.search;

/** Goes to `to` (a path with an optional query) without a page load. */
export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  if (to === snapshot()) return;
  if (opts.replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  window.dispatchEvent(new Event(CHANGE));
  if (!opts.replace) window.scrollTo(0, 0);
}

export interface Location {
  path: string;
  search: URLSearchParams;
}

/** The current location; the component renders again when it changes. */
export function useLocation(): Location {
  const href = useSyncExternalStore(subscribe, snapshot);
  const i = href.indexOf('?');
  return { path: i < 0 ? href : href.slice(0, i), search: new URLSearchParams(i < 0 ? '' : href.slice(i)) };
}

/**
 * A query parameter as state: reading it follows the URL, setting it replaces the URL (the
 * back button does not step through every keystroke of a filter). Empty removes it.
 */
export function useSearchParam(name: string): [string, (value: string) => void] {
  const { search } = useLocation();
  const value = search.get(name) ?? '';
  const set = useCallback(
    (next: string) => {
      const params = new URLSearchParams(window.location.search);
      if (next) params.set(name, next);
      else params.delete(name);
      const q = params.toString();
      navigate(window.location.pathname + (q ? `?${q}` : ''), { replace: true });
    },
    [name],
  );
  return [value, set];
}

/** `pattern` like `events/:id` against `path` like `events/42`: the params, or null. */
export function matchPath(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split('/').filter(Boolean);
  const got = path.split('/').filter(Boolean);
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    if (want[i].startsWith(':')) params[want[i].slice(1)] = decodeURIComponent(got[i]);
    else if (want[i] !== got[i]) return null;
  }
  return params;
}

type LinkProps = Omit<AnchorHTMLAttributes<HTMLAnchorElement>, 'href'> & { to: string; replace?: boolean };

/** An <a> that navigates in the app (a modified click, e.g. to open a new tab, works as usual). */
export function Link({ to, replace, onClick, ...rest }: LinkProps) {
  const click = (e: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey || rest.target) return;
    e.preventDefault();
    navigate(to, { replace });
  };
  return <a href={to} onClick={click} {...rest} />;
}
