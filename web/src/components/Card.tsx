import type { ReactNode } from 'react';
import { Badge } from './Badge';
import { formatChange, formatNumber } from '../app/format';

export function Card({
  title,
  actions,
  children,
  className,
}: {
  title?: ReactNode;
  actions?: ReactNode;
  children: ReactNode;
  className?: string;
}) {
  return (
    <section className={['card', className].filter(Boolean).join(' ')}>
      {(title || actions) && (
        <header className="card-header">
          {title && <h2>{title}</h2>}
          {actions && <div className="card-actions">{actions}</div>}
        </header>
      )}
      {children}
    </section>
  );
}

/** A figure against the previous period: the value, and the change as a coloured percentage. */
export function StatCard({
  label,
  value,
  change,
  previous,
}: {
  label: string;
  value: number | undefined;
  change: number | null | undefined;
  previous?: number;
}) {
  const tone = change == null || Math.abs(change) < 0.005 ? 'neutral' : change > 0 ? 'good' : 'bad';
  return (
    <section className="card stat" aria-label={label}>
      <div className="stat-label">{label}</div>
      <div className="stat-value">{value === undefined ? '–' : formatNumber(value)}</div>
      <div className="stat-change">
        <Badge tone={tone}>{formatChange(change)}</Badge>
        {previous !== undefined && <span className="muted"> vs {formatNumber(previous)} before</span>}
      </div>
    </section>
  );
}
