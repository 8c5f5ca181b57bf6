/**
 * The project's detection defaults: sensitivity, minimum volume and settling time, for every
 * metric that does not set its own (and for event-volume detection). An empty field falls back to
 * the detector's default, shown as its placeholder.
 */
import { useEffect, useId, useState, type FormEvent } from 'react';
import { fieldError, formError } from '../../api/client';
import { describeSettling, useDetection, useSaveDetection, type ProjectDetection } from '../../api/detection';
import { Button } from '../Button';
import { Card } from '../Card';
import { Field, FormError, TextField } from '../Field';
import { QueryState } from '../States';

const FIELDS = ['enabled', 'sensitivity', 'minExpected', 'settlingMinutes'];
const LEVELS = ['low', 'medium', 'high'] as const;

interface Form {
  enabled: boolean;
  /** '' (the default), a level, or 'custom' with `z` */
  level: string;
  z: string;
  minExpected: string;
  settlingMinutes: string;
}

const formOf = (s: ProjectDetection): Form => ({
  enabled: s.enabled ?? true,
  level: typeof s.sensitivity === 'number' ? 'custom' : (s.sensitivity ?? ''),
  z: typeof s.sensitivity === 'number' ? String(s.sensitivity) : '',
  minExpected: s.minExpected === undefined ? '' : String(s.minExpected),
  settlingMinutes: s.settlingMinutes === undefined ? '' : String(s.settlingMinutes),
});

/** Empty fields are left out (the default applies); a number field holds what was typed, for the server to judge. */
function settingsOf(f: Form): ProjectDetection {
  const out: ProjectDetection = {};
  if (!f.enabled) out.enabled = false;
  if (f.level === 'custom') out.sensitivity = Number(f.z);
  else if (f.level) out.sensitivity = f.level as (typeof LEVELS)[number];
  if (f.minExpected.trim()) out.minExpected = Number(f.minExpected);
  if (f.settlingMinutes.trim()) out.settlingMinutes = Number(f.settlingMinutes);
  return out;
}

// long because it is one screen's markup with the state its parts share
export function DetectionDefaults({ slug, canEdit }: { slug: string; canEdit: boolean }) {
  const detection = useDetection(slug);
  const save = useSaveDetection(slug);
  const [form, setForm] = useState<Form | null>(null);
  useEffect(() => {
    if (detection.data) setForm(formOf(detection.data.settings));
  }, [detection.data]);
  const set = (patch: Partial<Form>) => setForm((f) => f && { ...f, ...patch });
  const defaults = detection.data?.defaults;
  const effective = detection.data?.effective;
  const id = useId();

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (form) save.mutate(settingsOf(form));
  };

  return (
    <Card title="Detection defaults">
      <QueryState loading={!form} error={detection.error} onRetry={() => void detection.refetch()}>
        {form && defaults && (
          <form onSubmit={submit} aria-label="Detection defaults" noValidate style={{ maxWidth: '36rem' }}>
            <p className="muted small">
              For every metric of this project that does not set its own, and for event-volume detection. An empty field uses the default
              shown in it.
            </p>
            <label className="check">
              <input type="checkbox" checked={form.enabled} disabled={!canEdit} onChange={(e) => set({ enabled: e.target.checked })} />{' '}
              watch metrics for anomalies
            </label>
            {fieldError(save.error, 'enabled') && (
              <p className="field-error" role="alert">
                {fieldError(save.error, 'enabled')}
              </p>
            )}
            <Field
              label="Sensitivity"
              htmlFor={`${id}-sensitivity`}
              error={form.level !== 'custom' ? fieldError(save.error, 'sensitivity') : undefined}
              hint="How unusual a bucket must be to be flagged: low (|z| ≥ 5), medium (≥ 4), high (≥ 3), or your own |z| from 1 to 20."
            >
              <select id={`${id}-sensitivity`} value={form.level} disabled={!canEdit} onChange={(e) => set({ level: e.target.value })}>
                <option value="">Default ({defaults.sensitivity})</option>
                {LEVELS.map((l) => (
                  <option key={l} value={l}>
                    {l}
                  </option>
                ))}
                <option value="custom">custom |z|</option>
              </select>
            </Field>
            {form.level === 'custom' && (
              <TextField
                label="|z| threshold"
                type="number"
                step="any"
                value={form.z}
                disabled={!canEdit}
                onChange={(e) => set({ z: e.target.value })}
                error={fieldError(save.error, 'sensitivity')}
              />
            )}
            <TextField
              label="Minimum samples"
              type="number"
              step="any"
              placeholder={String(defaults.minExpected)}
              value={form.minExpected}
              disabled={!canEdit}
              onChange={(e) => set({ minExpected: e.target.value })}
              error={fieldError(save.error, 'minExpected')}
              hint="A bucket with fewer samples behind it (events, a ratio's denominator, a sum's rows) never fires on its own; a run of them can."
            />
            <TextField
              label="Settling time (minutes)"
              type="number"
              placeholder={String(defaults.settlingMinutes)}
              value={form.settlingMinutes}
              disabled={!canEdit}
              onChange={(e) => set({ settlingMinutes: e.target.value })}
              error={fieldError(save.error, 'settlingMinutes')}
              hint="The newest buckets wait this long for late events before they are judged. Left empty: 0 for pushed measurements, and for events how late they actually arrive (the p99 over the last day, at most 120)."
            />
            {effective && (
              <p className="muted small" data-testid="settling-in-force">
                In force: events {describeSettling(effective.events)} · pushed measurements {describeSettling(effective.pushed)}
              </p>
            )}
            <FormError error={formError(save.error, FIELDS)} />
            {save.isSuccess && (
              <p className="muted small" role="status">
                Saved.
              </p>
            )}
            {canEdit ? (
              <div style={{ marginTop: '1rem' }}>
                <Button type="submit" variant="primary" busy={save.isPending}>
                  Save
                </Button>
              </div>
            ) : (
              <p className="muted small">Only owners can change the detection defaults.</p>
            )}
          </form>
        )}
      </QueryState>
    </Card>
  );
}
