/**
 * A metric's chart from its parts, each with its own buckets: the total series, the expected band
 * (from a backtest of the same window), breakdown series, and the forecast after the last
 * collected bucket (dashed, its band continuing the expected one). One x axis: the union of their
 * buckets, ascending.
 */
import type { ChartMark, ChartSeries } from '../TimeSeriesChart';
import type { Backtest, Forecast, MetricSeries, SeriesMark } from '../../api/metrics';

export interface MetricChartData {
  x: number[];
  series: ChartSeries[];
  band?: { lower: (number | null)[]; upper: (number | null)[]; label?: string };
  marks: ChartMark[];
}

const TONE: Record<string, ChartMark['tone']> = { critical: 'bad', warning: 'warn', info: 'info' };

export function buildMetricChart(o: {
  total: MetricSeries;
  color?: string;
  expected?: Backtest;
  breakdown?: MetricSeries;
  forecast?: Forecast;
  /** signals a backtest says would have fired (drawn blue) instead of the stored ones */
  backtestSignals?: Backtest['signals'];
}): MetricChartData {
  const xs = new Set<number>(o.total.buckets.map(Date.parse));
  const fc = o.forecast?.points ?? [];
  for (const p of fc) xs.add(Date.parse(p.bucket));
  const x = [...xs].sort((a, b) => a - b);
  const at = new Map(x.map((t, i) => [t, i]));
  const place = (buckets: string[], values: (number | null)[]) => {
    const out: (number | null)[] = new Array(x.length).fill(null);
    buckets.forEach((b, i) => {
      const j = at.get(Date.parse(b));
      if (j !== undefined) out[j] = values[i] ?? null;
    });
    return out;
  };

  const total = o.total.series[0];
  const series: ChartSeries[] = [{ label: 'value', values: place(o.total.buckets, total?.values ?? []), color: o.color || undefined }];
  if (o.breakdown) {
    for (const s of o.breakdown.series)
      series.push({ label: `${o.breakdown.breakdown}: ${s.label}`, values: place(o.breakdown.buckets, s.values) });
  }
  if (fc.length) {
    series.push({
      label: 'forecast',
      values: place(
        fc.map((p) => p.bucket),
        fc.map((p) => p.value),
      ),
      dashed: true,
      color: '#6b7280',
    });
  }

  let band: MetricChartData['band'];
  const points = o.expected?.points ?? [];
  if (points.length || fc.length) {
    // the server keeps bands within what the metric can take (a count at 0 or above, a share within [0, 1])
    const lower = place(
      points.map((p) => p.bucket),
      points.map((p) => p.lower),
    );
    const upper = place(
      points.map((p) => p.bucket),
      points.map((p) => p.upper),
    );
    fc.forEach((p) => {
      const j = at.get(Date.parse(p.bucket))!;
      lower[j] = p.lower;
      upper[j] = p.upper;
    });
    if (lower.some((v) => v !== null)) band = { lower, upper, label: 'expected' };
  }

  const marks: ChartMark[] = o.backtestSignals
    ? o.backtestSignals.map((s) => ({ x: Date.parse(s.bucket), label: `${s.kind} (backtest)`, tone: 'info' }))
    : o.total.signals.map((s: SeriesMark) => ({ x: Date.parse(s.bucket), label: s.kind, tone: TONE[s.severity] ?? 'bad' }));
  return { x, series, band, marks };
}
