/**
 * Deterministic demo traffic for a small SaaS shop, as Segment Tracking API events.
 * Used by `vigil demo`, first-start seeding and benchmarks. Pure: no I/O, no clock,
 * everything derives from the options (same options → same events).
 */
import { hex, mulberry32, pick, poisson, type Rng, weighted } from './random.js';
import {
  BLOG_SLUGS,
  COUNTRIES,
  DEFAULT_LANDING,
  DOC_TOPICS,
  ERROR_CODES,
  LANDING,
  NEXT,
  PLANS,
  type Plan,
  REFERRERS,
  SEARCHES,
  type Section,
  TITLES,
  USER_AGENTS,
} from './site.js';

export interface DemoEvent {
  type: 'track' | 'page' | 'identify';
  messageId: string;
  event?: string;
  name?: string;
  userId?: string;
  anonymousId: string;
  timestamp: string;
  properties?: Record<string, unknown>;
  traits?: Record<string, unknown>;
  context: {
    ip?: string;
    userAgent: string;
    page?: { path: string; referrer: string; url: string; title: string };
    library: { name: string; version: string };
    sessionId?: string;
    locale?: string;
    location?: { country: string };
  };
}

export interface DemoOptions {
  endMs: number;
  /** Length of the generated period, default 30. */
  days?: number;
  /** PRNG seed, default 42: it drives the random stream and, for any other seed, where the incidents fall. */
  seed?: number;
  /** Multiplies volume, default 1. */
  scale?: number;
}

export interface DemoIncident {
  name: string;
  startMs: number;
  endMs: number;
  description: string;
  /** the event whose volume the problem changes */
  event: string;
  /** everything it moves, the event first: events, a page property, pushed measurements (`service/metric`) */
  affects: readonly string[];
}

/** The seed when none is given; it keeps the incident placement the demo has always had. */
export const DEFAULT_DEMO_SEED = 42;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SITE = 'https://shop.example.com';
const LIBRARY = { name: 'analytics.js', version: '5.2.0' };
/** Peak-hour sessions on a weekday at the start of the period (scale 1); gives ~220k events in 30 days. */
const PEAK_SESSIONS_PER_HOUR = 130;
/** Mean events per session, measured from the generator; only used by the estimate. */
const EVENTS_PER_SESSION = 3.85;
const INITIAL_CUSTOMERS = 1500;
const ANON_POOL_CAP = 20_000;

// Incidents sit at a UTC hour on a day counted back from endMs, so they land in busy hours. The
// default seed places them as below; any other seed draws its own days and hours (placeIncidents).
const INCIDENTS = [
  {
    name: 'checkout drop',
    daysBefore: 4,
    hourUtc: 13,
    hours: 6,
    event: 'Order Completed',
    factor: 0.1,
    affects: ['Order Completed', 'Error Shown', 'checkout-api/latency_ms', 'checkout-api/error_rate'],
    description: 'Payments outage: Order Completed falls to ~10% of normal',
  },
  {
    name: 'signup spike',
    daysBefore: 9,
    hourUtc: 16,
    hours: 3,
    event: 'Signed Up',
    factor: 6,
    affects: ['Signed Up', '$identify'],
    description: 'Marketing campaign: Signed Up rises ~6x',
  },
  {
    name: 'error burst',
    daysBefore: 2,
    hourUtc: 14,
    hours: 2,
    event: 'Error Shown',
    factor: 20,
    affects: ['Error Shown', 'load_time_ms', 'web/uptime'],
    description: 'Bad deploy: Error Shown rises ~20x',
  },
] as const;
/** Keeps the placement draws apart from the traffic's stream, which starts from the same seed. */
const PLACEMENT_SEED_SALT = 0x91ace_d00;
/** A drawn incident starts in the busier half of the day (09:00-21:00 UTC) and ends by 21:00. */
const BUSY_FROM_HOUR = 9;
const BUSY_TO_HOUR = 21;
/** A drawn incident leaves at least a week and a day of history before it. */
const HISTORY_DAYS_BEFORE_INCIDENT = 8;

const PERF_SEED_SALT = 0x10ad_7133;

/**
 * A page's load time: log-normal around 700 ms (mobile ~1.6x slower), slower at the busy hours,
 * and about 3x slower during the bad deploy ("error burst").
 */
function loadTimeMs(rng: Rng, userAgent: string, ms: number, degraded: boolean): number {
  const z = Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  const busy = 1 + 0.15 * Math.cos((2 * Math.PI * (new Date(ms).getUTCHours() - 15)) / 24);
  const mobile = /Mobile|Android|iPhone/.test(userAgent) ? 1.6 : 1;
  return Math.round(700 * mobile * busy * (degraded ? 3 : 1) * Math.exp(0.45 * z));
}
function resolve(opts: DemoOptions) {
  const days = opts.days ?? 30;
  const scale = opts.scale ?? 1;
  if (!Number.isFinite(opts.endMs)) throw new RangeError('endMs must be a finite timestamp');
  if (!(days > 0)) throw new RangeError('days must be > 0');
  if (!(scale >= 0)) throw new RangeError('scale must be >= 0');
  return { startMs: opts.endMs - days * DAY, endMs: opts.endMs, days, seed: opts.seed ?? DEFAULT_DEMO_SEED, scale };
}

/** UTC-hour slots covering [startMs, endMs), with the expected number of sessions in each. */
function* hourSlots(o: ReturnType<typeof resolve>) {
  for (let h = Math.floor(o.startMs / HOUR) * HOUR; h < o.endMs; h += HOUR) {
    const from = Math.max(h, o.startMs);
    const to = Math.min(h + HOUR, o.endMs);
    const date = new Date(h);
    const daily = 0.2 + 0.4 * (1 + Math.cos((2 * Math.PI * (date.getUTCHours() - 15)) / 24));
    const weekly = date.getUTCDay() % 6 === 0 ? 0.6 : 1;
    const trend = 1 + 0.01 * ((h - o.startMs) / DAY);
    const lambda = PEAK_SESSIONS_PER_HOUR * o.scale * daily * weekly * trend * ((to - from) / HOUR);
    yield { from, to, lambda };
  }
}

/**
 * Where the incidents fall: the default seed keeps the fixed placement; another seed draws, from
 * its own stream, a different day for each (a week and a day of history before it at least) and
 * a start hour that keeps it inside the busy hours.
 */
function placeIncidents(seed: number, days: number) {
  if (seed === DEFAULT_DEMO_SEED) return INCIDENTS;
  const rng = mulberry32(seed ^ PLACEMENT_SEED_SALT);
  const latestDay = Math.max(INCIDENTS.length, Math.floor(days) - HISTORY_DAYS_BEFORE_INCIDENT);
  const taken = new Set<number>();
  return INCIDENTS.map((i) => {
    let daysBefore: number;
    do daysBefore = 1 + Math.floor(rng() * latestDay);
    while (taken.has(daysBefore));
    taken.add(daysBefore);
    const hourUtc = BUSY_FROM_HOUR + Math.floor(rng() * (BUSY_TO_HOUR - i.hours - BUSY_FROM_HOUR + 1));
    return { ...i, daysBefore, hourUtc };
  });
}

function incidentWindows(o: ReturnType<typeof resolve>) {
  const lastDay = Math.floor(o.endMs / DAY) * DAY;
  return placeIncidents(o.seed, o.days)
    .map((i) => {
      const startMs = lastDay - i.daysBefore * DAY + i.hourUtc * HOUR;
      return { ...i, startMs, endMs: startMs + i.hours * HOUR };
    })
    .filter((i) => i.endMs > o.startMs && i.startMs < o.endMs);
}

/** The injected problems of the traffic these options generate (benchmarks label with them). */
export function demoIncidents(opts: DemoOptions): DemoIncident[] {
  return incidentWindows(resolve(opts)).map(({ name, startMs, endMs, description, event, affects }) => ({
    name,
    startMs,
    endMs,
    description,
    event,
    affects,
  }));
}

export function estimateDemoEventCount(opts: DemoOptions): number {
  let sessions = 0;
  for (const slot of hourSlots(resolve(opts))) sessions += slot.lambda;
  return Math.round(sessions * EVENTS_PER_SESSION);
}

interface Visitor {
  anonymousId: string;
  userId?: string;
  userAgent: string;
  country: string;
  locale: string;
  ip: string;
}
type Pending = { ms: number; ev: Omit<DemoEvent, 'messageId' | 'timestamp'> };

// long because it is the demo's script: each day's traffic and the injected problems, in order
export function* generateDemoTraffic(opts: DemoOptions): Generator<DemoEvent> {
  const o = resolve(opts);
  const rng = mulberry32(o.seed);
  // page load times come from their own stream, so adding them left every other event as it was
  const perfRng = mulberry32(o.seed ^ PERF_SEED_SALT);
  const incidents = incidentWindows(o);
  const factor = (event: string, ms: number) =>
    incidents.reduce((f, i) => (i.event === event && ms >= i.startMs && ms < i.endMs ? f * i.factor : f), 1);

  const uuid = () => `${hex(rng, 8)}-${hex(rng, 4)}-4${hex(rng, 3)}-${pick(rng, ['8', '9', 'a', 'b'])}${hex(rng, 3)}-${hex(rng, 12)}`;
  const newVisitor = (userId?: string): Visitor => {
    const c = weighted(rng, COUNTRIES);
    const ip = `${c.ip}.${Math.floor(rng() * 256)}.${Math.floor(rng() * 256)}.${1 + Math.floor(rng() * 254)}`;
    return { anonymousId: uuid(), userId, userAgent: weighted(rng, USER_AGENTS), country: c.code, locale: c.locale, ip };
  };
  const customers = Array.from({ length: INITIAL_CUSTOMERS }, (_, i) => newVisitor(`user_${i + 1}`));
  const anonPool: Visitor[] = [];
  let nextUser = INITIAL_CUSTOMERS + 1;

  const chooseVisitor = (): Visitor => {
    const r = rng();
    if (r < 0.25) return pick(rng, customers);
    if (r < 0.45 && anonPool.length > 0) return pick(rng, anonPool);
    const v = newVisitor();
    if (anonPool.length < ANON_POOL_CAP) anonPool.push(v);
    else anonPool[Math.floor(rng() * ANON_POOL_CAP)] = v;
    return v;
  };

  // long because it is one visitor's session as a story: landing, browsing, cart, checkout, each with its odds
  function session(startMs: number): Pending[] {
    const out: Pending[] = [];
    const v = chooseVisitor();
    const sessionId = hex(rng, 16);
    const pageCount = weighted(rng, [
      [1, 30],
      [2, 22],
      [3, 15],
      [4, 11],
      [5, 8],
      [6, 6],
      [7, 5],
      [8, 3],
    ] as const);
    let referrer = weighted(rng, REFERRERS);
    let section = weighted(rng, LANDING[referrer] ?? DEFAULT_LANDING);
    let t = startMs;
    let page: NonNullable<DemoEvent['context']['page']>;
    let cart: Plan = 'pro';

    const emit = (ev: Pick<DemoEvent, 'type' | 'event' | 'name' | 'properties' | 'traits'>) => {
      out.push({
        ms: t,
        ev: {
          ...ev,
          ...(v.userId ? { userId: v.userId } : {}),
          anonymousId: v.anonymousId,
          context: {
            ip: v.ip,
            userAgent: v.userAgent,
            page: { ...page },
            library: { ...LIBRARY },
            sessionId,
            locale: v.locale,
            location: { country: v.country },
          },
        },
      });
      t += 1 + Math.floor(rng() * 15_000); // the next action happens a few seconds later
    };

    for (let i = 0; i < pageCount; i++) {
      const path =
        section === 'blog'
          ? `/blog/${pick(rng, BLOG_SLUGS)}`
          : section === 'docs' && rng() < 0.6
            ? `/docs/${pick(rng, DOC_TOPICS)}`
            : section === 'home'
              ? '/'
              : `/${section}`;
      page = { path, referrer, url: SITE + path, title: `${TITLES[section]} | Acme Metrics` };
      emit({
        type: 'page',
        name: TITLES[section],
        properties: { ...page, search: '', load_time_ms: loadTimeMs(perfRng, v.userAgent, t, factor('Error Shown', t) > 1) },
      });
      let next: Section | undefined;

      if (rng() < 0.012 * factor('Error Shown', t)) {
        emit({ type: 'track', event: 'Error Shown', properties: { code: pick(rng, ERROR_CODES), path } });
      }
      if (section === 'docs' && rng() < 0.2) {
        emit({ type: 'track', event: 'Search', properties: { query: pick(rng, SEARCHES) } });
      } else if (section === 'pricing' && rng() < 0.75) {
        const plan = weighted<Plan>(rng, [
          ['free', 2],
          ['pro', 5],
          ['team', 3],
        ]);
        const product = { product_id: `plan_${plan}`, price: PLANS[plan], currency: 'USD', plan };
        emit({ type: 'track', event: 'Product Viewed', properties: product });
        if (plan !== 'free' && rng() < 0.4) {
          emit({ type: 'track', event: 'Product Added', properties: { ...product, quantity: 1 } });
          cart = plan;
          next = 'checkout';
        }
      } else if (section === 'checkout' && rng() < 0.85) {
        const product = { product_id: `plan_${cart}`, price: PLANS[cart], currency: 'USD', plan: cart };
        emit({ type: 'track', event: 'Checkout Started', properties: product });
        t += 20_000 + Math.floor(rng() * 60_000); // filling in card details
        if (rng() < 0.7 * factor('Order Completed', t)) {
          emit({
            type: 'track',
            event: 'Order Completed',
            properties: { ...product, order_id: `ord_${hex(rng, 10)}`, revenue: product.price },
          });
        } else if (factor('Order Completed', t) < 1 && rng() < 0.5) {
          emit({ type: 'track', event: 'Error Shown', properties: { code: 'E_PAYMENT_DECLINED', path } });
        }
      } else if (section === 'signup' && !v.userId && rng() < Math.min(0.95, 0.12 * factor('Signed Up', t))) {
        const plan = weighted<Plan>(rng, [
          ['free', 16],
          ['pro', 3],
          ['team', 1],
        ]);
        v.userId = `user_${nextUser++}`;
        customers.push(v);
        emit({ type: 'identify', traits: { email: `${v.userId}@example.com`, plan, created_at: new Date(t).toISOString() } });
        emit({ type: 'track', event: 'Signed Up', properties: { plan } });
      }

      referrer = page.url;
      section = next ?? weighted(rng, NEXT[section]);
      t += 5_000 + Math.floor(-Math.log(1 - rng()) * 60_000); // reading time, roughly exponential
    }
    return out;
  }

  let pending: Pending[] = [];
  let n = 0;
  for (const slot of hourSlots(o)) {
    const starts = Array.from({ length: poisson(rng, slot.lambda) }, () => slot.from + Math.floor(rng() * (slot.to - slot.from)));
    for (const s of starts.sort((a, b) => a - b)) for (const p of session(s)) pending.push(p);
    // Later slots only start sessions at or after slot.to, so everything before it is final.
    pending.sort((a, b) => a.ms - b.ms);
    const ready = pending.filter((p) => p.ms < slot.to);
    pending = pending.filter((p) => p.ms >= slot.to && p.ms < o.endMs);
    for (const p of ready) yield { messageId: `demo-${o.seed}-${n++}`, timestamp: new Date(p.ms).toISOString(), ...p.ev };
  }
}
