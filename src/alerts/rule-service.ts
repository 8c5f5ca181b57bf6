/** Alert rules as the API sees them: checked input, unique names, and what a rule would have sent. */
import type { UnitOn } from './unit-of-work.js';
import { VigilError, badRequest, notFound } from '../errors.js';
import type { IncidentService } from '../incidents/service.js';
import type { Project } from '../projects/service.js';
import type { MetaDb } from '../meta-db.js';
import { metricInfo } from './compose-context.js';
import type { DestinationStore } from './destinations-store.js';
import { matchTargetOf } from './incident-policy.js';
import type { AlertRule, RuleStore } from './rule-store.js';
import { type AlertRuleSpec, parseRuleSpec } from './rules.js';
import { type SimulationResult, simulateRule } from './simulate.js';

/** Incidents that started this long before a simulation's window may still have opened in it. */
const SIMULATE_MARGIN_MS = 86_400_000;

export interface RuleInput {
  name?: unknown;
  enabled?: unknown;
  mutedUntil?: unknown;
  [field: string]: unknown;
}

export interface RuleServiceDeps {
  db: MetaDb;
  unit: UnitOn;
  rules: RuleStore;
  destinations: DestinationStore;
  /** set once both services exist (each needs the other) */
  incidents: () => IncidentService;
  now: () => number;
}

export class RuleService {
  constructor(private deps: RuleServiceDeps) {}

  list(project: Project): Promise<AlertRule[]> {
    return this.deps.rules.list(project.id);
  }

  async get(project: Project, id: number): Promise<AlertRule> {
    const r = await this.deps.rules.get(project.id, id);
    if (!r) throw notFound(`alert rule ${id}`);
    return r;
  }

  async create(project: Project, input: RuleInput): Promise<AlertRule> {
    return this.deps.rules.insert(project.id, await this.parse(project, input), this.deps.now());
  }

  async update(project: Project, id: number, input: RuleInput): Promise<AlertRule> {
    const base = await this.get(project, id);
    const fields = await this.parse(project, input, base);
    return this.deps.rules.update(id, fields, this.deps.now(), fields.spec.digest?.cron !== base.spec.digest?.cron);
  }

  async remove(project: Project, id: number): Promise<AlertRule> {
    const r = await this.get(project, id);
    await this.deps.rules.delete(id);
    return r;
  }

  /** What a rule (saved, or a draft body) would have sent over the last `days` days. Sends nothing. */
  async simulate(project: Project, rule: { id: number } | { input: RuleInput }, days: number): Promise<SimulationResult> {
    if (!Number.isInteger(days) || days < 1 || days > 90) throw badRequest('days: must be a whole number from 1 to 90', { field: 'days' });
    let spec: AlertRuleSpec;
    if ('id' in rule) spec = (await this.get(project, rule.id)).spec;
    else {
      const { name: _name, enabled: _enabled, mutedUntil: _muted, ...specInput } = rule.input;
      // a draft need not have destinations yet
      spec = parseRuleSpec({ destinationIds: [1], ...specInput }, project.timeZone);
    }
    const to = this.deps.now();
    const from = to - days * 86_400_000;
    // by first bucket: a backfill opens the history's incidents all at once (simulate.ts places them)
    const opened = await this.deps.incidents().openedBetween(project, from - SIMULATE_MARGIN_MS, to, 'started');
    const metrics = await metricInfo(
      this.deps.unit(this.deps.db),
      project.id,
      opened.flatMap((o) => o.signals),
    );
    const candidates = opened.map(({ incident, signals }) => ({ incident, target: matchTargetOf(incident, signals, metrics) }));
    return simulateRule(spec, candidates, { from, to, timeZone: project.timeZone });
  }

  /** The rule's fields from a request, on top of `base` for an update; 400s name the field. */
  private async parse(project: Project, input: RuleInput, base?: AlertRule) {
    const name = input.name ?? base?.name;
    if (typeof name !== 'string' || name.trim() === '' || name.length > 200)
      throw badRequest('name must be 1-200 characters', { field: 'name' });
    const enabled = input.enabled ?? base?.enabled ?? true;
    if (typeof enabled !== 'boolean') throw badRequest('enabled must be true or false', { field: 'enabled' });
    let mutedUntil = base?.mutedUntil ?? null;
    if (input.mutedUntil !== undefined) {
      const t = input.mutedUntil === null ? null : typeof input.mutedUntil === 'string' ? Date.parse(input.mutedUntil) : NaN;
      if (t !== null && !Number.isFinite(t)) throw badRequest('mutedUntil must be an ISO 8601 time, or null', { field: 'mutedUntil' });
      mutedUntil = t;
    }
    const { name: _name, enabled: _enabled, mutedUntil: _muted, ...specInput } = input;
    const spec = parseRuleSpec(specInput, project.timeZone, base?.spec);
    const known = await this.deps.destinations.kinds(project.id, spec.destinationIds);
    const missing = spec.destinationIds.filter((id) => !known.has(id));
    if (missing.length)
      throw badRequest(`destinationIds: no destination ${missing.join(', ')} in this project`, { field: 'destinationIds' });
    const other = await this.deps.rules.byName(project.id, name.trim());
    if (other && other.id !== base?.id)
      throw new VigilError('VIGIL_ERR_CONFLICT', `an alert rule named "${name.trim()}" already exists in this project`, { field: 'name' });
    return { name: name.trim(), enabled, mutedUntil, spec };
  }
}
