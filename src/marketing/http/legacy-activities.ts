import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { VISITOR_ACTIVITIES } from '../collections/collection-defs.js';
import type { CollectionQuery, CollectionRecord } from '../collections/collection-service.js';
import { MarketingError } from '../domain/marketing-error.js';
import type { MarketingServices } from '../marketing-services.js';
import { legacyFormat, legacyParams, sendLegacyOk } from './legacy-wire.js';
import { legacyDatetime, queryDatetime } from '../domain/unit-time.js';
import { pathParams } from './route-input.js';

const MAX_LIMIT = 200;

/** A visitor activity as v3/v4 show it: snake_case, datetimes as `2026-11-22 10:20:30`. */
function legacyActivity(record: CollectionRecord, timeZone: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of VISITOR_ACTIVITIES.fields) {
    if (field.name === 'updatedAt') continue;
    const value = record.values[field.name] ?? null;
    out[field.column] =
      field.type === 'datetime' && typeof value === 'string' ? legacyDatetime(value, timeZone) : value;
  }
  return out;
}

/** `/api/visitorActivity/version/{3|4}/do/{read|query}`: the legacy visitor activity API. */
export function legacyActivityRoutes(app: FastifyInstance, services: MarketingServices): void {
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const { version, op, id } = pathParams(request, ['version', 'op'], ['id']);
    if (version !== '3' && version !== '4') throw new MarketingError(24, `Invalid API version: ${version}`);
    const { unit } = request.marketing;
    const params = legacyParams(request);
    const format = legacyFormat(request);
    if (op === 'read') {
      const raw = id ?? params.id;
      if (!raw || !/^\d{1,15}$/.test(raw)) throw new MarketingError(13, 'Required parameter is missing: id');
      const record = await services.collections.read(VISITOR_ACTIVITIES, unit.id, Number(raw));
      return sendLegacyOk(reply, format, { visitor_activity: legacyActivity(record, unit.timeZone) });
    }
    if (op !== 'query') throw new MarketingError(24, `Invalid action: ${op}`);
    const where: CollectionQuery['where'] = [];
    const number = (name: string, column: string, op: '=' | '>' | '<') => {
      const value = params[name];
      if (value === undefined) return;
      if (!/^\d+$/.test(value)) throw new MarketingError(5, `Invalid value for ${name}: ${value}`);
      where.push([column, op, Number(value)]);
    };
    number('prospect_id', 'prospect_id', '=');
    number('visitor_id', 'visitor_id', '=');
    number('type', 'type', '=');
    number('id_greater_than', 'id', '>');
    number('id_less_than', 'id', '<');
    for (const [name, op] of [
      ['created_after', '>'],
      ['created_before', '<'],
    ] as const) {
      const value = params[name];
      if (value === undefined) continue;
      where.push(['created_at', op, queryDatetime(name, value, unit.timeZone)]);
    }
    const limit = params.limit === undefined ? MAX_LIMIT : Number(params.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      throw new MarketingError(5, `Invalid value for limit: must be 1 to ${MAX_LIMIT}`);
    }
    const rows = await services.collections.query(VISITOR_ACTIVITIES, {
      unitId: unit.id,
      deleted: 'false',
      where,
      afterId: 0,
      descending: false,
      limit,
    });
    return sendLegacyOk(reply, format, {
      result: {
        total_results: rows.length,
        visitor_activity: rows.map((r) => legacyActivity(r, unit.timeZone)),
      },
    });
  };
  app.get('/api/visitorActivity/version/:version/do/:op', handler);
  app.post('/api/visitorActivity/version/:version/do/:op', handler);
  app.get('/api/visitorActivity/version/:version/do/:op/id/:id', handler);
  app.post('/api/visitorActivity/version/:version/do/:op/id/:id', handler);
}
