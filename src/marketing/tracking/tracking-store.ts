import { sql } from 'kysely';
import type { StoreDb } from '../../store/database.js';

/** The engine's own writes behind tracking, too hot for the generic collection paths. */

export interface LatestVisit {
  id: number;
  prospectId: number | null;
  pageViews: number;
  firstAt: string;
  lastAt: string;
}

export async function selectVisitor(
  db: StoreDb,
  unitId: string,
  id: number,
): Promise<{ id: number; prospectId: number | null } | undefined> {
  const r = await sql<{ id: number | string; prospect_id: number | string | null }>`select id, prospect_id
    from marketing_visitor where unit_id = ${unitId} and id = ${id} and is_deleted = 0`.execute(db);
  const row = r.rows[0];
  return row
    ? { id: Number(row.id), prospectId: row.prospect_id === null ? null : Number(row.prospect_id) }
    : undefined;
}

/** A known visitor with its latest visit, in one query (the hot path of every page view). */
export async function selectVisitorWithVisit(
  db: StoreDb,
  unitId: string,
  id: number,
): Promise<{ id: number; prospectId: number | null; latest: LatestVisit | undefined } | undefined> {
  const r = await sql<Record<string, unknown>>`select v.id, v.prospect_id, l.id as visit_id,
      l.prospect_id as visit_prospect_id, l.visitor_page_view_count, l.first_visitor_page_view_at,
      l.last_visitor_page_view_at
    from marketing_visitor v
    left join marketing_visit l
      on l.id = (select max(id) from marketing_visit where unit_id = ${unitId} and visitor_id = v.id)
    where v.unit_id = ${unitId} and v.id = ${id} and v.is_deleted = 0`.execute(db);
  const row = r.rows[0];
  if (!row) return undefined;
  const nullable = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    id: Number(row.id),
    prospectId: nullable(row.prospect_id),
    latest:
      row.visit_id === null || row.visit_id === undefined
        ? undefined
        : {
            id: Number(row.visit_id),
            prospectId: nullable(row.visit_prospect_id),
            pageViews: Number(row.visitor_page_view_count ?? 0),
            firstAt: String(row.first_visitor_page_view_at),
            lastAt: String(row.last_visitor_page_view_at),
          },
  };
}

export async function countPageView(db: StoreDb, visitorId: number, at: string): Promise<void> {
  await sql`update marketing_visitor set page_view_count = coalesce(page_view_count, 0) + 1, updated_at = ${at}
    where id = ${visitorId}`.execute(db);
}

export async function extendVisit(db: StoreDb, visit: LatestVisit, at: string): Promise<void> {
  const seconds = Math.max(0, Math.round((Date.parse(at) - Date.parse(visit.firstAt)) / 1000));
  await sql`update marketing_visit set visitor_page_view_count = ${visit.pageViews + 1},
      last_visitor_page_view_at = ${at}, duration_in_seconds = ${seconds}, updated_at = ${at}
    where id = ${visit.id}`.execute(db);
}

/**
 * Gives a visitor's anonymous activities, visits and page views to its prospect. Returns the
 * types of the activities moved (their points go on the prospect's score) and the latest one's time.
 */
export async function moveVisitorToProspect(
  db: StoreDb,
  unitId: string,
  visitorId: number,
  prospectId: number,
  at: string,
): Promise<{ types: number[]; lastActivityAt: string | null }> {
  await sql`update marketing_visitor set prospect_id = ${prospectId}, updated_at = ${at}
    where unit_id = ${unitId} and id = ${visitorId}`.execute(db);
  const moved = await sql<{ type: number | string; created_at: string }>`select type, created_at
    from marketing_visitor_activity
    where unit_id = ${unitId} and visitor_id = ${visitorId} and prospect_id is null`.execute(db);
  for (const table of ['marketing_visitor_activity', 'marketing_visit', 'marketing_visitor_page_view']) {
    await sql`update ${sql.table(table)} set prospect_id = ${prospectId}
      where unit_id = ${unitId} and visitor_id = ${visitorId} and prospect_id is null`.execute(db);
  }
  let lastActivityAt: string | null = null;
  for (const row of moved.rows)
    if (!lastActivityAt || row.created_at > lastActivityAt) lastActivityAt = row.created_at;
  return { types: moved.rows.map((row) => Number(row.type)), lastActivityAt };
}
