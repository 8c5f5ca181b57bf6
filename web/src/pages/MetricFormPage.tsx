/**
 * Define a metric (metrics/new) or change one (metrics/:id/edit): the fields of its kind, a live
 * preview computed by the server as the form changes (debounced), the server's messages next to
 * their fields, saved as a draft or active.
 */
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { useTopEvents } from '../api/analytics';
import { ApiError, fieldError, formError } from '../api/client';
import {
  INTERVALS,
  METRIC_KINDS,
  canEdit,
  useCreateMetric,
  useMetric,
  usePreview,
  useUpdateMetric,
  type Metric,
  type MetricInput,
  type MetricKind,
  type MetricStatus,
} from '../api/metrics';
import type { PageProps } from '../app/routes';
import { projectUrl } from '../app/routes';
import { Link, navigate } from '../app/router';
import { Button, Card, Field, FormError, Loading, ErrorState, PageHeader, TextField } from '../components';
import { DEFINITION_FIELDS, DefinitionFields } from '../components/metrics/DefinitionFields';
import { PreviewPanel } from '../components/metrics/PreviewPanel';
import {
  KIND_HINTS,
  KIND_LABELS,
  definitionOf,
  draftOf,
  emptyDraft,
  inputOf,
  nameFrom,
  previewable,
  type Draft,
} from '../components/metrics/draft';
import { useDebounced } from '../components/metrics/useDebounced';
import '../components/metrics/metrics.css';

const PREVIEW_DEBOUNCE_MS = 400;
const PREVIEW_BUCKETS = 48;
const META_FIELDS = ['name', 'displayName', 'description', 'unit', 'owner', 'tags', 'interval', 'kind', 'status'];

/** The SQL guard's errors name no field: they are about the statement. */
const isSqlError = (e: unknown): e is ApiError => e instanceof ApiError && e.code.startsWith('VIGIL_ERR_METRIC_SQL');

export default function MetricFormPage({ project, params }: PageProps) {
  const id = params.id ? Number(params.id) : 0;
  const existing = useMetric(project.slug, id);
  if (!id) return <MetricForm project={project} />;
  if (existing.error) return <ErrorState error={existing.error} onRetry={() => void existing.refetch()} />;
  if (!existing.data) return <Loading />;
  return <MetricForm project={project} metric={existing.data} />;
}

// long because it is one screen's markup with the state its parts share
function MetricForm({ project, metric }: { project: PageProps['project']; metric?: Metric }) {
  const slug = project.slug;
  const [draft, setDraft] = useState<Draft>(() => (metric ? draftOf(metric) : emptyDraft()));
  const [nameTouched, setNameTouched] = useState(!!metric);
  const change = (patch: Partial<Draft>) => setDraft((d) => ({ ...d, ...patch }));
  const create = useCreateMetric(slug);
  const update = useUpdateMetric(slug, metric?.id ?? 0);
  const save = metric ? update : create;
  const topEvents = useTopEvents(slug, { from: '-30d', limit: 100 });
  const events = useMemo(() => topEvents.data?.events.map((e) => e.event) ?? [], [topEvents.data]);

  // the preview follows the definition once it has stayed put a moment
  const wanted = useMemo(
    () =>
      previewable(draft) ? { kind: draft.kind, definition: definitionOf(draft), interval: draft.interval, buckets: PREVIEW_BUCKETS } : null,
    [draft],
  );
  const settled = useDebounced(wanted, PREVIEW_DEBOUNCE_MS);
  const preview = usePreview(slug, settled);
  const stale = JSON.stringify(wanted) !== JSON.stringify(settled) || preview.isPlaceholderData;

  // a new error from saving replaces the preview's; editing the form clears the save error
  const wantedJson = JSON.stringify(wanted);
  const { error: saveError, reset: resetSave } = save;
  // biome-ignore lint/correctness/useExhaustiveDependencies: only when the definition changes, not when the error arrives
  useEffect(() => {
    if (saveError) resetSave();
    // only when the definition changes, not when the error arrives
  }, [wantedJson]);
  const errors = [save.error, preview.error];
  const errorFor = (field: string) => {
    for (const e of errors) {
      const m = fieldError(e, field) ?? (field === 'definition.sql' && isSqlError(e) ? e.message : undefined);
      if (m) return m;
    }
    return undefined;
  };
  const shown = [...META_FIELDS, ...DEFINITION_FIELDS[draft.kind]];
  const footError = isSqlError(save.error) ? undefined : formError(save.error, shown);
  const previewError =
    preview.error && !shown.some((f) => fieldError(preview.error, f)) && !isSqlError(preview.error)
      ? (preview.error as Error).message
      : undefined;

  const submit = (status: MetricStatus) => (e?: FormEvent) => {
    e?.preventDefault();
    const input: Partial<MetricInput> = inputOf(draft, status);
    if (metric) {
      // the form writes a definition its own way (defaults left out): an unchanged one is not
      // sent, or the server would see a new body and recompute the history
      const before = draftOf(metric);
      if (draft.kind === before.kind && JSON.stringify(definitionOf(draft)) === JSON.stringify(definitionOf(before))) {
        delete input.kind;
        delete input.definition;
      }
      if (draft.interval === metric.interval) delete input.interval;
    }
    save.mutate(input as MetricInput, { onSuccess: (m) => navigate(projectUrl(slug, `metrics/${m.id}`)) });
  };

  if (!canEdit(project.role)) {
    return (
      <PageHeader title={metric ? `Edit ${metric.displayName}` : 'New metric'} description="Only editors and owners change the catalog." />
    );
  }
  return (
    <>
      <PageHeader
        title={metric ? `Edit ${metric.displayName}` : 'New metric'}
        description={
          metric ? (
            <>
              A changed kind, definition or interval recomputes the history.{' '}
              <Link to={projectUrl(slug, `metrics/${metric.id}`)}>Back to the metric</Link>
            </>
          ) : (
            'Choose a kind, fill in its definition and watch the preview; save it as a draft or start collecting.'
          )
        }
      />
      <form className="metric-form" onSubmit={submit(metric?.status === 'active' ? 'active' : 'draft')} noValidate>
        <div className="split">
          <div className="grid">
            <Card title="Definition">
              <div className="segmented kind-picker" role="group" aria-label="Kind">
                {METRIC_KINDS.map((k) => (
                  <button key={k} type="button" aria-pressed={draft.kind === k} onClick={() => change({ kind: k as MetricKind })}>
                    {KIND_LABELS[k]}
                  </button>
                ))}
              </div>
              <p className="muted small">{KIND_HINTS[draft.kind]}</p>
              {errorFor('kind') && (
                <p className="field-error" role="alert">
                  {errorFor('kind')}
                </p>
              )}
              <DefinitionFields draft={draft} onChange={change} errorFor={errorFor} events={events} />
            </Card>
            <Card title="About">
              <div className="form-row">
                <TextField
                  label="Display name"
                  value={draft.displayName}
                  error={errorFor('displayName')}
                  placeholder="Sign-ups"
                  onChange={(e) => change({ displayName: e.target.value, ...(!nameTouched && { name: nameFrom(e.target.value) }) })}
                />
                <TextField
                  label="Name"
                  value={draft.name}
                  error={errorFor('name')}
                  placeholder="signups"
                  hint="Unique: lowercase letters, digits, _ . -"
                  required
                  onChange={(e) => {
                    setNameTouched(true);
                    change({ name: e.target.value });
                  }}
                />
              </div>
              <TextField
                label="Description"
                value={draft.description}
                error={errorFor('description')}
                onChange={(e) => change({ description: e.target.value })}
              />
              <div className="form-row">
                <IntervalField value={draft.interval} error={errorFor('interval')} onChange={(interval) => change({ interval })} />
                <TextField
                  label="Unit"
                  value={draft.unit}
                  error={errorFor('unit')}
                  placeholder="USD, ms, %"
                  onChange={(e) => change({ unit: e.target.value })}
                />
                <TextField
                  label="Owner"
                  value={draft.owner}
                  error={errorFor('owner')}
                  placeholder="team or person"
                  onChange={(e) => change({ owner: e.target.value })}
                />
              </div>
              <TextField
                label="Tags"
                value={draft.tags}
                error={errorFor('tags')}
                placeholder="growth, revenue"
                hint="Comma-separated."
                onChange={(e) => change({ tags: e.target.value })}
              />
              <FormError error={footError} />
              <div className="form-actions">
                <Button
                  variant="primary"
                  busy={save.isPending && save.variables?.status === 'active'}
                  disabled={save.isPending}
                  onClick={submit('active')}
                >
                  {metric?.status === 'active' ? 'Save' : 'Save as active'}
                </Button>
                <Button busy={save.isPending && save.variables?.status === 'draft'} disabled={save.isPending} onClick={submit('draft')}>
                  {metric?.status === 'draft' ? 'Save' : 'Save as draft'}
                </Button>
                <Button variant="ghost" onClick={() => navigate(projectUrl(slug, metric ? `metrics/${metric.id}` : 'metrics'))}>
                  Cancel
                </Button>
              </div>
              <p className="muted small">
                Active metrics are collected every bucket (their history is backfilled now) and watched for anomalies; drafts are only
                previewed.
              </p>
            </Card>
          </div>
          <Card title="Preview" className="preview-card">
            <PreviewPanel
              preview={preview.data}
              loading={preview.isFetching}
              error={previewError}
              stale={stale}
              timeZone={project.timeZone}
            />
            {preview.error && !previewError && <p className="field-error small">The preview failed: see the message next to the field.</p>}
          </Card>
        </div>
      </form>
    </>
  );
}

function IntervalField({ value, error, onChange }: { value: Draft['interval']; error?: string; onChange: (v: Draft['interval']) => void }) {
  return (
    <Field label="Interval" htmlFor="metric-interval" error={error}>
      <select id="metric-interval" value={value} onChange={(e) => onChange(e.target.value as Draft['interval'])}>
        {INTERVALS.map((i) => (
          <option key={i} value={i}>
            {i}
          </option>
        ))}
      </select>
    </Field>
  );
}
