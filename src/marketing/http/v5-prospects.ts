import type { FastifyInstance } from 'fastify';
import { MarketingError } from '../domain/marketing-error.js';
import { PROSPECT_FIELDS } from '../domain/prospect-fields.js';
import type { MarketingServices } from '../marketing-services.js';
import { continuedPage } from './page-token.js';
import { v5Page } from './v5-paging.js';
import { parseProspectQuery } from './v5-query.js';
import { objectBody, prospectJson, requestedFields } from './v5-wire.js';
import { pathParams, queryParams } from './route-input.js';

const FIELD_BY_COLUMN = new Map(PROSPECT_FIELDS.map((f) => [f.column, f.name]));

function prospectId(raw: string): number {
  if (!/^\d{1,15}$/.test(raw)) throw new MarketingError(3);
  return Number(raw);
}

/** The columns a prospect query may filter and order on (a page token names no others). */
const PROSPECT_COLUMNS: ReadonlySet<string> = new Set(PROSPECT_FIELDS.map((f) => f.column));

/** `/api/v5/objects/prospects`: reads, queries with page tokens, writes and the `do/` actions. */
export function v5ProspectRoutes(app: FastifyInstance, services: MarketingServices): void {
  const base = '/api/v5/objects/prospects';

  app.get(base, async (request, reply) => {
    const { unit } = request.marketing;
    const params = queryParams(request);
    let state = continuedPage(
      services.pageTokenSecret,
      params,
      unit.id,
      services.now().getTime(),
      PROSPECT_COLUMNS,
    );
    if (!state) {
      state = {
        unitId: unit.id,
        fields: await requestedFields(services, unit.id, params.fields),
        query: parseProspectQuery(params, unit.timeZone),
        after: { key: null, id: 0 },
        served: 0,
        issuedAt: services.now().getTime(),
      };
    }
    const sequence = state;
    const orderField = FIELD_BY_COLUMN.get(sequence.query.orderColumn) ?? 'id';
    return v5Page(
      services,
      request,
      reply,
      base,
      sequence,
      (limit) =>
        services.prospects.query({
          unitId: unit.id,
          ...sequence.query,
          fields: sequence.fields,
          limit,
          after: sequence.served === 0 ? undefined : sequence.after,
        }),
      (last) => last.values[orderField] ?? null,
      (p) => prospectJson(p, sequence.fields, unit.timeZone),
    );
  });

  app.get(`${base}/:id`, async (request) => {
    const { unit } = request.marketing;
    const params = queryParams(request);
    const fields = await requestedFields(services, unit.id, params.fields);
    const deleted = params.deleted ?? 'false';
    if (deleted !== 'true' && deleted !== 'false' && deleted !== 'all')
      throw new MarketingError(5, 'Invalid value for deleted');
    const prospect = await services.prospects.read(unit.id, prospectId(pathParams(request, ['id']).id));
    // As Account Engagement: a prospect in the recycle bin is read only when asked for.
    if (prospect.isDeleted && deleted === 'false')
      throw new MarketingError(3, 'The prospect does not exist or is in the recycle bin');
    if (!prospect.isDeleted && deleted === 'true')
      throw new MarketingError(3, 'The prospect is not in the recycle bin');
    return prospectJson(prospect, fields, unit.timeZone);
  });

  app.post(base, async (request, reply) => {
    const { unit, actor } = request.marketing;
    const fields = await requestedFields(services, unit.id, queryParams(request).fields ?? 'id');
    const values = await services.prospects.readInput(
      unit,
      objectBody(request.body),
      'v5',
      actor.type === 'sync',
    );
    const prospect = await services.prospects.create(unit, actor, values);
    return reply
      .code(201)
      .header('Location', `${base}/${prospect.id}`)
      .send(prospectJson(prospect, fields, unit.timeZone));
  });

  app.patch(`${base}/:id`, async (request) => {
    const { unit, actor } = request.marketing;
    const fields = await requestedFields(services, unit.id, queryParams(request).fields ?? 'id');
    const id = prospectId(pathParams(request, ['id']).id);
    const values = await services.prospects.readInput(
      unit,
      objectBody(request.body),
      'v5',
      actor.type === 'sync',
    );
    return prospectJson(await services.prospects.update(unit, actor, id, values), fields, unit.timeZone);
  });

  app.delete(`${base}/:id`, async (request, reply) => {
    const { unit, actor } = request.marketing;
    await services.prospects.remove(unit, actor, prospectId(pathParams(request, ['id']).id));
    return reply.code(204).send();
  });

  app.post(`${base}/do/upsertLatestByEmail`, async (request) => {
    const { unit, actor } = request.marketing;
    const body = objectBody(request.body);
    if (typeof body.matchEmail !== 'string' || body.matchEmail === '') {
      throw new MarketingError(13, 'Required parameter is missing: matchEmail');
    }
    const fields = await requestedFields(
      services,
      unit.id,
      Array.isArray(body.fields) ? body.fields.join(',') : (body.fields ?? 'id'),
    );
    const values = await services.prospects.readInput(
      unit,
      objectBody(body.prospect ?? {}),
      'v5',
      actor.type === 'sync',
    );
    const { prospect } = await services.prospects.upsertLatestByEmail(
      unit,
      actor,
      body.matchEmail,
      values,
      body.secondaryDeletedSearch === true,
    );
    return prospectJson(prospect, fields, unit.timeZone);
  });

  app.post(`${base}/do/undelete`, async (request) => {
    const { unit, actor } = request.marketing;
    const body = objectBody(request.body);
    const fields = await requestedFields(
      services,
      unit.id,
      Array.isArray(body.fields) ? body.fields.join(',') : (body.fields ?? 'id'),
    );
    const id = prospectId(String(body.prospectId ?? ''));
    return prospectJson(await services.prospects.undelete(unit, actor, id), fields, unit.timeZone);
  });
}
