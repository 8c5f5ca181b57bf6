import { UAParser } from 'ua-parser-js';

export interface ParsedAgent {
  browser: string | null;
  os: string | null;
  deviceType: string | null;
}

/** Few distinct user agents arrive at once, so parses are cached (bounded). */
const cache = new Map<string, ParsedAgent>();
const CACHE_LIMIT = 5000;

export function parseUserAgent(ua: string): ParsedAgent {
  let parsed = cache.get(ua);
  if (parsed) return parsed;
  const r = new UAParser(ua).getResult();
  const bot = /bot|crawler|spider|crawling|headless/i.test(ua);
  parsed = {
    browser: r.browser.name ?? null,
    os: r.os.name ?? null,
    // ua-parser leaves the device type empty for desktops
    deviceType: bot ? 'bot' : (r.device.type ?? (r.browser.name ? 'desktop' : null)),
  };
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(ua, parsed);
  return parsed;
}
