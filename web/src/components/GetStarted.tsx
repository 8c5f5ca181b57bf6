/**
 * What an empty project shows where its data would be (Live, Overview): a button that sends a
 * test event through ingest, and the SDK snippet to send real ones.
 */
import { useState } from 'react';
import { formError } from '../api/client';
import { useSendTestEvent } from '../api/analytics';
import { hasRole } from '../api/settings';
import type { Project } from '../api/types';
import { Link } from '../app/router';
import { projectUrl } from '../app/routes';
import { Button } from './Button';
import { FormError } from './Field';
import { SdkSnippet } from './settings/SdkSnippet';

export function GetStarted({ project, title, onLivePage = false }: { project: Project; title: string; onLivePage?: boolean }) {
  const send = useSendTestEvent(project.slug);
  const [secrets, setSecrets] = useState<Record<number, string>>({});
  const canSend = hasRole(project.role, 'editor');
  return (
    <div className="get-started" style={{ display: 'grid', gap: '0.75rem', textAlign: 'left' }}>
      <strong>{title}</strong>
      <div style={{ display: 'flex', gap: '0.75rem', alignItems: 'center', flexWrap: 'wrap' }}>
        {canSend ? (
          <Button variant="primary" busy={send.isPending} onClick={() => send.mutate()}>
            Send a test event
          </Button>
        ) : (
          <span className="muted">An editor can send a test event from here.</span>
        )}
        {send.isSuccess && (
          <span role="status">
            Sent "{send.data.event}".{' '}
            {onLivePage ? (
              'It shows below as it arrives.'
            ) : (
              <>
                It shows on the <Link to={projectUrl(project.slug, 'live')}>Live page</Link> now, and in these charts within seconds.
              </>
            )}
          </span>
        )}
      </div>
      <FormError error={formError(send.error)} />
      <SdkSnippet
        slug={project.slug}
        isOwner={hasRole(project.role, 'owner')}
        secrets={secrets}
        onCreated={(key, secret) => setSecrets((s) => ({ ...s, [key.id]: secret }))}
      />
    </div>
  );
}
