/** Settings: the project (name, time zone; deleting it), detection defaults, API keys, members and roles, the SDK snippet, the audit log; one tab each. */
import { useState } from 'react';
import { useMe } from '../api/auth';
import { hasRole, type ApiKey } from '../api/settings';
import type { PageProps } from '../app/routes';
import { navigate, useSearchParam } from '../app/router';
import { PageHeader } from '../components';
import { ApiKeys } from '../components/settings/ApiKeys';
import { AuditLog } from '../components/settings/AuditLog';
import { DeleteProject } from '../components/settings/DeleteProject';
import { DetectionDefaults } from '../components/settings/DetectionDefaults';
import { Members } from '../components/settings/Members';
import { ProjectSettings } from '../components/settings/ProjectSettings';
import { SdkSnippet } from '../components/settings/SdkSnippet';

const TABS = { project: 'Project', detection: 'Detection', keys: 'API keys', members: 'Members', sdk: 'SDK', audit: 'Audit log' } as const;
type Tab = keyof typeof TABS;
/** what the server keeps to owners */
const OWNER_TABS: Tab[] = ['keys', 'audit'];

export default function SettingsPage({ project }: PageProps) {
  const me = useMe();
  const isOwner = hasRole(project.role, 'owner');
  const tabs = (Object.keys(TABS) as Tab[]).filter((t) => isOwner || !OWNER_TABS.includes(t));
  const [tabParam] = useSearchParam('tab');
  const tab: Tab = tabs.includes(tabParam as Tab) ? (tabParam as Tab) : 'project';
  // secrets of keys created in this visit (shown once by the server): the SDK snippet can use them
  const [secrets, setSecrets] = useState<Record<number, string>>({});
  const remember = (key: ApiKey, secret: string) => setSecrets((s) => ({ ...s, [key.id]: secret }));
  const open = (t: Tab) => navigate(`${window.location.pathname}${t === 'project' ? '' : `?tab=${t}`}`, { replace: true });

  return (
    <>
      <PageHeader
        title="Settings"
        description={
          isOwner
            ? `${project.name} (${project.slug})`
            : `${project.name} (${project.slug}) · you are ${project.role === 'editor' ? 'an' : 'a'} ${project.role}: owners change these settings`
        }
        actions={
          <div className="segmented" role="tablist" aria-label="Settings">
            {tabs.map((t) => (
              <button key={t} type="button" role="tab" aria-selected={t === tab} onClick={() => open(t)}>
                {TABS[t]}
              </button>
            ))}
          </div>
        }
      />
      {tab === 'project' && <ProjectSettings project={project} canEdit={isOwner} />}
      {tab === 'project' && isOwner && <DeleteProject project={project} />}
      {tab === 'detection' && <DetectionDefaults slug={project.slug} canEdit={isOwner} />}
      {tab === 'keys' && <ApiKeys slug={project.slug} timeZone={project.timeZone} onCreated={remember} />}
      {tab === 'members' && <Members slug={project.slug} isOwner={isOwner} myUserId={me.data?.user.id ?? 0} timeZone={project.timeZone} />}
      {tab === 'sdk' && <SdkSnippet slug={project.slug} isOwner={isOwner} secrets={secrets} onCreated={remember} />}
      {tab === 'audit' && <AuditLog slug={project.slug} timeZone={project.timeZone} />}
    </>
  );
}
