/** The definition part of the metric form: the fields of the chosen kind, each with the server's message for it. */
import { useId, type ReactNode } from 'react';
import type { MetricKind } from '../../api/metrics';
import { Field, TextField } from '../Field';
import { FiltersEditor } from './FiltersEditor';
import { AGGREGATES, COLUMNS, GAUGE_AGGREGATES, MEASURES, type Draft, type EventPart } from './draft';

interface Props {
  draft: Draft;
  onChange: (patch: Partial<Draft>) => void;
  errorFor: (field: string) => string | undefined;
  /** event names for the picker (the project's busiest) */
  events: string[];
}

/** The definition fields each kind shows (a message about any other one goes to the form's foot). */
export const DEFINITION_FIELDS: Record<MetricKind, string[]> = {
  event: ['definition.event', 'definition.measure', 'definition.filters', 'definition.breakdowns', 'definition.breakdownLimit'],
  ratio: ['definition.numerator', 'definition.denominator'],
  per_user: ['definition.event', 'definition.filters'],
  aggregation: [
    'definition.event',
    'definition.property',
    'definition.fn',
    'definition.filters',
    'definition.breakdowns',
    'definition.breakdownLimit',
  ],
  sql: ['definition.sql'],
  gauge: ['definition.service', 'definition.metric', 'definition.aggregate', 'definition.tags'],
};

function Select<T extends string>({
  label,
  value,
  options,
  onChange,
  error,
  hint,
  labels,
}: {
  label: string;
  value: T;
  options: readonly T[];
  onChange: (v: T) => void;
  error?: string;
  hint?: ReactNode;
  labels?: Partial<Record<T, string>>;
}) {
  const id = useId();
  return (
    <Field label={label} htmlFor={id} error={error} hint={hint}>
      <select id={id} value={value} aria-invalid={error ? true : undefined} onChange={(e) => onChange(e.target.value as T)}>
        {options.map((o) => (
          <option key={o} value={o}>
            {labels?.[o] ?? o}
          </option>
        ))}
      </select>
    </Field>
  );
}

function EventPicker({
  value,
  onChange,
  error,
  events,
  label = 'Event',
}: {
  value: string;
  onChange: (v: string) => void;
  error?: string;
  events: string[];
  label?: string;
}) {
  const id = useId();
  return (
    <>
      <TextField
        label={label}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        error={error}
        list={`${id}-events`}
        placeholder="all events"
        hint="Empty counts every event."
        autoComplete="off"
      />
      <datalist id={`${id}-events`}>
        {events.map((e) => (
          <option key={e} value={e} />
        ))}
      </datalist>
    </>
  );
}

function Breakdowns({ draft, onChange, errorFor }: Pick<Props, 'draft' | 'onChange' | 'errorFor'>) {
  const id = useId();
  return (
    <div className="form-row">
      <TextField
        label="Breakdowns"
        value={draft.breakdowns}
        onChange={(e) => onChange({ breakdowns: e.target.value })}
        error={errorFor('definition.breakdowns')}
        placeholder="plan, country"
        list={`${id}-columns`}
        hint="Up to 3 columns or properties, comma-separated; each keeps its top values per bucket."
      />
      <datalist id={`${id}-columns`}>
        {COLUMNS.map((c) => (
          <option key={c} value={c} />
        ))}
      </datalist>
      <TextField
        label="Values kept"
        type="number"
        min={1}
        max={50}
        value={draft.breakdownLimit}
        onChange={(e) => onChange({ breakdownLimit: e.target.value })}
        error={errorFor('definition.breakdownLimit')}
        placeholder="10"
      />
    </div>
  );
}

function RatioPart({
  label,
  part,
  path,
  onChange,
  errorFor,
  events,
}: {
  label: string;
  part: EventPart;
  path: string;
  onChange: (p: EventPart) => void;
  errorFor: Props['errorFor'];
  events: string[];
}) {
  return (
    <fieldset className="metric-fieldset">
      <legend>{label}</legend>
      <div className="form-row">
        <EventPicker
          label={`${label} event`}
          value={part.event}
          onChange={(event) => onChange({ ...part, event })}
          error={errorFor(`${path}.event`)}
          events={events}
        />
        <Select
          label={`${label} measure`}
          value={part.measure}
          options={MEASURES}
          onChange={(measure) => onChange({ ...part, measure })}
          error={errorFor(`${path}.measure`)}
        />
      </div>
      <FiltersEditor
        label={`${label} filters`}
        rows={part.filters}
        onChange={(filters) => onChange({ ...part, filters })}
        path={`${path}.filters`}
        errorFor={errorFor}
      />
      {errorFor(path) && !errorFor(`${path}.event`) && !errorFor(`${path}.measure`) && !errorFor(`${path}.filters`) && (
        <p className="field-error" role="alert">
          {errorFor(path)}
        </p>
      )}
    </fieldset>
  );
}

// long because it is one screen's markup with the state its parts share
export function DefinitionFields({ draft, onChange, errorFor, events }: Props) {
  const filters = (
    <FiltersEditor rows={draft.filters} onChange={(filters) => onChange({ filters })} path="definition.filters" errorFor={errorFor} />
  );
  switch (draft.kind) {
    case 'event':
      return (
        <>
          <div className="form-row">
            <EventPicker
              value={draft.event}
              onChange={(event) => onChange({ event })}
              error={errorFor('definition.event')}
              events={events}
            />
            <Select
              label="Measure"
              value={draft.measure}
              options={MEASURES}
              onChange={(measure) => onChange({ measure })}
              error={errorFor('definition.measure')}
              labels={{ count: 'count of events', users: 'distinct users', sessions: 'distinct sessions' }}
            />
          </div>
          {filters}
          <Breakdowns draft={draft} onChange={onChange} errorFor={errorFor} />
        </>
      );
    case 'ratio':
      return (
        <>
          <RatioPart
            label="Numerator"
            part={draft.numerator}
            path="definition.numerator"
            onChange={(numerator) => onChange({ numerator })}
            errorFor={errorFor}
            events={events}
          />
          <RatioPart
            label="Denominator"
            part={draft.denominator}
            path="definition.denominator"
            onChange={(denominator) => onChange({ denominator })}
            errorFor={errorFor}
            events={events}
          />
        </>
      );
    case 'per_user':
      return (
        <>
          <EventPicker value={draft.event} onChange={(event) => onChange({ event })} error={errorFor('definition.event')} events={events} />
          {filters}
        </>
      );
    case 'aggregation':
      return (
        <>
          <div className="form-row">
            <EventPicker
              value={draft.event}
              onChange={(event) => onChange({ event })}
              error={errorFor('definition.event')}
              events={events}
            />
            <TextField
              label="Property"
              value={draft.property}
              onChange={(e) => onChange({ property: e.target.value })}
              error={errorFor('definition.property')}
              placeholder="revenue"
              hint="A numeric event property, or a column."
            />
            <Select
              label="Function"
              value={draft.fn}
              options={AGGREGATES}
              onChange={(fn) => onChange({ fn })}
              error={errorFor('definition.fn')}
            />
          </div>
          {filters}
          <Breakdowns draft={draft} onChange={onChange} errorFor={errorFor} />
        </>
      );
    case 'sql': {
      return <SqlField value={draft.sql} onChange={(sql) => onChange({ sql })} error={errorFor('definition.sql')} />;
    }
    case 'gauge':
      return (
        <>
          <div className="form-row">
            <TextField
              label="Service"
              value={draft.service}
              onChange={(e) => onChange({ service: e.target.value })}
              error={errorFor('definition.service')}
              placeholder="checkout-api"
            />
            <TextField
              label="Measurement"
              value={draft.gaugeMetric}
              onChange={(e) => onChange({ gaugeMetric: e.target.value })}
              error={errorFor('definition.metric')}
              placeholder="latency_ms"
            />
            <Select
              label="Per bucket"
              value={draft.aggregate}
              options={GAUGE_AGGREGATES}
              onChange={(aggregate) => onChange({ aggregate })}
              error={errorFor('definition.aggregate')}
            />
          </div>
          <TextField
            label="Tags"
            value={draft.gaugeTags}
            onChange={(e) => onChange({ gaugeTags: e.target.value })}
            error={errorFor('definition.tags')}
            placeholder="region=eu, host=a"
            hint="Only measurements with these tags."
          />
        </>
      );
  }
}

function SqlField({ value, onChange, error }: { value: string; onChange: (v: string) => void; error?: string }) {
  const id = useId();
  return (
    <Field
      label="SQL"
      htmlFor={id}
      error={error}
      hint={
        <>
          One SELECT over the <code>events</code> view returning <code>bucket</code>, <code>value</code> and optionally{' '}
          <code>breakdown</code>. It runs read-only, on this project's events, with a time limit.
        </>
      }
    >
      <textarea
        id={id}
        className="sql"
        rows={8}
        spellCheck={false}
        value={value}
        aria-invalid={error ? true : undefined}
        onChange={(e) => onChange(e.target.value)}
      />
    </Field>
  );
}
