/** One incident: the chart of its metric around it, its signals and why each fired, its timeline with comments, and the actions. */
import { useIncident, useMetricNames } from '../api/incidents';
import { hasRole, useMembers } from '../api/settings';
import type { PageProps } from '../app/routes';
import { projectUrl } from '../app/routes';
import { Link } from '../app/router';
import { formatAgo, formatTime } from '../app/format';
import { Badge, Card, PageHeader, QueryState, SEVERITY_TONE, Table } from '../components';
import { IncidentActions } from '../components/incidents/IncidentActions';
import { IncidentChart } from '../components/incidents/IncidentChart';
import { IncidentTimeline } from '../components/incidents/IncidentTimeline';
import { SignalExplanations } from '../components/incidents/SignalExplanations';
import { StatusBadge, formatDuration, scopeLabel, signalFigures } from '../components/incidents/labels';

// long because it is one screen's markup with the state its parts share
export default function IncidentPage({ project, params }: PageProps) {
  const slug = project.slug;
  const id = Number(params.id);
  const detail = useIncident(slug, id);
  const members = useMembers(slug);
  const metrics = useMetricNames(slug);
  const canEdit = hasRole(project.role, 'editor');
  const tz = project.timeZone;
  const back = <Link to={projectUrl(slug, 'incidents')}>← All incidents</Link>;

  if (!Number.isInteger(id) || id < 1) return <PageHeader title="Incident not found" description={back} />;
  if (!detail.data) {
    return (
      <>
        <PageHeader title={`Incident ${id}`} description={back} />
        <QueryState loading={detail.isPending} error={detail.error} onRetry={() => void detail.refetch()}>
          {null}
        </QueryState>
      </>
    );
  }
  const { incident, signals, timeline } = detail.data;
  const assignee = members.data?.members.find((m) => m.userId === incident.assigneeId);
  /** metric:12 → the metric's name, when the catalog has it */
  const scopeName = (scopeKey: string, metricId: number | null) => {
    const m = metricId === null ? undefined : metrics.data?.find((x) => x.id === metricId);
    return m ? m.displayName || m.name : scopeLabel(scopeKey);
  };
  const end = incident.resolvedAt ? Date.parse(incident.resolvedAt) : Date.now();

  return (
    <>
      <PageHeader
        title={incident.title}
        description={
          <>
            {back} · incident {incident.id} · opened {formatAgo(incident.openedAt)} · times in {tz}
          </>
        }
        actions={
          <>
            <StatusBadge incident={incident} />
            <Badge tone={SEVERITY_TONE[incident.severity]}>{incident.severity}</Badge>
          </>
        }
      />
      <div className="split">
        <Card title="Around the incident">
          <IncidentChart slug={slug} detail={detail.data} timeZone={tz} />
        </Card>
        <Card title="Actions">
          <dl className="facts" style={{ display: 'grid', gridTemplateColumns: 'auto 1fr', gap: '0.25rem 1rem', margin: '0 0 0.75rem' }}>
            <dt className="muted">Status</dt>
            <dd style={{ margin: 0 }}>
              <StatusBadge incident={incident} />
            </dd>
            <dt className="muted">Scope</dt>
            <dd style={{ margin: 0 }}>
              {scopeName(incident.scopeKey, incident.metricId)}
              {incident.breakdown && <> · {incident.breakdown}</>}
              {incident.direction && <> · {incident.direction}</>}
            </dd>
            <dt className="muted">Buckets</dt>
            <dd style={{ margin: 0 }}>
              {formatTime(incident.startedBucket, tz, false)} – {formatTime(incident.lastBucket, tz, false)}
            </dd>
            <dt className="muted">Open for</dt>
            <dd style={{ margin: 0 }}>
              {formatDuration(end - Date.parse(incident.openedAt))}
              {incident.resolvedAt ? ' (resolved)' : ''}
            </dd>
            <dt className="muted">Assignee</dt>
            <dd style={{ margin: 0 }}>
              {incident.assigneeId === null ? 'nobody' : assignee ? assignee.name || assignee.email : `user ${incident.assigneeId}`}
            </dd>
          </dl>
          <IncidentActions slug={slug} incident={incident} members={members.data?.members} canEdit={canEdit} timeZone={tz} />
        </Card>
      </div>
      <Card title="Signals">
        <Table
          label="Signals"
          rows={signals}
          rowKey={(s) => String(s.signal.id)}
          empty="This incident has no signals."
          columns={[
            {
              header: 'Role',
              cell: (s) => <Badge tone={s.role === 'root' ? 'info' : 'neutral'}>{s.role.replace('_', ' ')}</Badge>,
              width: '7rem',
            },
            {
              header: 'Scope',
              cell: (s) =>
                s.signal.metricId !== null ? (
                  <Link to={projectUrl(slug, `metrics/${s.signal.metricId}`)}>{scopeName(s.signal.scopeKey, s.signal.metricId)}</Link>
                ) : (
                  scopeLabel(s.signal.scopeKey)
                ),
            },
            {
              header: 'Kind',
              cell: (s) => (
                <>
                  {s.signal.kind.replace('_', ' ')}
                  {s.signal.direction && <span className="muted"> · {s.signal.direction}</span>}
                </>
              ),
            },
            { header: 'When', cell: (s) => formatTime(s.signal.bucket, tz, false) },
            { header: 'Value', cell: (s) => signalFigures(s.signal) },
            { header: 'Score', cell: (s) => s.signal.score.toFixed(2), align: 'right' },
            { header: 'Severity', cell: (s) => <Badge tone={SEVERITY_TONE[s.signal.severity]}>{s.signal.severity}</Badge> },
          ]}
        />
      </Card>
      <Card title="Why it fired">
        <SignalExplanations signals={signals} />
      </Card>
      <Card title="Timeline">
        <IncidentTimeline
          slug={slug}
          incidentId={incident.id}
          timeline={timeline}
          members={members.data?.members}
          canComment={hasRole(project.role, 'viewer')}
          timeZone={tz}
        />
      </Card>
    </>
  );
}
