/**
 * The 200 active hourly metrics the collection benchmarks define (bench/metrics.ts on DuckDB,
 * bench/scaled-events.ts on ClickHouse), over the events of bench/bench-data.ts.
 */
import type { CreateMetric, Filter } from '../src/metrics/schemas.js';

const NAMES = ['$page', ...Array.from({ length: 29 }, (_, i) => `Event ${i + 1}`)];
const COUNT_FILTERS: Filter[][] = [
  [],
  [{ property: 'price', op: 'gt', value: 50 }],
  [{ property: 'country', op: 'in', value: ['US', 'DE'] }],
  [{ property: 'plan', op: 'eq', value: 'pro' }],
  [
    { property: 'browser', op: 'eq', value: 'Chrome' },
    { property: 'device_type', op: 'eq', value: 'mobile' },
  ],
  [
    { property: 'page_path', op: 'contains', value: 'blog' },
    { property: 'referrer_host', op: 'is_set' },
    { property: 'os', op: 'neq', value: 'iOS' },
  ],
];
const pad = (i: number) => String(i).padStart(3, '0');

export function definitions(): CreateMetric[] {
  const out: CreateMetric[] = [];
  const add = (name: string, kind: CreateMetric['kind'], definition: unknown) =>
    out.push({ name, kind, definition, interval: '1h', status: 'active' });
  // 110 event counts: 30 events, unfiltered / price > 50 / country in / plan = pro / two column
  // filters / three; the first 5 (unfiltered $page, Event 1..4) broken down by country or browser, top 5
  for (let i = 0; i < 110; i++) {
    const filters = COUNT_FILTERS[i < 90 ? Math.floor(i / 30) : i < 95 ? 3 : i < 100 ? 4 : 5];
    const breakdowns = i < 3 ? { breakdowns: ['country'], breakdownLimit: 5 } : i < 5 ? { breakdowns: ['browser'], breakdownLimit: 5 } : {};
    add(`count_${pad(i)}`, 'event', {
      event: i === 99 || i === 109 ? null : NAMES[i % 30],
      ...(filters.length && { filters }),
      ...breakdowns,
    });
  }
  // 30 unique users / sessions
  for (let i = 0; i < 30; i++) {
    const filters: Filter[] = i % 3 === 2 ? [{ property: 'os', op: 'in', value: ['iOS', 'Android'] }] : [];
    add(`unique_${pad(i)}`, 'event', {
      event: i < 25 ? NAMES[i % 10] : null,
      measure: i % 2 ? 'sessions' : 'users',
      ...(filters.length && { filters }),
    });
  }
  // 20 ratios: an event against page views, or its expensive share
  for (let i = 0; i < 20; i++) {
    const event = NAMES[1 + (i % 15)];
    add(
      `ratio_${pad(i)}`,
      'ratio',
      i < 10
        ? {
            numerator: { event, ...(i % 2 && { filters: [{ property: 'plan', op: 'eq', value: 'team' }] }) },
            denominator: { event: '$page' },
          }
        : { numerator: { event, filters: [{ property: 'price', op: 'gte', value: 90 }] }, denominator: { event } },
    );
  }
  // 10 events per user
  for (let i = 0; i < 10; i++) {
    add(`per_user_${pad(i)}`, 'per_user', {
      event: NAMES[i],
      ...(i % 2 && { filters: [{ property: 'referrer_host', op: 'eq', value: 'google.com' }] }),
    });
  }
  // 30 aggregations: sum / avg / p90 / max of price, count_distinct of plan; the first 5 broken down
  const fns = ['sum', 'avg', 'p90', 'max', 'count_distinct'] as const;
  for (let i = 0; i < 30; i++) {
    const fn = fns[i % 5];
    const breakdowns = i < 5 ? { breakdowns: [i % 2 ? 'browser' : 'country'], breakdownLimit: 5 } : {};
    add(`agg_${pad(i)}`, 'aggregation', {
      event: i % 7 === 6 ? null : NAMES[i % 12],
      property: fn === 'count_distinct' ? 'plan' : 'price',
      fn,
      ...(i % 4 === 3 && { filters: [{ property: 'page_path', op: 'in', value: ['/pricing', '/signup'] }] }),
      ...breakdowns,
    });
  }
  return out;
}
