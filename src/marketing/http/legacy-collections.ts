import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  CAMPAIGNS,
  LIST_MEMBERSHIPS,
  LISTS,
  USERS,
  type CollectionDef,
} from '../collections/collection-defs.js';
import type { CollectionQuery, CollectionRecord } from '../collections/collection-service.js';
import { MarketingError } from '../domain/marketing-error.js';
import type { MarketingServices } from '../marketing-services.js';
import { legacyFormat, legacyParams, sendLegacyOk } from './legacy-wire.js';
import { legacyDatetime, queryDatetime } from '../domain/unit-time.js';
import type { BusinessUnit } from '../domain/business-unit.js';
import { ownValue } from '../../own-value.js';
import { pathParams } from './route-input.js';

/** A v3/v4 object served from a v5 collection: its URL name, element name and field names. */
interface LegacyObject {
  def: CollectionDef;
  element: string;
  /** v3/v4 names that differ from the column names. */
  renamed?: Record<string, string>;
  /** Keys besides `id` that find one record (`list_id` + `prospect_id`). */
  compoundKey?: string[];
}

const OBJECTS: Record<string, LegacyObject> = {
  list: { def: LISTS, element: 'list' },
  listMembership: {
    def: LIST_MEMBERSHIPS,
    element: 'list_membership',
    compoundKey: ['list_id', 'prospect_id'],
  },
  campaign: { def: CAMPAIGNS, element: 'campaign', renamed: { salesforce_id: 'crm_fid' } },
  user: { def: USERS, element: 'user', renamed: { crm_user_id: 'crm_fid' } },
};

const CONTROL = new Set(['format', 'api_key', 'user_key', 'output', 'id']);
const QUERY_PARAMS = new Set([
  'format',
  'api_key',
  'user_key',
  'output',
  'id_greater_than',
  'id_less_than',
  'created_after',
  'created_before',
  'updated_after',
  'updated_before',
  'limit',
  'offset',
]);
const MAX_LIMIT = 200;

function legacyName(object: LegacyObject, column: string): string {
  return object.renamed?.[column] ?? column;
}

function legacyRecord(
  object: LegacyObject,
  record: CollectionRecord,
  timeZone: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of object.def.fields) {
    const value = record.values[field.name] ?? null;
    out[legacyName(object, field.column)] =
      typeof value === 'boolean'
        ? value
          ? 1
          : 0
        : field.type === 'datetime' && typeof value === 'string'
          ? legacyDatetime(value, timeZone)
          : value;
  }
  return out;
}

/** v3/v4 parameters (snake_case) as v5 field values, for the collection's own checks. */
function fieldInput(object: LegacyObject, params: Record<string, string>): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(params)) {
    if (CONTROL.has(name)) continue;
    const field = object.def.fields.find((f) => legacyName(object, f.column) === name);
    if (!field) throw new MarketingError(5, `Invalid parameter: ${name}`);
    input[field.name] = value;
  }
  return input;
}

/**
 * `/api/{list|listMembership|campaign|user}/version/{3|4}/do/{op}/…`: the legacy API for the
 * simple objects (read, query, create, update, delete; users are read only), in its envelope.
 */
export function legacyCollectionRoutes(app: FastifyInstance, services: MarketingServices): void {
  const find = async (
    object: LegacyObject,
    unitId: string,
    params: Record<string, string>,
  ): Promise<CollectionRecord> => {
    if (params.id !== undefined) {
      if (!/^\d{1,15}$/.test(params.id)) throw new MarketingError(404);
      const record = await services.collections.read(object.def, unitId, Number(params.id));
      if (record.isDeleted) throw new MarketingError(404, `Invalid ${object.def.label} ID: ${params.id}`);
      return record;
    }
    if (object.compoundKey && object.compoundKey.every((key) => params[key] !== undefined)) {
      const match: Record<string, number> = {};
      for (const key of object.compoundKey) {
        const field = object.def.fields.find((f) => f.column === key)!;
        if (!/^\d+$/.test(params[key]!)) throw new MarketingError(5, `Invalid value for ${key}`);
        match[field.name] = Number(params[key]);
      }
      const [record] = await services.collections.memberships(unitId, match);
      if (!record) throw new MarketingError(404, `No ${object.def.label} matches`);
      return record;
    }
    throw new MarketingError(13, 'Required parameters are missing: id');
  };

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const path = pathParams(request, ['object', 'version', 'op'], ['*']);
    const object = ownValue(OBJECTS, path.object);
    if (!object) throw new MarketingError(24, `Invalid object: ${path.object}`);
    if (path.version !== '3' && path.version !== '4')
      throw new MarketingError(24, `Invalid API version: ${path.version}`);
    const { unit } = request.marketing;
    // Path pairs after the op (`/id/5`, `/list_id/3/prospect_id/9`) are parameters like the others.
    const params = legacyParams(request);
    const rest = (path['*'] ?? '').split('/').filter(Boolean);
    for (let i = 0; i + 1 < rest.length; i += 2) params[rest[i]!] = decodeURIComponent(rest[i + 1]!);
    const format = legacyFormat(request);
    const one = (record: CollectionRecord) =>
      sendLegacyOk(reply, format, { [object.element]: legacyRecord(object, record, unit.timeZone) });
    const writable = () => {
      if (object.def.engineWritten) throw new MarketingError(24, `${path.object} is read only in the API`);
    };
    switch (path.op) {
      case 'read':
        return one(await find(object, unit.id, params));
      case 'create': {
        writable();
        const values = services.collections.readInput(
          object.def,
          fieldInput(object, params),
          'create',
          unit.timeZone,
        );
        return one(await services.collections.create(object.def, unit.id, values));
      }
      case 'update': {
        writable();
        const record = await find(object, unit.id, params);
        const input = fieldInput(object, params);
        for (const key of object.compoundKey ?? [])
          delete input[object.def.fields.find((f) => f.column === key)!.name];
        const values = services.collections.readInput(object.def, input, 'update', unit.timeZone);
        return one(await services.collections.update(object.def, unit.id, record.id, values));
      }
      case 'delete': {
        writable();
        const record = await find(object, unit.id, params);
        await services.collections.remove(object.def, unit.id, record.id);
        return sendLegacyOk(reply, format, {});
      }
      case 'query':
        return sendLegacyOk(reply, format, { result: await query(object, unit, params) });
      default:
        throw new MarketingError(24, `Invalid action: ${path.op}`);
    }
  };

  const query = async (object: LegacyObject, unit: BusinessUnit, params: Record<string, string>) => {
    const unitId = unit.id;
    const where: CollectionQuery['where'] = [];
    for (const [name, value] of Object.entries(params)) {
      if (QUERY_PARAMS.has(name)) continue;
      // Equality on the object's own fields: `list_id`, `prospect_id`, `name` …
      const field = object.def.fields.find((f) => legacyName(object, f.column) === name);
      if (!field) throw new MarketingError(5, `Invalid query parameter: ${name}`);
      where.push([field.column, '=', field.type === 'integer' ? Number(value) : value]);
    }
    for (const [name, column, op] of [
      ['id_greater_than', 'id', '>'],
      ['id_less_than', 'id', '<'],
      ['created_after', 'created_at', '>'],
      ['created_before', 'created_at', '<'],
      ['updated_after', 'updated_at', '>'],
      ['updated_before', 'updated_at', '<'],
    ] as const) {
      const value = params[name];
      if (value === undefined) continue;
      if (column === 'id') {
        if (!/^\d+$/.test(value)) throw new MarketingError(5, `Invalid value for ${name}: ${value}`);
        where.push([column, op, Number(value)]);
      } else {
        where.push([column, op, queryDatetime(name, value, unit.timeZone)]);
      }
    }
    const limit = params.limit === undefined ? MAX_LIMIT : Number(params.limit);
    const offset = params.offset === undefined ? 0 : Number(params.offset);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      throw new MarketingError(5, `Invalid value for limit: must be 1 to ${MAX_LIMIT}`);
    }
    if (!Number.isInteger(offset) || offset < 0) throw new MarketingError(5, `Invalid value for offset`);
    const filter = { unitId, deleted: 'false' as const, where };
    const total = await services.collections.count(object.def, filter);
    const rows = await services.collections.query(object.def, {
      ...filter,
      afterId: 0,
      descending: false,
      limit,
      offset,
    });
    return {
      total_results: total,
      [object.element]: rows.map((r) => legacyRecord(object, r, unit.timeZone)),
    };
  };

  app.get('/api/:object/version/:version/do/:op', handler);
  app.post('/api/:object/version/:version/do/:op', handler);
  app.get('/api/:object/version/:version/do/:op/*', handler);
  app.post('/api/:object/version/:version/do/:op/*', handler);
}
