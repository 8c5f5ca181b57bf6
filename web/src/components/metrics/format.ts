import { formatNumber } from '../../app/format';

/** A metric's value with its unit: "1,234 ms"; a gap is "–". */
export const formatValue = (v: number | null | undefined, unit = '') => (v == null ? '–' : `${formatNumber(v)}${unit ? ` ${unit}` : ''}`);
