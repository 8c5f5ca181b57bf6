/** An incident's timeline, oldest first (who, when, what; comments in full), and the comment form. */
import { useState, type FormEvent } from 'react';
import { fieldError, formError } from '../../api/client';
import { useIncidentAction, type TimelineEntry } from '../../api/incidents';
import type { Member } from '../../api/settings';
import { formatTime } from '../../app/format';
import { Button } from '../Button';
import { Field, FormError } from '../Field';
import { Empty } from '../States';
import { Markdown } from '../Markdown';
import { describeEntry } from './labels';

interface Props {
  slug: string;
  incidentId: number;
  timeline: TimelineEntry[];
  members: Member[] | undefined;
  canComment: boolean;
  timeZone: string;
}

export function IncidentTimeline({ slug, incidentId, timeline, members, canComment, timeZone }: Props) {
  const comment = useIncidentAction(slug, incidentId);
  const [body, setBody] = useState('');
  const byId = new Map(members?.map((m) => [m.userId, m]));
  const nameOf = (userId: number | null) => {
    if (userId === null) return 'Vigil';
    const m = byId.get(userId);
    return m ? m.name || m.email : `user ${userId}`;
  };
  const actorOf = (e: TimelineEntry) =>
    e.actorId !== null ? nameOf(e.actorId) : typeof e.data.actor === 'string' ? e.data.actor : 'Vigil';

  const submit = (e: FormEvent) => {
    e.preventDefault();
    comment.mutate({ action: 'comment', body }, { onSuccess: () => setBody('') });
  };

  return (
    <div style={{ display: 'grid', gap: '0.75rem' }}>
      {timeline.length === 0 ? (
        <Empty>Nothing has happened to this incident yet.</Empty>
      ) : (
        <ol className="timeline" aria-label="Timeline" style={{ listStyle: 'none', margin: 0, padding: 0, display: 'grid', gap: '0.5rem' }}>
          {timeline.map((e) => (
            <li
              key={e.id}
              style={{ borderLeft: `3px solid ${e.type === 'comment' ? 'var(--accent)' : 'var(--border)'}`, paddingLeft: '0.75rem' }}
            >
              <div>
                <strong>{actorOf(e)}</strong> {describeEntry(e, nameOf, timeZone)}
                <span className="muted small">
                  {' '}
                  ·{' '}
                  <time dateTime={e.at} title={e.at}>
                    {formatTime(e.at, timeZone)}
                  </time>
                </span>
              </div>
              {e.type === 'comment' && typeof e.data.body === 'string' && <Markdown text={e.data.body} />}
            </li>
          ))}
        </ol>
      )}
      {canComment ? (
        <form onSubmit={submit} aria-label="Add a comment">
          <Field
            label="Comment"
            htmlFor={`comment-${incidentId}`}
            hint="Markdown, at most 10,000 characters"
            error={fieldError(comment.error, 'body')}
          >
            <textarea
              id={`comment-${incidentId}`}
              rows={3}
              value={body}
              onChange={(e) => setBody(e.target.value)}
              aria-invalid={fieldError(comment.error, 'body') ? true : undefined}
            />
          </Field>
          <FormError error={formError(comment.error, ['body'])} />
          <div style={{ marginTop: '0.5rem' }}>
            <Button type="submit" variant="primary" busy={comment.isPending} disabled={!body.trim()}>
              Add comment
            </Button>
          </div>
        </form>
      ) : (
        <p className="muted small">Members of the project can comment.</p>
      )}
    </div>
  );
}
