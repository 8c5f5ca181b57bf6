/**
 * Deterministic demo gauge series, as services would push them to `POST /v1/measurements`.
 * Pure like `traffic.ts`: same options → same points. The incidents of the demo traffic show
 * here too: checkout-api slows down and fails during "checkout drop", and web has a short outage
 * during "error burst".
 */
import type { MeasurementInput } from '../ingest/measurement-store.js';
import { mulberry32 } from './random.js';
import { DEFAULT_DEMO_SEED, type DemoOptions, demoIncidents } from './traffic.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** One point per series every 5 minutes, the finest interval Vigil buckets by. */
const STEP_MS = 5 * MINUTE;
/** Median-like latency off-peak; the daily rhythm adds up to ±25% around it. */
const BASE_LATENCY_MS = 120;
const INCIDENT_LATENCY_MS = 900;
/** Error rates are fractions (0.003 = 0.3 %). */
const BASE_ERROR_RATE = 0.0035;
const INCIDENT_ERROR_RATE = 0.08;
/** The web outage starts this long into the "error burst" window and lasts 10 minutes. */
const OUTAGE_OFFSET_MS = 30 * MINUTE;
const OUTAGE_MS = 10 * MINUTE;
const TAGS = { env: 'production' } as const;
/** Keeps this stream apart from the traffic generator's, which starts from the same seed. */
const SEED_SALT = 0x5eed_9a06;

export function generateDemoMeasurements(opts: DemoOptions): MeasurementInput[] {
  const incidents = demoIncidents(opts);
  const checkoutDrop = incidents.find((i) => i.name === 'checkout drop');
  const errorBurst = incidents.find((i) => i.name === 'error burst');
  const outage = errorBurst && { startMs: errorBurst.startMs + OUTAGE_OFFSET_MS, endMs: errorBurst.startMs + OUTAGE_OFFSET_MS + OUTAGE_MS };
  const within = (w: { startMs: number; endMs: number } | undefined, ts: number) => !!w && ts >= w.startMs && ts < w.endMs;

  const rng = mulberry32((opts.seed ?? DEFAULT_DEMO_SEED) ^ SEED_SALT);
  const startMs = opts.endMs - (opts.days ?? 30) * DAY;
  const out: MeasurementInput[] = [];
  for (let ts = Math.ceil(startMs / STEP_MS) * STEP_MS; ts < opts.endMs; ts += STEP_MS) {
    const hour = (ts % DAY) / HOUR;
    // busiest around 15:00 UTC, like the traffic
    const load = Math.cos((2 * Math.PI * (hour - 15)) / 24);
    const degraded = within(checkoutDrop, ts);
    // two draws per step whatever the state, so an incident does not shift the noise after it
    const latencyNoise = 0.85 + 0.3 * rng();
    const errorNoise = 0.75 + 0.5 * rng();
    const latency = (degraded ? INCIDENT_LATENCY_MS : BASE_LATENCY_MS * (1 + 0.25 * load)) * latencyNoise;
    const errorRate = (degraded ? INCIDENT_ERROR_RATE : BASE_ERROR_RATE * (1 + 0.15 * load)) * errorNoise;
    out.push(
      { service: 'checkout-api', metric: 'latency_ms', ts, value: round(latency, 1), tags: { ...TAGS } },
      { service: 'checkout-api', metric: 'error_rate', ts, value: round(errorRate, 5), tags: { ...TAGS } },
      { service: 'web', metric: 'uptime', ts, value: within(outage, ts) ? 0 : 1, tags: { ...TAGS } },
    );
  }
  return out;
}

const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;
