/** The project's name and time zone (owners change them; others read them). */
import { useState, type FormEvent } from 'react';
import { fieldError, formError } from '../../api/client';
import { useUpdateProject } from '../../api/settings';
import type { Project } from '../../api/types';
import { formatDay } from '../../app/format';
import { Button } from '../Button';
import { Card } from '../Card';
import { FormError, TextField } from '../Field';
import { TimeZoneField } from '../TimeZoneField';

const FIELDS = ['name', 'timeZone'];

export function ProjectSettings({ project, canEdit }: { project: Project; canEdit: boolean }) {
  const update = useUpdateProject(project.slug);
  const [name, setName] = useState(project.name);
  const [timeZone, setTimeZone] = useState(project.timeZone);
  const changed = name !== project.name || timeZone !== project.timeZone;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const body: { name?: string; timeZone?: string } = {};
    if (name !== project.name) body.name = name;
    if (timeZone !== project.timeZone) body.timeZone = timeZone.trim();
    update.mutate(body);
  };

  return (
    <Card title="Project">
      <form onSubmit={submit} aria-label="Project settings" style={{ maxWidth: '36rem' }}>
        <TextField
          label="Slug"
          value={project.slug}
          readOnly
          disabled
          hint={`In URLs and the API. Created ${formatDay(project.createdAt, project.timeZone)}.`}
        />
        <TextField
          label="Name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          disabled={!canEdit}
          error={fieldError(update.error, 'name')}
        />
        <TimeZoneField
          value={timeZone}
          onChange={setTimeZone}
          disabled={!canEdit}
          error={fieldError(update.error, 'timeZone')}
          hint="An IANA name such as Europe/Berlin. Buckets (days, weeks) align to it; buckets already collected keep the alignment they were computed with."
        />
        <FormError error={formError(update.error, FIELDS)} />
        {update.isSuccess && !changed && (
          <p className="muted small" role="status">
            Saved.
          </p>
        )}
        {canEdit ? (
          <div style={{ marginTop: '1rem' }}>
            <Button type="submit" variant="primary" busy={update.isPending} disabled={!changed}>
              Save
            </Button>
          </div>
        ) : (
          <p className="muted small">Only owners can change the project.</p>
        )}
      </form>
    </Card>
  );
}
