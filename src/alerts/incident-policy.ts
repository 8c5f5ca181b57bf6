/**
 * What an incident change produces: deliveries in the outbox, written inside the change's own
 * transaction (every read and write goes through `tx`), so a change and its alerts commit together.
 * The policy itself is described at the top of service.ts.
 */
import type { AlertsUnit, UnitOn } from './unit-of-work.js';
import type { Incident, IncidentChange } from '../incidents/types.js';
import type { Signal } from '../signals/store.js';
import type { MetaDb } from '../meta-db.js';
import type { AppLinks } from '../http/app-links.js';
import { incidentMessage, type MetricInfo } from './compose.js';
import { composeContext, metricInfo } from './compose-context.js';
import type { Delivery } from './deliveries.js';
import { keyParts, type Outbox } from './outbox.js';
import type { AlertRule } from './rule-store.js';
import { inCooldown, type MatchTarget, matchRule, scopeKindOf } from './rules.js';

/** Cooldowns and repeats are per incident identity: its scope, breakdown and direction. */
export const cooldownScope = (i: Pick<Incident, 'scopeKey' | 'breakdown' | 'direction'>) =>
  `${i.scopeKey}|${i.breakdown}|${i.direction ?? ''}`;

export function isActive(rule: AlertRule, now: number): boolean {
  return rule.enabled && !(rule.mutedUntil !== null && rule.mutedUntil > now);
}

/** What a rule looks at in an incident: its root signal (the first) and the metric behind it. */
export function matchTargetOf(incident: Incident, signals: Signal[], metrics: Map<number, MetricInfo>): MatchTarget {
  const root = signals.find((s) => s.id === incident.rootSignalId) ?? signals[0];
  const metricId = incident.metricId ?? root?.metricId ?? null;
  const metric = metricId === null ? undefined : metrics.get(metricId);
  const absoluteChange = root && root.expected !== null ? root.value - root.expected : null;
  const percentChange =
    root && root.expected !== null && root.expected !== 0 ? ((root.value - root.expected) / Math.abs(root.expected)) * 100 : null;
  return {
    scopeKind: scopeKindOf(root?.scope, incident.scopeKey),
    direction: incident.direction,
    severity: incident.severity,
    metric: metric ? { name: metric.name, tags: metric.tags } : null,
    absoluteChange,
    percentChange,
  };
}

/**
 * The (rule, destination) deliveries whose last word on the incident is that it is open: their
 * latest opened, reopened or resolved alert (not failed) is not a resolve.
 */
function toldOpen(deliveries: Delivery[]): Delivery[] {
  const last = new Map<string, Delivery>();
  for (const d of deliveries) {
    if (d.ruleId === null || d.destinationId === null || d.status === 'failed') continue;
    if (d.event === 'opened' || d.event === 'reopened' || d.event === 'resolved') last.set(`${d.ruleId}:${d.destinationId}`, d);
  }
  return [...last.values()].filter((d) => d.event !== 'resolved');
}

export interface IncidentPolicyDeps {
  unit: UnitOn;
  outbox: Outbox;
  links: AppLinks;
}

export class IncidentPolicy {
  constructor(private deps: IncidentPolicyDeps) {}

  /** IncidentService's change hook: runs inside the change's transaction; every read and write goes through `tx`. */
  async onIncidentChange(tx: MetaDb, change: IncidentChange): Promise<void> {
    const { incident } = change;
    const unit = this.deps.unit(tx);
    switch (change.type) {
      case 'opened':
        if (change.historical) return;
        return this.onOpened(unit, change);
      case 'acknowledged':
        await unit.deliveries.withdrawRepeats(incident.id);
        return;
      case 'resolved':
        await unit.deliveries.withdrawRepeats(incident.id);
        return this.onResolved(unit, change);
      case 'reopened':
        return this.onReopened(unit, change);
      case 'signal_added':
      case 'severity':
        return;
    }
  }

  private async onOpened(unit: AlertsUnit, change: IncidentChange): Promise<void> {
    const { incident, signals } = change;
    const now = change.at;
    if (incident.mutedUntil !== null && incident.mutedUntil > now) return;
    const rules = (await unit.rules.list(incident.projectId)).filter((r) => isActive(r, now) && !r.spec.digest);
    if (rules.length === 0) return;
    const metrics = await metricInfo(unit, incident.projectId, signals);
    const target = matchTargetOf(incident, signals, metrics);
    const deliveries = unit.deliveries;
    const scope = cooldownScope(incident);
    const compose = await composeContext(unit, incident.projectId, metrics, this.deps.links.origin(), now);
    for (const rule of rules) {
      if (!matchRule(rule.spec.filters, target).matches) continue;
      if (inCooldown(rule.spec, await deliveries.lastSentAt(rule.id, scope), now)) continue;
      const message = incidentMessage('opened', incident, signals, { ...compose, rule: { id: rule.id, name: rule.name } });
      const kinds = await unit.destinations.kinds(incident.projectId, rule.spec.destinationIds);
      for (const destinationId of rule.spec.destinationIds.filter((id) => kinds.has(id))) {
        await this.deps.outbox.queue(
          unit.db,
          {
            projectId: incident.projectId,
            ruleId: rule.id,
            destinationId,
            incidentId: incident.id,
            scopeKey: scope,
            event: 'opened',
            idempotencyKey: `inc:${incident.id}:opened:${rule.id}:${destinationId}`,
            message,
          },
          now,
        );
      }
    }
  }

  private async onResolved(unit: AlertsUnit, change: IncidentChange): Promise<void> {
    const { incident, signals } = change;
    const now = change.at;
    const told = toldOpen(await unit.deliveries.ofIncident(incident.id));
    if (told.length === 0) return;
    const rules = new Map((await unit.rules.list(incident.projectId)).map((r) => [r.id, r]));
    const kinds = await unit.destinations.kinds(
      incident.projectId,
      told.map((d) => d.destinationId!),
    );
    const metrics = await metricInfo(unit, incident.projectId, signals);
    const compose = await composeContext(unit, incident.projectId, metrics, this.deps.links.origin(), now);
    for (const d of told) {
      const rule = rules.get(d.ruleId!);
      const kind = kinds.get(d.destinationId!);
      if (!rule || !kind) continue;
      // PagerDuty keeps its incident open until told; the others hear it when the rule asks for it
      if (kind !== 'pagerduty' && !(rule.spec.notifyOnResolve && isActive(rule, now))) continue;
      const message = incidentMessage('resolved', incident, signals, { ...compose, rule: { id: rule.id, name: rule.name } });
      await this.deps.outbox.queue(
        unit.db,
        {
          ...keyParts(d),
          event: 'resolved',
          idempotencyKey: `inc:${incident.id}:resolved:${rule.id}:${d.destinationId}:${incident.resolvedAt ?? now}`,
          message,
        },
        now,
      );
    }
  }

  private async onReopened(unit: AlertsUnit, change: IncidentChange): Promise<void> {
    const { incident, signals } = change;
    const now = change.at;
    if (incident.mutedUntil !== null && incident.mutedUntil > now) return;
    const deliveries = unit.deliveries;
    const told = (await deliveries.ofIncident(incident.id)).filter(
      (d) => d.event === 'opened' && d.status !== 'failed' && d.ruleId !== null && d.destinationId !== null,
    );
    if (told.length === 0) return;
    const rules = new Map((await unit.rules.list(incident.projectId)).map((r) => [r.id, r]));
    const metrics = await metricInfo(unit, incident.projectId, signals);
    const compose = await composeContext(unit, incident.projectId, metrics, this.deps.links.origin(), now);
    const scope = cooldownScope(incident);
    for (const d of told) {
      const rule = rules.get(d.ruleId!);
      if (!rule || !isActive(rule, now)) continue;
      if (inCooldown(rule.spec, await deliveries.lastSentAt(rule.id, scope), now)) continue;
      const message = incidentMessage('reopened', incident, signals, { ...compose, rule: { id: rule.id, name: rule.name } });
      await this.deps.outbox.queue(
        unit.db,
        { ...keyParts(d), event: 'reopened', idempotencyKey: `inc:${incident.id}:reopened:${rule.id}:${d.destinationId}:${now}`, message },
        now,
      );
    }
  }
}
