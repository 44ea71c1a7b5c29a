import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CollectionDef } from '../collections/collection-defs.js';
import type { CollectionQuery, CollectionRecord } from '../collections/collection-service.js';
import { MarketingError } from '../domain/marketing-error.js';
import type { MarketingServices } from '../marketing-services.js';
import { continuedPage } from './page-token.js';
import { v5Page } from './v5-paging.js';
import { DEFAULT_LIMIT, MAX_LIMIT } from './v5-query.js';
import { objectBody, v5Value } from './v5-wire.js';
import { queryDatetime } from '../domain/unit-time.js';
import { ownValue } from '../../own-value.js';
import { pathParams, queryParams } from './route-input.js';

type Op = '>' | '<' | '>=' | '<=' | '=';

const RANGE_FILTERS: Record<string, { field: string; op: Op }> = {
  idGreaterThan: { field: 'id', op: '>' },
  idLessThan: { field: 'id', op: '<' },
  createdAtAfter: { field: 'createdAt', op: '>' },
  createdAtBefore: { field: 'createdAt', op: '<' },
  updatedAtAfter: { field: 'updatedAt', op: '>' },
  updatedAtBefore: { field: 'updatedAt', op: '<' },
};

export function fieldsOf(def: CollectionDef, raw: unknown): string[] {
  if (typeof raw !== 'string' || raw.trim() === '')
    throw new MarketingError(13, 'Required parameter is missing: fields');
  return raw.split(',').map((name) => {
    const trimmed = name.trim();
    if (trimmed !== 'isDeleted' && !def.fields.some((f) => f.name === trimmed)) {
      throw new MarketingError(62, `Invalid field: ${trimmed}`);
    }
    return trimmed;
  });
}

export function recordJson(
  def: CollectionDef,
  record: CollectionRecord,
  fields: string[],
  timeZone: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of fields) {
    if (name === 'isDeleted') out.isDeleted = record.isDeleted;
    else {
      const type = def.fields.find((f) => f.name === name)?.type;
      out[name] = v5Value(record.values[name] ?? null, type === 'datetime', timeZone);
    }
  }
  return out;
}

function recordId(raw: string): number {
  if (!/^\d{1,15}$/.test(raw)) throw new MarketingError(404);
  return Number(raw);
}

function parseQuery(
  def: CollectionDef,
  params: Record<string, unknown>,
  timeZone: string,
): Omit<CollectionQuery, 'unitId' | 'afterId'> {
  const where: CollectionQuery['where'] = [];
  const filtered = new Set<string>();
  for (const [name, raw] of Object.entries(params)) {
    if (['fields', 'limit', 'orderBy', 'deleted', 'nextPageToken'].includes(name)) continue;
    const range = ownValue(RANGE_FILTERS, name);
    const equality = def.equalityFilters?.includes(name)
      ? def.fields.find((f) => f.name === name)
      : undefined;
    if (!range && !equality) throw new MarketingError(5, `Invalid query parameter: ${name}`);
    if (typeof raw !== 'string' || raw === '') throw new MarketingError(5, `Invalid value for ${name}`);
    const field = def.fields.find((f) => f.name === (range ? range.field : name))!;
    filtered.add(field.name);
    let value: string | number = raw;
    if (field.type === 'integer' || field.type === 'id') {
      if (!/^\d+$/.test(raw)) throw new MarketingError(5, `Invalid value for ${name}: ${raw}`);
      value = Number(raw);
    } else if (field.type === 'datetime') {
      value = queryDatetime(name, raw, timeZone);
    }
    where.push([field.column, range ? range.op : '=', value]);
  }
  if (filtered.size > 3) throw new MarketingError(209);
  const deleted = params.deleted ?? 'false';
  if (deleted !== 'true' && deleted !== 'false' && deleted !== 'all')
    throw new MarketingError(5, 'Invalid value for deleted');
  const limit = params.limit === undefined ? DEFAULT_LIMIT : Number(params.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT)
    throw new MarketingError(5, 'Invalid value for limit');
  const orderBy = params.orderBy === undefined ? 'id ASC' : String(params.orderBy);
  const match = /^\s*id(?:\s+(ASC|DESC))?\s*$/i.exec(orderBy);
  if (!match)
    throw new MarketingError(5, `Invalid value for orderBy: ${orderBy} (these collections order by id)`);
  return { deleted, where, descending: match[1]?.toUpperCase() === 'DESC', limit };
}

/** `/api/v5/objects/{campaigns|lists|list-memberships|tags}`: the simple collections. */
export function v5CollectionRoutes(app: FastifyInstance, services: MarketingServices): void {
  const resolve = (request: FastifyRequest, write = false): CollectionDef => {
    const def = services.collections.definition(pathParams(request, ['collection']).collection);
    if (!def) throw new MarketingError(404);
    // Visitors, visits and activities come from tracking, forms and email; the API only reads them.
    if (write && def.engineWritten) throw new MarketingError(24, `${def.name} are read-only in the API`);
    return def;
  };

  app.get('/api/v5/objects/:collection', async (request, reply) => {
    const def = resolve(request);
    const { unit } = request.marketing;
    const params = queryParams(request);
    let state = continuedPage(
      services.pageTokenSecret,
      params,
      unit.id,
      services.now().getTime(),
      new Set(def.fields.map((f) => f.column)),
    );
    if (!state) {
      const q = parseQuery(def, params, unit.timeZone);
      state = {
        unitId: unit.id,
        fields: fieldsOf(def, params.fields),
        query: {
          deleted: q.deleted,
          where: q.where,
          orderColumn: 'id',
          descending: q.descending,
          limit: q.limit,
        },
        after: { key: null, id: 0 },
        served: 0,
        issuedAt: services.now().getTime(),
      };
    }
    const sequence = state;
    return v5Page(
      services,
      request,
      reply,
      `/api/v5/objects/${def.name}`,
      sequence,
      (limit) =>
        services.collections.query(def, {
          unitId: unit.id,
          deleted: sequence.query.deleted,
          where: sequence.query.where,
          descending: sequence.query.descending,
          afterId: sequence.after.id,
          limit,
        }),
      // Collections page by id alone.
      () => null,
      (r) => recordJson(def, r, sequence.fields, unit.timeZone),
    );
  });

  app.get('/api/v5/objects/:collection/:id', async (request) => {
    const def = resolve(request);
    const fields = fieldsOf(def, queryParams(request).fields);
    const record = await services.collections.read(
      def,
      request.marketing.unit.id,
      recordId(pathParams(request, ['id']).id),
    );
    return recordJson(def, record, fields, request.marketing.unit.timeZone);
  });

  app.post('/api/v5/objects/:collection', async (request, reply) => {
    const def = resolve(request, true);
    const fields = fieldsOf(def, queryParams(request).fields ?? 'id');
    const values = services.collections.readInput(
      def,
      objectBody(request.body),
      'create',
      request.marketing.unit.timeZone,
    );
    const record = await services.collections.create(def, request.marketing.unit.id, values);
    return reply
      .code(201)
      .header('Location', `/api/v5/objects/${def.name}/${record.id}`)
      .send(recordJson(def, record, fields, request.marketing.unit.timeZone));
  });

  app.patch('/api/v5/objects/:collection/:id', async (request) => {
    const def = resolve(request, true);
    const fields = fieldsOf(def, queryParams(request).fields ?? 'id');
    const values = services.collections.readInput(
      def,
      objectBody(request.body),
      'update',
      request.marketing.unit.timeZone,
    );
    const id = recordId(pathParams(request, ['id']).id);
    return recordJson(
      def,
      await services.collections.update(def, request.marketing.unit.id, id, values),
      fields,
      request.marketing.unit.timeZone,
    );
  });

  app.delete('/api/v5/objects/:collection/:id', async (request, reply) => {
    const def = resolve(request, true);
    await services.collections.remove(
      def,
      request.marketing.unit.id,
      recordId(pathParams(request, ['id']).id),
    );
    return reply.code(204).send();
  });
}
