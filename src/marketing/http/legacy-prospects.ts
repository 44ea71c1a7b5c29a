import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { BusinessUnit } from '../domain/business-unit.js';
import { MarketingError } from '../domain/marketing-error.js';
import type { Actor, Prospect } from '../domain/prospect.js';
import { FIELD_BY_LEGACY, type ProspectValue } from '../domain/prospect-fields.js';
import type { MarketingServices } from '../marketing-services.js';
import type { ProspectQuery } from '../store/prospect-store.js';
import { legacyFormat, legacyParams, legacyProspect, sendLegacyOk } from './legacy-wire.js';
import { queryDatetime } from '../domain/unit-time.js';
import {
  legacyEmailRuleBroken,
  legacyUpsertPlan,
  legacyVersionOf,
  type LegacyIdField,
  type LegacyVersion,
} from '../domain/legacy-email-rules.js';
import { pathParams } from './route-input.js';

// Parameters that steer the call rather than name prospect fields.
const CONTROL = new Set(['format', 'api_key', 'user_key', 'output', 'id', 'email', 'fid']);
const QUERY_CONTROL = new Set([
  'format',
  'api_key',
  'user_key',
  'output',
  'created_after',
  'created_before',
  'updated_after',
  'updated_before',
  'id_greater_than',
  'id_less_than',
  'limit',
  'offset',
  'sort_by',
  'sort_order',
  'deleted',
]);
const MAX_QUERY_LIMIT = 200;

interface Call {
  unit: BusinessUnit;
  actor: Actor;
  version: LegacyVersion;
  params: Record<string, string>;
  /** From the path (`/do/read/email/x`) or the parameters. */
  target?: { field: LegacyIdField; value: string };
}

function targetOf(
  params: Record<string, string>,
  path: { idField?: string; value?: string },
): Call['target'] {
  if (path.idField !== undefined) {
    if (path.idField !== 'id' && path.idField !== 'email' && path.idField !== 'fid') {
      throw new MarketingError(24, `Invalid prospect identifier: ${path.idField}`);
    }
    return { field: path.idField, value: path.value ?? '' };
  }
  for (const field of ['id', 'fid', 'email'] as const) {
    if (params[field]) return { field, value: params[field] };
  }
  return undefined;
}

/**
 * `/api/prospect/version/{3|4}/do/{op}/…`: the legacy prospect API. Version 3 treats email as
 * unique; version 4 (units allowing several prospects per email) updates only by id or fid and
 * creates on an upsert by email. A unit answers only the version its setting gives.
 */
export function legacyProspectRoutes(app: FastifyInstance, services: MarketingServices): void {
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const path = pathParams(request, ['version', 'op'], ['idField', 'value']);
    const { unit, actor } = request.marketing;
    const version = path.version === '3' ? 3 : path.version === '4' ? 4 : null;
    if (version === null) throw new MarketingError(24, `Invalid API version: ${path.version}`);
    const expected = legacyVersionOf(unit);
    if (version !== expected) {
      throw new MarketingError(
        24,
        `This business unit uses API version ${expected}: it ${unit.allowMultiplePerEmail ? 'allows' : 'does not allow'} several prospects per email`,
      );
    }
    const params = legacyParams(request);
    const call: Call = { unit, actor, version, params, target: targetOf(params, path) };
    const format = legacyFormat(request);
    const broken = legacyEmailRuleBroken(path.op, version, call.target?.field);
    if (broken) throw new MarketingError(broken.code, broken.message);
    switch (path.op) {
      case 'read':
        return sendLegacyOk(reply, format, {
          prospect: legacyProspect(call.unit.timeZone, await find(call)),
        });
      case 'create':
        return sendLegacyOk(reply, format, {
          prospect: legacyProspect(call.unit.timeZone, await create(call)),
        });
      case 'update': {
        const existing = await find(call);
        const values = await fieldValues(call);
        return sendLegacyOk(reply, format, {
          prospect: legacyProspect(
            call.unit.timeZone,
            await services.prospects.update(unit, actor, existing.id, values),
          ),
        });
      }
      case 'upsert':
        return sendLegacyOk(reply, format, {
          prospect: legacyProspect(call.unit.timeZone, await upsert(call)),
        });
      case 'delete': {
        const existing = await find(call);
        await services.prospects.remove(unit, actor, existing.id);
        return sendLegacyOk(reply, format, {});
      }
      case 'assign': {
        const existing = await find(call);
        const userId = Number(params.user_id);
        if (!Number.isInteger(userId) || !(await services.units.hasUser(unit.id, userId))) {
          throw new MarketingError(13, 'A valid user_id is required to assign a prospect');
        }
        const assigned = await services.prospects.update(unit, actor, existing.id, { assignedToId: userId });
        return sendLegacyOk(reply, format, { prospect: legacyProspect(call.unit.timeZone, assigned) });
      }
      case 'query':
        return sendLegacyOk(reply, format, { result: await runQuery(call) });
      default:
        throw new MarketingError(24, `Invalid action: ${path.op}`);
    }
  };

  async function fieldValues(call: Call): Promise<Record<string, ProspectValue>> {
    const input: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(call.params)) if (!CONTROL.has(name)) input[name] = value;
    // An email given as a parameter (besides the one that finds the prospect) changes it.
    if (call.params.email && call.target?.field !== 'email') input.email = call.params.email;
    return services.prospects.readInput(call.unit, input, 'legacy');
  }

  async function find(call: Call): Promise<Prospect> {
    const target = call.target;
    if (!target || target.value === '')
      throw new MarketingError(13, 'Required parameters are missing: id, fid or email');
    if (target.field === 'id') {
      if (!/^\d{1,15}$/.test(target.value)) throw new MarketingError(3);
      const prospect = await services.prospects.read(call.unit.id, Number(target.value));
      if (prospect.isDeleted) throw new MarketingError(3);
      return prospect;
    }
    if (target.field === 'fid') {
      const [prospect] = await services.prospects.byCrmId(call.unit.id, target.value);
      if (!prospect) throw new MarketingError(3, `Invalid prospect fid: ${target.value}`);
      return prospect;
    }
    const [prospect] = await services.prospects.byEmail(call.unit.id, target.value);
    if (!prospect) throw new MarketingError(4);
    return prospect;
  }

  async function create(call: Call): Promise<Prospect> {
    const email = call.target?.field === 'email' ? call.target.value : call.params.email;
    if (!email) throw new MarketingError(4);
    const values = await fieldValues(call);
    return services.prospects.create(call.unit, call.actor, {
      ...values,
      email: await emailValue(call, email),
    });
  }

  async function emailValue(call: Call, email: string): Promise<ProspectValue> {
    const read = await services.prospects.readInput(call.unit, { email }, 'legacy');
    return read.email ?? null;
  }

  /** By the version's email rule (domain/legacy-email-rules.ts). */
  async function upsert(call: Call): Promise<Prospect> {
    const target = call.target;
    if (!target) throw new MarketingError(13, 'Required parameters are missing: id, fid or email');
    const plan = legacyUpsertPlan(call.version, target.field, Boolean(call.params.email));
    if (plan.findBy === 'id') {
      const existing = await find(call);
      return services.prospects.update(call.unit, call.actor, existing.id, await fieldValues(call));
    }
    const [existing] =
      plan.findBy === 'email'
        ? await services.prospects.byEmail(call.unit.id, target.value)
        : plan.findBy === 'fid'
          ? await services.prospects.byCrmId(call.unit.id, target.value)
          : [];
    if (existing)
      return services.prospects.update(call.unit, call.actor, existing.id, await fieldValues(call));
    if (plan.whenMissing === 'refuse') throw new MarketingError(3, `Invalid prospect fid: ${target.value}`);
    return create(call);
  }

  async function runQuery(call: Call): Promise<Record<string, unknown>> {
    const p = call.params;
    for (const name of Object.keys(p)) {
      if (!QUERY_CONTROL.has(name)) throw new MarketingError(5, `Invalid query parameter: ${name}`);
    }
    const where: ProspectQuery['where'] = [];
    const time = (name: string, column: string, op: '>' | '<') => {
      const raw = p[name];
      if (raw === undefined) return;
      where.push([column, op, queryDatetime(name, raw, call.unit.timeZone)]);
    };
    time('created_after', 'created_at', '>');
    time('created_before', 'created_at', '<');
    time('updated_after', 'updated_at', '>');
    time('updated_before', 'updated_at', '<');
    for (const [name, op] of [
      ['id_greater_than', '>'],
      ['id_less_than', '<'],
    ] as const) {
      const raw = p[name];
      if (raw === undefined) continue;
      if (!/^\d+$/.test(raw)) throw new MarketingError(5, `Invalid value for ${name}: ${raw}`);
      where.push(['id', op, Number(raw)]);
    }
    const limit = p.limit === undefined ? MAX_QUERY_LIMIT : Number(p.limit);
    const offset = p.offset === undefined ? 0 : Number(p.offset);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_QUERY_LIMIT) {
      throw new MarketingError(5, `Invalid value for limit: must be 1 to ${MAX_QUERY_LIMIT}`);
    }
    if (!Number.isInteger(offset) || offset < 0)
      throw new MarketingError(5, `Invalid value for offset: ${p.offset}`);
    const sortBy = p.sort_by ?? 'id';
    const sortField = FIELD_BY_LEGACY.get(sortBy);
    if (!sortField || !['id', 'created_at', 'updated_at', 'last_activity_at'].includes(sortField.column)) {
      throw new MarketingError(5, `Invalid value for sort_by: ${sortBy}`);
    }
    const descending = (p.sort_order ?? 'descending') !== 'ascending';
    const deleted = p.deleted === 'true' ? 'true' : p.deleted === 'all' ? 'all' : 'false';
    // Legacy paging is by offset; the total counts every match.
    const filter = { unitId: call.unit.id, deleted, where } as const;
    const total = await services.prospects.count(filter);
    const page = await services.prospects.query({
      ...filter,
      orderColumn: sortField.column,
      descending,
      limit,
      offset,
    });
    return { total_results: total, prospect: page.map((p) => legacyProspect(call.unit.timeZone, p)) };
  }

  app.post('/api/prospect/version/:version/do/:op', handler);
  app.get('/api/prospect/version/:version/do/:op', handler);
  app.post('/api/prospect/version/:version/do/:op/:idField/:value', handler);
  app.get('/api/prospect/version/:version/do/:op/:idField/:value', handler);
}
