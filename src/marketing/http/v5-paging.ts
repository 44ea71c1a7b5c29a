import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ProspectValue } from '../domain/prospect-fields.js';
import type { MarketingServices } from '../marketing-services.js';
import { encodePageToken, nextPageUrl, type PageState } from './page-token.js';
import { publicBase } from './public-base.js';

/**
 * One page of a v5 query, the same for prospects and every other collection: at most the
 * query's limit, and never past the sequence's cap (Account Engagement's 100,000 records a
 * token sequence). When more rows are there, the answer carries the next page's token; when the
 * cap stops the sequence, it carries none and the header `Pardot-Warning: 203` says why.
 *
 * `fetch(limit)` reads up to `limit` rows past the state's position; asked for one more than
 * the page, it tells whether another page follows. `keyOf` is the row's value of the order
 * column, the position the next page starts after (with the id).
 */
export async function v5Page<R extends { id: number }, J>(
  services: MarketingServices,
  request: FastifyRequest,
  reply: FastifyReply,
  path: string,
  state: PageState,
  fetch: (limit: number) => Promise<R[]>,
  keyOf: (row: R) => ProspectValue,
  toJson: (row: R) => J,
): Promise<{ nextPageToken: string | null; nextPageUrl: string | null; values: J[] }> {
  const cap = services.pageSequenceMax;
  const limit = Math.max(0, Math.min(state.query.limit, cap - state.served));
  const rows = limit > 0 ? await fetch(limit + 1) : [];
  const page = rows.slice(0, limit);
  const more = rows.length > limit;
  const capped = state.served + page.length >= cap && (more || limit === 0);
  const last = page.at(-1);
  const nextPageToken =
    more && !capped && last
      ? encodePageToken(services.pageTokenSecret, {
          ...state,
          after: { key: keyOf(last), id: last.id },
          served: state.served + page.length,
          issuedAt: services.now().getTime(),
        })
      : null;
  if (capped) reply.header('Pardot-Warning', '203');
  return {
    nextPageToken,
    nextPageUrl: nextPageUrl(publicBase(services.publicUrl, request), path, nextPageToken),
    values: page.map(toJson),
  };
}
