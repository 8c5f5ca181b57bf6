/**
 * The product's main flow after collection, in one place:
 *
 *   metric.collected  (metrics: a collection stored new buckets)
 *     → anomaly detection and threshold rules on them, then detection again once they settle
 *   signals.written   (signals: a detector stored or updated signals)
 *     → incident intake: open, group, update or resolve incidents
 *   incident.changed  (incidents: an incident opened, changed severity, resolved...)
 *     → alert policy: deliveries into the outbox, inside the incident's own transaction
 *
 * Each domain emits through the hook it is given and never imports the domain that reacts.
 */
import type { EventBus } from './bus.js';
import type { Project } from './projects/service.js';
import type { Metric } from './metrics/service.js';
import type { Signal } from './signals/store.js';
import type { Coverage } from './signals/service.js';
import type { SignalsModule } from './signals/module.js';
import type { IncidentService } from './incidents/service.js';
import type { IncidentChange } from './incidents/types.js';
import type { AlertService } from './alerts/service.js';
import type { MetaDb } from './meta-db.js';

export type DomainEvents = {
  'metric.collected': [project: Project, metrics: Metric[], window: { fromMs: number; toMs: number }];
  'signals.written': [projectId: number, written: Signal[], covered: Coverage[]];
  'incident.changed': [tx: MetaDb, change: IncidentChange];
};

export type DomainBus = EventBus<DomainEvents>;

export interface Reactors {
  signals: Pick<SignalsModule, 'detectCollected' | 'signals'>;
  incidents: Pick<IncidentService, 'onSignals'>;
  alerts: Pick<AlertService, 'onIncidentChange'>;
}

/** The one place the reactions are wired. */
export function wireReactions(bus: DomainBus, r: Reactors): void {
  bus.on('metric.collected', async (project, collected, window) => {
    await r.signals.detectCollected(project, collected, window);
    // and again once the newest buckets have settled, when that comes before the next collection
    await r.signals.signals.scheduleSettled(project, collected);
  });
  bus.on('signals.written', (projectId, written, covered) => r.incidents.onSignals(projectId, written, covered));
  bus.on('incident.changed', (tx, change) => r.alerts.onIncidentChange(tx, change));
}
