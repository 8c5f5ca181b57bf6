/**
 * A metric: its series over a window with the expected band, the signals marked, breakdown
 * series on demand and the forecast dashed after the last collected bucket; a backtest panel
 * (another sensitivity over the same window: what would have fired); edit, collect now, archive.
 *
 * The band comes from a backtest of the window (the series API has no expected values per
 * bucket; a backtest reads the stored series and scores it as live detection does, nothing stored).
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import {
  canEdit,
  useArchiveMetric,
  useBacktest,
  useCollectMetric,
  useExpected,
  useForecast,
  useMetric,
  useMetricSeries,
  type Metric,
} from '../api/metrics';
import type { Interval } from '../api/types';
import type { PageProps } from '../app/routes';
import { projectUrl } from '../app/routes';
import { Link, useSearchParam } from '../app/router';
import { formatAgo, formatTime } from '../app/format';
import { Badge, Button, Card, ErrorState, FormError, Loading, PageHeader, QueryState, type Tone } from '../components';
import { TimeSeriesChart } from '../components/TimeSeriesChart';
import { BacktestPanel, type BacktestSettings } from '../components/metrics/BacktestPanel';
import { buildMetricChart } from '../components/metrics/chart-data';
import { KIND_LABELS } from '../components/metrics/draft';
import '../components/metrics/metrics.css';

const INTERVAL_HOURS: Record<Interval, number> = { '5m': 1 / 12, '15m': 0.25, '1h': 1, '6h': 6, '1d': 24, '1w': 168 };
const RANGES: { key: string; label: string; hours: number }[] = [
  { key: '1d', label: 'Last day', hours: 24 },
  { key: '7d', label: 'Last 7 days', hours: 168 },
  { key: '30d', label: 'Last 30 days', hours: 720 },
  { key: '90d', label: 'Last 90 days', hours: 2160 },
  { key: '365d', label: 'Last year', hours: 8760 },
];
/** the series and the backtest read at most 5000 buckets; fewer than 8 make no chart */
const MAX_BUCKETS = 5000;
const MIN_BUCKETS = 8;
const STATUS_TONE: Record<string, Tone> = { active: 'good', draft: 'info', archived: 'neutral' };

function rangesFor(interval: Interval) {
  return RANGES.filter((r) => r.hours / INTERVAL_HOURS[interval] <= MAX_BUCKETS && r.hours / INTERVAL_HOURS[interval] >= MIN_BUCKETS);
}
const defaultRange = (interval: Interval) => ({ '5m': '1d', '15m': '7d', '1h': '7d', '6h': '30d', '1d': '90d', '1w': '365d' })[interval];

export default function MetricPage({ project, params }: PageProps) {
  const id = Number(params.id);
  const metric = useMetric(project.slug, id);
  if (metric.error) return <ErrorState error={metric.error} onRetry={() => void metric.refetch()} />;
  if (!metric.data) return <Loading />;
  return <MetricView project={project} metric={metric.data} />;
}

// long because it is one screen's markup with the state its parts share
function MetricView({ project, metric: m }: { project: PageProps['project']; metric: Metric }) {
  const slug = project.slug;
  const ranges = rangesFor(m.interval);
  const [rangeParam, setRange] = useSearchParam('range');
  const range = ranges.find((r) => r.key === rangeParam) ?? ranges.find((r) => r.key === defaultRange(m.interval)) ?? ranges[0];
  const [breakdownParam, setBreakdown] = useSearchParam('breakdown');
  const breakdown = m.breakdowns.includes(breakdownParam) ? breakdownParam : '';
  const [showForecast, setShowForecast] = useState(true);
  const [applied, setApplied] = useState<BacktestSettings | null>(null);

  const from = `-${range.key}`;
  const windowBuckets = Math.round(range.hours / INTERVAL_HOURS[m.interval]);
  const k = Math.min(500, Math.max(3, Math.round(windowBuckets / 7)));
  const collected = m.collectedUntil !== null;
  const series = useMetricSeries(slug, m.id, { from });
  const split = useMetricSeries(slug, m.id, { from, breakdown }, !!breakdown);
  // the band and the signals as live detection sees them; a backtest at other settings replaces them while shown
  const expected = useExpected(slug, m.id, { from, to: 'now' }, collected);
  const forecast = useForecast(slug, m.id, k, collected && showForecast);
  const backtest = useBacktest(slug, m.id);
  const runBacktest = (settings: BacktestSettings | null) => {
    if (!settings) {
      setApplied(null);
      backtest.reset();
      return;
    }
    backtest.mutate({ from, to: 'now', ...settings }, { onSuccess: () => setApplied(settings) });
  };
  // a backtest shown follows the window
  const shownFrom = useRef(from);
  useEffect(() => {
    if (shownFrom.current === from) return;
    shownFrom.current = from;
    if (applied) backtest.mutate({ from, to: 'now', ...applied });
  }, [from, applied, backtest]);
  const tested = applied ? backtest.data : undefined;

  const chart = useMemo(
    () =>
      series.data &&
      buildMetricChart({
        total: series.data,
        color: m.color,
        expected: tested ?? expected.data,
        breakdown: breakdown ? split.data : undefined,
        forecast: showForecast ? forecast.data : undefined,
        backtestSignals: tested?.signals,
      }),
    [series.data, m.color, expected.data, breakdown, split.data, showForecast, forecast.data, tested],
  );

  const editor = canEdit(project.role);
  const collect = useCollectMetric(slug, m.id);
  const archive = useArchiveMetric(slug, m.id);
  const hasData = !!series.data?.series[0]?.values.some((v) => v !== null);
  const period = (
    <div className="segmented" role="group" aria-label="Window">
      {ranges.map((r) => (
        <button
          key={r.key}
          type="button"
          aria-pressed={r.key === range.key}
          title={r.label}
          onClick={() => setRange(r.key === defaultRange(m.interval) ? '' : r.key)}
        >
          {r.key}
        </button>
      ))}
    </div>
  );

  return (
    <>
      <PageHeader
        title={
          <>
            {m.displayName} <Badge tone={STATUS_TONE[m.status]}>{m.status}</Badge>
          </>
        }
        description={
          <>
            <code>{m.name}</code> · {KIND_LABELS[m.kind]} · every {m.interval}
            {m.unit && ` · ${m.unit}`}
            {m.owner && ` · owner ${m.owner}`}
            {m.description && (
              <>
                <br />
                {m.description}
              </>
            )}
          </>
        }
        actions={
          <>
            <Link className="btn" to={`${projectUrl(slug, 'monitors')}?metric=${m.id}`}>
              Monitors
            </Link>
            {editor && (
              <Link className="btn" to={projectUrl(slug, `metrics/${m.id}/edit`)}>
                Edit
              </Link>
            )}
            {editor && m.status !== 'archived' && (
              <Button busy={collect.isPending} onClick={() => collect.mutate()}>
                Collect now
              </Button>
            )}
            {editor && m.status !== 'archived' && (
              <Button
                variant="danger"
                busy={archive.isPending}
                onClick={() =>
                  window.confirm(`Archive ${m.displayName}? It stops being collected; its values are kept.`) && archive.mutate()
                }
              >
                Archive
              </Button>
            )}
          </>
        }
      />
      {collect.data && (
        <p className="notice notice-info" role="status">
          Collected {collect.data.buckets} bucket{collect.data.buckets === 1 ? '' : 's'} (
          {formatTime(collect.data.from, project.timeZone, false)} – {formatTime(collect.data.to, project.timeZone, false)}).
        </p>
      )}
      <FormError error={(collect.error ?? archive.error)?.message} />
      {m.lastError && (
        <p className="notice" role="alert">
          The last collection failed {formatAgo(m.lastError.at)}: {m.lastError.message}
        </p>
      )}
      {m.status === 'active' && !collected && !m.lastError && (
        <p className="notice notice-info">Its history is being computed (a backfill job); the chart fills in when it is done.</p>
      )}

      <Card
        title="Series"
        actions={
          <div className="toolbar">
            {m.breakdowns.length > 0 && (
              <div className="segmented" role="group" aria-label="Breakdown">
                <button type="button" aria-pressed={!breakdown} onClick={() => setBreakdown('')}>
                  total
                </button>
                {m.breakdowns.map((b) => (
                  <button key={b} type="button" aria-pressed={breakdown === b} onClick={() => setBreakdown(b)}>
                    by {b}
                  </button>
                ))}
              </div>
            )}
            <label className="check">
              <input type="checkbox" checked={showForecast} onChange={(e) => setShowForecast(e.target.checked)} /> forecast
            </label>
            {period}
          </div>
        }
      >
        <QueryState
          loading={series.isPending}
          error={series.error}
          onRetry={() => void series.refetch()}
          empty={series.data && !hasData && (collected ? 'No values in this window.' : 'Not collected yet.')}
        >
          {chart && (
            <TimeSeriesChart
              label={`${m.displayName} over time`}
              x={chart.x}
              series={chart.series}
              band={chart.band}
              marks={chart.marks}
              timeZone={project.timeZone}
              height={300}
            />
          )}
        </QueryState>
        <p className="muted small chart-legend">
          {expected.data
            ? 'Shaded: the expected range (what the detector would not flag). '
            : expected.isFetching
              ? 'Loading the expected range… '
              : ''}
          {tested
            ? `Blue marks: what the backtest at |z| ≥ ${tested.threshold} says would have fired. `
            : `Marks: signals detection raised (${series.data?.signals.length ?? 0} in this window). `}
          {showForecast &&
            forecast.data &&
            (forecast.data.points.length
              ? `Dashed: the forecast of the next ${forecast.data.points.length} buckets.`
              : `No forecast: ${forecast.data.reason}.`)}
          {breakdown && split.error && <span className="field-error"> Breakdown: {(split.error as Error).message}</span>}
        </p>
      </Card>

      <div className="grid two">
        <Card title="Backtest">
          {collected ? (
            <BacktestPanel
              own={m.detection}
              applied={tested ? applied : null}
              onRun={runBacktest}
              result={tested ?? expected.data}
              loading={backtest.isPending}
              error={backtest.error ?? expected.error}
              period={period}
              unit={m.unit}
              timeZone={project.timeZone}
            />
          ) : (
            <p className="muted">A backtest reads the collected history; this metric has none yet.</p>
          )}
        </Card>
        <Card title="Details">
          <dl className="facts">
            <dt>Latest bucket collected</dt>
            <dd>{m.collectedUntil ? formatTime(m.collectedUntil, project.timeZone, false) : '–'}</dd>
            <dt>History from</dt>
            <dd>{m.historyFrom ? formatTime(m.historyFrom, project.timeZone, false) : '–'}</dd>
            <dt>Values</dt>
            <dd>{m.valueKind === 'count' ? 'counts (an empty bucket is 0)' : 'measurements (an empty bucket is a gap)'}</dd>
            <dt>Detection</dt>
            <dd>
              {m.detection.enabled === false ? 'off' : `on, sensitivity ${m.detection.sensitivity ?? 'project default'}`}
              {m.detection.minExpected !== undefined && `, min. expected ${m.detection.minExpected}`} ·{' '}
              <Link to={`${projectUrl(slug, 'monitors')}?metric=${m.id}`}>change</Link>
            </dd>
            <dt>Breakdowns</dt>
            <dd>{m.breakdowns.length ? m.breakdowns.join(', ') : 'none'}</dd>
            <dt>Tags</dt>
            <dd>{m.tags.length ? m.tags.join(', ') : 'none'}</dd>
            <dt>Definition</dt>
            <dd>
              <pre className="definition">{JSON.stringify(m.definition, null, 2)}</pre>
            </dd>
          </dl>
          <p className="small">
            <Link to={projectUrl(slug, 'metrics')}>← All metrics</Link>
          </p>
        </Card>
      </div>
    </>
  );
}
