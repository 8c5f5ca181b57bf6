/**
 * "What would this rule have sent?": the draft against the incidents of the last N days (sends
 * nothing): the total, per day, why the others were left out, and the alerts one by one.
 */
import { useState, type KeyboardEvent } from 'react';
import { fieldError, formError } from '../../api/client';
import { useSimulateRule, type RuleInput, type Simulation } from '../../api/alerts';
import { formatDay, formatTime } from '../../app/format';
import { Badge } from '../Badge';
import { Button } from '../Button';
import { FormError, TextField } from '../Field';
import { Table } from '../Table';

/** the rule form's own fields: a simulator error about one of them shows here, at the simulator */
const DRAFT_FIELDS = ['days'];

export function RuleSimulator({ slug, draft, timeZone }: { slug: string; draft: () => RuleInput; timeZone: string }) {
  const simulate = useSimulateRule(slug);
  const [days, setDays] = useState('14');
  const run = () => simulate.mutate({ input: draft(), days: Number(days) });
  const enter = (e: KeyboardEvent) => {
    // Enter here runs the simulator, not the rule form around it
    if (e.key === 'Enter') {
      e.preventDefault();
      run();
    }
  };
  const result = simulate.data;

  return (
    <section aria-label="Simulator" style={{ borderTop: '1px solid var(--border)', marginTop: '1.25rem', paddingTop: '0.5rem' }}>
      <h3 style={{ fontSize: '1rem', margin: '0.5rem 0 0' }}>Simulator</h3>
      <p className="muted small" style={{ margin: 0 }}>
        Runs the settings above against the incidents of the last days. Sends nothing.
      </p>
      <div style={{ display: 'flex', gap: '0.5rem', alignItems: 'flex-start', flexWrap: 'wrap' }}>
        <div style={{ width: '10rem' }}>
          <TextField
            label="Days"
            type="number"
            min={1}
            max={90}
            value={days}
            onChange={(e) => setDays(e.target.value)}
            onKeyDown={enter}
            error={fieldError(simulate.error, 'days')}
          />
        </div>
        <Button style={{ marginTop: '2.25rem' }} busy={simulate.isPending} onClick={run}>
          Simulate
        </Button>
      </div>
      {/* a 400 about a rule field (name, filters, …) is the same as the save's: shown here as well */}
      <FormError error={formError(simulate.error, DRAFT_FIELDS)} />
      {result && <SimulationResult result={result} timeZone={timeZone} />}
    </section>
  );
}

// long because it is one screen's markup with the state its parts share
function SimulationResult({ result, timeZone }: { result: Simulation; timeZone: string }) {
  const max = Math.max(1, ...result.perDay.map((d) => d.alerts));
  const filtered = Object.entries(result.filteredOut).filter(([, n]) => n > 0);
  return (
    <div aria-label="Simulation result" role="region" style={{ display: 'grid', gap: '0.75rem', marginTop: '0.75rem' }}>
      <div className="grid stats">
        <section className="card stat" aria-label="Alerts">
          <div className="stat-label">Alerts it would have sent</div>
          <div className="stat-value" data-testid="simulated-total">
            {result.total}
          </div>
          <div className="muted small">
            {formatDay(result.from, timeZone)} – {formatDay(result.to, timeZone)}
          </div>
        </section>
        <section className="card stat" aria-label="Incidents matched">
          <div className="stat-label">Incidents matched</div>
          <div className="stat-value">
            {result.matched} <span className="muted small">of {result.incidents}</span>
          </div>
          <div className="muted small">{result.suppressedByCooldown} held back by the cooldown</div>
        </section>
      </div>
      {filtered.length > 0 && (
        <p className="small" style={{ margin: 0 }}>
          Left out:{' '}
          {filtered.map(([why, n]) => (
            <Badge key={why}>
              {why}: {n}
            </Badge>
          ))}
        </p>
      )}
      {Object.keys(result.byEvent).length > 0 && (
        <p className="small" style={{ margin: 0 }}>
          By event:{' '}
          {Object.entries(result.byEvent).map(([e, n]) => (
            <Badge key={e} tone="info">
              {e}: {n}
            </Badge>
          ))}
        </p>
      )}
      <div aria-label="Alerts per day" role="img" style={{ display: 'flex', alignItems: 'flex-end', gap: 2, height: 64 }}>
        {result.perDay.map((d) => (
          <div
            key={d.day}
            title={`${d.day}: ${d.alerts} alert${d.alerts === 1 ? '' : 's'}`}
            style={{
              flex: 1,
              minWidth: 3,
              height: `${Math.max(2, (d.alerts / max) * 100)}%`,
              background: d.alerts ? 'var(--accent)' : 'var(--border)',
              borderRadius: 2,
            }}
          />
        ))}
      </div>
      <Table
        label="Simulated alerts"
        rows={result.alerts}
        rowKey={(a) => `${a.event}-${a.incidentId}-${a.at}`}
        empty="It would have sent nothing in these days."
        columns={[
          { header: 'When', cell: (a) => formatTime(a.at, timeZone, false), width: '9rem' },
          {
            header: 'Event',
            cell: (a) => <Badge tone={a.event === 'resolved' ? 'good' : a.event === 'opened' ? 'bad' : 'info'}>{a.event}</Badge>,
          },
          {
            header: 'Incident',
            cell: (a) => (
              <>
                {a.title}
                {a.incidents ? <span className="muted"> ({a.incidents} incidents)</span> : null}
              </>
            ),
          },
          { header: 'Scope', cell: (a) => <span className="muted">{a.scopeKey}</span> },
        ]}
      />
    </div>
  );
}
