/** Live: events as ingest accepts them (server-sent events), with pause, filters and the connection's state. */
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { projectPath, withQuery } from '../api/client';
import { useEventStream, type StreamStatus } from '../api/live';
import type { VigilEvent } from '../api/types';
import type { PageProps } from '../app/routes';
import { useSearchParam } from '../app/router';
import { eventColumns, EventDetail } from '../components/events';
import { Badge, Button, Card, PageHeader, Table } from '../components';
import { GetStarted } from '../components/GetStarted';

/** events kept on screen; older ones scroll away */
const KEEP = 200;

// long because it is one screen's markup with the state its parts share
export default function LivePage({ project }: PageProps) {
  const [event, setEvent] = useSearchParam('event');
  const [user, setUser] = useSearchParam('user');
  const [paused, setPaused] = useState(false);
  const [events, setEvents] = useState<VigilEvent[]>([]);
  const [held, setHeld] = useState<VigilEvent[]>([]);
  const [dropped, setDropped] = useState(0);
  const [selected, setSelected] = useState<string | null>(null);
  const pausedRef = useRef(paused);
  pausedRef.current = paused;

  const url = withQuery(projectPath(project.slug, '/live'), { event, user });
  const status = useEventStream(url, {
    onEvents(batch) {
      // newest first; while paused they wait, counted, until Resume
      const newest = [...batch].reverse();
      if (pausedRef.current) setHeld((h) => [...newest, ...h].slice(0, KEEP));
      else setEvents((e) => [...newest, ...e].slice(0, KEEP));
    },
    onDropped: (n) => setDropped((d) => d + n),
  });

  // a new filter starts a new list
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when the filter URL changes, which is the point
  useEffect(() => {
    setEvents([]);
    setHeld([]);
    setSelected(null);
  }, [url]);

  const resume = () => {
    setEvents((e) => [...held, ...e].slice(0, KEEP));
    setHeld([]);
    setPaused(false);
  };

  const applyFilters = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const data = new FormData(e.currentTarget);
    setEvent(String(data.get('event') ?? '').trim());
    setUser(String(data.get('user') ?? '').trim());
  };

  const chosen = events.find((e) => e.messageId === selected);
  return (
    <>
      <PageHeader
        title="Live"
        description="Events as they arrive, newest first. Only events received while this page is open are shown."
        actions={
          <>
            <ConnectionBadge status={status} />
            {paused ? (
              <Button variant="primary" onClick={resume}>
                Resume{held.length ? ` (${held.length} new)` : ''}
              </Button>
            ) : (
              <Button onClick={() => setPaused(true)}>Pause</Button>
            )}
            <Button
              variant="ghost"
              onClick={() => {
                setEvents([]);
                setHeld([]);
                setDropped(0);
                setSelected(null);
              }}
            >
              Clear
            </Button>
          </>
        }
      />
      <form className="filters" onSubmit={applyFilters} key={url}>
        <label>
          Event <input name="event" defaultValue={event} placeholder="any event" />
        </label>
        <label>
          User <input name="user" defaultValue={user} placeholder="any user" />
        </label>
        <Button type="submit" size="small">
          Apply
        </Button>
        {(event || user) && (
          <Button
            size="small"
            variant="ghost"
            onClick={() => {
              setEvent('');
              setUser('');
            }}
          >
            Clear filters
          </Button>
        )}
      </form>
      {dropped > 0 && (
        <p className="notice" role="status">
          This page fell behind: {dropped} event(s) were left out.
        </p>
      )}
      <div className={chosen ? 'split' : undefined}>
        <Card>
          <Table
            label="Live events"
            rows={events}
            rowKey={(e) => e.messageId}
            onRowClick={(e) => setSelected(e.messageId === selected ? null : e.messageId)}
            selectedKey={selected}
            empty={
              status.state === 'open' ? (
                paused ? (
                  'Paused.'
                ) : (
                  <GetStarted project={project} title="Waiting for events…" onLivePage />
                )
              ) : (
                'Connecting…'
              )
            }
            columns={eventColumns(project.timeZone)}
          />
        </Card>
        {chosen && <EventDetail event={chosen} onClose={() => setSelected(null)} />}
      </div>
    </>
  );
}

function ConnectionBadge({ status }: { status: StreamStatus }) {
  const [, tick] = useState(0);
  useEffect(() => {
    if (status.retryAt === null) return;
    const t = setInterval(() => tick((n) => n + 1), 1000);
    return () => clearInterval(t);
  }, [status.retryAt]);
  if (status.state === 'open') return <Badge tone="good">● Connected</Badge>;
  if (status.state === 'connecting') return <Badge tone="info">Connecting…</Badge>;
  const wait = status.retryAt ? Math.max(0, Math.ceil((status.retryAt - Date.now()) / 1000)) : 0;
  return (
    <Badge tone="warn" title={`${status.attempts} failed attempt(s)`}>
      Reconnecting{wait ? ` in ${wait} s` : '…'}
    </Badge>
  );
}
