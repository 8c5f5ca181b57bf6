/**
 * What can be done to an incident now: the buttons its status allows (acknowledge, resolve,
 * reopen, false positive and its undo, mute and unmute), assignment to a member. Viewers see
 * them disabled; the server's refusal (a 409 when someone else changed it first) shows below.
 */
import { useState, type FormEvent } from 'react';
import { fieldError, formError } from '../../api/client';
import { useIncidentAction, type IncidentAction } from '../../api/incidents';
import type { Member } from '../../api/settings';
import type { Incident } from '../../api/types';
import { formatTime } from '../../app/format';
import { Button } from '../Button';
import { Field, FormError, TextField } from '../Field';

interface Props {
  slug: string;
  incident: Incident;
  members: Member[] | undefined;
  canEdit: boolean;
  timeZone: string;
}

const EDITORS_ONLY = 'Editors and owners can change incidents';

// long because it is one screen's markup with the state its parts share
export function IncidentActions({ slug, incident, members, canEdit, timeZone }: Props) {
  const action = useIncidentAction(slug, incident.id);
  const [pending, setPending] = useState<string | null>(null);
  const [until, setUntil] = useState('+4h');
  const run = (a: IncidentAction) => {
    setPending(a.action);
    action.mutate(a, { onSettled: () => setPending(null) });
  };
  const busy = (name: string) => action.isPending && pending === name;
  const disabled = !canEdit || action.isPending;
  const title = canEdit ? undefined : EDITORS_ONLY;
  const resolved = incident.status === 'resolved';
  const falsePositive = incident.resolution === 'false_positive';

  const mute = (e: FormEvent) => {
    e.preventDefault();
    run({ action: 'mute', until: until.trim() });
  };

  return (
    <div className="incident-actions" style={{ display: 'grid', gap: '0.75rem' }}>
      <div className="page-actions" role="group" aria-label="Incident actions" style={{ flexWrap: 'wrap' }}>
        {incident.status === 'open' && (
          <Button
            variant="primary"
            title={title}
            disabled={disabled}
            busy={busy('acknowledge')}
            onClick={() => run({ action: 'acknowledge' })}
          >
            Acknowledge
          </Button>
        )}
        {!resolved && (
          <Button title={title} disabled={disabled} busy={busy('resolve')} onClick={() => run({ action: 'resolve' })}>
            Resolve
          </Button>
        )}
        {resolved && !falsePositive && (
          <Button title={title} disabled={disabled} busy={busy('reopen')} onClick={() => run({ action: 'reopen' })}>
            Reopen
          </Button>
        )}
        {!falsePositive && (
          <Button
            title={canEdit ? 'Resolves it and makes its metrics one notch less sensitive' : EDITORS_ONLY}
            disabled={disabled}
            busy={busy('false-positive')}
            onClick={() => run({ action: 'false-positive' })}
          >
            False positive
          </Button>
        )}
        {falsePositive && (
          <Button
            title={canEdit ? 'Puts back the sensitivity the false positive changed' : EDITORS_ONLY}
            disabled={disabled}
            busy={busy('undo-false-positive')}
            onClick={() => run({ action: 'undo-false-positive' })}
          >
            Undo false positive
          </Button>
        )}
        {incident.muted && (
          <Button title={title} disabled={disabled} busy={busy('unmute')} onClick={() => run({ action: 'unmute' })}>
            Unmute
          </Button>
        )}
      </div>

      {!resolved && (
        <form onSubmit={mute} aria-label="Mute" style={{ display: 'flex', gap: '0.5rem', alignItems: 'flex-start', flexWrap: 'wrap' }}>
          <div style={{ minWidth: '14rem' }}>
            <TextField
              label={
                incident.muted && incident.mutedUntil
                  ? `Muted until ${formatTime(incident.mutedUntil, timeZone, false)}; mute until`
                  : 'Mute until'
              }
              value={until}
              onChange={(e) => setUntil(e.target.value)}
              hint="a time (2030-01-31T09:00Z) or from now: +2h, +1d"
              error={fieldError(action.error, 'until')}
              disabled={!canEdit}
            />
          </div>
          <Button type="submit" title={title} disabled={disabled || !until.trim()} busy={busy('mute')} style={{ marginTop: '2.25rem' }}>
            Mute
          </Button>
        </form>
      )}

      <Field label="Assignee" htmlFor={`assignee-${incident.id}`} error={fieldError(action.error, 'userId')}>
        <select
          id={`assignee-${incident.id}`}
          value={incident.assigneeId ?? ''}
          disabled={disabled || !members}
          title={title}
          onChange={(e) => run({ action: 'assign', userId: e.target.value ? Number(e.target.value) : null })}
        >
          <option value="">Nobody</option>
          {members?.map((m) => (
            <option key={m.userId} value={m.userId}>
              {m.name || m.email} ({m.role})
            </option>
          ))}
        </select>
      </Field>
      <FormError error={formError(action.error, ['until', 'userId'])} />
    </div>
  );
}
