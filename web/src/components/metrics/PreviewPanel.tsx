/** The live preview of an unsaved definition: its last buckets computed by the server, as a chart. */
import { useMemo } from 'react';
import type { MetricPreview } from '../../api/metrics';
import { formatNumber } from '../../app/format';
import { Empty, ErrorState, Loading } from '../States';
import { TimeSeriesChart, type ChartSeries } from '../TimeSeriesChart';

interface Props {
  preview: MetricPreview | undefined;
  loading: boolean;
  /** the preview's error when no field shows it */
  error?: string;
  /** a newer definition is waiting to be computed */
  stale: boolean;
  timeZone: string;
  color?: string;
}

export function PreviewPanel({ preview, loading, error, stale, timeZone, color }: Props) {
  const chart = useMemo(() => {
    if (!preview) return null;
    const x = preview.buckets.map(Date.parse);
    const series: ChartSeries[] = [{ label: 'total', values: preview.total, color }];
    for (const s of preview.series) series.push({ label: `${preview.breakdown}: ${s.label}`, values: s.values });
    const values = preview.total.filter((v): v is number => v !== null);
    return { x, series, values };
  }, [preview, color]);

  if (error) return <ErrorState error={error} />;
  if (!chart) return loading ? <Loading label="Computing the preview…" /> : <Empty>Fill in the definition to see a preview.</Empty>;
  const sum = chart.values.reduce((a, b) => a + b, 0);
  return (
    <div className={stale || loading ? 'preview preview-stale' : 'preview'} aria-busy={stale || loading}>
      {chart.values.length === 0 || (preview?.valueKind === 'count' && sum === 0) ? (
        <Empty>No data in the last {preview?.buckets.length} buckets: check the event name and filters.</Empty>
      ) : (
        <TimeSeriesChart label="Preview of the metric" x={chart.x} series={chart.series} timeZone={timeZone} height={220} />
      )}
      <p className="muted small" data-testid="preview-summary">
        Last {preview?.buckets.length} {preview?.interval} buckets
        {chart.values.length > 0 && (
          <>
            {' '}
            · latest {formatNumber(chart.values[chart.values.length - 1])} ·{' '}
            {preview?.valueKind === 'count' ? `sum ${formatNumber(sum)}` : `mean ${formatNumber(sum / chart.values.length)}`}
          </>
        )}
        {(stale || loading) && ' · updating…'}
      </p>
    </div>
  );
}
