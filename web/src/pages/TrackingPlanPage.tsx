/** Tracking plan: the events the project receives, their properties and types, volumes, first and last seen, and schema-drift marks. */
import { Fragment, useState } from 'react';
import { useTrackingPlan } from '../api/analytics';
import type { DriftMark, PlanEvent } from '../api/types';
import type { PageProps } from '../app/routes';
import { useSearchParam } from '../app/router';
import { formatDay, formatNumber, formatPercent } from '../app/format';
import { Badge, Card, PageHeader, QueryState, SEVERITY_TONE, Sparkline } from '../components';

const DAYS = [7, 30, 90];

// long because it is one screen's markup with the state its parts share
export default function TrackingPlanPage({ project }: PageProps) {
  const [daysParam, setDays] = useSearchParam('days');
  const days = DAYS.includes(Number(daysParam)) ? Number(daysParam) : 30;
  const plan = useTrackingPlan(project.slug, days);
  const [open, setOpen] = useState<string | null>(null);
  const events = plan.data?.events;

  return (
    <>
      <PageHeader
        title="Tracking plan"
        description="Events as discovered from what arrives: their properties and types, volumes, and what changed (schema drift, checked daily)."
        actions={
          <div className="segmented" role="group" aria-label="Days">
            {DAYS.map((d) => (
              <button key={d} type="button" aria-pressed={d === days} onClick={() => setDays(d === 30 ? '' : String(d))}>
                {d} days
              </button>
            ))}
          </div>
        }
      />
      <Card>
        <QueryState
          loading={plan.isPending}
          error={plan.error}
          onRetry={() => void plan.refetch()}
          empty={events?.length === 0 && `No events in the last ${days} days.`}
        >
          <div className="table-wrap">
            <table className="table" aria-label="Tracking plan">
              <thead>
                <tr>
                  <th>Event</th>
                  <th style={{ textAlign: 'right' }}>Volume</th>
                  <th>Daily</th>
                  <th style={{ textAlign: 'right' }}>Properties</th>
                  <th>First seen</th>
                  <th>Last seen</th>
                  <th>Drift</th>
                </tr>
              </thead>
              <tbody>
                {events?.map((e) => (
                  <Fragment key={e.event}>
                    <tr
                      className={open === e.event ? 'clickable selected' : 'clickable'}
                      tabIndex={0}
                      aria-expanded={open === e.event}
                      onClick={() => setOpen(open === e.event ? null : e.event)}
                      onKeyDown={(k) => {
                        if (k.key !== 'Enter' && k.key !== ' ') return;
                        k.preventDefault();
                        setOpen(open === e.event ? null : e.event);
                      }}
                    >
                      <td>
                        <strong>{e.event}</strong>
                      </td>
                      <td style={{ textAlign: 'right' }}>{formatNumber(e.count)}</td>
                      <td>
                        <Sparkline values={e.daily} label={`${e.event} per day`} />
                      </td>
                      <td style={{ textAlign: 'right' }}>{e.properties.length}</td>
                      <td>{e.firstSeen ? formatDay(e.firstSeen, project.timeZone) : '–'}</td>
                      <td>{e.lastSeen ? formatDay(e.lastSeen, project.timeZone) : '–'}</td>
                      <td>
                        <DriftBadges marks={e.drift} />
                      </td>
                    </tr>
                    {open === e.event && (
                      <tr className="detail-row">
                        <td colSpan={7}>
                          <EventDetail event={e} timeZone={project.timeZone} />
                        </td>
                      </tr>
                    )}
                  </Fragment>
                ))}
              </tbody>
            </table>
          </div>
          {plan.data && (
            <p className="muted small">
              First and last seen are days within the window. The profile covers the {plan.data.limits.events} busiest events and{' '}
              {plan.data.limits.propertiesPerEvent} properties each; properties starting with $ (set by SDKs) are left out.
            </p>
          )}
        </QueryState>
      </Card>
    </>
  );
}

function DriftBadges({ marks }: { marks: DriftMark[] }) {
  if (!marks.length) return <span className="muted">–</span>;
  const counts = new Map<string, { n: number; severity: string }>();
  for (const m of marks) {
    const c = counts.get(m.kind) ?? { n: 0, severity: m.severity };
    c.n++;
    counts.set(m.kind, c);
  }
  return (
    <span className="badges">
      {[...counts].map(([kind, c]) => (
        <Badge
          key={kind}
          tone={SEVERITY_TONE[c.severity]}
          title={marks
            .filter((m) => m.kind === kind)
            .map((m) => m.detail)
            .join('\n')}
        >
          {kind.replace(/_/g, ' ')}
          {c.n > 1 ? ` ×${c.n}` : ''}
        </Badge>
      ))}
    </span>
  );
}

function EventDetail({ event, timeZone }: { event: PlanEvent; timeZone: string }) {
  return (
    <div className="plan-detail">
      {event.properties.length === 0 ? (
        <p className="muted">No properties (besides those set by SDKs).</p>
      ) : (
        <table className="table compact" aria-label={`Properties of ${event.event}`}>
          <thead>
            <tr>
              <th>Property</th>
              <th>Type</th>
              <th style={{ textAlign: 'right' }}>On events</th>
              <th style={{ textAlign: 'right' }}>Distinct</th>
              <th>Values</th>
              <th>Drift</th>
            </tr>
          </thead>
          <tbody>
            {event.properties.map((p) => (
              <tr key={p.name}>
                <td>
                  <code>{p.name}</code>
                </td>
                <td
                  title={Object.entries(p.types)
                    .map(([t, n]) => `${t}: ${n}`)
                    .join(', ')}
                >
                  {p.type === 'mixed' ? <Badge tone="warn">mixed</Badge> : p.type}
                </td>
                <td style={{ textAlign: 'right' }}>{formatPercent(p.coverage)}</td>
                <td style={{ textAlign: 'right' }}>{formatNumber(p.distinct)}</td>
                <td>
                  {p.values ? (
                    <span className="truncate">{p.values.map((v) => v.value).join(', ')}</span>
                  ) : (
                    <span className="muted">many</span>
                  )}
                </td>
                <td>
                  <DriftBadges marks={p.drift} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {event.drift.length > 0 && (
        <ul className="drift-list">
          {event.drift.map((m) => (
            <li key={m.signalId}>
              <Badge tone={SEVERITY_TONE[m.severity]}>{m.kind.replace(/_/g, ' ')}</Badge> {formatDay(m.day, timeZone)}: {m.detail}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
