/** `/new-project` (instance admin): a project with its slug, name and time zone; it opens on its empty Overview. */
import { useState, type FormEvent } from 'react';
import { fieldError, formError } from '../api/client';
import { useCreateProject } from '../api/projects';
import { navigate } from '../app/router';
import { projectUrl } from '../app/routes';
import { rememberProject } from '../app/project';
import { Button, Card, FormError, PageHeader, TextField } from '../components';
import { TimeZoneField } from '../components/TimeZoneField';

const FIELDS = ['slug', 'name', 'timeZone'];

/** "Web shop (EU)" → "web-shop-eu": what the server accepts as a slug. */
const slugOf = (name: string) =>
  name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63);

export default function NewProjectPage() {
  const create = useCreateProject();
  const [name, setName] = useState('');
  const [slug, setSlug] = useState('');
  const [slugEdited, setSlugEdited] = useState(false);
  const [timeZone, setTimeZone] = useState(() => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC');

  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate(
      { slug: slug.trim(), name: name.trim() || undefined, timeZone: timeZone.trim() },
      {
        onSuccess: (project) => {
          rememberProject(project.slug);
          navigate(projectUrl(project.slug));
        },
      },
    );
  };

  return (
    <>
      <PageHeader
        title="New project"
        description="A project holds one product's events, metrics, incidents and alerts. You become its owner."
      />
      <Card>
        <form onSubmit={submit} aria-label="New project" style={{ maxWidth: '36rem' }}>
          <TextField
            label="Name"
            value={name}
            autoFocus
            onChange={(e) => {
              setName(e.target.value);
              if (!slugEdited) setSlug(slugOf(e.target.value));
            }}
            error={fieldError(create.error, 'name')}
            hint="As the app shows it; you can change it later."
          />
          <TextField
            label="Slug"
            value={slug}
            onChange={(e) => {
              setSlug(e.target.value);
              setSlugEdited(true);
            }}
            error={fieldError(create.error, 'slug')}
            hint="In URLs and the API: lowercase letters, digits and dashes. It cannot change later."
          />
          <TimeZoneField value={timeZone} onChange={setTimeZone} error={fieldError(create.error, 'timeZone')} />
          <FormError error={formError(create.error, FIELDS)} />
          <div style={{ marginTop: '1rem' }}>
            <Button type="submit" variant="primary" busy={create.isPending}>
              Create the project
            </Button>
          </div>
        </form>
      </Card>
    </>
  );
}
