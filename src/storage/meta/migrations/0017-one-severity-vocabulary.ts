import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * One severity vocabulary (src/detect/severity.ts): incidents said minor / significant / major,
 * rules and signals info / warning / critical. This rewrites the incidents' words where they are
 * stored: the incidents, their timeline (created, severity changes), alert rules' minSeverity
 * filters and the messages of alert deliveries (a retry sends the stored message). JSON is written
 * without spaces (JSON.stringify), so a plain REPLACE of `"key":"word"` is exact on both SQLite
 * and PostgreSQL. The audit log keeps what was said at the time.
 */
const OLD_TO_NEW: [string, string][] = [
  ['minor', 'info'],
  ['significant', 'warning'],
  ['major', 'critical'],
];

async function rewrite(db: Kysely<unknown>, pairs: [string, string][]) {
  for (const [from, to] of pairs) {
    await sql`UPDATE incidents SET severity = ${to} WHERE severity = ${from}`.execute(db);
    for (const key of ['severity', 'from', 'to']) {
      const [a, b] = [`"${key}":"${from}"`, `"${key}":"${to}"`];
      await sql`UPDATE incident_events SET data = REPLACE(data, ${a}, ${b}) WHERE type IN ('created', 'severity') AND data LIKE ${`%${a}%`}`.execute(
        db,
      );
    }
    const [rule, ruleTo] = [`"minSeverity":"${from}"`, `"minSeverity":"${to}"`];
    await sql`UPDATE alert_rules SET spec = REPLACE(spec, ${rule}, ${ruleTo}) WHERE spec LIKE ${`%${rule}%`}`.execute(db);
    const [item, itemTo] = [`"severity":"${from}"`, `"severity":"${to}"`];
    await sql`UPDATE alert_deliveries SET message = REPLACE(message, ${item}, ${itemTo}) WHERE message LIKE ${`%${item}%`}`.execute(db);
  }
}

export function oneSeverityVocabulary(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await rewrite(db, OLD_TO_NEW);
    },
    async down(db: Kysely<unknown>) {
      await rewrite(
        db,
        OLD_TO_NEW.map(([from, to]) => [to, from]),
      );
    },
  };
}
