/**
 * A stored signal explained in plain words, from its own fields only (value, expected, band, z,
 * kind, direction, scope, details): what was observed, what was expected, the band, the samples
 * behind the peak, the detector or rule, and one sentence saying why it fired. Pure: the incident
 * page and every alert channel show the same words.
 */
import { formatDistinct, formatNumber } from '../format/number.js';
import type { Signal } from './store.js';

export type ExplainableSignal = Pick<
  Signal,
  'scope' | 'scopeKey' | 'kind' | 'direction' | 'value' | 'expected' | 'lower' | 'upper' | 'z' | 'details'
>;

export interface SignalExplanation {
  /** what it is about: a metric's name, an event, the project's event volume, a rule */
  subject: string;
  observed: string;
  expected: string | null;
  /** "84–152", or null without a band */
  band: string | null;
  /** the events, denominator or rows behind the peak bucket, when the detector said */
  samples: number | null;
  /** "seasonal baseline, Poisson", 'threshold rule "p95 latency above 800"', "schema drift", ... */
  detector: string;
  /** one plain sentence: what was seen against what, and why that fired */
  sentence: string;
}

/** the lead's count models (details.model), as people read them */
const MODEL_WORDS: Record<string, string> = { poisson: 'Poisson', binomial: 'binomial', log: 'log scale', robust: 'robust spread' };

const BUCKET_WORDS: Record<string, [one: string, many: string]> = {
  '5m': ['5 minutes', 'buckets of 5 minutes'],
  '15m': ['15 minutes', 'buckets of 15 minutes'],
  '1h': ['hour', 'hours'],
  '6h': ['6 hours', 'buckets of 6 hours'],
  '1d': ['day', 'days'],
  '1w': ['week', 'weeks'],
};

const KIND_WORDS: Record<string, string> = { outage: 'an outage', spike: 'a spike', drop: 'a drop', level_shift: 'a level shift' };

/** What the caller knows better than the signal: the metric's name and unit. */
export interface ExplainNames {
  label?: string;
  /** shown after a metric's values: "912 ms", "4.2%" */
  unit?: string;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v ? v : null);
const withUnit = (n: string, unit: string | null) => (!unit ? n : unit === '%' ? `${n}%` : `${n} ${unit}`);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The event or metric a signal is about, when no better label is given. */
function defaultSubject(s: ExplainableSignal): string {
  const rest = s.scopeKey.slice(s.scopeKey.indexOf(':') + 1);
  switch (s.scope) {
    case 'event':
      return str(s.details.event) ?? rest;
    case 'volume':
      return 'project event volume';
    case 'threshold':
      return str(s.details.ruleName) ?? s.scopeKey;
    case 'schema':
      return `schema of ${str(s.details.event) ?? rest}`;
    case 'distribution':
      return `distribution of ${rest.replace(':', '.')}`;
    default:
      return s.scopeKey;
  }
}

/** The spread model the detector used: the lead's `details.model`, else what the scope implies. */
function modelOf(s: ExplainableSignal): string | null {
  const model = str(s.details.model);
  if (model) return MODEL_WORDS[model] ?? model;
  const phi = num(s.details.dispersion);
  if (phi !== null) return phi > 1 ? `quasi-Poisson, dispersion ${formatNumber(phi)}` : 'Poisson';
  return null;
}

function explainAnomaly(s: ExplainableSignal, subject: string, unit: string | null): SignalExplanation {
  const counted = s.scope === 'event' || s.scope === 'volume';
  const [v, e, lower, upper] = formatDistinct([s.value, s.expected ?? s.value, s.lower ?? s.value, s.upper ?? s.value]);
  const observed = counted ? `${v} event${s.value === 1 ? '' : 's'}` : withUnit(v, unit);
  const expected = withUnit(e, unit);
  const band = s.lower !== null && s.upper !== null ? withUnit(`${lower}–${upper}`, unit) : null;
  const samples = num(s.details.samples);
  const model = modelOf(s);
  const detector = `seasonal baseline${model ? `, ${model}` : ''}`;
  const [one, many] = BUCKET_WORDS[str(s.details.interval) ?? ''] ?? ['bucket', 'buckets'];
  const figures = [
    band && `band ${band}`,
    model ?? `z ${formatNumber(s.z)}`,
    samples !== null && !(counted && model === 'Poisson') ? `${formatNumber(samples)} samples` : null,
  ]
    .filter(Boolean)
    .join(', ');
  const against = s.expected === null ? '' : ` against ${expected} expected`;
  const side = s.direction === 'down' || (s.direction === null && s.z < 0) ? 'below' : 'above';
  const flagged = num(s.details.flagged) ?? 1;
  const run = flagged > 1 ? `${flagged} ${many} in a row ${side} the band` : `${side} the band`;
  const why = KIND_WORDS[s.kind] ?? `a ${s.kind.replace(/_/g, ' ')}`;
  const sentence = `${subject}: ${observed} in the ${one}${against} (${figures}); ${run}: ${why}.`;
  return { subject, observed, expected: s.expected === null ? null : expected, band, samples, detector, sentence };
}

function explainRule(s: ExplainableSignal, subject: string, unit: string | null): SignalExplanation {
  const rule = str(s.details.ruleName) ?? s.scopeKey;
  const c = (s.details.condition ?? {}) as { operator?: unknown; value?: unknown; changeOverPeriod?: unknown };
  const compared = num(s.details.compared) ?? s.value;
  const limit = num(c.value);
  const change = num(c.changeOverPeriod);
  const [shown, line] = formatDistinct([compared, limit ?? compared]);
  const u = change ? '%' : unit;
  const what = change ? `change over ${change} buckets ` : '';
  const test =
    limit === null ? `was ${withUnit(shown, u)}` : `${what}${withUnit(shown, u)} ${str(c.operator) ?? 'vs'} ${withUnit(line, u)}`;
  const verb = s.kind === 'recovery' ? 'recovered' : 'breached';
  return {
    subject,
    observed: withUnit(shown, u),
    expected: null,
    band: null,
    samples: num(s.details.samples),
    detector: `threshold rule "${rule}"`,
    sentence: `rule "${rule}" ${verb}: ${test}`,
  };
}

function explainDrift(s: ExplainableSignal, subject: string): SignalExplanation {
  const samples = num(s.details.currentValues) ?? num(s.details.samples);
  if (s.scope === 'distribution') {
    const [psi, limit] = formatDistinct([s.value, s.upper ?? s.value]);
    return {
      subject,
      observed: `PSI ${psi}`,
      expected: null,
      band: s.upper === null ? null : `below ${limit}`,
      samples,
      detector: 'distribution drift (PSI)',
      sentence: `${subject}: PSI ${psi} against a stable limit of ${limit}${samples !== null ? ` over ${formatNumber(samples)} values` : ''}: the values' shares moved.`,
    };
  }
  const detail = str(s.details.detail) ?? s.kind.replace(/_/g, ' ');
  return {
    subject,
    observed: formatNumber(s.value),
    expected: null,
    band: null,
    samples,
    detector: 'schema drift',
    sentence: `${subject}: ${detail} (${formatNumber(s.value)} event${s.value === 1 ? '' : 's'} that day).`,
  };
}

/** Explains one signal; `names` says what it is about when the caller knows better (a metric's name and unit). */
export function explainSignal(s: ExplainableSignal, names: ExplainNames = {}): SignalExplanation {
  const subject = names.label || defaultSubject(s);
  const unit = str(names.unit) ?? str(s.details.unit);
  if (s.scope === 'threshold') return explainRule(s, subject, unit);
  if (s.scope === 'schema' || s.scope === 'distribution') return explainDrift(s, subject);
  return explainAnomaly(s, subject, s.scope === 'metric' ? unit : null);
}
