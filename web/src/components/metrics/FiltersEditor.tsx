/** Filters of a definition (all must hold): property, operator, value per row; the server's message under the row it is about. */
import { useId } from 'react';
import { Button } from '../Button';
import { COLUMNS, FILTER_OPS, OP_LABELS, type FilterRow } from './draft';

interface Props {
  rows: FilterRow[];
  onChange: (rows: FilterRow[]) => void;
  /** the definition path of the list, e.g. `definition.filters` or `definition.numerator.filters` */
  path: string;
  /** the message for a path, if any (save or preview error) */
  errorFor: (field: string) => string | undefined;
  label?: string;
}

const NO_VALUE = new Set(['is_set', 'is_not_set']);

export function FiltersEditor({ rows, onChange, path, errorFor, label = 'Filters' }: Props) {
  const id = useId();
  const set = (i: number, patch: Partial<FilterRow>) => onChange(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  const listError = errorFor(path);
  const rowErrors = rows.map((_, i) => errorFor(`${path}.${i}`));
  return (
    <fieldset className="metric-fieldset">
      <legend>{label}</legend>
      <datalist id={`${id}-columns`}>
        {COLUMNS.map((c) => (
          <option key={c} value={c} />
        ))}
      </datalist>
      {rows.length === 0 && <p className="muted small">No filters: every event counts.</p>}
      {rows.map((r, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: a filter row has no identity but its place; its inputs are controlled
        <div key={i} className="filter-row-wrap">
          <div className={rowErrors[i] ? 'filter-row field-invalid' : 'filter-row'}>
            <input
              aria-label={`${label} ${i + 1} property`}
              placeholder="property (plan, country, ...)"
              list={`${id}-columns`}
              value={r.property}
              onChange={(e) => set(i, { property: e.target.value })}
            />
            <select
              aria-label={`${label} ${i + 1} operator`}
              value={r.op}
              onChange={(e) => set(i, { op: e.target.value as FilterRow['op'] })}
            >
              {FILTER_OPS.map((op) => (
                <option key={op} value={op}>
                  {OP_LABELS[op]}
                </option>
              ))}
            </select>
            {!NO_VALUE.has(r.op) && (
              <input
                aria-label={`${label} ${i + 1} value`}
                placeholder={r.op === 'in' || r.op === 'not_in' ? 'a, b, c' : 'value'}
                value={r.value}
                onChange={(e) => set(i, { value: e.target.value })}
              />
            )}
            <Button
              size="small"
              variant="ghost"
              aria-label={`Remove ${label.toLowerCase()} ${i + 1}`}
              onClick={() => onChange(rows.filter((_, j) => j !== i))}
            >
              ✕
            </Button>
          </div>
          {rowErrors[i] && (
            <p className="field-error" role="alert">
              {rowErrors[i]}
            </p>
          )}
        </div>
      ))}
      {listError && !rowErrors.some(Boolean) && (
        <p className="field-error" role="alert">
          {listError}
        </p>
      )}
      <Button size="small" onClick={() => onChange([...rows, { property: '', op: 'eq', value: '' }])}>
        Add filter
      </Button>
    </fieldset>
  );
}
