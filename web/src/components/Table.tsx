/**
 * A table of rows with its loading, error and empty states. Columns say how a cell renders;
 * `onRowClick` makes rows selectable (keyboard too), `selectedKey` marks one.
 */
import type { ReactNode } from 'react';
import { Empty, ErrorState, Loading } from './States';

export interface Column<T> {
  header: ReactNode;
  cell: (row: T) => ReactNode;
  align?: 'left' | 'right';
  /** a CSS width, e.g. '8rem' */
  width?: string;
}

interface Props<T> {
  columns: Column<T>[];
  rows: T[] | undefined;
  rowKey: (row: T) => string;
  loading?: boolean;
  error?: unknown;
  onRetry?: () => void;
  /** shown when there are no rows */
  empty: ReactNode;
  onRowClick?: (row: T) => void;
  selectedKey?: string | null;
  /** an accessible name for the table */
  label?: string;
}

export function Table<T>({ columns, rows, rowKey, loading, error, onRetry, empty, onRowClick, selectedKey, label }: Props<T>) {
  if (error && !rows?.length) return <ErrorState error={error} onRetry={onRetry} />;
  if (loading && !rows) return <Loading />;
  if (!rows?.length) return <Empty>{empty}</Empty>;
  return (
    <div className="table-wrap">
      <table className="table" aria-label={label}>
        <thead>
          <tr>
            {columns.map((c, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: columns are fixed for a table's life
              <th key={i} style={{ width: c.width, textAlign: c.align }}>
                {c.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => {
            const key = rowKey(row);
            return (
              <tr
                key={key}
                className={[onRowClick && 'clickable', key === selectedKey && 'selected'].filter(Boolean).join(' ') || undefined}
                aria-selected={onRowClick ? key === selectedKey : undefined}
                tabIndex={onRowClick ? 0 : undefined}
                onClick={onRowClick && (() => onRowClick(row))}
                onKeyDown={
                  onRowClick &&
                  ((e) => {
                    if (e.key !== 'Enter' && e.key !== ' ') return;
                    e.preventDefault();
                    onRowClick(row);
                  })
                }
              >
                {columns.map((c, i) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: columns are fixed for a table's life
                  <td key={i} style={{ textAlign: c.align }}>
                    {c.cell(row)}
                  </td>
                ))}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
