import { sql } from 'kysely';
import type { StoreDb } from '../../store/database.js';
import type { SyncValue } from '../domain/decide-field.js';
import type { CrmObject } from '../domain/field-mapping.js';

type Row = Record<string, unknown>;

export interface Link {
  unitId: string;
  crmObject: CrmObject;
  crmId: string;
  prospectId: number;
  /** prospect field → its value when last synced. */
  lastSynced: Record<string, SyncValue>;
}

function linkFromRow(row: Row): Link {
  return {
    unitId: String(row.unit_id),
    crmObject: String(row.crm_object) as CrmObject,
    crmId: String(row.crm_id),
    prospectId: Number(row.prospect_id),
    lastSynced: JSON.parse(String(row.last_synced)) as Record<string, SyncValue>,
  };
}

export async function selectLinkByCrmId(
  db: StoreDb,
  unitId: string,
  crmId: string,
): Promise<Link | undefined> {
  const r =
    await sql<Row>`select * from connector_link where unit_id = ${unitId} and crm_id = ${crmId}`.execute(db);
  return r.rows[0] ? linkFromRow(r.rows[0]) : undefined;
}

export async function selectLinkByProspect(
  db: StoreDb,
  unitId: string,
  prospectId: number,
): Promise<Link | undefined> {
  const r =
    await sql<Row>`select * from connector_link where unit_id = ${unitId} and prospect_id = ${prospectId}`.execute(
      db,
    );
  return r.rows[0] ? linkFromRow(r.rows[0]) : undefined;
}

/** Creates or replaces the link of a prospect (a relink after lead conversion replaces the CRM side). */
export async function saveLink(db: StoreDb, link: Link, at: string): Promise<void> {
  await sql`delete from connector_link where unit_id = ${link.unitId}
    and (prospect_id = ${link.prospectId} or crm_id = ${link.crmId})`.execute(db);
  await sql`insert into connector_link (unit_id, crm_object, crm_id, prospect_id, last_synced, updated_at)
    values (${link.unitId}, ${link.crmObject}, ${link.crmId}, ${link.prospectId}, ${JSON.stringify(link.lastSynced)}, ${at})`.execute(
    db,
  );
}

export async function countLinks(db: StoreDb, unitId: string): Promise<number> {
  const r = await sql<Row>`select count(*) as n from connector_link where unit_id = ${unitId}`.execute(db);
  return Number(r.rows[0]?.n ?? 0);
}

export async function selectCursor(db: StoreDb, name: string): Promise<string | undefined> {
  const r = await sql<Row>`select value from connector_cursor where name = ${name}`.execute(db);
  return r.rows[0] ? String(r.rows[0].value) : undefined;
}

export async function saveCursor(db: StoreDb, name: string, value: string): Promise<void> {
  await sql`insert into connector_cursor (name, value) values (${name}, ${value})
    on conflict (name) do update set value = excluded.value`.execute(db);
}
