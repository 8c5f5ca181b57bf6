import type { MetaDb } from '../meta-db.js';

/** One pushed value of a gauge series, validated (see `src/ingest/measurements.ts`). */
export interface MeasurementInput {
  service: string;
  metric: string;
  /** epoch ms, UTC */
  ts: number;
  value: number;
  tags: Record<string, string>;
}

export interface MeasurementQuery {
  projectId: number;
  service: string;
  metric: string;
  /** inclusive */
  fromMs: number;
  /** exclusive */
  toMs: number;
  /** every given tag must be present with this value */
  tags?: Record<string, string>;
}

export interface MeasurementSeries {
  service: string;
  metric: string;
  count: number;
  lastTs: number;
}

export type GaugeAggregation = 'last' | 'avg' | 'max';

/** Rows per INSERT: 500 rows × 7 columns stays far below SQLite's and PostgreSQL's bound-parameter limits. */
const INSERT_CHUNK_ROWS = 500;

/** The `measurements` table: pushed gauge points, read back per (service, metric) over a time range. */
export class MeasurementStore {
  constructor(private db: MetaDb) {}

  /** Stores every point in one transaction (all or nothing); returns how many were stored. */
  async insert(projectId: number, points: MeasurementInput[], receivedAt: number): Promise<number> {
    if (!points.length) return 0;
    await this.db.transaction().execute(async (trx) => {
      for (let i = 0; i < points.length; i += INSERT_CHUNK_ROWS) {
        const rows = points.slice(i, i + INSERT_CHUNK_ROWS).map((p) => ({
          project_id: projectId,
          service: p.service,
          metric: p.metric,
          ts: p.ts,
          value: p.value,
          tags: JSON.stringify(p.tags),
          received_at: receivedAt,
        }));
        await trx.insertInto('measurements').values(rows).execute();
      }
    });
    return points.length;
  }

  /**
   * The points of one series in [fromMs, toMs), ordered by time. The range read uses the
   * (project_id, service, metric, ts) index; the tag filter runs here, on the parsed JSON, so the
   * same code serves SQLite and PostgreSQL.
   */
  async points(q: MeasurementQuery): Promise<{ ts: number; value: number }[]> {
    const rows = await this.db
      .selectFrom('measurements')
      .select(['ts', 'value', 'tags'])
      .where('project_id', '=', q.projectId)
      .where('service', '=', q.service)
      .where('metric', '=', q.metric)
      .where('ts', '>=', q.fromMs)
      .where('ts', '<', q.toMs)
      .orderBy('ts')
      .orderBy('id')
      .execute();
    const wanted = Object.entries(q.tags ?? {});
    const out: { ts: number; value: number }[] = [];
    for (const row of rows) {
      if (wanted.length && !tagsMatch(row.tags, wanted)) continue;
      out.push({ ts: Number(row.ts), value: Number(row.value) });
    }
    return out;
  }

  /** The distinct (service, metric) pairs of a project with their point count and latest time (for a picker). */
  async series(projectId: number): Promise<MeasurementSeries[]> {
    const rows = await this.db
      .selectFrom('measurements')
      .select((eb) => ['service', 'metric', eb.fn.countAll().as('count'), eb.fn.max('ts').as('last_ts')])
      .where('project_id', '=', projectId)
      .groupBy(['service', 'metric'])
      .orderBy('service')
      .orderBy('metric')
      .execute();
    return rows.map((r) => ({ service: r.service, metric: r.metric, count: Number(r.count), lastTs: Number(r.last_ts) }));
  }
}

function tagsMatch(json: string, wanted: [string, string][]): boolean {
  let tags: unknown;
  try {
    tags = JSON.parse(json);
  } catch {
    return false;
  }
  if (typeof tags !== 'object' || tags === null) return false;
  const record = tags as Record<string, unknown>;
  return wanted.every(([k, v]) => Object.hasOwn(record, k) && record[k] === v);
}

/**
 * Gauge values per bucket: a point belongs to bucket i when starts[i] <= ts < starts[i + 1]
 * (toMs for the last bucket); points outside [starts[0], toMs) are ignored. Per bucket the
 * result is the value of the latest point (`last`; of equal times, the later in the array), the
 * mean (`avg`) or the largest (`max`), and null when the bucket has no point. `starts` must be
 * ascending; `points` may be in any order.
 */
export function aggregateGauge(
  points: { ts: number; value: number }[],
  starts: number[],
  toMs: number,
  agg: GaugeAggregation,
): (number | null)[] {
  return gaugeBuckets(points, starts, toMs, agg).values;
}

/** aggregateGauge's values with, per bucket, the number of points (the bucket's samples). */
export function gaugeBuckets(
  points: { ts: number; value: number }[],
  starts: number[],
  toMs: number,
  agg: GaugeAggregation,
): { values: (number | null)[]; counts: number[] } {
  const n = starts.length;
  if (!n) return { values: [], counts: [] };
  const count = new Array<number>(n).fill(0);
  const acc = new Array<number>(n).fill(0);
  const lastTs = new Array<number>(n).fill(-Infinity);
  for (const p of points) {
    if (!(p.ts >= starts[0] && p.ts < toMs)) continue;
    const i = bucketOf(starts, p.ts);
    if (agg === 'last') {
      if (p.ts >= lastTs[i]) {
        lastTs[i] = p.ts;
        acc[i] = p.value;
      }
    } else if (agg === 'max') {
      acc[i] = count[i] === 0 ? p.value : Math.max(acc[i], p.value);
    } else {
      acc[i] += p.value;
    }
    count[i]++;
  }
  return { values: acc.map((v, i) => (count[i] === 0 ? null : agg === 'avg' ? v / count[i] : v)), counts: count };
}

/** The largest i with starts[i] <= ts (the caller guarantees ts >= starts[0]). */
function bucketOf(starts: number[], ts: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (starts[mid] <= ts) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
