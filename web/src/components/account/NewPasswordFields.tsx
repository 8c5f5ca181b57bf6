/** A new password typed twice, with the server's message beside the first and the mismatch beside the second. */
import { TextField } from '../Field';

/** Whether the form's two password fields (see NewPasswordFields) differ. */
export const passwordsDiffer = (form: HTMLFormElement, name = 'password') => {
  const data = new FormData(form);
  return data.get(name) !== data.get(`${name}Again`);
};

export function NewPasswordFields({
  name = 'password',
  label = 'Password',
  error,
  mismatch,
}: {
  name?: string;
  label?: string;
  error?: string;
  mismatch: boolean;
}) {
  return (
    <>
      <TextField
        label={label}
        name={name}
        type="password"
        autoComplete="new-password"
        minLength={12}
        required
        hint="At least 12 characters."
        error={error}
      />
      <TextField
        label={`${label} again`}
        name={`${name}Again`}
        type="password"
        autoComplete="new-password"
        required
        error={mismatch ? 'The two passwords differ.' : undefined}
      />
    </>
  );
}
