/**
 * Create or edit an alert rule: which incidents (filters), where to (destinations), how often
 * (cooldown, repeat, notify on resolve, digest cron), mute until; and the simulator, which runs
 * the draft against the last N days without sending anything.
 */
import { useState, type FormEvent } from 'react';
import { fieldError, formError } from '../../api/client';
import { DIRECTIONS, SCOPE_KINDS, useSaveRule, type AlertRule, type Destination, type RuleInput } from '../../api/alerts';
import { SEVERITIES } from '../../../../src/detect/severity';
import { useMetricNames } from '../../api/incidents';
import { Button } from '../Button';
import { Field, FormError, TextField } from '../Field';
import { RuleSimulator } from './RuleSimulator';

const FIELDS = [
  'name',
  'enabled',
  'mutedUntil',
  'filters',
  'destinationIds',
  'cooldownMinutes',
  'repeatEveryMinutes',
  'notifyOnResolve',
  'digest',
];

const list = (text: string) =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
/** '' → null; else the number ('x' stays NaN, which the server refuses with its message) */
const numberOrNull = (text: string) => (text.trim() === '' ? null : Number(text));
/** ISO ↔ `<input type=datetime-local>` in the browser's zone */
const toLocalInput = (iso: string | null) => {
  if (!iso) return '';
  const d = new Date(iso);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
};

function Checkbox({ label, checked, onChange }: { label: string; checked: boolean; onChange: (checked: boolean) => void }) {
  return (
    <label style={{ display: 'inline-flex', gap: '0.35rem', alignItems: 'center', marginRight: '1rem', fontWeight: 400 }}>
      <input type="checkbox" style={{ width: 'auto' }} checked={checked} onChange={(e) => onChange(e.target.checked)} /> {label}
    </label>
  );
}

// long because it is one screen's markup with the state its parts share
export function RuleForm({
  slug,
  rule,
  destinations,
  timeZone,
  onDone,
}: {
  slug: string;
  rule?: AlertRule;
  destinations: Destination[];
  timeZone: string;
  onDone: () => void;
}) {
  const save = useSaveRule(slug);
  const metrics = useMetricNames(slug);
  const f = rule?.filters;
  const [name, setName] = useState(rule?.name ?? '');
  const [enabled, setEnabled] = useState(rule?.enabled ?? true);
  const [scopes, setScopes] = useState<string[]>(f?.scopes ?? []);
  const [metricNames, setMetricNames] = useState(f?.metricNames.join(', ') ?? '');
  const [metricTags, setMetricTags] = useState(f?.metricTags.join(', ') ?? '');
  const [direction, setDirection] = useState(f?.direction ?? 'any');
  const [minSeverity, setMinSeverity] = useState(f?.minSeverity ?? 'info');
  const [minPercent, setMinPercent] = useState(f?.minPercentChange?.toString() ?? '');
  const [minAbsolute, setMinAbsolute] = useState(f?.minAbsoluteChange?.toString() ?? '');
  const [destinationIds, setDestinationIds] = useState<number[]>(
    rule?.destinationIds ?? (destinations.length === 1 ? [destinations[0].id] : []),
  );
  const [cooldown, setCooldown] = useState(String(rule?.cooldownMinutes ?? 1440));
  const [repeat, setRepeat] = useState(rule?.repeatEveryMinutes?.toString() ?? '');
  const [notifyOnResolve, setNotifyOnResolve] = useState(rule?.notifyOnResolve ?? true);
  const [cron, setCron] = useState(rule?.digest?.cron ?? '');
  const [mutedUntil, setMutedUntil] = useState(toLocalInput(rule?.mutedUntil ?? null));

  const draft = (): RuleInput => ({
    name: name.trim(),
    enabled,
    mutedUntil: mutedUntil ? new Date(mutedUntil).toISOString() : null,
    filters: {
      scopes,
      metricNames: list(metricNames),
      metricTags: list(metricTags),
      direction,
      minSeverity,
      minPercentChange: numberOrNull(minPercent),
      minAbsoluteChange: numberOrNull(minAbsolute),
    },
    destinationIds,
    cooldownMinutes: Number(cooldown),
    repeatEveryMinutes: numberOrNull(repeat),
    notifyOnResolve,
    digest: cron.trim() ? { cron: cron.trim() } : null,
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate({ id: rule?.id, input: draft() }, { onSuccess: onDone });
  };
  const err = (field: string) => fieldError(save.error, field);
  const toggle = <T,>(items: T[], item: T, on: boolean) => (on ? [...items, item] : items.filter((i) => i !== item));
  const tags = [...new Set(metrics.data?.flatMap((m) => m.tags))];

  return (
    <form onSubmit={submit} aria-label={rule ? `Edit ${rule.name}` : 'New alert rule'}>
      <div className="grid two" style={{ gap: '0 var(--space)' }}>
        <TextField
          label="Name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          error={err('name')}
          placeholder="Major incidents to on-call"
        />
        <Field label="Enabled" htmlFor="rule-enabled" error={err('enabled')}>
          <span>
            <input
              id="rule-enabled"
              type="checkbox"
              style={{ width: 'auto' }}
              checked={enabled}
              onChange={(e) => setEnabled(e.target.checked)}
            />{' '}
            sends alerts
          </span>
        </Field>
      </div>

      <fieldset style={{ border: '1px solid var(--border)', borderRadius: 6, marginTop: '0.75rem' }}>
        <legend>Which incidents</legend>
        <Field label="Signal kinds" htmlFor="rule-scopes" hint="None checked: every kind" error={err('filters.scopes')}>
          <div id="rule-scopes" role="group" aria-label="Signal kinds">
            {SCOPE_KINDS.map((s) => (
              <Checkbox key={s} label={s} checked={scopes.includes(s)} onChange={(on) => setScopes((v) => toggle(v, s, on))} />
            ))}
          </div>
        </Field>
        <div className="grid two" style={{ gap: '0 var(--space)' }}>
          <TextField
            label="Metric names"
            list="rule-metric-names"
            value={metricNames}
            onChange={(e) => setMetricNames(e.target.value)}
            hint="Separated by commas; with tags empty too: any incident"
            error={err('filters.metricNames')}
          />
          <datalist id="rule-metric-names">
            {metrics.data?.map((m) => (
              <option key={m.id} value={m.name} />
            ))}
          </datalist>
          <TextField
            label="Metric tags"
            list="rule-metric-tags"
            value={metricTags}
            onChange={(e) => setMetricTags(e.target.value)}
            hint="Separated by commas"
            error={err('filters.metricTags')}
          />
          <datalist id="rule-metric-tags">
            {tags.map((t) => (
              <option key={t} value={t} />
            ))}
          </datalist>
          <Field label="Direction" htmlFor="rule-direction" error={err('filters.direction')}>
            <select id="rule-direction" value={direction} onChange={(e) => setDirection(e.target.value)}>
              {DIRECTIONS.map((d) => (
                <option key={d} value={d}>
                  {d}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Least severity" htmlFor="rule-severity" error={err('filters.minSeverity')}>
            <select id="rule-severity" value={minSeverity} onChange={(e) => setMinSeverity(e.target.value)}>
              {SEVERITIES.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </Field>
          <TextField
            label="Least change (%)"
            type="number"
            min={0}
            step="any"
            value={minPercent}
            onChange={(e) => setMinPercent(e.target.value)}
            hint="Against the expected value; empty: any"
            error={err('filters.minPercentChange')}
          />
          <TextField
            label="Least change (absolute)"
            type="number"
            min={0}
            step="any"
            value={minAbsolute}
            onChange={(e) => setMinAbsolute(e.target.value)}
            hint="|actual − expected|; empty: any"
            error={err('filters.minAbsoluteChange')}
          />
        </div>
      </fieldset>

      <fieldset style={{ border: '1px solid var(--border)', borderRadius: 6, marginTop: '0.75rem' }}>
        <legend>Where and how often</legend>
        <Field
          label="Destinations"
          htmlFor="rule-destinations"
          error={err('destinationIds')}
          hint={destinations.length ? undefined : 'Add a destination first (Destinations tab).'}
        >
          <div id="rule-destinations" role="group" aria-label="Destinations">
            {destinations.map((d) => (
              <Checkbox
                key={d.id}
                label={d.name}
                checked={destinationIds.includes(d.id)}
                onChange={(on) => setDestinationIds((v) => toggle(v, d.id, on))}
              />
            ))}
          </div>
        </Field>
        <div className="grid two" style={{ gap: '0 var(--space)' }}>
          <TextField
            label="Cooldown (minutes)"
            type="number"
            min={0}
            value={cooldown}
            onChange={(e) => setCooldown(e.target.value)}
            hint="After an alert about a scope, later incidents of it stay quiet this long"
            error={err('cooldownMinutes')}
          />
          <TextField
            label="Repeat every (minutes)"
            type="number"
            min={5}
            value={repeat}
            onChange={(e) => setRepeat(e.target.value)}
            hint="While open and unacknowledged; empty: never"
            error={err('repeatEveryMinutes')}
          />
          <TextField
            label="Digest (cron)"
            value={cron}
            onChange={(e) => setCron(e.target.value)}
            placeholder="0 9 * * 1-5"
            hint="One message per period instead of one per incident; empty: no digest"
            error={err('digest')}
          />
          <TextField
            label="Muted until"
            type="datetime-local"
            value={mutedUntil}
            onChange={(e) => setMutedUntil(e.target.value)}
            hint="Sends nothing until then (your browser's time); empty: not muted"
            error={err('mutedUntil')}
          />
        </div>
        <div className="field">
          <label style={{ fontWeight: 400 }}>
            <input
              type="checkbox"
              style={{ width: 'auto' }}
              checked={notifyOnResolve}
              onChange={(e) => setNotifyOnResolve(e.target.checked)}
            />{' '}
            Notify when the incident resolves
          </label>
          {err('notifyOnResolve') && (
            <p className="field-error" role="alert">
              {err('notifyOnResolve')}
            </p>
          )}
        </div>
      </fieldset>
      <FormError error={formError(save.error, FIELDS)} />
      <div className="page-actions" style={{ marginTop: '1rem' }}>
        <Button type="submit" variant="primary" busy={save.isPending}>
          {rule ? 'Save rule' : 'Create rule'}
        </Button>
        <Button variant="ghost" onClick={onDone}>
          Cancel
        </Button>
      </div>
      <RuleSimulator slug={slug} draft={draft} timeZone={timeZone} />
    </form>
  );
}
