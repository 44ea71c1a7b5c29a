import { sql } from 'kysely';
import type { StoreDb } from './database.js';

/**
 * Named leases: one process at a time does a job (delivering, capturing), and a dead one's
 * lease runs out so another takes over. Each area keeps its leases in a table of its own,
 * `(name primary key, owner, expires_at)`; this is the one way they are taken and given back.
 */
export async function claimNamedLease(
  db: StoreDb,
  table: string,
  lease: { name: string; owner: string; now: string; until: string },
): Promise<boolean> {
  const { name, owner, now, until } = lease;
  await sql`insert into ${sql.table(table)} (name, owner, expires_at) values (${name}, ${owner}, ${until})
    on conflict (name) do update set owner = excluded.owner, expires_at = excluded.expires_at
    where ${sql.ref(`${table}.owner`)} = excluded.owner or ${sql.ref(`${table}.expires_at`)} < ${now}`.execute(
    db,
  );
  const r = await sql<{ owner: string }>`select owner from ${sql.table(table)} where name = ${name}`.execute(
    db,
  );
  return r.rows[0]?.owner === owner;
}

export async function releaseNamedLease(
  db: StoreDb,
  table: string,
  name: string,
  owner: string,
): Promise<void> {
  await sql`delete from ${sql.table(table)} where name = ${name} and owner = ${owner}`.execute(db);
}
