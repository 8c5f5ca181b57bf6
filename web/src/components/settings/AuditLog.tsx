/** The audit log, newest first, a page at a time, filtered by action, actor and target; with an NDJSON export. */
import { useMemo, useState, type FormEvent } from 'react';
import { auditExportUrl, useAuditLog, type AuditEntry, type AuditQuery } from '../../api/settings';
import { formatTime } from '../../app/format';
import { Button } from '../Button';
import { Card } from '../Card';
import { JsonView } from '../JsonView';
import { Table } from '../Table';

// long because it is one screen's markup with the state its parts share
export function AuditLog({ slug, timeZone }: { slug: string; timeZone: string }) {
  const [q, setQ] = useState<AuditQuery>({});
  const [open, setOpen] = useState<number | null>(null);
  const log = useAuditLog(slug, q);
  const rows = useMemo(() => log.data?.pages.flatMap((p) => p.entries), [log.data]);
  const chosen = rows?.find((e) => e.id === open);
  const filtered = !!(q.action || q.actor || q.targetType);

  const apply = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const data = new FormData(e.currentTarget);
    const text = (name: string) => String(data.get(name) ?? '').trim() || undefined;
    setQ({ action: text('action'), actor: text('actor'), targetType: text('targetType') });
    setOpen(null);
  };

  return (
    <>
      <form className="filters" onSubmit={apply} aria-label="Audit filters" key={JSON.stringify(q)}>
        <label>
          Action <input name="action" defaultValue={q.action} placeholder="e.g. api_key.create" />
        </label>
        <label>
          Actor <input name="actor" defaultValue={q.actor} placeholder="an email" />
        </label>
        <label>
          Target <input name="targetType" defaultValue={q.targetType} placeholder="e.g. metric, member" />
        </label>
        <Button type="submit" size="small">
          Apply
        </Button>
        {filtered && (
          <Button size="small" variant="ghost" onClick={() => setQ({})}>
            Clear filters
          </Button>
        )}
        <a className="btn btn-small btn-ghost" href={auditExportUrl(slug, q)} download>
          Export (NDJSON)
        </a>
      </form>
      <div className={chosen ? 'split' : undefined}>
        <Card title="Audit log">
          <Table<AuditEntry>
            label="Audit log"
            rows={rows}
            loading={log.isPending}
            error={log.error}
            onRetry={() => void log.refetch()}
            rowKey={(e) => String(e.id)}
            onRowClick={(e) => setOpen(e.id === open ? null : e.id)}
            selectedKey={open === null ? null : String(open)}
            empty={filtered ? 'No entries match these filters.' : 'Nothing recorded yet.'}
            columns={[
              { header: 'When', cell: (e) => <span title={e.at}>{formatTime(e.at, timeZone)}</span>, width: '10rem' },
              { header: 'Who', cell: (e) => e.actor.label },
              { header: 'Action', cell: (e) => <code>{e.action}</code> },
              {
                header: 'Target',
                cell: (e) => (
                  <span className="muted">
                    {e.target.type}
                    {e.target.id !== null && ` ${e.target.id}`}
                  </span>
                ),
              },
            ]}
          />
          {log.hasNextPage && (
            <div className="table-foot">
              <Button size="small" busy={log.isFetchingNextPage} onClick={() => void log.fetchNextPage()}>
                Load older entries
              </Button>
            </div>
          )}
        </Card>
        {chosen && (
          <Card
            title={chosen.action}
            actions={
              <Button size="small" variant="ghost" onClick={() => setOpen(null)}>
                Close
              </Button>
            }
          >
            <JsonView value={chosen} label="Audit entry" />
          </Card>
        )}
      </div>
    </>
  );
}
