/** The delivery log, newest first, filtered by status, event, rule and destination; Retry on a failed one. */
import { useMemo } from 'react';
import { formError } from '../../api/client';
import {
  DELIVERY_EVENTS,
  DELIVERY_STATUSES,
  useAlertRules,
  useDeliveries,
  useDestinations,
  useRetryDelivery,
  type Delivery,
} from '../../api/alerts';
import { projectUrl } from '../../app/routes';
import { Link, useSearchParam } from '../../app/router';
import { formatTime } from '../../app/format';
import { Badge, type Tone } from '../Badge';
import { Button } from '../Button';
import { Card } from '../Card';
import { FormError } from '../Field';
import { Table } from '../Table';
import { COMPACT_SELECT } from './compact';

const STATUS_TONE: Record<string, Tone> = { sent: 'good', failed: 'bad', pending: 'warn' };
const id = (v: string) => (/^\d+$/.test(v) ? Number(v) : undefined);

// long because it is one screen's markup with the state its parts share
export function DeliveriesPanel({ slug, canEdit, timeZone }: { slug: string; canEdit: boolean; timeZone: string }) {
  const [status, setStatus] = useSearchParam('status');
  const [event, setEvent] = useSearchParam('event');
  const [rule, setRule] = useSearchParam('rule');
  const [destination, setDestination] = useSearchParam('destination');
  const rules = useAlertRules(slug);
  const destinations = useDestinations(slug);
  const query = useDeliveries(slug, {
    status: status || undefined,
    event: event || undefined,
    rule: id(rule),
    destination: id(destination),
  });
  const retry = useRetryDelivery(slug);
  const rows = useMemo(() => query.data?.pages.flatMap((p) => p.deliveries), [query.data]);
  const filtered = !!(status || event || rule || destination);
  const ruleName = (rid: number | null) => (rid === null ? '–' : (rules.data?.rules.find((r) => r.id === rid)?.name ?? `#${rid}`));
  const destinationName = (did: number | null) =>
    did === null ? '–' : (destinations.data?.destinations.find((d) => d.id === did)?.name ?? `#${did}`);

  return (
    <>
      <div className="filters" role="group" aria-label="Delivery filters">
        <label>
          Status
          <select style={COMPACT_SELECT} value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="">any</option>
            {DELIVERY_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Event
          <select style={COMPACT_SELECT} value={event} onChange={(e) => setEvent(e.target.value)}>
            <option value="">any</option>
            {DELIVERY_EVENTS.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Rule
          <select style={COMPACT_SELECT} value={rule} onChange={(e) => setRule(e.target.value)}>
            <option value="">any</option>
            {rules.data?.rules.map((r) => (
              <option key={r.id} value={r.id}>
                {r.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Destination
          <select style={COMPACT_SELECT} value={destination} onChange={(e) => setDestination(e.target.value)}>
            <option value="">any</option>
            {destinations.data?.destinations.map((d) => (
              <option key={d.id} value={d.id}>
                {d.name}
              </option>
            ))}
          </select>
        </label>
        {filtered && (
          <Button
            size="small"
            variant="ghost"
            onClick={() => {
              setStatus('');
              setEvent('');
              setRule('');
              setDestination('');
            }}
          >
            Clear filters
          </Button>
        )}
      </div>
      <Card title="Delivery log">
        <FormError error={formError(retry.error)} />
        <Table<Delivery>
          label="Deliveries"
          rows={rows}
          loading={query.isPending}
          error={query.error}
          onRetry={() => void query.refetch()}
          rowKey={(d) => String(d.id)}
          empty={
            filtered
              ? 'No deliveries match these filters.'
              : "Nothing delivered yet. Every alert a rule sends is logged here, with the receiver's answer."
          }
          columns={[
            { header: 'When', cell: (d) => <span title={d.createdAt}>{formatTime(d.createdAt, timeZone)}</span>, width: '10rem' },
            { header: 'Event', cell: (d) => <Badge tone="info">{d.event}</Badge> },
            { header: 'Status', cell: (d) => <Badge tone={STATUS_TONE[d.status]}>{d.status}</Badge> },
            {
              header: 'Alert',
              cell: (d) => (d.incidentId !== null ? <Link to={projectUrl(slug, `incidents/${d.incidentId}`)}>{d.title}</Link> : d.title),
            },
            { header: 'Rule', cell: (d) => ruleName(d.ruleId) },
            { header: 'Destination', cell: (d) => destinationName(d.destinationId) },
            { header: 'Tries', cell: (d) => d.attempts, align: 'right' },
            {
              header: 'Answer',
              cell: (d) => (
                <span
                  className="truncate small"
                  title={[d.lastError, d.responseBody].filter(Boolean).join('\n')}
                  style={{ maxWidth: '16rem' }}
                >
                  {d.lastError ?? (
                    <>
                      {d.responseStatus !== null && `HTTP ${d.responseStatus}`}
                      {d.externalId && ` → ${d.externalId}`}
                    </>
                  )}
                  {d.status === 'pending' && d.nextAttemptAt && (
                    <span className="muted">next try {formatTime(d.nextAttemptAt, timeZone)}</span>
                  )}
                </span>
              ),
            },
            {
              header: '',
              align: 'right',
              cell: (d) =>
                d.status === 'failed' && (
                  <Button
                    size="small"
                    disabled={!canEdit}
                    title={canEdit ? undefined : 'Editors and owners can retry'}
                    busy={retry.isPending && retry.variables === d.id}
                    onClick={() => retry.mutate(d.id)}
                  >
                    Retry
                  </Button>
                ),
            },
          ]}
        />
        {query.hasNextPage && (
          <div className="table-foot">
            <Button size="small" busy={query.isFetchingNextPage} onClick={() => void query.fetchNextPage()}>
              Load older deliveries
            </Button>
          </div>
        )}
      </Card>
    </>
  );
}
