/**
 * The one severity vocabulary of threshold rules, signals, incidents and alert rules' filters:
 * info < warning < critical.
 *
 * Why these words: threshold rules and signals already spoke them, the tools alerts go to speak
 * them (Prometheus Alertmanager, Grafana; PagerDuty's critical/error/warning/info), and each says
 * what a person should do: info — know it, warning — look at it, critical — act now. Incidents
 * said minor/significant/major until migration 0017-one-severity-vocabulary rewrote them.
 */
export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

export function higherSeverity(a: Severity, b: Severity): Severity {
  return SEVERITY_RANK[b] > SEVERITY_RANK[a] ? b : a;
}

/** Incidents' former words, still accepted on input for one release (README "Severity"). */
export const LEGACY_SEVERITIES: Record<string, Severity> = { minor: 'info', significant: 'warning', major: 'critical' };

/** A severity given on input, in today's words or an incident's former ones; undefined when neither. */
export function severityFromInput(word: unknown): Severity | undefined {
  if (typeof word !== 'string') return undefined;
  if ((SEVERITIES as readonly string[]).includes(word)) return word as Severity;
  return Object.hasOwn(LEGACY_SEVERITIES, word) ? LEGACY_SEVERITIES[word] : undefined;
}
