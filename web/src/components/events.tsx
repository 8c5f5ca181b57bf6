/** What the events explorer and the live view show of an event: the table's columns and the detail card. */
import type { VigilEvent } from '../api/types';
import { formatTime } from '../app/format';
import { Button } from './Button';
import { Card } from './Card';
import { JsonView } from './JsonView';
import type { Column } from './Table';

export function eventColumns(timeZone: string): Column<VigilEvent>[] {
  return [
    { header: 'Time', cell: (e) => formatTime(e.timestamp, timeZone), width: '11rem' },
    { header: 'Event', cell: (e) => <strong>{e.event ?? e.type}</strong> },
    { header: 'User', cell: (e) => e.userId ?? <span className="muted">{e.anonymousId ?? e.distinctId}</span> },
    { header: 'Page', cell: (e) => <span className="truncate">{e.pagePath ?? ''}</span> },
    { header: 'Where', cell: (e) => [e.country, e.browser, e.os].filter(Boolean).join(' · ') },
  ];
}

export function EventDetail({ event, onClose }: { event: VigilEvent; onClose: () => void }) {
  return (
    <Card
      title={event.event ?? event.type}
      actions={
        <Button size="small" variant="ghost" onClick={onClose}>
          Close
        </Button>
      }
    >
      <JsonView value={event} label="Event JSON" />
    </Card>
  );
}
