import { sql } from 'kysely';
import type { StoreDb } from '../../store/database.js';

/** A deployed component as kept: its type, name, file and the text it was deployed as. */
export interface StoredComponent {
  type: string;
  fullName: string;
  fileName: string;
  content: string;
}

/** Every deployed component of `type`. */
export async function selectComponents(db: StoreDb, type: string): Promise<StoredComponent[]> {
  const r = await sql<{ type: string; full_name: string; file_name: string; content: string }>`
    select type, full_name, file_name, content from crm_metadata_component where type = ${type}
    order by full_name`.execute(db);
  return r.rows.map((row) => ({
    type: row.type,
    fullName: row.full_name,
    fileName: row.file_name,
    content: row.content,
  }));
}

/** How a component is told apart from every other: its type and name. */
export function componentKey(type: string, fullName: string): string {
  return `${type}:${fullName}`;
}

/** Every deployed component, by `componentKey` (their contents left unread). */
export async function selectComponentKeys(db: StoreDb): Promise<Set<string>> {
  const r = await sql<{ type: string; full_name: string }>`
    select type, full_name from crm_metadata_component`.execute(db);
  return new Set(r.rows.map((row) => componentKey(row.type, row.full_name)));
}

/** Keeps components as deployed: new ones added, ones of the same type and name replaced. */
export async function upsertComponents(
  db: StoreDb,
  components: StoredComponent[],
  at: string,
): Promise<void> {
  for (const c of components) {
    await sql`insert into crm_metadata_component (type, full_name, file_name, content, deployed_at)
      values (${c.type}, ${c.fullName}, ${c.fileName}, ${c.content}, ${at})
      on conflict (type, full_name) do update set file_name = excluded.file_name,
        content = excluded.content, deployed_at = excluded.deployed_at`.execute(db);
  }
}

export async function insertDeploy(db: StoreDb, id: string, result: string, at: string): Promise<void> {
  await sql`insert into crm_metadata_deploy (id, result, created_at) values (${id}, ${result}, ${at})`.execute(
    db,
  );
}

export async function selectDeploy(db: StoreDb, id: string): Promise<string | null> {
  const r = await sql<{ result: string }>`select result from crm_metadata_deploy where id = ${id}`.execute(
    db,
  );
  return r.rows[0]?.result ?? null;
}

/** The highest deploy id, so new ones continue past it. */
export async function selectHighestDeployId(db: StoreDb): Promise<string | null> {
  const r = await sql<{ id: string }>`select id from crm_metadata_deploy order by id desc limit 1`.execute(
    db,
  );
  return r.rows[0]?.id ?? null;
}
