import type { DailyCountStore } from '../../store/daily-counter.js';
import { sql } from 'kysely';
import type { StoreDb } from '../../store/database.js';

export interface ConnectedAppRow {
  client_id: string;
  name: string;
  client_secret_hash: string;
  certificate: string | null;
  run_as_user_id: string | null;
  /** A JSON array of the exact URLs the web-server flow may send a code to; null: none. */
  callback_urls?: string | null;
}

export interface AuthorizationCodeRow {
  client_id: string;
  user_id: string;
  redirect_uri: string;
  code_challenge: string | null;
  code_challenge_method: string | null;
  expires_at: string;
}

export interface TokenRow {
  user_id: string;
  client_id: string;
  issued_at: string;
  expires_at: string;
}

export async function insertConnectedApp(db: StoreDb, app: ConnectedAppRow): Promise<void> {
  await sql`insert into crm_connected_app (client_id, name, client_secret_hash, certificate, run_as_user_id, callback_urls)
    values (${app.client_id}, ${app.name}, ${app.client_secret_hash}, ${app.certificate}, ${app.run_as_user_id},
      ${app.callback_urls ?? null})`.execute(db);
}

/** A configured app, as the configuration says it now (its secret and callback URLs may change). */
export async function upsertConnectedApp(db: StoreDb, app: ConnectedAppRow): Promise<void> {
  await sql`insert into crm_connected_app (client_id, name, client_secret_hash, certificate, run_as_user_id, callback_urls)
    values (${app.client_id}, ${app.name}, ${app.client_secret_hash}, ${app.certificate}, ${app.run_as_user_id},
      ${app.callback_urls ?? null})
    on conflict (client_id) do update set name = excluded.name, client_secret_hash = excluded.client_secret_hash,
      callback_urls = excluded.callback_urls`.execute(db);
}

export async function insertAuthorizationCode(
  db: StoreDb,
  hash: string,
  row: AuthorizationCodeRow,
): Promise<void> {
  await sql`insert into crm_oauth_code (code_hash, client_id, user_id, redirect_uri, code_challenge,
      code_challenge_method, expires_at)
    values (${hash}, ${row.client_id}, ${row.user_id}, ${row.redirect_uri}, ${row.code_challenge},
      ${row.code_challenge_method}, ${row.expires_at})`.execute(db);
}

/** Takes a code: read and deleted at once, so a second use finds nothing (codes are single-use). */
export async function takeAuthorizationCode(
  db: StoreDb,
  hash: string,
): Promise<AuthorizationCodeRow | undefined> {
  const r = await sql<AuthorizationCodeRow>`delete from crm_oauth_code where code_hash = ${hash}
    returning client_id, user_id, redirect_uri, code_challenge, code_challenge_method, expires_at`.execute(
    db,
  );
  return r.rows[0];
}

export async function deleteExpiredAuthorizationCodes(db: StoreDb, now: string): Promise<void> {
  await sql`delete from crm_oauth_code where expires_at < ${now}`.execute(db);
}

export async function insertLoginSession(
  db: StoreDb,
  hash: string,
  row: { user_id: string; expires_at: string },
): Promise<void> {
  await sql`insert into crm_login_session (token_hash, user_id, expires_at)
    values (${hash}, ${row.user_id}, ${row.expires_at})`.execute(db);
}

export async function selectLoginSession(
  db: StoreDb,
  hash: string,
): Promise<{ user_id: string; expires_at: string } | undefined> {
  const r = await sql<{ user_id: string; expires_at: string }>`
    select user_id, expires_at from crm_login_session where token_hash = ${hash}`.execute(db);
  return r.rows[0];
}

export async function deleteExpiredLoginSessions(db: StoreDb, now: string): Promise<void> {
  await sql`delete from crm_login_session where expires_at < ${now}`.execute(db);
}

export async function selectConnectedApp(
  db: StoreDb,
  clientId: string,
): Promise<ConnectedAppRow | undefined> {
  const r = await sql<ConnectedAppRow>`select * from crm_connected_app where client_id = ${clientId}`.execute(
    db,
  );
  return r.rows[0];
}

export async function upsertPassword(db: StoreDb, userId: string, hash: string): Promise<void> {
  await sql`delete from crm_user_password where user_id = ${userId}`.execute(db);
  await sql`insert into crm_user_password (user_id, password_hash) values (${userId}, ${hash})`.execute(db);
}

export async function selectPasswordHash(db: StoreDb, userId: string): Promise<string | undefined> {
  const r = await sql<{ password_hash: string }>`select password_hash from crm_user_password
    where user_id = ${userId}`.execute(db);
  return r.rows[0]?.password_hash;
}

export async function insertAccessToken(db: StoreDb, hash: string, row: TokenRow): Promise<void> {
  await sql`insert into crm_access_token (token_hash, user_id, client_id, issued_at, expires_at)
    values (${hash}, ${row.user_id}, ${row.client_id}, ${row.issued_at}, ${row.expires_at})`.execute(db);
}

export async function selectAccessToken(db: StoreDb, hash: string): Promise<TokenRow | undefined> {
  const r = await sql<TokenRow>`select user_id, client_id, issued_at, expires_at from crm_access_token
    where token_hash = ${hash}`.execute(db);
  return r.rows[0];
}

export async function deleteAccessToken(db: StoreDb, hash: string): Promise<number> {
  const r = await sql`delete from crm_access_token where token_hash = ${hash}`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

/** Every access token a user holds through one connected app (a revoked refresh token's family). */
export async function deleteAccessTokensOf(db: StoreDb, userId: string, clientId: string): Promise<number> {
  const r =
    await sql`delete from crm_access_token where user_id = ${userId} and client_id = ${clientId}`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

export async function deleteExpiredAccessTokens(db: StoreDb, now: string): Promise<void> {
  await sql`delete from crm_access_token where expires_at < ${now}`.execute(db);
}

export async function insertRefreshToken(
  db: StoreDb,
  hash: string,
  row: Omit<TokenRow, 'expires_at'>,
): Promise<void> {
  await sql`insert into crm_refresh_token (token_hash, user_id, client_id, issued_at)
    values (${hash}, ${row.user_id}, ${row.client_id}, ${row.issued_at})`.execute(db);
}

export async function selectRefreshToken(
  db: StoreDb,
  hash: string,
): Promise<Omit<TokenRow, 'expires_at'> | undefined> {
  const r = await sql<
    Omit<TokenRow, 'expires_at'>
  >`select user_id, client_id, issued_at from crm_refresh_token
    where token_hash = ${hash}`.execute(db);
  return r.rows[0];
}

export async function deleteRefreshToken(db: StoreDb, hash: string): Promise<number> {
  const r = await sql`delete from crm_refresh_token where token_hash = ${hash}`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

export async function selectApiUsage(db: StoreDb, day: string): Promise<number> {
  const r = await sql<{ used: number }>`select used from crm_api_usage where day = ${day}`.execute(db);
  return Number(r.rows[0]?.used ?? 0);
}

export async function saveApiUsage(db: StoreDb, day: string, used: number): Promise<void> {
  await sql`delete from crm_api_usage where day = ${day}`.execute(db);
  await sql`insert into crm_api_usage (day, used) values (${day}, ${used})`.execute(db);
}

/** The org's daily request count, kept in crm_api_usage. */
export function apiUsageStore(db: StoreDb): DailyCountStore {
  return { load: (day) => selectApiUsage(db, day), save: (day, used) => saveApiUsage(db, day, used) };
}
