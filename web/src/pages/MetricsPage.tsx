/** Metrics: the catalog, each metric with its latest value, its change, a sparkline and its newest signal; filter by status. */
import { useMemo } from 'react';
import { METRIC_STATUSES, canEdit, useMetrics, useRecentSignals, type MetricStatus, type MetricSummary, type Signal } from '../api/metrics';
import type { PageProps } from '../app/routes';
import { projectUrl } from '../app/routes';
import { Link, navigate, useSearchParam } from '../app/router';
import { formatAgo, formatChange } from '../app/format';
import { Badge, Button, Card, PageHeader, SEVERITY_TONE, Sparkline, Table, type Tone } from '../components';
import { KIND_LABELS } from '../components/metrics/draft';
import { formatValue } from '../components/metrics/format';
import '../components/metrics/metrics.css';

const STATUS_TONE: Record<string, Tone> = { active: 'good', draft: 'info', archived: 'neutral' };
const SIGNAL_WINDOW = '-24h';

// long because it is one screen's markup with the state its parts share
export default function MetricsPage({ project }: PageProps) {
  const slug = project.slug;
  const [statusParam, setStatus] = useSearchParam('status');
  const status = (METRIC_STATUSES as readonly string[]).includes(statusParam) ? (statusParam as MetricStatus) : undefined;
  const metrics = useMetrics(slug, status);
  const signals = useRecentSignals(slug, SIGNAL_WINDOW);

  // newest signal per metric (the list is newest first)
  const newest = useMemo(() => {
    const m = new Map<number, Signal>();
    for (const s of signals.data?.signals ?? []) if (s.metricId !== null && !m.has(s.metricId)) m.set(s.metricId, s);
    return m;
  }, [signals.data]);

  const editor = canEdit(project.role);
  return (
    <>
      <PageHeader
        title="Metrics"
        description="The catalog: every metric with its latest value, the change against the bucket before, and what detection raised in the last 24 hours."
        actions={
          editor && (
            <Button variant="primary" onClick={() => navigate(projectUrl(slug, 'metrics/new'))}>
              New metric
            </Button>
          )
        }
      />
      <Card>
        <div className="toolbar">
          <div className="segmented" role="group" aria-label="Status">
            <button type="button" aria-pressed={!status} onClick={() => setStatus('')}>
              All
            </button>
            {METRIC_STATUSES.map((s) => (
              <button key={s} type="button" aria-pressed={status === s} onClick={() => setStatus(s)}>
                {s}
              </button>
            ))}
          </div>
        </div>
        <Table<MetricSummary>
          label="Metrics"
          rows={metrics.data?.metrics}
          loading={metrics.isPending}
          error={metrics.error}
          onRetry={() => void metrics.refetch()}
          rowKey={(m) => String(m.id)}
          empty={
            status ? (
              `No ${status} metrics.`
            ) : (
              <>
                No metrics yet.
                {editor && (
                  <>
                    {' '}
                    <Link to={projectUrl(slug, 'metrics/new')}>Define the first one</Link>.
                  </>
                )}
              </>
            )
          }
          columns={[
            {
              header: 'Metric',
              cell: (m) => (
                <div className="metric-name">
                  <Link to={projectUrl(slug, `metrics/${m.id}`)}>{m.displayName}</Link>
                  <span className="muted small">
                    <code>{m.name}</code> · {KIND_LABELS[m.kind] ?? m.kind} · {m.interval}
                  </span>
                </div>
              ),
            },
            { header: 'Latest', align: 'right', cell: (m) => <span title={m.latest?.bucket}>{formatValue(m.latest?.value, m.unit)}</span> },
            { header: 'Change', align: 'right', cell: (m) => <Badge tone={changeTone(m.change)}>{formatChange(m.change)}</Badge> },
            {
              header: 'Last 24 buckets',
              cell: (m) => <Sparkline values={m.sparkline} label={`${m.displayName}, last ${m.sparkline.length} buckets`} />,
            },
            { header: 'Signal (24 h)', cell: (m) => <SignalCell signal={newest.get(m.id)} /> },
            {
              header: 'Status',
              cell: (m) => (
                <span className="badges">
                  <Badge tone={STATUS_TONE[m.status]}>{m.status}</Badge>
                  {m.lastError && (
                    <Badge tone="bad" title={m.lastError.message}>
                      failing
                    </Badge>
                  )}
                  {m.status === 'active' && !m.collectedUntil && !m.lastError && <Badge tone="info">backfilling</Badge>}
                </span>
              ),
            },
          ]}
        />
      </Card>
    </>
  );
}

const changeTone = (c: number | null): Tone => (c == null || Math.abs(c) < 0.005 ? 'neutral' : c > 0 ? 'good' : 'bad');

function SignalCell({ signal }: { signal?: Signal }) {
  if (!signal) return <span className="muted">–</span>;
  const dir = signal.direction === 'up' ? '↑ ' : signal.direction === 'down' ? '↓ ' : '';
  return (
    <span title={`${signal.scope} signal from ${signal.bucket} to ${signal.endBucket}`}>
      <Badge tone={SEVERITY_TONE[signal.severity] ?? 'neutral'}>
        {dir}
        {signal.kind.replace(/_/g, ' ')}
      </Badge>{' '}
      <span className="muted small">{formatAgo(signal.endBucket)}</span>
    </span>
  );
}
