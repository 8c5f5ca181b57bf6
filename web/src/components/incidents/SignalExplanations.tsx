/** Why each signal of an incident fired: observed, expected, band, sample size, detector or rule, and the sentence. */
import type { IncidentDetail } from '../../api/incidents';
import { Badge } from '../Badge';

const facts = { display: 'grid', gridTemplateColumns: 'auto 1fr', gap: '0.15rem 1rem', margin: '0.25rem 0 0' } as const;

export function SignalExplanations({ signals }: { signals: IncidentDetail['signals'] }) {
  if (!signals.length) return <p className="muted">This incident has no signals.</p>;
  return (
    <ul style={{ listStyle: 'none', padding: 0, margin: 0, display: 'grid', gap: '0.9rem' }} aria-label="Why the signals fired">
      {signals.map(({ signal, role, explanation: e }) => (
        <li key={signal.id} data-signal={signal.id}>
          <p style={{ margin: 0 }}>
            <Badge tone={role === 'root' ? 'info' : 'neutral'}>{role.replace('_', ' ')}</Badge> <strong>{e.subject}</strong>
          </p>
          <p className="explanation" style={{ margin: '0.25rem 0 0' }}>
            {e.sentence}
          </p>
          <dl style={facts}>
            <dt className="muted">Observed</dt>
            <dd style={{ margin: 0 }}>{e.observed}</dd>
            <dt className="muted">Expected</dt>
            <dd style={{ margin: 0 }}>{e.expected ?? '–'}</dd>
            <dt className="muted">Band</dt>
            <dd style={{ margin: 0 }}>{e.band ?? '–'}</dd>
            <dt className="muted">Sample size</dt>
            <dd style={{ margin: 0 }}>{e.samples === null ? 'not recorded' : e.samples.toLocaleString('en-US')}</dd>
            <dt className="muted">Detector</dt>
            <dd style={{ margin: 0 }}>{e.detector}</dd>
          </dl>
        </li>
      ))}
    </ul>
  );
}
