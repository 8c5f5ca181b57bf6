/** A tiny line of a series (SVG, no chart library): for tables and cards. */
export function Sparkline({
  values,
  width = 96,
  height = 24,
  label,
}: {
  values: (number | null)[];
  width?: number;
  height?: number;
  label?: string;
}) {
  const nums = values.map((v) => v ?? 0);
  if (nums.length < 2) return <svg className="sparkline" width={width} height={height} aria-hidden={!label} aria-label={label} />;
  const max = Math.max(...nums);
  const min = Math.min(0, ...nums);
  const span = max - min || 1;
  const step = width / (nums.length - 1);
  const points = nums.map((v, i) => `${(i * step).toFixed(1)},${(height - 1 - ((v - min) / span) * (height - 2)).toFixed(1)}`).join(' ');
  return (
    <svg
      className="sparkline"
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
      role={label ? 'img' : undefined}
      aria-label={label}
      aria-hidden={!label}
    >
      <polyline points={points} fill="none" stroke="currentColor" strokeWidth="1.5" strokeLinejoin="round" />
    </svg>
  );
}
