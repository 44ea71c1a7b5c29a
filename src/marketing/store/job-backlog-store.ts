import { sql } from 'kysely';
import type { StoreDb } from '../../store/database.js';

/** Imports and exports not yet complete, by kind and status: the job runners' backlog. */
export async function countUnfinishedJobs(
  db: StoreDb,
): Promise<Array<{ kind: 'import' | 'export'; status: string; count: number }>> {
  const r = await sql<{ kind: 'import' | 'export'; status: string; n: number | string }>`
    select 'import' as kind, status, count(*) as n from marketing_import where status <> 'Complete' group by status
    union all
    select 'export' as kind, status, count(*) as n from marketing_export where status <> 'Complete' group by status`.execute(
    db,
  );
  return r.rows.map((row) => ({ kind: row.kind, status: row.status, count: Number(row.n) }));
}
