/** The demo project's starter catalog: one metric of every kind, over the demo traffic. */
import type { CreateMetric } from '../metrics/schemas.js';

export const DEMO_METRICS: CreateMetric[] = [
  {
    name: 'signups', displayName: 'Sign-ups', kind: 'event', interval: '1h', color: '#2f9e44', owner: 'growth', tags: ['growth'],
    description: 'Accounts created, by plan.',
    definition: { event: 'Signed Up', measure: 'count', breakdowns: ['plan'], breakdownLimit: 5 },
  },
  {
    name: 'checkout_conversion', displayName: 'Checkout conversion', kind: 'ratio', interval: '1h', unit: 'ratio', color: '#1971c2', owner: 'payments', tags: ['revenue'],
    description: 'Completed orders per started checkout.',
    definition: { numerator: { event: 'Order Completed' }, denominator: { event: 'Checkout Started' } },
  },
  {
    name: 'revenue', displayName: 'Revenue', kind: 'aggregation', interval: '1h', unit: 'USD', color: '#e8590c', owner: 'payments', tags: ['revenue'],
    description: 'Sum of the revenue property of completed orders, by plan.',
    definition: { event: 'Order Completed', property: 'revenue', fn: 'sum', breakdowns: ['plan'] },
  },
  {
    name: 'events_per_user', displayName: 'Events per user', kind: 'per_user', interval: '1h', color: '#7048e8', owner: 'product', tags: ['engagement'],
    description: 'Events of any kind divided by the distinct users who sent them.',
    definition: {},
  },
  {
    name: 'page_load_p90', displayName: 'Page load time (p90)', kind: 'aggregation', interval: '1h', unit: 'ms', color: '#c2255c', owner: 'web', tags: ['performance'],
    description: '90th percentile of load_time_ms over page views, by device type.',
    definition: { event: null, property: 'load_time_ms', fn: 'p90', filters: [{ property: 'type', op: 'eq', value: 'page' }], breakdowns: ['device_type'] },
  },
  {
    name: 'docs_sessions', displayName: 'Sessions reading the docs', kind: 'sql', interval: '1h', color: '#0c8599', owner: 'devrel', tags: ['engagement'],
    description: 'Distinct sessions with a page view under /docs (a sql metric; its samples column says how many sessions are behind each value).',
    definition: { sql: "SELECT bucket, count(DISTINCT session_id) AS value, count(DISTINCT session_id) AS samples\nFROM events\nWHERE type = 'page' AND page_path LIKE '/docs%'\nGROUP BY bucket" },
  },
  {
    name: 'checkout_api_latency', displayName: 'checkout-api latency', kind: 'gauge', interval: '1h', unit: 'ms', color: '#f08c00', owner: 'platform', tags: ['performance', 'service'],
    description: 'Average of the latency_ms values checkout-api pushes to /v1/measurements.',
    definition: { service: 'checkout-api', metric: 'latency_ms', aggregate: 'avg' },
  },
];
