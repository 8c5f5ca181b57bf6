import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../db.js';
import { withId } from './0001-initial.js';

/**
 * Incidents (signals grouped into one thing to act on, with a timeline) and alerting: alert rules,
 * destinations (secrets encrypted), and deliveries, the outbox a worker sends from.
 *
 * Long because a migration is one schema step, applied once and never edited: its tables read top to bottom.
 */
export function incidentsAlerts(dialect: Dialect): Migration {
  return {
    // long because it creates every table of the step (see above)
    async up(db: Kysely<unknown>) {
      await withId(db.schema.createTable('incidents'), dialect)
        .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id').onDelete('cascade'))
        // the identity of an open incident: (scope_key, breakdown, direction); the bucket is not part of it
        .addColumn('scope_key', 'varchar(300)', (c) => c.notNull())
        // a breakdown value, '' for a total
        .addColumn('breakdown', 'varchar(300)', (c) => c.notNull().defaultTo(''))
        // up | down | '' (no direction: schema drift)
        .addColumn('direction', 'varchar(8)', (c) => c.notNull().defaultTo(''))
        .addColumn('metric_id', 'integer', (c) => c.references('metrics.id').onDelete('set null'))
        .addColumn('title', 'varchar(500)', (c) => c.notNull())
        // open | acknowledged | resolved
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        // recovered | manual | false_positive (when resolved)
        .addColumn('resolution', 'varchar(16)')
        // minor | significant | major
        .addColumn('severity', 'varchar(16)', (c) => c.notNull())
        .addColumn('root_signal_id', 'integer', (c) => c.references('signals.id').onDelete('set null'))
        .addColumn('assignee_id', 'integer', (c) => c.references('users.id').onDelete('set null'))
        .addColumn('muted_until', 'bigint')
        // the first bucket of the root signal, and the last bucket any of its signals reached (epoch ms)
        .addColumn('started_bucket', 'bigint', (c) => c.notNull())
        .addColumn('last_bucket', 'bigint', (c) => c.notNull())
        .addColumn('opened_at', 'bigint', (c) => c.notNull())
        .addColumn('acknowledged_at', 'bigint')
        .addColumn('resolved_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('incidents_project_status').on('incidents').columns(['project_id', 'status', 'id']).execute();
      await db.schema
        .createIndex('incidents_scope')
        .on('incidents')
        .columns(['project_id', 'scope_key', 'breakdown', 'direction'])
        .execute();

      await db.schema
        .createTable('incident_signals')
        .addColumn('incident_id', 'integer', (c) => c.notNull().references('incidents.id').onDelete('cascade'))
        .addColumn('signal_id', 'integer', (c) => c.notNull().references('signals.id').onDelete('cascade'))
        // root | same_scope | related
        .addColumn('role', 'varchar(16)', (c) => c.notNull())
        .addColumn('added_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('incident_signals_pk', ['incident_id', 'signal_id'])
        .execute();
      await db.schema.createIndex('incident_signals_signal').on('incident_signals').column('signal_id').execute();

      // the timeline: created, signal_added, status, severity, assigned, comment, muted, false_positive, alert_sent, ...
      await withId(db.schema.createTable('incident_events'), dialect)
        .addColumn('incident_id', 'integer', (c) => c.notNull().references('incidents.id').onDelete('cascade'))
        .addColumn('type', 'varchar(24)', (c) => c.notNull())
        // who: a user, or null for Vigil itself
        .addColumn('actor_id', 'integer', (c) => c.references('users.id').onDelete('set null'))
        // JSON: what changed (from/to, comment body, signal id, delivery id, ...)
        .addColumn('data', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('incident_events_incident').on('incident_events').columns(['incident_id', 'id']).execute();

      await withId(db.schema.createTable('alert_destinations'), dialect)
        .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id').onDelete('cascade'))
        .addColumn('name', 'varchar(200)', (c) => c.notNull())
        // webhook | slack | telegram | email | jira | linear | pagerduty | teams
        .addColumn('kind', 'varchar(16)', (c) => c.notNull())
        // JSON: the settings that are not secret (URLs, channel, project key, ...)
        .addColumn('config', 'text', (c) => c.notNull())
        // the secret settings (tokens, passwords, signing secret) as JSON, AES-256-GCM encrypted; never returned
        .addColumn('secrets', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('alert_destinations_name', ['project_id', 'name'])
        .execute();

      await withId(db.schema.createTable('alert_rules'), dialect)
        .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id').onDelete('cascade'))
        .addColumn('name', 'varchar(200)', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
        // JSON: AlertRuleSpec (src/alerts/rules.ts): filters, destination ids, cooldown, repeat, digest
        .addColumn('spec', 'text', (c) => c.notNull())
        .addColumn('muted_until', 'bigint')
        // the digest sent last covered incidents opened before this (epoch ms)
        .addColumn('digest_until', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('alert_rules_name', ['project_id', 'name'])
        .execute();

      await withId(db.schema.createTable('alert_deliveries'), dialect)
        .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id').onDelete('cascade'))
        .addColumn('rule_id', 'integer', (c) => c.references('alert_rules.id').onDelete('set null'))
        .addColumn('destination_id', 'integer', (c) => c.references('alert_destinations.id').onDelete('set null'))
        .addColumn('incident_id', 'integer', (c) => c.references('incidents.id').onDelete('set null'))
        // the incident's scope (cooldowns are per rule and scope)
        .addColumn('scope_key', 'varchar(300)')
        // opened | repeat | resolved | digest | test
        .addColumn('event', 'varchar(16)', (c) => c.notNull())
        // pending | sent | failed
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        // one delivery per key: a replayed incident change never sends twice
        .addColumn('idempotency_key', 'varchar(300)', (c) => c.notNull().unique())
        // JSON: the AlertMessage (src/alerts/message.ts) as built when the change happened
        .addColumn('message', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', 'bigint')
        .addColumn('last_error', 'text')
        // the receiver's answer: status code and the start of its body
        .addColumn('response_status', 'integer')
        .addColumn('response_body', 'text')
        // what the receiver calls it (a Jira issue key, a Linear issue id, a PagerDuty dedup key)
        .addColumn('external_id', 'varchar(300)')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('sent_at', 'bigint')
        .execute();
      await db.schema.createIndex('alert_deliveries_project').on('alert_deliveries').columns(['project_id', 'id']).execute();
      await db.schema
        .createIndex('alert_deliveries_cooldown')
        .on('alert_deliveries')
        .columns(['rule_id', 'scope_key', 'status', 'sent_at'])
        .execute();
      await db.schema.createIndex('alert_deliveries_incident').on('alert_deliveries').columns(['incident_id']).execute();
    },
    async down(db: Kysely<unknown>) {
      for (const t of ['alert_deliveries', 'alert_rules', 'alert_destinations', 'incident_events', 'incident_signals', 'incidents'])
        await db.schema.dropTable(t).execute();
    },
  };
}
