/**
 * Links into the web app from outside it (alerts, messages): the one place that knows the app's
 * page paths (web/src/app/routes.tsx, `/p/<slug>/...`) and the origin people open it at.
 *
 * The origin is VIGIL_PUBLIC_URL; without it, the address this process listens on (a wildcard
 * host such as 0.0.0.0 becomes localhost), so links work out of the box on one machine. Behind a
 * proxy, or for people on other machines, VIGIL_PUBLIC_URL must be set.
 */
import type { AddressInfo } from 'node:net';
import type { Config } from '../config.js';

const WILDCARD_HOSTS = new Set(['', '0.0.0.0', '::', '[::]']);

/** `http://host:port` for a listening address (IPv6 in brackets, a wildcard as localhost). */
export function originOfAddress(host: string, port: number): string {
  const name = WILDCARD_HOSTS.has(host) ? 'localhost' : host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `http://${name}:${port}`;
}

const page = (slug: string, path: string) => `/p/${encodeURIComponent(slug)}/${path}`;

/** The incident's page under an origin (no trailing slash). */
export const incidentPageUrl = (origin: string, slug: string, incidentId: number) => `${origin}${page(slug, `incidents/${incidentId}`)}`;
/** The metric's page under an origin (no trailing slash). */
export const metricPageUrl = (origin: string, slug: string, metricId: number) => `${origin}${page(slug, `metrics/${metricId}`)}`;

/**
 * Alerts sent before their links were fixed pointed at `/projects/<slug>/incidents/<id>` and
 * `/projects/<slug>/metrics/<id>`: the page's path now, or null for any other path.
 */
export function movedPagePath(urlPath: string): string | null {
  // urlPath is decoded; page() encodes the slug again
  const m = /^\/projects\/([^/]+)\/(incidents|metrics)\/(\d+)$/.exec(urlPath);
  return m ? page(m[1], `${m[2]}/${m[3]}`) : null;
}

export class AppLinks {
  private listening: AddressInfo | null = null;

  constructor(private config: Pick<Config, 'publicUrl' | 'host' | 'port'>) {}

  /** The address the HTTP server listens on (its real port when the configured one is 0). */
  listeningOn(address: AddressInfo | string | null): void {
    if (address && typeof address === 'object') this.listening = address;
  }

  /** Where people open Vigil, without a trailing slash. */
  origin(): string {
    if (this.config.publicUrl) return this.config.publicUrl.replace(/\/+$/, '');
    // the configured host, not the resolved address: `localhost` stays a name people recognise
    return originOfAddress(this.config.host, this.listening?.port ?? this.config.port);
  }
}
