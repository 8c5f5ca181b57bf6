/**
 * The entry point bundled into sdk.js: wires core.ts to the browser (storage, fetch, sendBeacon,
 * timers, the page), installs `window.vigil`, replays the calls the snippet queued, and tracks
 * page views on SPA route changes.
 */
import { createClient, type Client, type KeyValue } from './core.js';

/** set by sdk/build.mjs from package.json */
declare const __VIGIL_VERSION__: string;

type Call = [keyof Client, ...unknown[]];
type Global = { vigil?: Client | Call[] };

const w = window as unknown as Global;
const script = document.currentScript as HTMLScriptElement | null;
// the origin that served sdk.js is the default host
const scriptHost = script?.src ? new URL(script.src).origin : '';

/** Web storage that may be missing or refuse (private modes, blocked cookies): then a per-page memory. */
function storage(name: 'localStorage' | 'sessionStorage'): KeyValue {
  const memory: Record<string, string> = {};
  return {
    get(key) {
      try {
        return window[name].getItem(key);
      } catch {
        return memory[key] ?? null;
      }
    },
    set(key, value) {
      try {
        window[name].setItem(key, value);
      } catch {
        memory[key] = value;
      }
    },
  };
}

/** A random (version 4) UUID; crypto.randomUUID exists only on https pages, getRandomValues everywhere. */
const uuid = () =>
  '10000000-1000-4000-8000-100000000000'.replace(/[018]/g, (c) =>
    (+c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (+c / 4)))).toString(16),
  );

// the page a page view came from: document.referrer at first, then the previous route
let referrer = document.referrer;
let lastUrl = location.href;
let lastPath = location.pathname;

const client = createClient({
  version: __VIGIL_VERSION__,
  now: Date.now,
  uuid,
  random: Math.random,
  local: storage('localStorage'),
  session: storage('sessionStorage'),
  // a string body is text/plain: a "simple" request, no preflight; no cookies go to another origin
  post: (url, body) =>
    fetch(url, { method: 'POST', body }).then(
      (r) => r.status,
      () => 0,
    ),
  beacon(url, body) {
    try {
      return navigator.sendBeacon(url, body);
    } catch {
      return false;
    }
  },
  setTimer(fn, ms) {
    const id = setTimeout(fn, ms);
    return () => clearTimeout(id);
  },
  context: () => ({
    page: { path: location.pathname, referrer, url: location.href, title: document.title, search: location.search },
    userAgent: navigator.userAgent,
    locale: navigator.language,
  }),
});

/** A page view when the path changed (a new query string or hash alone is not a new page). */
function routeChanged() {
  if (location.pathname === lastPath) return;
  referrer = lastUrl;
  lastUrl = location.href;
  lastPath = location.pathname;
  client.page();
}

const init = client.init;
client.init = (writeKey, options) => {
  if (client.options) return;
  init(writeKey, { host: scriptHost || location.origin, ...options });
  if (!client.options!.trackPages) return;
  client.page();
  for (const method of ['pushState', 'replaceState'] as const) {
    const original = history[method];
    history[method] = function (this: History, ...args: Parameters<History['pushState']>) {
      original.apply(this, args);
      routeChanged();
    };
  }
  addEventListener('popstate', routeChanged);
};

addEventListener('pagehide', client.unload);
document.addEventListener('visibilitychange', () => document.visibilityState === 'hidden' && client.unload());

const queued = w.vigil;
// a second copy of the script leaves the first one in place
if (!queued || Array.isArray(queued)) {
  w.vigil = client;
  const calls = queued || [];
  // init first, whatever order the page called in
  for (const [method, ...args] of calls.filter((c) => c[0] === 'init').concat(calls.filter((c) => c[0] !== 'init'))) {
    (client[method] as (...a: unknown[]) => void)(...args);
  }
}
