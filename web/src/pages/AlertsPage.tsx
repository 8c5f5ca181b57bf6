/** Alerts: destinations (with "Send test"), rules (with the simulator) and the delivery log (with Retry), one tab each. */
import { hasRole } from '../api/settings';
import type { PageProps } from '../app/routes';
import { navigate, useSearchParam } from '../app/router';
import { PageHeader } from '../components';
import { DeliveriesPanel } from '../components/alerts/DeliveriesPanel';
import { DestinationsPanel } from '../components/alerts/DestinationsPanel';
import { RulesPanel } from '../components/alerts/RulesPanel';

const TABS = { destinations: 'Destinations', rules: 'Rules', deliveries: 'Delivery log' } as const;
type Tab = keyof typeof TABS;

export default function AlertsPage({ project }: PageProps) {
  const [tabParam] = useSearchParam('tab');
  const tab: Tab = tabParam in TABS ? (tabParam as Tab) : 'destinations';
  const canEdit = hasRole(project.role, 'editor');
  // a tab's filters belong to it: switching drops them
  const open = (t: Tab) => navigate(`${window.location.pathname}${t === 'destinations' ? '' : `?tab=${t}`}`, { replace: true });

  return (
    <>
      <PageHeader
        title="Alerts"
        description={
          canEdit
            ? 'Where alerts go, which incidents they are about, and what was delivered.'
            : 'Where alerts go, which incidents they are about, and what was delivered. Editors and owners can change them.'
        }
        actions={
          <div className="segmented" role="tablist" aria-label="Alerts">
            {(Object.keys(TABS) as Tab[]).map((t) => (
              <button key={t} type="button" role="tab" aria-selected={t === tab} onClick={() => open(t)}>
                {TABS[t]}
              </button>
            ))}
          </div>
        }
      />
      {tab === 'destinations' && <DestinationsPanel slug={project.slug} canEdit={canEdit} />}
      {tab === 'rules' && <RulesPanel slug={project.slug} canEdit={canEdit} timeZone={project.timeZone} />}
      {tab === 'deliveries' && <DeliveriesPanel slug={project.slug} canEdit={canEdit} timeZone={project.timeZone} />}
    </>
  );
}
