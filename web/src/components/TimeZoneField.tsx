/** A time-zone input with every IANA name the browser knows as suggestions. */
import { useId, useMemo } from 'react';
import { TextField } from './Field';

type Props = { value: string; onChange: (zone: string) => void; error?: string; disabled?: boolean; hint?: string };

export function TimeZoneField({ value, onChange, error, disabled, hint }: Props) {
  const listId = useId();
  const zones = useMemo(() => (typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : []), []);
  return (
    <>
      <TextField
        label="Time zone"
        list={listId}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        disabled={disabled}
        error={error}
        hint={hint ?? 'An IANA name such as Europe/Berlin. Buckets (days, weeks) align to it.'}
      />
      <datalist id={listId}>
        {zones.map((z) => (
          <option key={z} value={z} />
        ))}
      </datalist>
    </>
  );
}
