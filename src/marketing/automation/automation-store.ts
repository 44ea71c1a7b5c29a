import { sql } from 'kysely';
import type { StoreDb } from '../../store/database.js';

export interface RuleRun {
  runs: number;
  matched: boolean;
}

export async function selectRuleRun(
  db: StoreDb,
  ruleId: number,
  prospectId: number,
): Promise<RuleRun | undefined> {
  const r = await sql<{
    runs: number | string;
    matched: number | string;
  }>`select runs, matched from marketing_rule_run
    where rule_id = ${ruleId} and prospect_id = ${prospectId}`.execute(db);
  const row = r.rows[0];
  return row ? { runs: Number(row.runs), matched: Number(row.matched) === 1 } : undefined;
}

export async function saveRuleRun(
  db: StoreDb,
  run: { unitId: string; ruleId: number; prospectId: number; ran: boolean; matched: boolean; at: string },
): Promise<void> {
  const ran = run.ran ? 1 : 0;
  await sql`insert into marketing_rule_run (rule_id, prospect_id, unit_id, runs, matched, last_run_at)
    values (${run.ruleId}, ${run.prospectId}, ${run.unitId}, ${ran}, ${run.matched ? 1 : 0}, ${run.at})
    on conflict (rule_id, prospect_id) do update set runs = marketing_rule_run.runs + ${ran},
      matched = ${run.matched ? 1 : 0},
      last_run_at = case when ${ran} = 1 then ${run.at} else marketing_rule_run.last_run_at end`.execute(db);
}

/** The next turn of a round robin: 0, 1, 2 … per key, kept in the store so every process shares it. */
export async function nextTurn(db: StoreDb, key: string): Promise<number> {
  const r = await sql<{ value: string }>`insert into marketing_setting (key, value) values (${key}, '0')
    on conflict (key) do update set value = cast(cast(marketing_setting.value as integer) + 1 as text)
    returning value`.execute(db);
  return Number(r.rows[0]?.value ?? 0);
}

/** Prospect ids of a unit changed after `since` (all when null), in id order from `afterId`. */
export async function selectChangedProspects(
  db: StoreDb,
  unitId: string,
  since: string | null,
  afterId: number,
  limit: number,
): Promise<number[]> {
  const r = await sql<{ id: number | string }>`select id from marketing_prospect
    where unit_id = ${unitId} and is_deleted = 0 and id > ${afterId}
      ${since ? sql`and updated_at > ${since}` : sql``}
    order by id limit ${limit}`.execute(db);
  return r.rows.map((row) => Number(row.id));
}

/** Prospect ids of a unit without activity since `before` (nor made since), in id order from `afterId`. */
export async function selectInactiveProspects(
  db: StoreDb,
  unitId: string,
  before: string,
  afterId: number,
  limit: number,
): Promise<number[]> {
  const r = await sql<{ id: number | string }>`select id from marketing_prospect
    where unit_id = ${unitId} and is_deleted = 0 and id > ${afterId}
      and coalesce(last_activity_at, created_at) <= ${before}
    order by id limit ${limit}`.execute(db);
  return r.rows.map((row) => Number(row.id));
}

export async function hasActivity(
  db: StoreDb,
  unitId: string,
  prospectId: number,
  match: { type: number; formId?: number; formHandlerId?: number; emailId?: number },
): Promise<boolean> {
  const r = await sql`select 1 from marketing_visitor_activity
    where unit_id = ${unitId} and prospect_id = ${prospectId} and type = ${match.type}
      ${match.formId !== undefined ? sql`and form_id = ${match.formId}` : sql``}
      ${match.formHandlerId !== undefined ? sql`and form_handler_id = ${match.formHandlerId}` : sql``}
      ${match.emailId !== undefined ? sql`and email_id = ${match.emailId}` : sql``}
    limit 1`.execute(db);
  return r.rows.length > 0;
}

export async function isListMember(
  db: StoreDb,
  unitId: string,
  listId: number,
  prospectId: number,
): Promise<boolean> {
  const r = await sql`select 1 from marketing_list_membership
    where unit_id = ${unitId} and list_id = ${listId} and prospect_id = ${prospectId} and is_deleted = 0
    limit 1`.execute(db);
  return r.rows.length > 0;
}
