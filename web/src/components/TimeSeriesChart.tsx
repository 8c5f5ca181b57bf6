/**
 * Time series with uPlot: one or more lines over bucket starts, optionally an expected band
 * (lower..upper, filled), anomaly marks (a vertical line and a dot at the top), and dashed lines
 * (a forecast). The chart follows its container's width.
 */
import { useEffect, useRef } from 'react';
import uPlot, { type AlignedData, type Options } from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatDistinct, formatNumber } from '../app/format';

export interface ChartSeries {
  label: string;
  values: (number | null)[];
  /** a CSS colour; the palette's next one when unset */
  color?: string;
  /** a forecast or a previous period */
  dashed?: boolean;
}

export interface ChartMark {
  /** epoch ms, on the x axis */
  x: number;
  label?: string;
  tone?: 'bad' | 'warn' | 'info';
}

export interface TimeSeriesChartProps {
  /** bucket starts, epoch ms */
  x: number[];
  series: ChartSeries[];
  /** the expected range, per x */
  band?: { lower: (number | null)[]; upper: (number | null)[]; label?: string };
  marks?: ChartMark[];
  height?: number;
  /** IANA zone of the axis labels (the project's); the browser's when unset */
  timeZone?: string;
  /** an accessible name */
  label: string;
}

export const PALETTE = ['#2563eb', '#16a34a', '#d97706', '#9333ea', '#0891b2', '#dc2626', '#4b5563', '#db2777'];
const MARK_COLOR = { bad: '#dc2626', warn: '#d97706', info: '#2563eb' } as const;
const BAND_FILL = 'rgba(37, 99, 235, 0.12)';

// long because it is one screen's markup with the state its parts share
export function TimeSeriesChart({ x, series, band, marks = [], height = 240, timeZone, label }: TimeSeriesChartProps) {
  const holder = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const el = holder.current;
    if (!el) return;
    const data: (number | null)[][] = [x.map((t) => t / 1000), ...series.map((s) => s.values)];
    const opts: Options = {
      width: Math.max(200, el.clientWidth),
      height,
      legend: { show: series.length > 1 || !!band },
      cursor: { drag: { x: true, y: false } },
      scales: { x: { time: true } },
      axes: [
        { stroke: '#6b7280', grid: { stroke: '#eef0f3' } },
        // ticks with as many digits as it takes to tell them apart (0.01, 0.015, 0.02)
        { stroke: '#6b7280', grid: { stroke: '#eef0f3' }, values: (_u, ticks) => formatDistinct(ticks), size: 56 },
      ],
      series: [
        {},
        ...series.map((s, i) => ({
          label: s.label,
          stroke: s.color ?? PALETTE[i % PALETTE.length],
          width: 2,
          dash: s.dashed ? [6, 4] : undefined,
          value: (_u: uPlot, v: number | null) => (v == null ? '–' : formatNumber(v)),
          points: { show: false },
        })),
      ],
      hooks: {
        draw: [
          (u) => {
            if (!marks.length) return;
            const ctx = u.ctx;
            ctx.save();
            for (const m of marks) {
              const px = u.valToPos(m.x / 1000, 'x', true);
              if (px < u.bbox.left || px > u.bbox.left + u.bbox.width) continue;
              ctx.strokeStyle = ctx.fillStyle = MARK_COLOR[m.tone ?? 'bad'];
              ctx.lineWidth = 1.5 * devicePixelRatio;
              ctx.setLineDash([3 * devicePixelRatio, 3 * devicePixelRatio]);
              ctx.beginPath();
              ctx.moveTo(px, u.bbox.top);
              ctx.lineTo(px, u.bbox.top + u.bbox.height);
              ctx.stroke();
              ctx.beginPath();
              ctx.arc(px, u.bbox.top + 4 * devicePixelRatio, 4 * devicePixelRatio, 0, Math.PI * 2);
              ctx.fill();
            }
            ctx.restore();
          },
        ],
      },
    };
    if (band) {
      const upper = data.length;
      data.push(band.upper, band.lower);
      const bandSeries = {
        stroke: 'transparent',
        fill: undefined,
        points: { show: false },
        value: (_u: uPlot, v: number | null) => (v == null ? '–' : formatNumber(v)),
      };
      opts.series.push(
        { ...bandSeries, label: `${band.label ?? 'expected'} (high)` },
        { ...bandSeries, label: `${band.label ?? 'expected'} (low)` },
      );
      opts.bands = [{ series: [upper, upper + 1], fill: BAND_FILL }];
    }
    if (timeZone) opts.tzDate = (ts) => uPlot.tzDate(new Date(ts * 1000), timeZone);
    const u = new uPlot(opts, data as AlignedData, el);
    plot.current = u;
    const resize = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [x, series, band, marks, height, timeZone]);

  return <div className="chart" ref={holder} role="img" aria-label={label} />;
}
