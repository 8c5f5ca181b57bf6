/** The alert rules: list (what they match, where they send, how often), create and edit with the simulator, delete. */
import { useState } from 'react';
import { formError } from '../../api/client';
import { useAlertRules, useDeleteRule, useDestinations, type AlertRule } from '../../api/alerts';
import { formatTime } from '../../app/format';
import { Badge } from '../Badge';
import { Button } from '../Button';
import { Card } from '../Card';
import { FormError } from '../Field';
import { Table } from '../Table';
import { formatDuration } from '../incidents/labels';
import { RuleForm } from './RuleForm';

function filtersText(r: AlertRule): string {
  const f = r.filters;
  const parts = [
    f.scopes.length ? f.scopes.join(' or ') : 'any kind',
    f.minSeverity !== 'info' && `${f.minSeverity}+`,
    f.direction !== 'any' && f.direction,
    f.metricNames.length && `metrics ${f.metricNames.join(', ')}`,
    f.metricTags.length && `tags ${f.metricTags.join(', ')}`,
    f.minPercentChange !== null && `≥ ${f.minPercentChange}%`,
    f.minAbsoluteChange !== null && `≥ ${f.minAbsoluteChange}`,
  ];
  return parts.filter(Boolean).join(' · ');
}

// long because it is one screen's markup with the state its parts share
export function RulesPanel({ slug, canEdit, timeZone }: { slug: string; canEdit: boolean; timeZone: string }) {
  const rules = useAlertRules(slug);
  const destinations = useDestinations(slug);
  const remove = useDeleteRule(slug);
  const [editing, setEditing] = useState<AlertRule | 'new' | null>(null);
  const nameOf = (id: number) => destinations.data?.destinations.find((d) => d.id === id)?.name ?? `#${id}`;

  return (
    <>
      {editing && (
        <Card title={editing === 'new' ? 'New alert rule' : `Edit ${editing.name}`}>
          <RuleForm
            key={editing === 'new' ? 'new' : editing.id}
            slug={slug}
            rule={editing === 'new' ? undefined : editing}
            destinations={destinations.data?.destinations ?? []}
            timeZone={timeZone}
            onDone={() => setEditing(null)}
          />
        </Card>
      )}
      <Card
        title="Alert rules"
        actions={
          canEdit &&
          !editing && (
            <Button size="small" variant="primary" onClick={() => setEditing('new')}>
              New rule
            </Button>
          )
        }
      >
        <FormError error={formError(remove.error)} />
        <Table<AlertRule>
          label="Alert rules"
          rows={rules.data?.rules}
          loading={rules.isPending}
          error={rules.error}
          onRetry={() => void rules.refetch()}
          rowKey={(r) => String(r.id)}
          empty={
            canEdit
              ? 'No alert rules yet. A rule says which incidents go to which destinations; try one in the simulator first.'
              : 'No alert rules yet.'
          }
          columns={[
            { header: 'Name', cell: (r) => <strong>{r.name}</strong> },
            {
              header: 'State',
              cell: (r) => (
                <span className="badges">
                  <Badge tone={r.enabled ? 'good' : 'neutral'}>{r.enabled ? 'enabled' : 'disabled'}</Badge>
                  {r.mutedUntil && Date.parse(r.mutedUntil) > Date.now() && (
                    <Badge tone="warn" title={r.mutedUntil}>
                      muted until {formatTime(r.mutedUntil, timeZone, false)}
                    </Badge>
                  )}
                </span>
              ),
            },
            { header: 'Incidents', cell: (r) => <span className="small">{filtersText(r)}</span> },
            { header: 'Destinations', cell: (r) => r.destinationIds.map(nameOf).join(', ') },
            {
              header: 'How often',
              cell: (r) => (
                <span className="small">
                  {r.digest ? `digest ${r.digest.cron}` : `cooldown ${formatDuration(r.cooldownMinutes * 60_000)}`}
                  {r.repeatEveryMinutes !== null && ` · repeat ${formatDuration(r.repeatEveryMinutes * 60_000)}`}
                  {r.notifyOnResolve && ' · on resolve'}
                </span>
              ),
            },
            {
              header: '',
              align: 'right',
              cell: (r) =>
                canEdit && (
                  <span className="badges">
                    <Button size="small" variant="ghost" onClick={() => setEditing(r)}>
                      Edit
                    </Button>
                    <Button
                      size="small"
                      variant="ghost"
                      busy={remove.isPending && remove.variables === r.id}
                      onClick={() => window.confirm(`Delete the rule "${r.name}"?`) && remove.mutate(r.id)}
                    >
                      Delete
                    </Button>
                  </span>
                ),
            },
          ]}
        />
      </Card>
    </>
  );
}
