/** Overview: events, users and sessions against the previous period, the events chart, top events, pages and referrers, open incidents. */
import { useMemo } from 'react';
import { useOverview, useTimeseries, useTopEvents } from '../api/analytics';
import { useIncidents } from '../api/incidents';
import type { Interval, Timeseries } from '../api/types';
import type { PageProps } from '../app/routes';
import { projectUrl } from '../app/routes';
import { Link, useSearchParam } from '../app/router';
import { formatAgo, formatNumber } from '../app/format';
import { Badge, Card, PageHeader, QueryState, SEVERITY_TONE, StatCard, Table } from '../components';
import { TimeSeriesChart, type ChartSeries } from '../components/TimeSeriesChart';
import { GetStarted } from '../components/GetStarted';

/** The ranges offered: the window, its interval, and the window before it. */
const RANGES: Record<string, { label: string; from: string; interval: Interval; previous: { from: string; to: string } }> = {
  '24h': { label: 'Last 24 hours', from: '-24h', interval: '1h', previous: { from: '-48h', to: '-24h' } },
  '7d': { label: 'Last 7 days', from: '-7d', interval: '1h', previous: { from: '-14d', to: '-7d' } },
  '30d': { label: 'Last 30 days', from: '-30d', interval: '6h', previous: { from: '-60d', to: '-30d' } },
};
const DEFAULT_RANGE = '7d';
const PAGE_VIEW = '$page';

// long because it is one screen's markup with the state its parts share
export default function OverviewPage({ project }: PageProps) {
  const [rangeParam, setRange] = useSearchParam('range');
  const rangeKey = rangeParam in RANGES ? rangeParam : DEFAULT_RANGE;
  const range = RANGES[rangeKey];
  const win = { from: range.from };
  const slug = project.slug;

  const overview = useOverview(slug, win);
  const series = useTimeseries(slug, { ...win, interval: range.interval });
  const previous = useTimeseries(slug, { ...range.previous, interval: range.interval });
  const topEvents = useTopEvents(slug, { ...win, limit: 10 });
  const pages = useTimeseries(slug, { ...win, interval: '1d', event: PAGE_VIEW, breakdown: 'page_path', limit: 10 });
  const referrers = useTimeseries(slug, { ...win, interval: '1d', event: PAGE_VIEW, breakdown: 'referrer_host', limit: 10 });
  const incidents = useIncidents(slug, { status: 'open', limit: 10 });

  const chart = useMemo(() => {
    const current = series.data;
    if (!current) return null;
    const x = current.buckets.map((b) => Date.parse(b));
    const lines: ChartSeries[] = [{ label: 'Events', values: current.series[0]?.values ?? [] }];
    const before = previous.data?.series[0]?.values;
    // the previous window, laid over this one bucket by bucket (same interval, same length)
    if (before?.length)
      lines.push({
        label: 'Previous period',
        values: x.map((_, i) => before[before.length - x.length + i] ?? null),
        dashed: true,
        color: '#9ca3af',
      });
    return { x, lines };
  }, [series.data, previous.data]);

  const c = overview.data;
  return (
    <>
      <PageHeader
        title="Overview"
        description={`${project.name} · ${range.label.toLowerCase()} · times in ${project.timeZone}`}
        actions={
          <div className="segmented" role="group" aria-label="Range">
            {Object.entries(RANGES).map(([key, r]) => (
              <button
                key={key}
                type="button"
                aria-pressed={key === rangeKey}
                title={r.label}
                onClick={() => setRange(key === DEFAULT_RANGE ? '' : key)}
              >
                {key}
              </button>
            ))}
          </div>
        }
      />
      {overview.error ? (
        <QueryState loading={false} error={overview.error} onRetry={() => void overview.refetch()}>
          {null}
        </QueryState>
      ) : (
        <div className="grid stats">
          <StatCard label="Events" value={c?.current.events} change={c?.change.events} previous={c?.previous.events} />
          <StatCard label="Users" value={c?.current.users} change={c?.change.users} previous={c?.previous.users} />
          <StatCard label="Sessions" value={c?.current.sessions} change={c?.change.sessions} previous={c?.previous.sessions} />
        </div>
      )}
      <Card title="Events">
        <QueryState
          loading={series.isPending}
          error={series.error}
          onRetry={() => void series.refetch()}
          empty={
            !!series.data &&
            series.data.series.every((s) => s.total === 0) && <GetStarted project={project} title="No events in this range yet." />
          }
        >
          {chart && <TimeSeriesChart label="Events over time" x={chart.x} series={chart.lines} timeZone={project.timeZone} />}
        </QueryState>
      </Card>
      <div className="grid two">
        <Card title="Top events">
          <Table
            label="Top events"
            rows={topEvents.data?.events}
            loading={topEvents.isPending}
            error={topEvents.error}
            onRetry={() => void topEvents.refetch()}
            rowKey={(r) => r.event}
            empty="No events in this range."
            columns={[
              {
                header: 'Event',
                cell: (r) => <Link to={`${projectUrl(slug, 'events')}?event=${encodeURIComponent(r.event)}`}>{r.event}</Link>,
              },
              { header: 'Count', cell: (r) => formatNumber(r.count), align: 'right' },
              { header: 'Users', cell: (r) => formatNumber(r.users), align: 'right' },
            ]}
          />
        </Card>
        <Card title="Open incidents">
          <Table
            label="Open incidents"
            rows={incidents.data?.incidents}
            loading={incidents.isPending}
            error={incidents.error}
            onRetry={() => void incidents.refetch()}
            rowKey={(r) => String(r.id)}
            empty="No open incidents. All quiet."
            columns={[
              { header: 'Incident', cell: (r) => r.title },
              { header: 'Severity', cell: (r) => <Badge tone={SEVERITY_TONE[r.severity]}>{r.severity}</Badge> },
              { header: 'Opened', cell: (r) => <span title={r.openedAt}>{formatAgo(r.openedAt)}</span>, align: 'right' },
            ]}
          />
        </Card>
        <Card title="Top pages">
          <Breakdown query={pages} name="Page" empty="No page views in this range." />
        </Card>
        <Card title="Top referrers">
          <Breakdown query={referrers} name="Referrer" empty="No referrers in this range." />
        </Card>
      </div>
    </>
  );
}

/** A breakdown's values by their total over the window (without "other"). */
function Breakdown({ query, name, empty }: { query: ReturnType<typeof useTimeseries>; name: string; empty: string }) {
  const rows = query.data && topValues(query.data);
  return (
    <Table
      label={`Top ${name.toLowerCase()}s`}
      rows={rows}
      loading={query.isPending}
      error={query.error}
      onRetry={() => void query.refetch()}
      rowKey={(r) => r.key}
      empty={empty}
      columns={[
        {
          header: name,
          cell: (r) => (
            <span className="truncate" title={r.label}>
              {r.label}
            </span>
          ),
        },
        { header: 'Views', cell: (r) => formatNumber(r.total), align: 'right' },
      ]}
    />
  );
}

const topValues = (t: Timeseries) => t.series.filter((s) => s.key !== '$other' && s.total > 0);
