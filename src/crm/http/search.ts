import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { HandoffError } from '../../errors/handoff-error.js';
import type { CrmServices } from '../crm-services.js';
import type { ParameterizedSearch } from '../search-service.js';

const scope = z
  .string()
  .transform((v) => v.toUpperCase())
  .pipe(z.enum(['ALL', 'NAME', 'EMAIL', 'PHONE']));
const count = z.coerce.number().int().min(1).max(2000);

const parameterizedBody = z.object({
  q: z.string(),
  in: scope.optional(),
  fields: z.array(z.string().min(1)).optional(),
  sobjects: z
    .array(
      z.object({
        name: z.string().min(1),
        fields: z.array(z.string().min(1)).optional(),
        where: z.string().optional(),
        orderBy: z.string().optional(),
        limit: count.optional(),
      }),
    )
    .optional(),
  overallLimit: count.optional(),
  defaultLimit: count.optional(),
});

/** `?sobject=Lead&Lead.fields=Id,Name&Lead.limit=5&fields=Id&in=NAME&overallLimit=…` as a request. */
function fromQueryString(query: Record<string, unknown>): unknown {
  const list = (v: unknown) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()) : undefined);
  const named = query.sobject;
  const names = Array.isArray(named) ? named : named === undefined ? [] : [named];
  return {
    q: query.q,
    in: query.in,
    fields: list(query.fields),
    sobjects: names.map((name) => ({
      name,
      fields: list(query[`${String(name)}.fields`]),
      where: query[`${String(name)}.where`],
      orderBy: query[`${String(name)}.orderBy`],
      limit: query[`${String(name)}.limit`],
    })),
    overallLimit: query.overallLimit,
    defaultLimit: query.defaultLimit,
  };
}

function parameterized(raw: unknown): ParameterizedSearch {
  const parsed = parameterizedBody.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new HandoffError('INVALID_INPUT', `${issue.path.join('.') || 'request'}: ${issue.message}`);
  }
  return parsed.data;
}

/** SOSL: `/search?q=FIND {…}` and `/parameterizedSearch` (GET with parameters, or POST JSON). */
export function searchRoutes(app: FastifyInstance, services: CrmServices): void {
  app.get('/search', async (request) => {
    const { q } = z.object({ q: z.string().optional() }).parse(request.query);
    if (!q || q.trim() === '') throw new HandoffError('MALFORMED_SEARCH', 'A search string (q) is required');
    return services.search.search(q, request.crm.apiVersion);
  });
  app.get('/parameterizedSearch', async (request) =>
    services.search.parameterized(
      parameterized(fromQueryString(request.query as Record<string, unknown>)),
      request.crm.apiVersion,
    ),
  );
  app.post('/parameterizedSearch', async (request) =>
    services.search.parameterized(parameterized(request.body), request.crm.apiVersion),
  );
}
