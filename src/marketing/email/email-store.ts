import { sql } from 'kysely';
import type { StoreDb } from '../../store/database.js';

export interface Recipient {
  token: string;
  unitId: string;
  emailId: number;
  prospectId: number;
}

export async function insertRecipients(db: StoreDb, recipients: Recipient[]): Promise<void> {
  for (let i = 0; i < recipients.length; i += 200) {
    const rows = recipients
      .slice(i, i + 200)
      .map((r) => sql`(${r.token}, ${r.unitId}, ${r.emailId}, ${r.prospectId})`);
    await sql`insert into marketing_email_recipient (token, unit_id, email_id, prospect_id)
      values ${sql.join(rows)}`.execute(db);
  }
}

export async function selectRecipient(db: StoreDb, token: string): Promise<Recipient | undefined> {
  const r = await sql<Record<string, unknown>>`select token, unit_id, email_id, prospect_id
    from marketing_email_recipient where token = ${token}`.execute(db);
  const row = r.rows[0];
  return row
    ? {
        token: String(row.token),
        unitId: String(row.unit_id),
        emailId: Number(row.email_id),
        prospectId: Number(row.prospect_id),
      }
    : undefined;
}

export async function insertLinks(db: StoreDb, emailId: number, urls: string[]): Promise<void> {
  for (const [position, url] of urls.entries())
    await sql`insert into marketing_email_link (email_id, position, url) values (${emailId}, ${position}, ${url})`.execute(
      db,
    );
}

export async function selectLink(
  db: StoreDb,
  emailId: number,
  position: number,
): Promise<string | undefined> {
  const r = await sql<{ url: string }>`select url from marketing_email_link
    where email_id = ${emailId} and position = ${position}`.execute(db);
  return r.rows[0]?.url;
}
