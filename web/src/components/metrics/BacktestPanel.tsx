/**
 * The backtest panel of a metric page: a sensitivity (the metric's own, low, medium, high or a
 * custom |z|), a minimum number of samples and the period (the chart's window); "Run backtest" asks
 * the server what the live detector would have fired there, shown as a count, a list, and blue
 * marks on the chart.
 */
import { useId, useState, type FormEvent, type ReactNode } from 'react';
import { fieldError, formError } from '../../api/client';
import { SENSITIVITIES, type Backtest, type BacktestInput, type DetectionSettings } from '../../api/metrics';
import { formatTime } from '../../app/format';
import { Badge, SEVERITY_TONE } from '../Badge';
import { Button } from '../Button';
import { Field, FormError, TextField } from '../Field';
import { formatValue } from './format';

export type BacktestSettings = Pick<BacktestInput, 'sensitivity' | 'minExpected'>;

interface Props {
  /** what the metric itself uses (its settings; the project's defaults fill the rest) */
  own: DetectionSettings;
  /** the settings last run, or null: the metric's own, as live detection runs them */
  applied: BacktestSettings | null;
  onRun: (s: BacktestSettings | null) => void;
  result: Backtest | undefined;
  loading: boolean;
  error: unknown;
  /** the period control (the chart's window) */
  period: ReactNode;
  unit: string;
  timeZone: string;
}

const FIELDS = ['sensitivity', 'minExpected', 'from', 'to'];
type Choice = 'own' | (typeof SENSITIVITIES)[number] | 'custom';

// long because it is one screen's markup with the state its parts share
export function BacktestPanel({ own, applied, onRun, result, loading, error, period, unit, timeZone }: Props) {
  const id = useId();
  const initial = applied?.sensitivity;
  const [choice, setChoice] = useState<Choice>(initial === undefined ? 'own' : typeof initial === 'number' ? 'custom' : initial);
  const [z, setZ] = useState(typeof initial === 'number' ? String(initial) : '3.5');
  const [minExpected, setMinExpected] = useState(applied?.minExpected === undefined ? '' : String(applied.minExpected));

  const run = (e: FormEvent) => {
    e.preventDefault();
    const s: BacktestSettings = {};
    // an unparseable number goes as null: the server's message says what it takes
    if (choice === 'custom') s.sensitivity = Number(z);
    else if (choice !== 'own') s.sensitivity = choice;
    if (minExpected.trim() !== '') s.minExpected = Number(minExpected);
    onRun(Object.keys(s).length ? s : null);
  };

  const ownLabel =
    own.sensitivity === undefined
      ? "metric's own (project default)"
      : `metric's own (${typeof own.sensitivity === 'number' ? `|z| ≥ ${own.sensitivity}` : own.sensitivity})`;
  const metricSignals = result?.signals ?? [];
  return (
    <form className="backtest" onSubmit={run} aria-label="Backtest" noValidate>
      <div className="form-row">
        <Field
          label="Sensitivity"
          htmlFor={`${id}-sens`}
          error={choice !== 'custom' ? fieldError(error, 'sensitivity') : undefined}
          hint="low: |z| ≥ 5 · medium: ≥ 4 · high: ≥ 3"
        >
          <select id={`${id}-sens`} value={choice} onChange={(e) => setChoice(e.target.value as Choice)}>
            <option value="own">{ownLabel}</option>
            {SENSITIVITIES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
            <option value="custom">custom |z|</option>
          </select>
        </Field>
        {choice === 'custom' && (
          <TextField
            label="|z| threshold"
            type="number"
            step="0.1"
            min={1}
            max={20}
            value={z}
            onChange={(e) => setZ(e.target.value)}
            error={fieldError(error, 'sensitivity')}
          />
        )}
        <TextField
          label="Min. samples"
          type="number"
          min={0}
          value={minExpected}
          onChange={(e) => setMinExpected(e.target.value)}
          error={fieldError(error, 'minExpected')}
          placeholder={own.minExpected === undefined ? 'default' : String(own.minExpected)}
          hint="A bucket with fewer samples (events, denominator, rows) never fires on its own."
        />
      </div>
      <div className="field">
        <span className="field-label">Period</span>
        {period}
        {fieldError(error, 'from') && (
          <p className="field-error" role="alert">
            {fieldError(error, 'from')}
          </p>
        )}
      </div>
      <FormError error={formError(error, FIELDS)} />
      <div className="form-actions">
        <Button type="submit" variant="primary" busy={loading}>
          Run backtest
        </Button>
        {applied && (
          <Button
            variant="ghost"
            onClick={() => {
              setChoice('own');
              setMinExpected('');
              onRun(null);
            }}
          >
            Back to the metric's settings
          </Button>
        )}
      </div>
      {result && (
        <div className="backtest-result" aria-live="polite">
          <p>
            <strong data-testid="backtest-count">
              {result.count} signal{result.count === 1 ? '' : 's'} would have fired
            </strong>{' '}
            in this window at |z| ≥ {result.threshold}
            (buckets with fewer than {result.minExpected} samples never fire on their own)
            {applied ? '; they are the blue marks on the chart.' : ', as live detection runs it.'}
          </p>
          {metricSignals.length > 0 && (
            <table className="table compact" aria-label="Backtest signals">
              <thead>
                <tr>
                  <th>Bucket</th>
                  <th>Kind</th>
                  <th>Severity</th>
                  <th style={{ textAlign: 'right' }}>Value</th>
                  <th style={{ textAlign: 'right' }}>z</th>
                </tr>
              </thead>
              <tbody>
                {metricSignals.map((s, i) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: a backtest's signals are a fixed list, read only
                  <tr key={i}>
                    <td>
                      {formatTime(s.bucket, timeZone, false)}
                      {s.endBucket !== s.bucket && <span className="muted"> → {formatTime(s.endBucket, timeZone, false)}</span>}
                    </td>
                    <td>
                      {s.direction === 'up' ? '↑ ' : s.direction === 'down' ? '↓ ' : ''}
                      {s.kind.replace(/_/g, ' ')}
                    </td>
                    <td>
                      <Badge tone={SEVERITY_TONE[s.severity] ?? 'neutral'}>{s.severity}</Badge>
                    </td>
                    <td style={{ textAlign: 'right' }}>{formatValue(s.value, unit)}</td>
                    <td style={{ textAlign: 'right' }}>{s.z === null ? '–' : s.z.toFixed(1)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      )}
    </form>
  );
}
