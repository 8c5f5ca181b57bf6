/** Incidents: the last 30 days in figures, the list filtered by status, severity and metric, bulk acknowledge / resolve, and the noisiest scopes and rules. */
import { useMemo, useState } from 'react';
import { formError } from '../api/client';
import { SEVERITIES, severityFromInput } from '../../../src/detect/severity';
import {
  INCIDENT_STATUSES,
  useBulkIncidents,
  useIncidentPages,
  useIncidentStats,
  useMetricNames,
  type IncidentStatus,
  type ScopeCount,
} from '../api/incidents';
import { hasRole } from '../api/settings';
import type { Incident } from '../api/types';
import type { PageProps } from '../app/routes';
import { projectUrl } from '../app/routes';
import { Link, navigate, useSearchParam } from '../app/router';
import { formatAgo, formatTime } from '../app/format';
import { Badge, Button, Card, FormError, PageHeader, SEVERITY_TONE, Table } from '../components';
import { StatusBadge, formatDuration, scopeLabel } from '../components/incidents/labels';
import { COMPACT_SELECT } from '../components/alerts/compact';

// long because it is one screen's markup with the state its parts share
export default function IncidentsPage({ project }: PageProps) {
  const slug = project.slug;
  const [status, setStatus] = useSearchParam('status');
  const [severity, setSeverity] = useSearchParam('severity');
  const [metric, setMetric] = useSearchParam('metric');
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const canEdit = hasRole(project.role, 'editor');

  const query = useIncidentPages(slug, {
    status: (INCIDENT_STATUSES as string[]).includes(status) ? (status as IncidentStatus) : undefined,
    severity: severityFromInput(severity),
    metric: /^\d+$/.test(metric) ? Number(metric) : undefined,
    limit: 50,
  });
  const stats = useIncidentStats(slug, 30);
  const metrics = useMetricNames(slug);
  const bulk = useBulkIncidents(slug);
  const rows = useMemo(() => query.data?.pages.flatMap((p) => p.incidents), [query.data]);
  const filtered = !!(status || severity || metric);

  // only rows still listed stay selected (a filter change or a refetch may drop some)
  const chosen = rows?.filter((r) => selected.has(r.id)) ?? [];
  const toggle = (id: number) =>
    setSelected((s) => {
      const next = new Set(s);
      if (!next.delete(id)) next.add(id);
      return next;
    });
  const allChosen = !!rows?.length && chosen.length === rows.length;
  const act = (action: 'acknowledge' | 'resolve') =>
    bulk.mutate({ ids: chosen.map((r) => r.id), action }, { onSuccess: () => setSelected(new Set()) });
  const s = stats.data;
  const metricName = (id: number | null) => {
    const m = id === null ? undefined : metrics.data?.find((x) => x.id === id);
    return m && (m.displayName || m.name);
  };

  return (
    <>
      <PageHeader title="Incidents" description={`What the detectors found, grouped. Times in ${project.timeZone}.`} />
      {s && (
        <div className="grid stats" role="region" aria-label="Last 30 days">
          <Figure label="Incidents (30 days)" value={String(s.total)} />
          <Figure label="Not resolved" value={String((s.byStatus.open ?? 0) + (s.byStatus.acknowledged ?? 0))} />
          <Figure label="Time to acknowledge (median)" value={formatDuration(s.timeToAcknowledge.medianMs)} />
          <Figure label="Time to resolve (median)" value={formatDuration(s.timeToResolve.medianMs)} />
        </div>
      )}
      <div className="filters" role="group" aria-label="Filters">
        <label>
          Status
          <select style={COMPACT_SELECT} value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="">any</option>
            {INCIDENT_STATUSES.map((v) => (
              <option key={v} value={v}>
                {v}
              </option>
            ))}
          </select>
        </label>
        <label>
          Severity
          <select style={COMPACT_SELECT} value={severity} onChange={(e) => setSeverity(e.target.value)}>
            <option value="">any</option>
            {SEVERITIES.map((v) => (
              <option key={v} value={v}>
                {v}
              </option>
            ))}
          </select>
        </label>
        <label>
          Metric
          <select style={COMPACT_SELECT} value={metric} onChange={(e) => setMetric(e.target.value)}>
            <option value="">any</option>
            {metrics.data?.map((m) => (
              <option key={m.id} value={m.id}>
                {m.displayName || m.name}
              </option>
            ))}
          </select>
        </label>
        {filtered && (
          <Button
            size="small"
            variant="ghost"
            onClick={() => {
              setStatus('');
              setSeverity('');
              setMetric('');
            }}
          >
            Clear filters
          </Button>
        )}
      </div>
      <Card
        title={chosen.length ? `${chosen.length} selected` : undefined}
        actions={
          chosen.length ? (
            <>
              <Button
                size="small"
                variant="primary"
                busy={bulk.isPending && bulk.variables?.action === 'acknowledge'}
                disabled={!canEdit || bulk.isPending}
                title={canEdit ? undefined : 'Editors and owners can change incidents'}
                onClick={() => act('acknowledge')}
              >
                Acknowledge selected
              </Button>
              <Button
                size="small"
                busy={bulk.isPending && bulk.variables?.action === 'resolve'}
                disabled={!canEdit || bulk.isPending}
                title={canEdit ? undefined : 'Editors and owners can change incidents'}
                onClick={() => act('resolve')}
              >
                Resolve selected
              </Button>
              <Button size="small" variant="ghost" onClick={() => setSelected(new Set())}>
                Clear selection
              </Button>
            </>
          ) : undefined
        }
      >
        <FormError error={formError(bulk.error)} />
        <Table<Incident>
          label="Incidents"
          rows={rows}
          loading={query.isPending}
          error={query.error}
          onRetry={() => void query.refetch()}
          rowKey={(r) => String(r.id)}
          onRowClick={(r) => navigate(projectUrl(slug, `incidents/${r.id}`))}
          empty={
            filtered
              ? 'No incidents match these filters.'
              : 'No incidents yet. When a metric misbehaves or a threshold is crossed, it shows up here.'
          }
          columns={[
            {
              header: (
                <input
                  type="checkbox"
                  aria-label="Select all"
                  checked={allChosen}
                  onChange={() => setSelected(allChosen ? new Set() : new Set(rows?.map((r) => r.id)))}
                />
              ),
              cell: (r) => (
                <input
                  type="checkbox"
                  aria-label={`Select incident ${r.id}`}
                  checked={selected.has(r.id)}
                  onClick={(e) => e.stopPropagation()}
                  onChange={() => toggle(r.id)}
                />
              ),
              width: '2rem',
            },
            {
              header: 'Incident',
              cell: (r) => (
                <Link to={projectUrl(slug, `incidents/${r.id}`)} onClick={(e) => e.stopPropagation()}>
                  {r.title}
                </Link>
              ),
            },
            { header: 'Status', cell: (r) => <StatusBadge incident={r} /> },
            { header: 'Severity', cell: (r) => <Badge tone={SEVERITY_TONE[r.severity]}>{r.severity}</Badge> },
            {
              header: 'Scope',
              cell: (r) => (
                <span className="muted">
                  {metricName(r.metricId) ?? scopeLabel(r.scopeKey)}
                  {r.breakdown && ` · ${r.breakdown}`}
                </span>
              ),
            },
            {
              header: 'Started',
              cell: (r) => (
                <span title={formatTime(r.startedBucket, project.timeZone)}>{formatTime(r.startedBucket, project.timeZone, false)}</span>
              ),
            },
            { header: 'Updated', cell: (r) => <span title={r.updatedAt}>{formatAgo(r.updatedAt)}</span>, align: 'right' },
          ]}
        />
        {query.hasNextPage && (
          <div className="table-foot">
            <Button size="small" busy={query.isFetchingNextPage} onClick={() => void query.fetchNextPage()}>
              Load older incidents
            </Button>
          </div>
        )}
      </Card>
      {s && (
        <div className="grid two">
          <Card title="Noisiest scopes (30 days)">
            <Table<ScopeCount>
              label="Noisiest scopes"
              rows={s.noisiest.slice(0, 10)}
              rowKey={(r) => r.scopeKey}
              empty="No incidents in the last 30 days."
              columns={[
                {
                  header: 'Scope',
                  cell: (r) =>
                    r.metricId !== null ? (
                      <Link to={`${projectUrl(slug, 'incidents')}?metric=${r.metricId}`} title="Show its incidents">
                        {metricName(r.metricId) ?? r.title}
                      </Link>
                    ) : (
                      <span title={r.scopeKey}>{scopeLabel(r.scopeKey)}</span>
                    ),
                },
                ...COUNT_COLUMNS,
              ]}
            />
          </Card>
          <Card title="Most triggered rules (30 days)">
            <Table<ScopeCount & { ruleId: number }>
              label="Most triggered rules"
              rows={s.topRules}
              rowKey={(r) => String(r.ruleId)}
              empty="No threshold rule opened an incident in the last 30 days."
              columns={[
                {
                  header: 'Rule',
                  cell: (r) =>
                    r.metricId !== null ? (
                      <Link to={`${projectUrl(slug, 'monitors')}?metric=${r.metricId}`} title="Open its monitors">
                        {r.title}
                      </Link>
                    ) : (
                      r.title
                    ),
                },
                ...COUNT_COLUMNS,
              ]}
            />
          </Card>
        </div>
      )}
    </>
  );
}

const COUNT_COLUMNS = [
  { header: 'Incidents', cell: (r: ScopeCount) => r.incidents, align: 'right' as const },
  { header: 'False positives', cell: (r: ScopeCount) => r.falsePositives, align: 'right' as const },
];

/** A figure of the last 30 days (no comparison, unlike StatCard). */
function Figure({ label, value }: { label: string; value: string }) {
  return (
    <section className="card stat" aria-label={label}>
      <div className="stat-label">{label}</div>
      <div className="stat-value">{value}</div>
    </section>
  );
}
