import { createHmac, timingSafeEqual } from 'node:crypto';
import { MarketingError } from '../domain/marketing-error.js';
import type { ProspectValue } from '../domain/prospect-fields.js';
import type { ProspectQuery } from '../store/prospect-store.js';

/** What a v5 query's next page needs: the query itself and where the last page ended. */
export interface PageState {
  unitId: string;
  fields: string[];
  query: Omit<ProspectQuery, 'unitId' | 'after'>;
  after: { key: ProspectValue; id: number };
  /** Records handed out so far in this sequence (capped at 100,000). */
  served: number;
  issuedAt: number;
}

export const PAGE_TOKEN_TTL_MS = 4 * 3_600_000;
/** A token sequence stops here, with `Pardot-Warning: 203`. */
export const MAX_RECORDS_PER_SEQUENCE = 100_000;

function sign(secret: Buffer, payload: string): string {
  return createHmac('sha256', secret).update(payload).digest('base64url');
}

export function encodePageToken(secret: Buffer, state: PageState): string {
  const payload = Buffer.from(JSON.stringify(state)).toString('base64url');
  return `${payload}.${sign(secret, payload)}`;
}

/** The state behind a token; a forged or altered token is invalid (5), an old one expired (210). */
export function decodePageToken(secret: Buffer, token: string, unitId: string, nowMs: number): PageState {
  const [payload, signature] = token.split('.');
  const expected = payload ? sign(secret, payload) : '';
  if (
    !payload ||
    !signature ||
    signature.length !== expected.length ||
    !timingSafeEqual(Buffer.from(signature), Buffer.from(expected))
  ) {
    throw new MarketingError(5, 'Invalid value for nextPageToken');
  }
  const state = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as PageState;
  if (state.unitId !== unitId) throw new MarketingError(5, 'Invalid value for nextPageToken');
  if (nowMs - state.issuedAt > PAGE_TOKEN_TTL_MS) throw new MarketingError(210);
  return state;
}

/** The `nextPageUrl` of a v5 page: the collection's URL on this host with the token. */
export function nextPageUrl(
  request: { protocol: string; host: string },
  path: string,
  token: string | null,
): string | null {
  return token
    ? `${request.protocol}://${request.host}${path}?nextPageToken=${encodeURIComponent(token)}`
    : null;
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
): PageState | null {
  if (params.nextPageToken === undefined) return null;
  const extra = Object.keys(params).filter((k) => k !== 'nextPageToken' && k !== 'fields');
  if (extra.length > 0)
    throw new MarketingError(5, `Invalid query parameter with nextPageToken: ${extra[0]}`);
  return decodePageToken(secret, String(params.nextPageToken), unitId, nowMs);
}
