/** The demo shop's visitors and pages: countries, browsers, referrers, sections and how people move between them. */
import type { Weighted } from './random.js';

export const COUNTRIES: Weighted<{ code: string; locale: string; ip: number }> = [
  [{ code: 'US', locale: 'en-US', ip: 73 }, 35],
  [{ code: 'DE', locale: 'de-DE', ip: 91 }, 10],
  [{ code: 'GB', locale: 'en-GB', ip: 81 }, 9],
  [{ code: 'FR', locale: 'fr-FR', ip: 90 }, 6],
  [{ code: 'IN', locale: 'en-IN', ip: 117 }, 10],
  [{ code: 'BR', locale: 'pt-BR', ip: 177 }, 6],
  [{ code: 'CA', locale: 'en-CA', ip: 142 }, 5],
  [{ code: 'NL', locale: 'nl-NL', ip: 145 }, 4],
  [{ code: 'JP', locale: 'ja-JP', ip: 126 }, 4],
  [{ code: 'ES', locale: 'es-ES', ip: 88 }, 3],
  [{ code: 'AU', locale: 'en-AU', ip: 101 }, 3],
  [{ code: 'PL', locale: 'pl-PL', ip: 83 }, 3],
];
export const USER_AGENTS: Weighted<string> = [
  ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36', 30],
  ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36', 18],
  ['Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0', 8],
  ['Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0', 4],
  ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15', 12],
  [
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
    16,
  ],
  ['Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36', 8],
  ['Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36', 4],
];
export const REFERRERS: Weighted<string> = [
  ['', 30],
  ['https://www.google.com/', 35],
  ['https://t.co/', 6],
  ['https://x.com/', 4],
  ['https://news.ycombinator.com/', 8],
  ['https://github.com/', 10],
  ['https://www.bing.com/', 4],
  ['https://duckduckgo.com/', 3],
];

export type Section = 'home' | 'pricing' | 'docs' | 'blog' | 'signup' | 'checkout';
export const TITLES: Record<Section, string> = {
  home: 'Acme Metrics',
  pricing: 'Pricing',
  docs: 'Documentation',
  blog: 'Blog',
  signup: 'Sign up',
  checkout: 'Checkout',
};
export const NEXT: Record<Section, Weighted<Section>> = {
  home: [
    ['pricing', 3],
    ['docs', 2],
    ['blog', 2],
    ['signup', 2],
  ],
  pricing: [
    ['signup', 3],
    ['docs', 1],
    ['home', 1],
  ],
  docs: [
    ['docs', 3],
    ['pricing', 1],
    ['signup', 1],
    ['home', 1],
  ],
  blog: [
    ['blog', 1],
    ['home', 1],
    ['pricing', 1],
    ['signup', 1],
  ],
  signup: [
    ['docs', 2],
    ['pricing', 1],
    ['home', 1],
  ],
  checkout: [
    ['home', 1],
    ['docs', 1],
  ],
};
export const LANDING: Record<string, Weighted<Section>> = {
  'https://www.google.com/': [
    ['home', 3],
    ['blog', 3],
    ['docs', 2],
    ['pricing', 1],
  ],
  'https://news.ycombinator.com/': [
    ['blog', 4],
    ['home', 1],
  ],
  'https://github.com/': [
    ['docs', 3],
    ['home', 1],
  ],
  'https://t.co/': [
    ['blog', 3],
    ['home', 1],
  ],
  'https://x.com/': [
    ['blog', 3],
    ['home', 1],
  ],
};
export const DEFAULT_LANDING: Weighted<Section> = [
  ['home', 4],
  ['pricing', 1],
  ['docs', 1],
  ['blog', 1],
];
export const BLOG_SLUGS = ['anomaly-detection-101', 'self-hosting-analytics', 'segment-migration', 'duckdb-at-scale', 'launch-week'];
export const DOC_TOPICS = ['getting-started', 'ingest-api', 'alerts', 'dashboards', 'self-hosting'];
export const SEARCHES = ['webhook', 'retention', 'api key', 'docker', 'alert threshold', 'funnel', 'export csv', 'sso'];
export const ERROR_CODES = ['E_TIMEOUT', 'E_NETWORK', 'E_VALIDATION', 'E_RATE_LIMIT', 'E_INTERNAL'];
export const PLANS = { free: 0, pro: 29, team: 99 } as const;
export type Plan = keyof typeof PLANS;
