/**
 * Create or edit a destination: the fields of its kind, secrets write-only (an edit shows which
 * are set and keeps them unless replaced), the server's message next to the field it names, and
 * "Send test" on the unsaved settings with the receiver's answer.
 */
import { useState, type FormEvent } from 'react';
import { formError } from '../../api/client';
import {
  DESTINATION_KINDS,
  useSaveDestination,
  useTestDestination,
  type Destination,
  type DestinationInput,
  type DestinationKind,
} from '../../api/alerts';
import { Badge } from '../Badge';
import { Button } from '../Button';
import { Field, FormError, TextField } from '../Field';
import {
  DESTINATION_FIELDS,
  KIND_LABELS,
  destinationFieldError,
  fieldName,
  generateSecret,
  type DestinationField,
} from './destination-fields';
import { TestResultView } from './TestResultView';

type Values = Record<string, string | boolean>;

function initialValues(d: Destination | undefined): Values {
  const values: Values = {};
  if (!d) return values;
  for (const [k, v] of Object.entries(d.config)) {
    if (typeof v === 'boolean') values[`config.${k}`] = v;
    else if (Array.isArray(v)) values[`config.${k}`] = v.join(', ');
    else if (v !== null && typeof v === 'object') values[`config.${k}`] = JSON.stringify(v);
    else if (v !== null && v !== undefined) values[`config.${k}`] = String(v);
  }
  return values;
}

/** The body from the form, or the name of the field that could not be read and why. */
function buildInput(
  name: string,
  kind: DestinationKind,
  values: Values,
  editing: boolean,
): { input: DestinationInput } | { field: string; message: string } {
  const config: Record<string, unknown> = {};
  const secrets: Record<string, string> = {};
  for (const f of DESTINATION_FIELDS[kind]) {
    const raw = values[fieldName(f)];
    if (f.type === 'checkbox') {
      if (raw !== undefined) config[f.key] = raw === true;
      continue;
    }
    const text = typeof raw === 'string' ? raw.trim() : '';
    if (f.where === 'secrets') {
      // an edit keeps a secret left empty
      if (text) secrets[f.key] = text;
      continue;
    }
    if (!text) continue;
    if (f.type === 'number') {
      const n = Number(text);
      if (!Number.isFinite(n)) return { field: fieldName(f), message: `${f.label} must be a number` };
      config[f.key] = n;
    } else if (f.type === 'json') {
      try {
        config[f.key] = JSON.parse(text);
      } catch {
        return { field: fieldName(f), message: `${f.label} is not valid JSON` };
      }
    } else config[f.key] = text;
  }
  const input: DestinationInput = { name: name.trim(), kind, config };
  if (Object.keys(secrets).length || !editing) input.secrets = secrets;
  return { input };
}

// long because it is one screen's markup with the state its parts share
export function DestinationForm({ slug, destination, onDone }: { slug: string; destination?: Destination; onDone: () => void }) {
  const editing = !!destination;
  const [name, setName] = useState(destination?.name ?? '');
  const [kind, setKind] = useState<DestinationKind>((destination?.kind as DestinationKind) ?? 'webhook');
  const [values, setValues] = useState<Values>(() => initialValues(destination));
  const [local, setLocal] = useState<{ field: string; message: string } | null>(null);
  const save = useSaveDestination(slug);
  const test = useTestDestination(slug);
  const fields = DESTINATION_FIELDS[kind];
  const names = ['name', 'kind', ...fields.map(fieldName)];
  // the last answer: a local check, then the save's, then the test's
  const error = save.error ?? test.error;
  const messageFor = (field: string) => (local?.field === field ? local.message : destinationFieldError(error, field));
  const set = (key: string, value: string | boolean) => setValues((v) => ({ ...v, [key]: value }));

  const build = () => {
    const built = buildInput(name, kind, values, editing);
    if ('field' in built) {
      setLocal(built);
      return null;
    }
    setLocal(null);
    return built.input;
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const input = build();
    if (!input) return;
    test.reset();
    save.mutate({ id: destination?.id, input }, { onSuccess: onDone });
  };
  const sendTest = () => {
    const input = build();
    if (!input) return;
    save.reset();
    test.mutate({ input });
  };

  // long because it is one screen's markup with the state its parts share
  const control = (f: DestinationField) => {
    const key = fieldName(f);
    const err = messageFor(key);
    const isSet = f.where === 'secrets' && destination?.secrets[f.key] === 'set';
    const label = (
      <>
        {f.label}
        {f.required ? '' : ' (optional)'}
        {isSet && (
          <>
            {' '}
            <Badge tone="good">set</Badge>
          </>
        )}
      </>
    );
    if (f.type === 'checkbox') {
      return (
        <div className="field" key={key}>
          <label style={{ fontWeight: 400, display: 'flex', gap: '0.5rem', alignItems: 'center' }}>
            <input type="checkbox" style={{ width: 'auto' }} checked={values[key] === true} onChange={(e) => set(key, e.target.checked)} />{' '}
            {f.label}
          </label>
          {err && (
            <p className="field-error" role="alert">
              {err}
            </p>
          )}
        </div>
      );
    }
    if (f.type === 'select') {
      const id = `dest-${key}`;
      return (
        <Field key={key} label={label} htmlFor={id} hint={f.hint} error={err}>
          <select id={id} value={String(values[key] ?? '')} onChange={(e) => set(key, e.target.value)}>
            <option value="">default ({f.options?.[0]})</option>
            {f.options?.map((o) => (
              <option key={o} value={o}>
                {o}
              </option>
            ))}
          </select>
        </Field>
      );
    }
    if (f.type === 'json') {
      const id = `dest-${key}`;
      return (
        <Field key={key} label={label} htmlFor={id} hint={f.hint} error={err}>
          <textarea
            id={id}
            rows={2}
            value={String(values[key] ?? '')}
            onChange={(e) => set(key, e.target.value)}
            placeholder="{}"
            aria-invalid={err ? true : undefined}
          />
        </Field>
      );
    }
    return (
      <TextField
        key={key}
        label={label}
        type={f.where === 'secrets' ? 'password' : f.type === 'number' ? 'number' : 'text'}
        autoComplete={f.where === 'secrets' ? 'new-password' : 'off'}
        value={String(values[key] ?? '')}
        onChange={(e) => set(key, e.target.value)}
        placeholder={isSet ? 'set: leave empty to keep it' : f.placeholder}
        hint={
          f.key === 'secret' && kind === 'webhook' ? (
            <>
              {f.hint}{' '}
              <Button size="small" variant="ghost" onClick={() => set(key, generateSecret())}>
                Generate one
              </Button>
            </>
          ) : (
            f.hint
          )
        }
        error={err}
      />
    );
  };

  return (
    <form onSubmit={submit} aria-label={editing ? `Edit ${destination.name}` : 'New destination'}>
      {destination && !destination.secretsReadable && (
        <p className="notice">The secrets of this destination cannot be decrypted with the current VIGIL_SECRET_KEY: enter them again.</p>
      )}
      <div className="grid two" style={{ gap: '0 var(--space)' }}>
        <TextField
          label="Name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          error={messageFor('name')}
          placeholder="On-call webhook"
        />
        <Field label="Kind" htmlFor="dest-kind" error={messageFor('kind')}>
          <select id="dest-kind" value={kind} disabled={editing} onChange={(e) => setKind(e.target.value as DestinationKind)}>
            {DESTINATION_KINDS.map((k) => (
              <option key={k} value={k}>
                {KIND_LABELS[k]}
              </option>
            ))}
          </select>
        </Field>
      </div>
      <div className="grid two" style={{ gap: '0 var(--space)' }}>
        {fields.map(control)}
      </div>
      <FormError error={local || names.some((n) => destinationFieldError(error, n)) ? undefined : formError(error)} />
      {test.data && <TestResultView result={test.data} />}
      <div className="page-actions" style={{ marginTop: '1rem' }}>
        <Button type="submit" variant="primary" busy={save.isPending}>
          {editing ? 'Save' : 'Create destination'}
        </Button>
        {!editing && (
          <Button busy={test.isPending} onClick={sendTest}>
            Send test
          </Button>
        )}
        <Button variant="ghost" onClick={onDone}>
          Cancel
        </Button>
      </div>
    </form>
  );
}
