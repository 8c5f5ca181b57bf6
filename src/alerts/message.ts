/**
 * What an alert says, built once when the incident changes and stored with its delivery, so a
 * retry sends the same thing. Each destination renders it in its own format (destinations/).
 */
export type AlertEvent = 'opened' | 'reopened' | 'repeat' | 'resolved' | 'digest' | 'test';

export interface AlertItem {
  /** the signal's scope (`metric:12`, `rule:3`, `event:signup`, `schema:...`) and kind (spike, drop, level_shift, outage, breach, ...) */
  scopeKey: string;
  kind: string;
  /** metric name, event name or rule name: what a person recognises */
  label: string;
  direction: 'up' | 'down' | null;
  /** the episode's first bucket, ISO 8601 */
  bucket: string;
  actual: number;
  expected: number | null;
  /** actual − expected; null without an expected value */
  delta: number | null;
  /** delta / expected × 100; null when expected is 0 or unknown */
  percentDelta: number | null;
  /** info | warning | critical */
  severity: string;
  link: string | null;
  /**
   * Why it fired, one plain sentence (signals/explain.ts): observed, expected, band, samples and
   * the detector or rule. Absent in messages stored before explanations.
   */
  explanation?: string;
}

export interface AlertMessage {
  event: AlertEvent;
  project: { id: number; slug: string; name: string };
  rule: { id: number; name: string } | null;
  incident: {
    id: number;
    title: string;
    status: string;
    severity: string;
    /** ISO 8601 */
    startedAt: string;
    /** stable per incident: PagerDuty's dedup_key, Jira's label, Linear's lookup */
    dedupKey: string;
    /** the incident's page in the web app (null only in messages stored before links were always made) */
    url: string | null;
  } | null;
  /** the root signal first, then related ones; for a digest, one per incident */
  items: AlertItem[];
  /** one line, plain text */
  title: string;
  /** a few lines, plain text (destinations format their own rich text from the fields) */
  text: string;
  /** when the message was built, ISO 8601 */
  createdAt: string;
}

/** The percent change, or null when there is nothing to compare with. */
export function percentDelta(actual: number, expected: number | null): number | null {
  if (expected === null || expected === 0) return null;
  return ((actual - expected) / Math.abs(expected)) * 100;
}
