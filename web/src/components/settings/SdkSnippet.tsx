/**
 * The SDK install snippet with one of the project's ingest keys. A key's secret is shown only
 * when it is created, so the snippet holds it only for a key made in this visit of the page (or
 * made here with one click); for an older key it holds a placeholder to replace with its secret.
 */
import { useMemo, useState } from 'react';
import { formError } from '../../api/client';
import { useApiKeys, useCreateApiKey, type ApiKey } from '../../api/settings';
import { Button } from '../Button';
import { Card } from '../Card';
import { Field, FormError } from '../Field';
import { Loading, ErrorState } from '../States';
import { CopyButton } from './CopyButton';
import { sdkSnippet } from './snippet';
import { keyState } from './ApiKeys';

// long because it is one screen's markup with the state its parts share
export function SdkSnippet({
  slug,
  isOwner,
  secrets,
  onCreated,
}: {
  slug: string;
  isOwner: boolean;
  secrets: Record<number, string>;
  onCreated: (key: ApiKey, secret: string) => void;
}) {
  const keys = useApiKeys(slug, isOwner);
  const create = useCreateApiKey(slug);
  const ingest = useMemo(
    () => keys.data?.keys.filter((k) => k.scopes.includes('ingest') && keyState(k).label === 'active') ?? [],
    [keys.data],
  );
  const [chosen, setChosen] = useState<number | null>(null);
  // the chosen key; else the newest one whose secret is known here; else the newest
  const key = ingest.find((k) => k.id === chosen) ?? [...ingest].reverse().find((k) => secrets[k.id]) ?? ingest[ingest.length - 1];
  const secret = key ? secrets[key.id] : undefined;
  const origin = window.location.origin;
  const writeKey = secret ?? (key ? `${key.prefix}…REPLACE_WITH_THE_KEY_SECRET` : 'YOUR_WRITE_KEY');
  const snippet = sdkSnippet(origin, writeKey);

  const createKey = () =>
    create.mutate(
      { name: 'website SDK', scopes: ['ingest'] },
      {
        onSuccess: (r) => {
          onCreated(r.key, r.secret);
          setChosen(r.key.id);
        },
      },
    );

  return (
    <Card title="Browser SDK">
      <p style={{ marginTop: 0 }}>
        Paste this into every page of your site, before <code>&lt;/head&gt;</code>. It loads <code>{origin}/sdk.js</code>, records page
        views (also on SPA route changes), and sends events to this project. Then call{' '}
        <code>vigil.track('Signed Up', {"{ plan: 'pro' }"})</code>, <code>vigil.identify(userId)</code>, …
      </p>
      {!isOwner ? (
        <p className="muted">
          Only owners can see and create the project's keys: ask one for an ingest (write) key, and put it in place of YOUR_WRITE_KEY.
        </p>
      ) : keys.isPending ? (
        <Loading />
      ) : keys.error ? (
        <ErrorState error={keys.error} onRetry={() => void keys.refetch()} />
      ) : ingest.length === 0 ? (
        <div className="notice" role="status" style={{ display: 'flex', gap: '0.75rem', alignItems: 'center', flexWrap: 'wrap' }}>
          <span>This project has no ingest key yet: the SDK needs one.</span>
          <Button size="small" variant="primary" busy={create.isPending} onClick={createKey}>
            Create an ingest key
          </Button>
        </div>
      ) : (
        <div style={{ display: 'flex', gap: '1rem', alignItems: 'flex-end', flexWrap: 'wrap' }}>
          <div style={{ minWidth: '18rem' }}>
            <Field label="Write key" htmlFor="sdk-key">
              <select id="sdk-key" value={key?.id ?? ''} onChange={(e) => setChosen(Number(e.target.value))}>
                {ingest.map((k) => (
                  <option key={k.id} value={k.id}>
                    {k.name} ({k.prefix}…){secrets[k.id] ? '' : ' · secret not shown'}
                  </option>
                ))}
              </select>
            </Field>
          </div>
          <Button busy={create.isPending} onClick={createKey}>
            Create a new ingest key
          </Button>
        </div>
      )}
      {isOwner && key && !secret && (
        <p className="notice" style={{ marginTop: '0.75rem' }}>
          The secret of "{key.name}" was shown only when it was created: replace the placeholder with it, or create a new ingest key here to
          get a ready snippet.
        </p>
      )}
      <FormError error={formError(create.error)} />
      <pre
        className="json"
        role="region"
        aria-label="SDK snippet"
        style={{ marginTop: '0.75rem', whiteSpace: 'pre-wrap', wordBreak: 'break-all' }}
      >
        {snippet}
      </pre>
      <div style={{ marginTop: '0.5rem' }}>
        <CopyButton text={snippet} label="Copy snippet" />
      </div>
    </Card>
  );
}
