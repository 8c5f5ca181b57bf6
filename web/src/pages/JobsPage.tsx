/**
 * The project's background jobs (backfills, collections, detection, alert deliveries): what runs,
 * with its progress; what failed and will be tried again; what is dead, with the reason, and a
 * retry for editors.
 */
import { useJobs, useRetryJob, type Job } from '../api/jobs';
import { formError } from '../api/client';
import { hasRole } from '../api/settings';
import type { PageProps } from '../app/routes';
import { useSearchParam } from '../app/router';
import { formatTime } from '../app/format';
import { Badge, Button, Card, FormError, PageHeader, Table, type Tone } from '../components';

/** A queued job that has already failed is waiting for its next attempt. */
const isFailing = (j: Job) => j.status === 'queued' && j.attempts > 0 && j.lastError !== null;

const FILTERS = {
  all: { label: 'All', keep: () => true },
  running: { label: 'Running', keep: (j: Job) => j.status === 'running' },
  failed: { label: 'Failed', keep: isFailing },
  dead: { label: 'Dead', keep: (j: Job) => j.status === 'dead' },
} as const;
type Filter = keyof typeof FILTERS;

function JobStatus({ job }: { job: Job }) {
  if (isFailing(job)) return <Badge tone="warn">failed, retrying</Badge>;
  const tone: Record<Job['status'], Tone> = { queued: 'neutral', running: 'info', done: 'good', dead: 'bad' };
  return <Badge tone={tone[job.status]}>{job.status}</Badge>;
}

function JobProgress({ job }: { job: Job }) {
  if (job.status !== 'running' || job.progress === null) return null;
  return (
    <div className="job-progress">
      <progress value={job.progress} max={1} aria-label={`Progress of job ${job.id}`} />
      <span className="muted small">
        {Math.round(job.progress * 100)}%{job.progressNote && ` · ${job.progressNote}`}
      </span>
    </div>
  );
}

/** The payload's ids, e.g. "metric 12 · version 3". */
function payloadSummary(payload: unknown): string {
  if (!payload || typeof payload !== 'object') return '';
  return Object.entries(payload as Record<string, unknown>)
    .filter(([, v]) => typeof v === 'number' || typeof v === 'string')
    .slice(0, 3)
    .map(([k, v]) => `${k.replace(/Id$/, '')} ${v}`)
    .join(' · ');
}

// long because it is one screen's markup with the state its parts share
export default function JobsPage({ project }: PageProps) {
  const jobs = useJobs(project.slug);
  const retry = useRetryJob(project.slug);
  const canRetry = hasRole(project.role, 'editor');
  const [param, setParam] = useSearchParam('status');
  const filter: Filter = param in FILTERS ? (param as Filter) : 'all';
  const rows = jobs.data?.jobs.filter(FILTERS[filter].keep);
  const time = (iso: string) => formatTime(iso, project.timeZone);

  return (
    <>
      <PageHeader
        title="Jobs"
        description="Background work of this project: metric backfills and collections, detection, alert deliveries. Finished jobs are kept for a week."
        actions={
          <div className="segmented" role="tablist" aria-label="Show">
            {(Object.keys(FILTERS) as Filter[]).map((f) => (
              <button key={f} type="button" role="tab" aria-selected={f === filter} onClick={() => setParam(f === 'all' ? '' : f)}>
                {FILTERS[f].label}
              </button>
            ))}
          </div>
        }
      />
      <Card>
        <FormError error={formError(retry.error)} />
        <Table<Job>
          label="Jobs"
          rows={rows}
          loading={jobs.isPending}
          error={jobs.error}
          onRetry={() => void jobs.refetch()}
          rowKey={(j) => String(j.id)}
          empty={
            filter === 'all' ? 'No jobs yet: creating a metric starts its backfill.' : `No ${FILTERS[filter].label.toLowerCase()} jobs.`
          }
          columns={[
            {
              header: 'Job',
              cell: (j) => (
                <>
                  <code>{j.kind}</code> <span className="muted small">#{j.id}</span>
                  <div className="muted small">{payloadSummary(j.payload)}</div>
                </>
              ),
            },
            {
              header: 'Status',
              cell: (j) => (
                <>
                  <JobStatus job={j} />
                  <JobProgress job={j} />
                </>
              ),
            },
            { header: 'Attempts', align: 'right', cell: (j) => `${j.attempts} of ${j.maxAttempts}` },
            { header: 'Created', cell: (j) => time(j.createdAt) },
            {
              header: 'Finished',
              cell: (j) =>
                j.finishedAt ? time(j.finishedAt) : isFailing(j) ? <span className="muted">next try {time(j.runAt)}</span> : '',
            },
            {
              header: 'Reason',
              cell: (j) => (j.status !== 'done' && j.lastError ? <span className="job-error">{j.lastError}</span> : null),
            },
            {
              header: '',
              align: 'right',
              cell: (j) =>
                j.status === 'dead' &&
                canRetry && (
                  <Button size="small" busy={retry.isPending && retry.variables === j.id} onClick={() => retry.mutate(j.id)}>
                    Retry
                  </Button>
                ),
            },
          ]}
        />
      </Card>
    </>
  );
}
