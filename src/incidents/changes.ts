/**
 * Every incident change runs in one transaction with its timeline entry and the alerts domain's
 * hook: a change, its history and its alerts commit together or not at all.
 */
import type { MetaDb } from '../meta-db.js';
import type { SignalService } from '../signals/service.js';
import type { Signal } from '../signals/store.js';
import { IncidentStore } from './store.js';
import type { Incident, IncidentActor, IncidentChangeHook, IncidentChangeType, IncidentEvent, IncidentEventType } from './types.js';

export interface ChangeDeps {
  db: MetaDb;
  signals: SignalService;
  onChange: IncidentChangeHook;
}

/** What a change may do inside its transaction. */
export class ChangeTx {
  readonly store: IncidentStore;

  constructor(
    readonly tx: MetaDb,
    private deps: ChangeDeps,
    readonly at: number,
  ) {
    this.store = new IncidentStore(tx);
  }

  /** A timeline entry; an API key's label goes into its data. */
  event(incidentId: number, type: IncidentEventType, actor: IncidentActor, data: Record<string, unknown> = {}): Promise<IncidentEvent> {
    return this.store.addEvent(
      incidentId,
      type,
      actor.userId,
      actor.userId === null && actor.label ? { ...data, actor: actor.label } : data,
      this.at,
    );
  }

  /** The incident's signals, root first, then as they were added (read in this transaction). */
  async signalsOf(incident: Incident): Promise<Signal[]> {
    const links = await this.store.links([incident.id]);
    const byId = new Map(
      (
        await this.deps.signals.byIds(
          links.map((l) => l.signalId),
          this.tx,
        )
      ).map((s) => [s.id, s]),
    );
    const ordered = links.map((l) => byId.get(l.signalId)).filter((s): s is Signal => s !== undefined);
    return [...ordered.filter((s) => s.id === incident.rootSignalId), ...ordered.filter((s) => s.id !== incident.rootSignalId)];
  }

  /** Tells alerting, inside this transaction: a hook that throws rolls the whole change back. */
  async emit(type: IncidentChangeType, incident: Incident, actor: IncidentActor, opts: { historical?: boolean } = {}): Promise<void> {
    await this.deps.onChange(this.tx, {
      type,
      incident,
      signals: await this.signalsOf(incident),
      actorId: actor.userId,
      at: this.at,
      ...(opts.historical && { historical: true }),
    });
  }
}

export class ChangeWriter {
  constructor(
    private deps: ChangeDeps,
    private now: () => number,
  ) {}

  run<T>(fn: (c: ChangeTx) => Promise<T>): Promise<T> {
    const at = this.now();
    return this.deps.db.transaction().execute((tx) => fn(new ChangeTx(tx, this.deps, at)));
  }
}
