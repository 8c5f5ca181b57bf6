import type { Migration } from 'kysely';
import type { Dialect } from '../db.js';
import { initial } from './0001-initial.js';
import { metricsCatalog } from './0002-metrics.js';
import { jobs } from './0003-jobs.js';
import { accounts } from './0004-accounts.js';
import { detection } from './0005-detection.js';
import { thresholdRules } from './0006-threshold-rules.js';
import { drift } from './0007-drift.js';
import { incidentsAlerts } from './0008-incidents-alerts.js';
import { schedulerTicks } from './0009-scheduler-ticks.js';
import { jobsClaimIndex } from './0010-jobs-claim-index.js';
import { oneOpenIncident } from './0011-one-open-incident.js';
import { ingestOutbox } from './0012-ingest-outbox.js';
import { passwordResets } from './0013-password-resets.js';
import { userStatus } from './0015-user-status.js';
import { ingestQuarantine } from './0016-ingest-quarantine.js';
import { oneSeverityVocabulary } from './0017-one-severity-vocabulary.js';
import { metricSamples } from './0018-metric-samples.js';

/** Migrations by name, in order; each takes the dialect for the few column types that differ. */
export function migrations(dialect: Dialect): Record<string, Migration> {
  return {
    '0001-initial': initial(dialect),
    '0002-metrics': metricsCatalog(dialect),
    '0003-jobs': jobs(dialect),
    '0004-accounts': accounts(dialect),
    '0005-detection': detection(dialect),
    '0006-threshold-rules': thresholdRules(dialect),
    '0007-drift': drift(dialect),
    '0008-incidents-alerts': incidentsAlerts(dialect),
    '0009-scheduler-ticks': schedulerTicks(dialect),
    '0010-jobs-claim-index': jobsClaimIndex(dialect),
    '0011-one-open-incident': oneOpenIncident(dialect),
    '0012-ingest-outbox': ingestOutbox(dialect),
    '0013-password-resets': passwordResets(dialect),
    '0015-user-status': userStatus(dialect),
    '0016-ingest-quarantine': ingestQuarantine(dialect),
    '0017-one-severity-vocabulary': oneSeverityVocabulary(dialect),
    '0018-metric-samples': metricSamples(dialect),
  };
}
