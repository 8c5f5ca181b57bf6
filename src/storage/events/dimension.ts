import { badRequest } from '../../errors.js';
import { DIMENSION_COLUMNS, type Dimension, type DimensionColumn } from './event-store.js';

/** A built-in column name, or any other name as an event property. */
export function parseDimension(name: string): Dimension {
  if ((DIMENSION_COLUMNS as readonly string[]).includes(name)) return { column: name as DimensionColumn };
  const property = name.startsWith('properties.') ? name.slice('properties.'.length) : name;
  if (!property || property.length > 200)
    throw badRequest('breakdown must be a column or a property name of at most 200 characters', { field: 'breakdown' });
  return { property };
}
