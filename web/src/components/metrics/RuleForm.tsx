/**
 * A threshold rule's form (new or edit): the condition on the value or on its % change, how many
 * buckets it must hold, an optional separate recovery, the severity. The server checks the rule;
 * its message shows next to the field it names (`rule.condition.value`, `rule.forBuckets`, ...).
 */
import { useId, useState, type FormEvent } from 'react';
import { fieldError, formError } from '../../api/client';
import { SEVERITIES } from '../../../../src/detect/severity';
import { OPERATORS, useCreateRule, useUpdateRule, type Condition, type Operator, type ThresholdRule } from '../../api/monitors';
import { Button } from '../Button';
import { Field, FormError, TextField } from '../Field';

/** the fields the form shows a message next to (any other goes to its foot) */
const FIELDS = [
  'name',
  'rule.severity',
  'rule.forBuckets',
  'rule.recoverFor',
  ...['condition', 'recovery'].flatMap((c) => ['operator', 'value', 'changeOverPeriod'].map((f) => `rule.${c}.${f}`)),
];

interface ConditionState {
  mode: 'value' | 'change';
  operator: Operator;
  value: string;
  period: string;
}

const conditionState = (c?: Condition): ConditionState => ({
  mode: c?.changeOverPeriod === undefined ? 'value' : 'change',
  operator: c?.operator ?? '>',
  value: c === undefined ? '' : String(c.value),
  period: c?.changeOverPeriod === undefined ? '1' : String(c.changeOverPeriod),
});

/** A number as typed; '' and junk go as null, so the server's message names the field. */
const num = (s: string) => (s.trim() === '' || !Number.isFinite(Number(s)) ? null : Number(s));

const conditionBody = (c: ConditionState) => ({
  operator: c.operator,
  value: num(c.value),
  ...(c.mode === 'change' && { changeOverPeriod: num(c.period) }),
});

function ConditionFields({
  label,
  state,
  onChange,
  path,
  error,
}: {
  label: string;
  state: ConditionState;
  onChange: (s: ConditionState) => void;
  path: string;
  error: unknown;
}) {
  const id = useId();
  return (
    <div className="form-row condition-row">
      <Field label={`${label}: compare`} htmlFor={`${id}-mode`}>
        <select
          id={`${id}-mode`}
          value={state.mode}
          onChange={(e) => onChange({ ...state, mode: e.target.value as ConditionState['mode'] })}
        >
          <option value="value">the value</option>
          <option value="change">its % change</option>
        </select>
      </Field>
      <Field label={`${label}: operator`} htmlFor={`${id}-op`} error={fieldError(error, `${path}.operator`)}>
        <select id={`${id}-op`} value={state.operator} onChange={(e) => onChange({ ...state, operator: e.target.value as Operator })}>
          {OPERATORS.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      </Field>
      <TextField
        label={state.mode === 'change' ? `${label}: change (%)` : `${label}: value`}
        type="number"
        step="any"
        value={state.value}
        onChange={(e) => onChange({ ...state, value: e.target.value })}
        error={fieldError(error, `${path}.value`)}
      />
      {state.mode === 'change' && (
        <TextField
          label={`${label}: buckets back`}
          type="number"
          min={1}
          value={state.period}
          onChange={(e) => onChange({ ...state, period: e.target.value })}
          error={fieldError(error, `${path}.changeOverPeriod`)}
          hint="Against the bucket this many earlier (24 at 1h: the same hour yesterday)."
        />
      )}
    </div>
  );
}

// long because it is one screen's markup with the state its parts share
export function RuleForm({ slug, metricId, rule, onDone }: { slug: string; metricId: number; rule?: ThresholdRule; onDone: () => void }) {
  const create = useCreateRule(slug, metricId);
  const update = useUpdateRule(slug, metricId);
  const save = rule ? update : create;
  const [name, setName] = useState(rule?.name ?? '');
  const [condition, setCondition] = useState(conditionState(rule?.rule.condition));
  const [forBuckets, setForBuckets] = useState(String(rule?.rule.forBuckets ?? 1));
  const [withRecovery, setWithRecovery] = useState(!!rule?.rule.recovery);
  const [recovery, setRecovery] = useState(conditionState(rule?.rule.recovery));
  const [recoverFor, setRecoverFor] = useState(String(rule?.rule.recoverFor ?? 1));
  const [severity, setSeverity] = useState<string>(rule?.rule.severity ?? 'warning');
  const [enabled, setEnabled] = useState(rule?.enabled ?? true);
  const id = useId();

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const body = {
      condition: conditionBody(condition),
      forBuckets: num(forBuckets),
      ...(withRecovery && { recovery: conditionBody(recovery), recoverFor: num(recoverFor) }),
      severity,
    };
    const input = { name: name.trim(), rule: body, enabled };
    const done = { onSuccess: () => onDone() };
    if (rule) update.mutate({ id: rule.id, ...input }, done);
    else create.mutate(input, done);
  };

  const error = save.error;
  return (
    <form className="rule-form" onSubmit={submit} aria-label={rule ? `Edit rule ${rule.name}` : 'New threshold rule'} noValidate>
      <div className="form-row">
        <TextField
          label="Rule name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          error={fieldError(error, 'name')}
          placeholder="orders too low"
        />
        <Field label="Severity" htmlFor={`${id}-sev`} error={fieldError(error, 'rule.severity')}>
          <select id={`${id}-sev`} value={severity} onChange={(e) => setSeverity(e.target.value)}>
            {SEVERITIES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </Field>
      </div>
      <ConditionFields label="Condition" state={condition} onChange={setCondition} path="rule.condition" error={error} />
      <div className="form-row">
        <TextField
          label="For buckets"
          type="number"
          min={1}
          value={forBuckets}
          onChange={(e) => setForBuckets(e.target.value)}
          error={fieldError(error, 'rule.forBuckets')}
          hint="Consecutive buckets meeting the condition before it fires."
        />
        <label className="check">
          <input type="checkbox" checked={withRecovery} onChange={(e) => setWithRecovery(e.target.checked)} /> a separate recovery condition
        </label>
        <label className="check">
          <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} /> enabled
        </label>
      </div>
      {withRecovery && (
        <>
          <ConditionFields label="Recovery" state={recovery} onChange={setRecovery} path="rule.recovery" error={error} />
          <TextField
            label="Recover for buckets"
            type="number"
            min={1}
            value={recoverFor}
            onChange={(e) => setRecoverFor(e.target.value)}
            error={fieldError(error, 'rule.recoverFor')}
          />
        </>
      )}
      {!withRecovery && <p className="muted small">Without a recovery condition the breach ends when the condition stops holding.</p>}
      <FormError error={formError(error, FIELDS)} />
      <div className="form-actions">
        <Button type="submit" variant="primary" busy={save.isPending}>
          {rule ? 'Save rule' : 'Add rule'}
        </Button>
        <Button variant="ghost" onClick={onDone}>
          Cancel
        </Button>
      </div>
    </form>
  );
}
