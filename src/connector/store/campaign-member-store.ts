import { sql } from 'kysely';
import type { StoreDb } from '../../store/database.js';

/** The synced members of a list: prospect id → its CRM CampaignMember id. */
export async function selectSyncedMembers(
  db: StoreDb,
  unitId: string,
  listId: number,
): Promise<Map<number, string>> {
  const r = await sql<{
    prospect_id: number | string;
    crm_member_id: string;
  }>`select prospect_id, crm_member_id
    from connector_campaign_member where unit_id = ${unitId} and list_id = ${listId}`.execute(db);
  return new Map(r.rows.map((row) => [Number(row.prospect_id), row.crm_member_id]));
}

export async function saveSyncedMember(
  db: StoreDb,
  unitId: string,
  listId: number,
  prospectId: number,
  crmMemberId: string,
): Promise<void> {
  await sql`insert into connector_campaign_member (unit_id, list_id, prospect_id, crm_member_id)
    values (${unitId}, ${listId}, ${prospectId}, ${crmMemberId})
    on conflict (unit_id, list_id, prospect_id) do update set crm_member_id = ${crmMemberId}`.execute(db);
}

export async function deleteSyncedMember(
  db: StoreDb,
  unitId: string,
  listId: number,
  prospectId: number,
): Promise<void> {
  await sql`delete from connector_campaign_member
    where unit_id = ${unitId} and list_id = ${listId} and prospect_id = ${prospectId}`.execute(db);
}
