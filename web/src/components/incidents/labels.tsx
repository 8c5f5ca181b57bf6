/** How incidents, their signals and their timeline read in the app. */
import type { ReactNode } from 'react';
import type { Incident } from '../../api/types';
import type { Signal, TimelineEntry } from '../../api/incidents';
import { formatDistinct, formatTime } from '../../app/format';
import { Badge, type Tone } from '../Badge';

export const STATUS_TONE: Record<string, Tone> = { open: 'bad', acknowledged: 'warn', resolved: 'good' };

const RESOLUTION_LABEL: Record<string, string> = { recovered: 'recovered', manual: 'resolved by hand', false_positive: 'false positive' };

export function StatusBadge({ incident }: { incident: Pick<Incident, 'status' | 'resolution' | 'muted'> }) {
  return (
    <span className="badges">
      <Badge tone={STATUS_TONE[incident.status]}>{incident.status}</Badge>
      {incident.resolution && (
        <Badge tone={incident.resolution === 'false_positive' ? 'neutral' : 'good'}>
          {RESOLUTION_LABEL[incident.resolution] ?? incident.resolution}
        </Badge>
      )}
      {incident.muted && <Badge tone="neutral">muted</Badge>}
    </span>
  );
}

/** 90 s → "1 min 30 s"; 5 h → "5 h" */
export function formatDuration(ms: number | null | undefined): string {
  if (ms == null) return '–';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const h = ms / 3_600_000;
  if (h < 48) return `${h < 10 ? h.toFixed(1) : Math.round(h)} h`;
  return `${(h / 24).toFixed(1)} d`;
}

/** A signal's value against what was expected, with the digits that tell them apart: "75 (expected 100, 85–115)" */
export function signalFigures(s: Signal): string {
  const [value, expected, lower, upper] = formatDistinct([s.value, s.expected ?? s.value, s.lower ?? s.value, s.upper ?? s.value]);
  const band = s.lower !== null && s.upper !== null ? `, ${lower}–${upper}` : '';
  return s.expected === null ? value : `${value} (expected ${expected}${band})`;
}

/** What a scope key points at, in words: metric:12 → "metric 12", volume:total → "project event volume" */
export function scopeLabel(scopeKey: string): string {
  if (scopeKey === 'volume:total') return 'project event volume';
  const i = scopeKey.indexOf(':');
  return i < 0 ? scopeKey : `${scopeKey.slice(0, i)} ${scopeKey.slice(i + 1)}`;
}

/** How a signal was found related to the incident (src/incidents/intake.ts) */
const VIA: Record<string, string> = {
  definition: 'related by definition',
  correlation: 'moved together',
  co_moving: 'left its band with it, moving together',
};

const str = (v: unknown) => (v === null || v === undefined ? '–' : String(v));

/** What an alert_sent entry's event was, as the timeline says it: "sent an “incident opened” alert" */
const ALERT_SENT: Record<string, string> = {
  opened: 'an “incident opened” alert',
  reopened: 'an “incident reopened” alert',
  repeat: 'a reminder',
  resolved: 'a “resolved” alert',
  digest: 'a digest',
  test: 'a test alert',
};

/** One timeline entry as a sentence (without who and when). */
export function describeEntry(e: TimelineEntry, nameOf: (userId: number | null) => string, timeZone: string): ReactNode {
  const d = e.data;
  switch (e.type) {
    case 'created':
      return (
        <>
          opened the incident{d.historical ? ' (from history, already over)' : ''}
          {d.severity ? <> · {str(d.severity)}</> : null}
        </>
      );
    case 'signal_added':
      return (
        <>
          added a signal ({str(d.kind)} on {scopeLabel(str(d.scopeKey))}) as {str(d.role).replace('_', ' ')}
          {d.via ? (
            <>
              {' '}
              · {VIA[str(d.via)] ?? `via ${str(d.via)}`}
              {typeof d.r === 'number' ? ` (r ${d.r.toFixed(2)})` : ''}
            </>
          ) : null}
        </>
      );
    case 'severity':
      return (
        <>
          changed the severity from {str(d.from)} to {str(d.to)}
        </>
      );
    case 'status':
      return (
        <>
          changed the status from {str(d.from)} to <strong>{str(d.to)}</strong>
          {d.resolution ? <> ({RESOLUTION_LABEL[str(d.resolution)] ?? str(d.resolution)})</> : null}
        </>
      );
    case 'assigned':
      return d.to === null ? (
        <>unassigned it</>
      ) : (
        <>
          assigned it to <strong>{nameOf(d.to as number)}</strong>
        </>
      );
    case 'comment':
      return <>commented</>;
    case 'muted':
      return d.until === null ? <>unmuted it</> : <>muted it until {formatTime(d.until as number, timeZone, false)}</>;
    case 'false_positive':
      return (
        <>
          marked it a false positive
          {Array.isArray(d.sensitivity) && d.sensitivity.length
            ? ` (made ${d.sensitivity.length} metric${d.sensitivity.length > 1 ? 's' : ''} less sensitive)`
            : ''}
        </>
      );
    case 'false_positive_undone':
      return <>undid the false positive{Array.isArray(d.restored) && d.restored.length ? ' (sensitivity put back)' : ''}</>;
    case 'alert_sent':
      return (
        <>
          sent {ALERT_SENT[str(d.event)] ?? `a ${str(d.event)} alert`} to {str(d.destination)}
          {d.kind ? ` (${str(d.kind)})` : ''}
          {d.ruleName ? <> by rule “{str(d.ruleName)}”</> : null}
        </>
      );
    default:
      return <>{e.type}</>;
  }
}
