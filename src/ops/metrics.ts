import client from 'prom-client';
import type { RejectReason } from '../ingest/segment-spec.js';

export type DropReason = RejectReason | 'duplicate';

/** Every Prometheus metric Vigil exports, on one registry per server instance. */
export function createMetrics() {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'vigil_' });
  return {
    registry,
    eventsAccepted: new client.Counter({
      name: 'vigil_events_accepted_total',
      help: 'Events acknowledged as durable',
      registers: [registry],
    }),
    eventsRejected: new client.Counter({
      name: 'vigil_events_rejected_total',
      help: 'Events not stored, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    batchSize: new client.Histogram({
      name: 'vigil_ingest_batch_events',
      help: 'Events per ingest request',
      buckets: [1, 5, 10, 50, 100, 250, 500, 1000, 2500],
      registers: [registry],
    }),
    commitSeconds: new client.Histogram({
      name: 'vigil_ingest_commit_seconds',
      help: 'Time of one group commit (write + fdatasync)',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
    durableWaitSeconds: new client.Histogram({
      name: 'vigil_ingest_durable_wait_seconds',
      help: 'Time a request waits for its events to be durable (queueing for and running its group commit)',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
    commitEvents: new client.Histogram({
      name: 'vigil_ingest_commit_events',
      help: 'Events per group commit',
      buckets: [1, 10, 100, 500, 1000, 2500, 5000, 10000, 50000],
      registers: [registry],
    }),
    segmentLoadSeconds: new client.Histogram({
      name: 'vigil_segment_load_seconds',
      help: 'Time to load one write-ahead segment into the event store',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    segmentBacklog: new client.Gauge({
      name: 'vigil_segment_backlog',
      help: 'Closed segments waiting to be loaded into the event store',
      registers: [registry],
    }),
    httpSeconds: new client.Histogram({
      name: 'vigil_http_request_duration_seconds',
      help: 'HTTP request duration by route',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
