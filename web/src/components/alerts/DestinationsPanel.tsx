/** The destinations: list (kind, settings, which secrets are set), "Send test" per row, create, edit, delete. */
import { useState } from 'react';
import { formError } from '../../api/client';
import { useDeleteDestination, useDestinations, useTestDestination, type Destination, type DestinationKind } from '../../api/alerts';
import { formatAgo } from '../../app/format';
import { Badge } from '../Badge';
import { Button } from '../Button';
import { Card } from '../Card';
import { FormError } from '../Field';
import { Table } from '../Table';
import { DestinationForm } from './DestinationForm';
import { KIND_LABELS } from './destination-fields';
import { TestResultView } from './TestResultView';

/** The setting that says where a destination sends (shown in the list). */
function target(d: Destination): string {
  const c = d.config;
  const v = c.url ?? c.baseUrl ?? c.chatId ?? c.to ?? c.host ?? c.teamId ?? c.source;
  return Array.isArray(v) ? v.join(', ') : v === undefined || v === null ? '' : String(v);
}

// long because it is one screen's markup with the state its parts share
export function DestinationsPanel({ slug, canEdit }: { slug: string; canEdit: boolean }) {
  const list = useDestinations(slug);
  const remove = useDeleteDestination(slug);
  const test = useTestDestination(slug);
  const [editing, setEditing] = useState<Destination | 'new' | null>(null);
  const tested = test.variables && 'id' in test.variables ? test.variables.id : null;

  return (
    <>
      {editing && (
        <Card title={editing === 'new' ? 'New destination' : `Edit ${editing.name}`}>
          <DestinationForm
            key={editing === 'new' ? 'new' : editing.id}
            slug={slug}
            destination={editing === 'new' ? undefined : editing}
            onDone={() => setEditing(null)}
          />
        </Card>
      )}
      <Card
        title="Destinations"
        actions={
          canEdit &&
          !editing && (
            <Button size="small" variant="primary" onClick={() => setEditing('new')}>
              New destination
            </Button>
          )
        }
      >
        <FormError error={formError(remove.error)} />
        <Table<Destination>
          label="Destinations"
          rows={list.data?.destinations}
          loading={list.isPending}
          error={list.error}
          onRetry={() => void list.refetch()}
          rowKey={(d) => String(d.id)}
          empty={canEdit ? 'No destinations yet. Add one (a webhook, Slack, email, …), then send a test.' : 'No destinations yet.'}
          columns={[
            { header: 'Name', cell: (d) => <strong>{d.name}</strong> },
            { header: 'Kind', cell: (d) => KIND_LABELS[d.kind as DestinationKind] ?? d.kind },
            {
              header: 'Sends to',
              cell: (d) => (
                <span className="truncate" title={target(d)}>
                  {target(d)}
                </span>
              ),
            },
            {
              header: 'Secrets',
              cell: (d) => (
                <span className="badges">
                  {Object.keys(d.secrets).map((k) => (
                    <Badge key={k} tone={d.secretsReadable ? 'good' : 'bad'}>
                      {k}: set
                    </Badge>
                  ))}
                  {!d.secretsReadable && <Badge tone="bad">unreadable: enter again</Badge>}
                </span>
              ),
            },
            { header: 'Changed', cell: (d) => formatAgo(d.updatedAt) },
            {
              header: '',
              align: 'right',
              cell: (d) => (
                <span className="badges">
                  <Button
                    size="small"
                    disabled={!canEdit}
                    busy={test.isPending && tested === d.id}
                    onClick={() => test.mutate({ id: d.id })}
                    aria-label={`Send test to ${d.name}`}
                  >
                    Send test
                  </Button>
                  {canEdit && (
                    <Button size="small" variant="ghost" onClick={() => setEditing(d)}>
                      Edit
                    </Button>
                  )}
                  {canEdit && (
                    <Button
                      size="small"
                      variant="ghost"
                      busy={remove.isPending && remove.variables === d.id}
                      onClick={() => window.confirm(`Delete the destination "${d.name}"?`) && remove.mutate(d.id)}
                    >
                      Delete
                    </Button>
                  )}
                </span>
              ),
            },
          ]}
        />
        {tested !== null && test.data && (
          <div>
            <h3 style={{ fontSize: '0.95rem', margin: '1rem 0 0' }}>
              Test of {list.data?.destinations.find((d) => d.id === tested)?.name ?? `destination ${tested}`}
            </h3>
            <TestResultView result={test.data} />
          </div>
        )}
        {tested !== null && test.error && <FormError error={formError(test.error)} />}
      </Card>
    </>
  );
}
