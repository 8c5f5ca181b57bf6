/** Monitors: a metric's threshold rules (list, add, edit, enable, delete), its anomaly-detection sensitivity, and every rule of the project. */
import { useState } from 'react';
import { canEdit, useMetric, useMetrics, type Metric } from '../api/metrics';
import { describeCondition, useDeleteRule, useProjectRules, useRules, useUpdateRule, type ThresholdRule } from '../api/monitors';
import type { PageProps } from '../app/routes';
import { projectUrl } from '../app/routes';
import { Link, useSearchParam } from '../app/router';
import { formatAgo } from '../app/format';
import { Badge, Button, Card, Empty, ErrorState, FormError, Loading, PageHeader, SEVERITY_TONE, Table } from '../components';
import { DetectionForm } from '../components/metrics/DetectionForm';
import { RuleForm } from '../components/metrics/RuleForm';
import '../components/metrics/metrics.css';

export default function MonitorsPage({ project }: PageProps) {
  const slug = project.slug;
  const metrics = useMetrics(slug);
  const [metricParam, setMetricParam] = useSearchParam('metric');
  const list = metrics.data?.metrics.filter((m) => m.status !== 'archived' || String(m.id) === metricParam) ?? [];
  const chosen = list.find((m) => String(m.id) === metricParam) ?? list[0];

  return (
    <>
      <PageHeader
        title="Monitors"
        description="What watches each metric: threshold rules (a line it must not cross) and anomaly detection (a change against its own rhythm)."
        actions={
          list.length > 0 && (
            <label className="inline-select">
              <span>Metric</span>
              <select aria-label="Metric" value={chosen ? String(chosen.id) : ''} onChange={(e) => setMetricParam(e.target.value)}>
                {list.map((m) => (
                  <option key={m.id} value={m.id}>
                    {m.displayName}
                    {m.status !== 'active' ? ` (${m.status})` : ''}
                  </option>
                ))}
              </select>
            </label>
          )
        }
      />
      {metrics.error ? (
        <ErrorState error={metrics.error} onRetry={() => void metrics.refetch()} />
      ) : metrics.isPending ? (
        <Loading />
      ) : !chosen ? (
        <Empty>
          No metrics to watch yet. <Link to={projectUrl(slug, 'metrics/new')}>Define one</Link> first.
        </Empty>
      ) : (
        <div className="grid">
          <MetricMonitors key={chosen.id} project={project} metricId={chosen.id} />
          <AllRules slug={slug} metrics={metrics.data?.metrics ?? []} onChoose={(id) => setMetricParam(String(id))} />
        </div>
      )}
    </>
  );
}

/** Every threshold rule of the project in one list; a metric's name chooses it above. */
function AllRules({ slug, metrics, onChoose }: { slug: string; metrics: Metric[]; onChoose: (metricId: number) => void }) {
  const rules = useProjectRules(slug);
  const metricOf = (id: number) => metrics.find((m) => m.id === id);
  return (
    <Card title="Every rule of the project">
      <Table<ThresholdRule>
        label="Every rule of the project"
        rows={rules.data?.rules}
        loading={rules.isPending}
        error={rules.error}
        onRetry={() => void rules.refetch()}
        rowKey={(r) => String(r.id)}
        empty="No threshold rules in this project yet."
        columns={[
          {
            header: 'Metric',
            cell: (r) => {
              const m = metricOf(r.metricId);
              return (
                <button type="button" className="link-button" onClick={() => onChoose(r.metricId)}>
                  {m ? m.displayName : `metric ${r.metricId}`}
                </button>
              );
            },
          },
          { header: 'Rule', cell: (r) => <strong>{r.name}</strong> },
          { header: 'Condition', cell: (r) => <RuleCondition rule={r} unit={metricOf(r.metricId)?.unit ?? ''} /> },
          { header: 'Severity', cell: (r) => <RuleSeverity rule={r} /> },
          { header: 'State', cell: (r) => <RuleState rule={r} /> },
        ]}
      />
    </Card>
  );
}

function RuleCondition({ rule: r, unit }: { rule: ThresholdRule; unit: string }) {
  return (
    <span>
      {describeCondition(r.rule.condition, unit)}
      {(r.rule.forBuckets ?? 1) > 1 && <> for {r.rule.forBuckets} buckets</>}
      {r.rule.recovery && (
        <span className="muted small">
          <br />
          recovers when {describeCondition(r.rule.recovery, unit)}
          {(r.rule.recoverFor ?? 1) > 1 && <> for {r.rule.recoverFor} buckets</>}
        </span>
      )}
    </span>
  );
}

function RuleSeverity({ rule: r }: { rule: ThresholdRule }) {
  return <Badge tone={SEVERITY_TONE[r.rule.severity] ?? 'neutral'}>{r.rule.severity}</Badge>;
}

function RuleState({ rule: r }: { rule: ThresholdRule }) {
  if (!r.enabled) return <Badge>disabled</Badge>;
  if (r.breached) return <Badge tone="bad">breached</Badge>;
  return (
    <span title={r.evaluatedUntil ?? undefined}>
      <Badge tone="good">ok</Badge>{' '}
      <span className="muted small">{r.evaluatedUntil ? `checked ${formatAgo(r.evaluatedUntil)}` : 'not evaluated yet'}</span>
    </span>
  );
}

// long because it is one screen's markup with the state its parts share
function MetricMonitors({ project, metricId }: { project: PageProps['project']; metricId: number }) {
  const slug = project.slug;
  const metric = useMetric(slug, metricId);
  const rules = useRules(slug, metricId);
  const update = useUpdateRule(slug, metricId);
  const remove = useDeleteRule(slug, metricId);
  const [editing, setEditing] = useState<ThresholdRule | 'new' | null>(null);
  const editor = canEdit(project.role);
  const m = metric.data;
  const unit = m?.unit ?? '';

  return (
    <div className="grid">
      <Card
        title={
          <>
            Threshold rules
            {m && (
              <>
                {' '}
                of <Link to={projectUrl(slug, `metrics/${m.id}`)}>{m.displayName}</Link>
              </>
            )}
          </>
        }
        actions={
          editor &&
          editing === null && (
            <Button variant="primary" onClick={() => setEditing('new')}>
              New rule
            </Button>
          )
        }
      >
        {editing !== null && (
          <div className="rule-editor">
            <RuleForm
              key={editing === 'new' ? 'new' : editing.id}
              slug={slug}
              metricId={metricId}
              rule={editing === 'new' ? undefined : editing}
              onDone={() => setEditing(null)}
            />
          </div>
        )}
        <Table<ThresholdRule>
          label="Threshold rules"
          rows={rules.data?.rules}
          loading={rules.isPending}
          error={rules.error}
          onRetry={() => void rules.refetch()}
          rowKey={(r) => String(r.id)}
          empty="No threshold rules on this metric. A rule fires when the value (or its % change) crosses a line for some buckets."
          columns={[
            { header: 'Rule', cell: (r) => <strong>{r.name}</strong> },
            { header: 'Condition', cell: (r) => <RuleCondition rule={r} unit={unit} /> },
            { header: 'Severity', cell: (r) => <RuleSeverity rule={r} /> },
            { header: 'State', cell: (r) => <RuleState rule={r} /> },
            ...(editor
              ? [
                  {
                    header: '',
                    align: 'right' as const,
                    cell: (r: ThresholdRule) => (
                      <span className="row-actions">
                        <Button size="small" onClick={() => update.mutate({ id: r.id, enabled: !r.enabled })} disabled={update.isPending}>
                          {r.enabled ? 'Disable' : 'Enable'}
                        </Button>
                        <Button size="small" onClick={() => setEditing(r)}>
                          Edit
                        </Button>
                        <Button
                          size="small"
                          variant="ghost"
                          aria-label={`Delete rule ${r.name}`}
                          onClick={() => window.confirm(`Delete the rule "${r.name}"? The signals it raised stay.`) && remove.mutate(r.id)}
                        >
                          Delete
                        </Button>
                      </span>
                    ),
                  },
                ]
              : []),
          ]}
        />
        <FormError error={(update.error ?? remove.error)?.message} />
      </Card>
      <Card title="Anomaly detection">
        {metric.error ? (
          <ErrorState error={metric.error} onRetry={() => void metric.refetch()} />
        ) : !m ? (
          <Loading />
        ) : (
          <>
            <DetectionForm slug={slug} metric={m} readOnly={!editor} />
            <p className="muted small">
              See what a sensitivity would have fired with the{' '}
              <Link to={projectUrl(slug, `metrics/${m.id}`)}>backtest on the metric's page</Link>.
            </p>
          </>
        )}
      </Card>
    </div>
  );
}
