import { createHmac } from 'node:crypto';
import { sameSecret } from '../../same-secret.js';
import { z } from 'zod';
import { MarketingError } from '../domain/marketing-error.js';
import type { ProspectValue } from '../domain/prospect-fields.js';
import type { ProspectQuery } from '../store/prospect-store.js';

/** What a v5 query's next page needs: the query itself and where the last page ended. */
export interface PageState {
  unitId: string;
  fields: string[];
  query: Omit<ProspectQuery, 'unitId' | 'after'>;
  after: { key: ProspectValue; id: number };
  /** Records handed out so far in this sequence (capped: `pageSequenceMax`). */
  served: number;
  issuedAt: number;
}

/** A column name as the store names them (snake case): quoted as an identifier, never spliced. */
const column = z.string().regex(/^[a-z][a-z0-9_]{0,62}$/);
const value = z.union([z.string().max(10_000), z.number().finite(), z.boolean(), z.null()]);

/**
 * What a token may carry, checked on the way in even though it is signed: typed values only, an
 * operator from the fixed list, names of the right shape (and, by the caller, of known columns).
 * A leaked or guessed secret then buys a reader nothing beyond the query it could already ask.
 */
const pageStateSchema = z
  .object({
    unitId: z.string().min(1).max(64),
    fields: z.array(z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,79}$/)).max(500),
    query: z
      .object({
        deleted: z.enum(['false', 'true', 'all']),
        where: z.array(z.tuple([column, z.enum(['>', '<', '>=', '<=', '=']), value])).max(50),
        orderColumn: column,
        descending: z.boolean(),
        limit: z.number().int().min(1).max(100_000),
      })
      .strict(),
    after: z.object({ key: value, id: z.number().int().min(0) }).strict(),
    served: z.number().int().min(0),
    issuedAt: z.number().int().min(0),
  })
  .strict();

export const PAGE_TOKEN_TTL_MS = 4 * 3_600_000;

function sign(secret: Buffer, payload: string): string {
  return createHmac('sha256', secret).update(payload).digest('base64url');
}

export function encodePageToken(secret: Buffer, state: PageState): string {
  const payload = Buffer.from(JSON.stringify(state)).toString('base64url');
  return `${payload}.${sign(secret, payload)}`;
}

/**
 * The state behind a token; a forged, altered or malformed token is invalid (5), an old one
 * expired (210). `columns` are the ones the collection may filter and order on.
 */
export function decodePageToken(
  secret: Buffer,
  token: string,
  unitId: string,
  nowMs: number,
  columns: ReadonlySet<string>,
): PageState {
  const invalid = () => new MarketingError(5, 'Invalid value for nextPageToken');
  const [payload, signature] = token.split('.');
  if (!payload || !signature || !sameSecret(signature, sign(secret, payload))) throw invalid();
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  const parsed = pageStateSchema.safeParse(raw);
  if (!parsed.success) throw invalid();
  const state: PageState = parsed.data;
  if (state.unitId !== unitId) throw invalid();
  if (!columns.has(state.query.orderColumn) || state.query.where.some(([name]) => !columns.has(name)))
    throw invalid();
  if (nowMs - state.issuedAt > PAGE_TOKEN_TTL_MS) throw new MarketingError(210);
  return state;
}

/** The `nextPageUrl` of a v5 page: the collection's URL under the engine's base URL, with the token. */
export function nextPageUrl(base: string, path: string, token: string | null): string | null {
  return token ? `${base}${path}?nextPageToken=${encodeURIComponent(token)}` : null;
}

/**
 * The state of a page-token request, or null for a first-page request. A page-token request
 * may carry only the token (and the same `fields`); anything else is refused (5).
 */
export function continuedPage(
  secret: Buffer,
  params: Record<string, unknown>,
  unitId: string,
  nowMs: number,
  columns: ReadonlySet<string>,
): PageState | null {
  if (params.nextPageToken === undefined) return null;
  const extra = Object.keys(params).filter((k) => k !== 'nextPageToken' && k !== 'fields');
  if (extra.length > 0)
    throw new MarketingError(5, `Invalid query parameter with nextPageToken: ${extra[0]}`);
  if (typeof params.nextPageToken !== 'string')
    throw new MarketingError(5, 'Invalid value for nextPageToken');
  return decodePageToken(secret, params.nextPageToken, unitId, nowMs, columns);
}
