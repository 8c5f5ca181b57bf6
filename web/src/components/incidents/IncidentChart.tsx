/**
 * The incident's metric around the incident: the series from well before its first bucket to a
 * little after its last, its own signals marked (red), the metric's other signals too (blue).
 */
import { useMemo } from 'react';
import { useMetricSeries, type IncidentDetail } from '../../api/incidents';
import { projectUrl } from '../../app/routes';
import { Link } from '../../app/router';
import { QueryState } from '../States';
import { TimeSeriesChart, type ChartMark, type ChartSeries } from '../TimeSeriesChart';
import { scopeLabel } from './labels';

const INTERVAL_MS: Record<string, number> = {
  '5m': 300_000,
  '15m': 900_000,
  '1h': 3_600_000,
  '6h': 21_600_000,
  '1d': 86_400_000,
  '1w': 604_800_000,
};
/** buckets shown before the incident started (enough to see what normal looked like) and after it */
const BEFORE_BUCKETS = 48;
const AFTER_BUCKETS = 12;

export function IncidentChart({ slug, detail, timeZone }: { slug: string; detail: IncidentDetail; timeZone: string }) {
  const { incident, signals } = detail;
  const root = signals[0]?.signal;
  const interval = typeof root?.details.interval === 'string' ? root.details.interval : '1h';
  const step = INTERVAL_MS[interval] ?? INTERVAL_MS['1h'];
  // the window is fixed per incident (not per render), so the query key stays the same
  const { from, to } = useMemo(() => {
    const start = Date.parse(incident.startedBucket) - BEFORE_BUCKETS * step;
    const end = Math.min(Date.parse(incident.lastBucket) + (AFTER_BUCKETS + 1) * step, Math.ceil(Date.now() / step) * step);
    return { from: new Date(start).toISOString(), to: new Date(Math.max(end, start + step)).toISOString() };
  }, [incident.startedBucket, incident.lastBucket, step]);
  const series = useMetricSeries(slug, incident.metricId, from, to);

  const chart = useMemo(() => {
    const data = series.data;
    if (!data) return null;
    const x = data.buckets.map((b) => Date.parse(b));
    const total = data.series.find((s) => s.key === 'total') ?? data.series[0];
    const lines: ChartSeries[] = [{ label: data.metric.name, values: total?.values ?? [] }];
    const own = signals
      .filter((s) => s.signal.metricId === incident.metricId)
      .map((s): ChartMark => ({ x: Date.parse(s.signal.bucket), label: s.signal.kind, tone: 'bad' }));
    const ownAt = new Set(own.map((m) => m.x));
    // the metric's other signals first, so this incident's are drawn over them
    const marks: ChartMark[] = [
      ...data.signals
        .filter((s) => !ownAt.has(Date.parse(s.bucket)))
        .map((s): ChartMark => ({ x: Date.parse(s.bucket), label: s.kind, tone: 'info' })),
      ...own,
    ];
    return { x, lines, marks, empty: x.length === 0 };
  }, [series.data, signals, incident.metricId]);

  if (incident.metricId === null)
    return <p className="muted">This incident is not about a metric ({scopeLabel(incident.scopeKey)}): there is no series to chart.</p>;
  return (
    <QueryState
      loading={series.isPending}
      error={series.error}
      onRetry={() => void series.refetch()}
      empty={chart?.empty && 'No collected values around this incident.'}
    >
      {chart && (
        <>
          <TimeSeriesChart
            label={`${series.data?.metric.name ?? 'Metric'} around the incident`}
            x={chart.x}
            series={chart.lines}
            marks={chart.marks}
            timeZone={timeZone}
          />
          <p className="muted small">
            Red marks: this incident's signals; blue: other signals of the metric.{' '}
            <Link to={projectUrl(slug, `metrics/${incident.metricId}`)}>Open the metric</Link>
          </p>
        </>
      )}
    </QueryState>
  );
}
