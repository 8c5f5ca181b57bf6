/** The component set every page builds from; add to it rather than styling a page by hand. */
export { Button } from './Button';
export { Field, TextField, FormError } from './Field';
export { Table, type Column } from './Table';
export { Card, StatCard } from './Card';
export { Badge, SEVERITY_TONE, type Tone } from './Badge';
export { PageHeader } from './PageHeader';
export { Loading, ErrorState, Empty, QueryState } from './States';
export { JsonView } from './JsonView';
export { Sparkline } from './Sparkline';
export { ErrorBoundary } from './ErrorBoundary';
// TimeSeriesChart is imported from './TimeSeriesChart' directly: it brings uPlot, which only the
// pages with charts should load
