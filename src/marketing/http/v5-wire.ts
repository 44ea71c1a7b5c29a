import type { FastifyReply, FastifyRequest } from 'fastify';
import { invalidInputMessage, requestErrorStatus } from '../../http/invalid-input.js';
import { isMarketingError, MarketingError } from '../domain/marketing-error.js';
import type { Prospect } from '../domain/prospect.js';
import type { ProspectValue } from '../domain/prospect-fields.js';
import type { MarketingServices } from '../marketing-services.js';
import { v5Datetime } from '../domain/unit-time.js';
import { logServerError } from '../../http/server-basics.js';

/** v5 errors: `{"code": N, "message": "…"}` with the code's HTTP status. */
export function sendV5Error(request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply {
  if (isMarketingError(error)) {
    return reply.code(error.status).send({ code: error.code, message: error.message });
  }
  const invalid = invalidInputMessage(error);
  if (invalid !== undefined) return reply.code(400).send({ code: 62, message: invalid });
  const status = requestErrorStatus(error);
  if (status !== undefined) {
    // Fastify's own (a body it could not parse …) — still in the service's format.
    return reply.code(status).send({ code: 62, message: (error as Error).message });
  }
  logServerError(request, error, 'unexpected error in the v5 API');
  return reply.code(500).send({ code: 500, message: `An internal error occurred (request ${request.id})` });
}

/** v5 datetimes carry the unit's offset: `2026-11-22T05:20:30-05:00`. */
export function v5Value(value: ProspectValue, isDatetime: boolean, timeZone: string): ProspectValue {
  if (isDatetime && typeof value === 'string') return v5Datetime(value, timeZone);
  return value;
}

/**
 * The `fields` parameter: required on reads and queries, comma-separated names that must all
 * exist. Returns the canonical names in the order asked.
 */
export async function requestedFields(
  services: MarketingServices,
  unitId: string,
  raw: unknown,
): Promise<string[]> {
  if (typeof raw !== 'string' || raw.trim() === '') {
    throw new MarketingError(13, 'Required parameter is missing: fields');
  }
  const names: string[] = [];
  for (const name of raw
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean)) {
    const field = name === 'isDeleted' ? { name } : await services.prospects.resolveField(unitId, name, 'v5');
    if (!field) throw new MarketingError(62, `Invalid field: ${name}`);
    names.push(field.name);
  }
  return names;
}

const DATETIME_FIELDS = new Set([
  'createdAt',
  'updatedAt',
  'lastActivityAt',
  'convertedAt',
  'salesforceLastSync',
]);

/** A prospect as v5 shows it: only the requested fields. */
export function prospectJson(
  prospect: Prospect,
  fields: string[],
  timeZone: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of fields) {
    if (name === 'isDeleted') out.isDeleted = prospect.isDeleted;
    else out[name] = v5Value(prospect.values[name] ?? null, DATETIME_FIELDS.has(name), timeZone);
  }
  return out;
}

/** A JSON object body, or the v5 error for anything else. */
export function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new MarketingError(62, 'The request body must be a JSON object');
  }
  return body as Record<string, unknown>;
}
