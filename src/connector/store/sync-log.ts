import { sql } from 'kysely';
import type { Database } from '../../store/database.js';
import type { CrmObject } from '../domain/field-mapping.js';
import { selectLinkByCrmId, selectLinkByProspect } from './link-store.js';

type Row = Record<string, unknown>;

/** One field the sync wrote: to which side, the value and the one it replaced, why, and how. */
export interface SyncLogEntry {
  crmObject: CrmObject;
  crmId: string | null;
  prospectId: number | null;
  /** The prospect field (`*` for a whole record made). */
  field: string;
  crmField: string | null;
  toSide: 'crm' | 'marketing';
  value: string | null;
  previous: string | null;
  /** Which rule or policy decided (domain/decide-field.ts says it in words). */
  reason: string;
  /** The API call that carried the write. */
  apiCall: string;
}

export interface StoredSyncLogEntry extends SyncLogEntry {
  id: number;
  at: string;
}

export async function appendSyncLog(
  database: Database,
  unitId: string,
  entries: readonly SyncLogEntry[],
  at: string,
): Promise<void> {
  for (let i = 0; i < entries.length; i += 100) {
    const rows = entries
      .slice(i, i + 100)
      .map(
        (e) =>
          sql`(${unitId}, ${e.crmObject}, ${e.crmId}, ${e.prospectId}, ${e.field}, ${e.crmField}, ${e.toSide}, ${e.value}, ${e.previous}, ${e.reason}, ${e.apiCall}, ${at})`,
      );
    await sql`insert into connector_sync_log (unit_id, crm_object, crm_id, prospect_id, field, crm_field, to_side, value, previous, reason, api_call, at)
      values ${sql.join(rows)}`.execute(database.db);
  }
}

/** A record's log, oldest first: by its CRM id or its prospect id (a pair shares one log). */
export async function selectSyncLog(
  database: Database,
  unitId: string,
  record: { crmIds: readonly string[]; prospectId: number | null },
): Promise<StoredSyncLogEntry[]> {
  const crmIds = record.crmIds.length ? record.crmIds : [''];
  // The unit in each branch of the OR, so each branch searches its own index (an OR under one `unit_id = ?` scans the unit's whole log).
  const r = await sql<Row>`select * from connector_sync_log
    where (unit_id = ${unitId} and crm_id in (${sql.join([...crmIds])}))
      or (unit_id = ${unitId} and prospect_id = ${record.prospectId ?? -1}) order by id`.execute(database.db);
  return r.rows.map((row) => ({
    id: Number(row.id),
    crmObject: String(row.crm_object) as CrmObject,
    crmId: row.crm_id === null ? null : String(row.crm_id),
    prospectId: row.prospect_id === null ? null : Number(row.prospect_id),
    field: String(row.field),
    crmField: row.crm_field === null ? null : String(row.crm_field),
    toSide: String(row.to_side) as SyncLogEntry['toSide'],
    value: row.value === null ? null : String(row.value),
    previous: row.previous === null ? null : String(row.previous),
    reason: String(row.reason),
    apiCall: String(row.api_call),
    at: String(row.at),
  }));
}

/** The log of a record named by its CRM id or its prospect id, with its linked pair's. */
export async function selectRecordLog(
  database: Database,
  unitId: string,
  recordId: string,
): Promise<StoredSyncLogEntry[]> {
  const prospectId = /^\d+$/.test(recordId) ? Number(recordId) : null;
  const link =
    prospectId === null
      ? await selectLinkByCrmId(database.db, unitId, recordId)
      : await selectLinkByProspect(database.db, unitId, prospectId);
  return selectSyncLog(database, unitId, {
    crmIds: [...new Set([...(prospectId === null ? [recordId] : []), ...(link ? [link.crmId] : [])])],
    prospectId: link?.prospectId ?? prospectId,
  });
}
