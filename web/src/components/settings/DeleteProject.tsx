/** The danger zone (owners): deleting the project, its events and everything else of it, once its slug is typed. */
import { useState, type FormEvent } from 'react';
import { formError } from '../../api/client';
import { useDeleteProject } from '../../api/projects';
import type { Project } from '../../api/types';
import { navigate } from '../../app/router';
import { Button } from '../Button';
import { Card } from '../Card';
import { FormError, TextField } from '../Field';

export function DeleteProject({ project }: { project: Project }) {
  const remove = useDeleteProject(project.slug);
  const [typed, setTyped] = useState('');

  const submit = (e: FormEvent) => {
    e.preventDefault();
    // the app then opens another of the user's projects, or says there is none
    if (typed === project.slug) remove.mutate(undefined, { onSuccess: () => navigate('/', { replace: true }) });
  };

  return (
    <Card title="Danger zone" className="danger-zone">
      <form onSubmit={submit} aria-label="Delete project" style={{ maxWidth: '36rem' }}>
        <p>
          Deleting <strong>{project.name}</strong> removes all of its events, metrics and their values, signals, incidents, alert rules,
          destinations and deliveries, API keys, members, invitations, jobs and audit entries. It cannot be undone.
        </p>
        <TextField
          label={
            <>
              Type <code>{project.slug}</code> to confirm
            </>
          }
          value={typed}
          onChange={(e) => setTyped(e.target.value)}
          autoComplete="off"
          spellCheck={false}
        />
        <FormError error={formError(remove.error)} />
        <div style={{ marginTop: '0.75rem' }}>
          <Button type="submit" variant="danger" disabled={typed !== project.slug} busy={remove.isPending}>
            Delete this project
          </Button>
        </div>
      </form>
    </Card>
  );
}
