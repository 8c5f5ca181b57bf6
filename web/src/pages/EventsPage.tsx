/** Events explorer: stored events, newest first, filtered by event, user and time; a row opens its full JSON. */
import { useMemo, useState, type FormEvent } from 'react';
import { useEvents, useTopEvents } from '../api/analytics';
import type { VigilEvent } from '../api/types';
import type { PageProps } from '../app/routes';
import { useSearchParam } from '../app/router';
import { eventColumns, EventDetail } from '../components/events';
import { Button, Card, PageHeader, Table } from '../components';

/** `<input type=datetime-local>` (the browser's zone) ↔ epoch ms in the URL */
const toInput = (ms: number) => {
  const d = new Date(ms);
  return new Date(ms - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
};
const fromInput = (value: string) => (value ? new Date(value).getTime() : NaN);

// long because it is one screen's markup with the state its parts share
export default function EventsPage({ project }: PageProps) {
  const slug = project.slug;
  const [event, setEvent] = useSearchParam('event');
  const [user, setUser] = useSearchParam('user');
  const [fromParam, setFrom] = useSearchParam('from');
  const [toParam, setTo] = useSearchParam('to');
  const [selected, setSelected] = useState<string | null>(null);
  const fromMs = fromParam ? Number(fromParam) : undefined;
  const toMs = toParam ? Number(toParam) : undefined;

  const names = useTopEvents(slug, { from: '-30d', limit: 100 });
  const query = useEvents(slug, { event: event || undefined, user: user || undefined, beforeMs: toMs, limit: 50 });

  // GET /events pages back in time; "from" ends the list (no more pages are fetched past it)
  const rows = useMemo(() => {
    const all = query.data?.pages.flatMap((p) => p.events);
    return all && fromMs !== undefined ? all.filter((e) => Date.parse(e.timestamp) >= fromMs) : all;
  }, [query.data, fromMs]);
  const last = query.data?.pages.at(-1)?.events.at(-1);
  const reachedFrom = fromMs !== undefined && last !== undefined && Date.parse(last.timestamp) < fromMs;
  const chosen = rows?.find((e) => e.messageId === selected);

  const apply = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const data = new FormData(e.currentTarget);
    const text = (name: string) => String(data.get(name) ?? '').trim();
    const ms = (name: string) => {
      const v = fromInput(text(name));
      return Number.isFinite(v) ? String(v) : '';
    };
    setEvent(text('event'));
    setUser(text('user'));
    setFrom(ms('from'));
    setTo(ms('to'));
    setSelected(null);
  };
  const filtered = !!(event || user || fromParam || toParam);

  return (
    <>
      <PageHeader title="Events" description={`Stored events, newest first. Times in ${project.timeZone}.`} />
      <form className="filters" onSubmit={apply} key={`${event}|${user}|${fromParam}|${toParam}`} aria-label="Filters">
        <label>
          Event <input name="event" list="event-names" defaultValue={event} placeholder="any event" />
        </label>
        <datalist id="event-names">
          {names.data?.events.map((e) => (
            <option key={e.event} value={e.event} />
          ))}
        </datalist>
        <label>
          User <input name="user" defaultValue={user} placeholder="userId or anonymous id" />
        </label>
        <label>
          From <input name="from" type="datetime-local" defaultValue={fromMs ? toInput(fromMs) : ''} />
        </label>
        <label>
          To <input name="to" type="datetime-local" defaultValue={toMs ? toInput(toMs) : ''} />
        </label>
        <Button type="submit" size="small">
          Apply
        </Button>
        {filtered && (
          <Button
            size="small"
            variant="ghost"
            onClick={() => {
              setEvent('');
              setUser('');
              setFrom('');
              setTo('');
            }}
          >
            Clear filters
          </Button>
        )}
      </form>
      <div className={chosen ? 'split' : undefined}>
        <Card>
          <Table<VigilEvent>
            label="Events"
            rows={rows}
            loading={query.isPending}
            error={query.error}
            onRetry={() => void query.refetch()}
            rowKey={(e) => e.messageId}
            onRowClick={(e) => setSelected(e.messageId === selected ? null : e.messageId)}
            selectedKey={selected}
            empty={filtered ? 'No events match these filters.' : 'No events yet. Send some with the SDK or the HTTP API (/v1/track).'}
            columns={eventColumns(project.timeZone)}
          />
          {query.hasNextPage && !reachedFrom && (
            <div className="table-foot">
              <Button size="small" busy={query.isFetchingNextPage} onClick={() => void query.fetchNextPage()}>
                Load older events
              </Button>
            </div>
          )}
        </Card>
        {chosen && <EventDetail event={chosen} onClose={() => setSelected(null)} />}
      </div>
    </>
  );
}
