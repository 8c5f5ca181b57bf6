/** The projects table. Times are epoch milliseconds (see src/meta-db.ts). */
import type { Generated } from 'kysely';

export interface ProjectTable {
  id: Generated<number>;
  slug: string;
  name: string;
  time_zone: string;
  created_at: number;
  /** JSON: detection defaults { enabled?, sensitivity?, minExpected?, settlingMinutes? } */
  detection: Generated<string>;
}
