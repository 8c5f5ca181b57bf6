import type { Migration } from 'kysely';
import type { Dialect } from '../db.js';
import { initial } from './0001-initial.js';

/** Migrations by name, in order; each takes the dialect for the few column types that differ. */
export function migrations(dialect: Dialect): Record<string, Migration> {
  return {
    '0001-initial': initial(dialect),
  };
}
