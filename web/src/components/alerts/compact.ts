import type { CSSProperties } from 'react';

/**
 * A <select> in a filter row or a table cell, sized like `.filters input` (styles.css styles
 * inputs there but not selects; a `.filters select` rule beside it would make this unneeded).
 */
export const COMPACT_SELECT: CSSProperties = {
  font: 'inherit',
  color: 'var(--text)',
  padding: '0.35rem 0.5rem',
  border: '1px solid var(--border)',
  borderRadius: 6,
  background: 'var(--surface)',
  minWidth: '8rem',
};
