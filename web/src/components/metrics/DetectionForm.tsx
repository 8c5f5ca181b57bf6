/** A metric's anomaly-detection settings (PATCH …/metrics/:id `detection`, replaced as a whole); the server's messages next to their fields. */
import { useId, useState, type FormEvent } from 'react';
import { fieldError, formError } from '../../api/client';
import { SENSITIVITIES, useUpdateMetric, type DetectionSettings, type Metric } from '../../api/metrics';
import { describeSettling, useMetricDetection } from '../../api/detection';
import { Button } from '../Button';
import { Field, FormError, TextField } from '../Field';

type Choice = 'default' | (typeof SENSITIVITIES)[number] | 'custom';
const FIELDS = ['detection.enabled', 'detection.sensitivity', 'detection.minExpected', 'detection.settlingMinutes'];

// long because it is one screen's markup with the state its parts share
export function DetectionForm({ slug, metric, readOnly }: { slug: string; metric: Metric; readOnly: boolean }) {
  const d = metric.detection;
  const update = useUpdateMetric(slug, metric.id);
  const [enabled, setEnabled] = useState(d.enabled !== false);
  const [choice, setChoice] = useState<Choice>(
    d.sensitivity === undefined ? 'default' : typeof d.sensitivity === 'number' ? 'custom' : d.sensitivity,
  );
  const [z, setZ] = useState(typeof d.sensitivity === 'number' ? String(d.sensitivity) : '3.5');
  const [minExpected, setMinExpected] = useState(d.minExpected === undefined ? '' : String(d.minExpected));
  const [settling, setSettling] = useState(d.settlingMinutes === undefined ? '' : String(d.settlingMinutes));
  const effective = useMetricDetection(slug, metric.id);
  const id = useId();

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const detection: DetectionSettings = {};
    if (!enabled) detection.enabled = false;
    // a number as typed ('' or junk as NaN → null): the server's message says what it takes
    if (choice === 'custom') detection.sensitivity = Number(z.trim() === '' ? NaN : z);
    else if (choice !== 'default') detection.sensitivity = choice;
    if (minExpected.trim() !== '') detection.minExpected = Number(minExpected);
    if (settling.trim() !== '') detection.settlingMinutes = Number(settling);
    update.mutate({ detection }, { onSuccess: () => void effective.refetch() });
  };

  const error = update.error;
  return (
    <form onSubmit={submit} aria-label="Anomaly detection" noValidate>
      <label className="check">
        <input type="checkbox" checked={enabled} disabled={readOnly} onChange={(e) => setEnabled(e.target.checked)} /> watch this metric for
        anomalies
      </label>
      {fieldError(error, 'detection.enabled') && (
        <p className="field-error" role="alert">
          {fieldError(error, 'detection.enabled')}
        </p>
      )}
      <div className="form-row">
        <Field
          label="Sensitivity"
          htmlFor={`${id}-sens`}
          error={choice !== 'custom' ? fieldError(error, 'detection.sensitivity') : undefined}
          hint="low: |z| ≥ 5 · medium: ≥ 4 · high: ≥ 3 (more signals)"
        >
          <select id={`${id}-sens`} value={choice} disabled={readOnly} onChange={(e) => setChoice(e.target.value as Choice)}>
            <option value="default">project default</option>
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
            value={z}
            disabled={readOnly}
            onChange={(e) => setZ(e.target.value)}
            error={fieldError(error, 'detection.sensitivity')}
          />
        )}
        <TextField
          label="Min. samples"
          type="number"
          value={minExpected}
          disabled={readOnly}
          onChange={(e) => setMinExpected(e.target.value)}
          error={fieldError(error, 'detection.minExpected')}
          placeholder="project default"
          hint="A bucket with fewer samples (events, denominator, rows) never fires on its own."
        />
        <TextField
          label="Settling (minutes)"
          type="number"
          value={settling}
          disabled={readOnly}
          onChange={(e) => setSettling(e.target.value)}
          error={fieldError(error, 'detection.settlingMinutes')}
          placeholder="project default"
          hint={
            effective.data
              ? `In force: ${describeSettling(effective.data.effective.settling)}`
              : 'How long the newest buckets wait for late events.'
          }
        />
      </div>
      <FormError error={formError(error, FIELDS)} />
      {!readOnly && (
        <div className="form-actions">
          <Button type="submit" variant="primary" busy={update.isPending}>
            Save detection
          </Button>
          {update.isSuccess && (
            <span className="muted" role="status">
              Saved.
            </span>
          )}
        </div>
      )}
    </form>
  );
}
