import { sql } from 'kysely';
import type { StoreDb } from '../../store/database.js';

type Row = Record<string, unknown>;

/** What the sync did in one minute: the console's charts are drawn from these. */
export interface MinuteMetrics {
  /** `YYYY-MM-DDTHH:MM` (UTC). */
  minute: string;
  /** Work items completed: records brought in line on both sides. */
  synced: number;
  writesToCrm: number;
  writesToMarketing: number;
  crmCalls: number;
  marketingCalls: number;
  errors: number;
}

const COLUMNS = {
  synced: 'synced',
  writesToCrm: 'writes_crm',
  writesToMarketing: 'writes_marketing',
  crmCalls: 'crm_calls',
  marketingCalls: 'marketing_calls',
  errors: 'errors',
} as const;

/** A minute without work. */
export function idleMinute(minute: string): MinuteMetrics {
  const metrics = { minute } as MinuteMetrics;
  for (const key of Object.keys(COLUMNS)) metrics[key as keyof typeof COLUMNS] = 0;
  return metrics;
}

export function minuteOf(at: Date): string {
  return at.toISOString().slice(0, 16);
}

/** Adds a pass's counts to its minute: one row a minute however many passes, so a day is 1,440 rows. */
export async function addMinuteMetrics(db: StoreDb, unitId: string, metrics: MinuteMetrics): Promise<void> {
  await sql`insert into connector_metric (unit_id, minute, synced, writes_crm, writes_marketing, crm_calls, marketing_calls, errors)
    values (${unitId}, ${metrics.minute}, ${metrics.synced}, ${metrics.writesToCrm}, ${metrics.writesToMarketing},
      ${metrics.crmCalls}, ${metrics.marketingCalls}, ${metrics.errors})
    on conflict (unit_id, minute) do update set
      synced = connector_metric.synced + excluded.synced,
      writes_crm = connector_metric.writes_crm + excluded.writes_crm,
      writes_marketing = connector_metric.writes_marketing + excluded.writes_marketing,
      crm_calls = connector_metric.crm_calls + excluded.crm_calls,
      marketing_calls = connector_metric.marketing_calls + excluded.marketing_calls,
      errors = connector_metric.errors + excluded.errors`.execute(db);
}

/** The minutes from `since` on, oldest first (minutes without work have no row). */
export async function selectMinuteMetrics(
  db: StoreDb,
  unitId: string,
  since: string,
): Promise<MinuteMetrics[]> {
  const r = await sql<Row>`select * from connector_metric where unit_id = ${unitId} and minute >= ${since}
    order by minute`.execute(db);
  return r.rows.map((row) => {
    const metrics = { minute: String(row.minute) } as MinuteMetrics;
    for (const [key, column] of Object.entries(COLUMNS))
      metrics[key as keyof typeof COLUMNS] = Number(row[column]);
    return metrics;
  });
}

/**
 * A side's API calls today (UTC) by every connector process of the unit: the minutes' counts
 * summed in the store, so processes share one budget.
 */
export async function callsToday(
  db: StoreDb,
  unitId: string,
  side: 'crm' | 'marketing',
  now: Date,
): Promise<number> {
  const column = side === 'crm' ? sql.ref('crm_calls') : sql.ref('marketing_calls');
  const r = await sql<{ n: number | string | null }>`select sum(${column}) as n from connector_metric
    where unit_id = ${unitId} and minute >= ${`${now.toISOString().slice(0, 10)}T00:00`}`.execute(db);
  return Number(r.rows[0]?.n ?? 0);
}
