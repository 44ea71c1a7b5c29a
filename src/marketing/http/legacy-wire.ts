import { XMLBuilder } from 'fast-xml-parser';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { invalidInputMessage, requestErrorStatus } from '../../http/invalid-input.js';
import { isMarketingError } from '../domain/marketing-error.js';
import type { Prospect } from '../domain/prospect.js';
import { FIELD_BY_NAME, type ProspectValue } from '../domain/prospect-fields.js';
import { legacyDatetime } from '../domain/unit-time.js';
import { logServerError } from '../../http/server-basics.js';

const xml = new XMLBuilder({ ignoreAttributes: false, suppressEmptyNode: false, format: false });

export type LegacyFormat = 'xml' | 'json';

/** The parameters of a v3/v4 call: the query string, overlaid by a form body. */
export function legacyParams(request: FastifyRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const source of [request.query, request.body]) {
    if (typeof source !== 'object' || source === null) continue;
    for (const [name, value] of Object.entries(source as Record<string, unknown>)) {
      if (typeof value === 'string') out[name] = value;
      else if (typeof value === 'number' || typeof value === 'boolean') out[name] = String(value);
    }
  }
  return out;
}

export function legacyFormat(request: FastifyRequest): LegacyFormat {
  return legacyParams(request).format === 'json' ? 'json' : 'xml';
}

/** v3/v4 success: `<rsp stat="ok" version="1.0">…</rsp>` or `{"@attributes":{"stat":"ok","version":1},…}`. */
export function sendLegacyOk(
  reply: FastifyReply,
  format: LegacyFormat,
  body: Record<string, unknown>,
): FastifyReply {
  if (format === 'json') {
    return reply.type('application/json').send({ '@attributes': { stat: 'ok', version: 1 }, ...body });
  }
  const document = xml.build({ rsp: { '@_stat': 'ok', '@_version': '1.0', ...body } }) as string;
  return reply.type('text/xml; charset=utf-8').send(`<?xml version="1.0" encoding="UTF-8"?>\n${document}`);
}

/** v3/v4 failure, `stat="fail"` with the numbered error. */
export function sendLegacyError(request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply {
  let code = 500;
  let message: string;
  let status = 500;
  const frameworkStatus = requestErrorStatus(error);
  const invalid = invalidInputMessage(error);
  if (isMarketingError(error)) {
    code = error.code;
    message = error.message;
    status = error.status;
  } else if (invalid !== undefined) {
    code = 62;
    message = invalid;
    status = 400;
  } else if (frameworkStatus !== undefined) {
    // Fastify's own (a body it cannot parse, a content type it does not take): the caller's fault.
    code = 62;
    message = (error as Error).message;
    status = frameworkStatus;
  } else {
    logServerError(request, error, 'unexpected error in the v3/v4 API');
    message = `An internal error occurred (request ${request.id})`;
  }
  reply.code(status);
  if (legacyFormat(request) === 'json') {
    return reply
      .type('application/json')
      .send({ '@attributes': { stat: 'fail', version: 1, err_code: code }, err: message });
  }
  const document = xml.build({
    rsp: { '@_stat': 'fail', '@_version': '1.0', err: { '@_code': String(code), '#text': message } },
  }) as string;
  return reply.type('text/xml; charset=utf-8').send(`<?xml version="1.0" encoding="UTF-8"?>\n${document}`);
}

function legacyValue(name: string, value: ProspectValue, timeZone: string): ProspectValue {
  if (value === null) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  const type = FIELD_BY_NAME.get(name)?.type;
  // v3/v4 write datetimes as `2026-11-22 10:20:30`.
  if (type === 'datetime' && typeof value === 'string') return legacyDatetime(value, timeZone);
  return value;
}

/** A prospect as v3/v4 show it: snake_case names, custom fields by their field id. */
export function legacyProspect(timeZone: string, prospect: Prospect): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(prospect.values)) {
    const standard = FIELD_BY_NAME.get(name);
    const key = standard ? standard.legacy : name.replace(/__c$/, '');
    out[key] = legacyValue(name, value, timeZone);
  }
  return out;
}
