import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { CUSTOM_FIELD_TYPES, type CustomField } from '../domain/business-unit.js';
import { MarketingError } from '../domain/marketing-error.js';
import type { MarketingServices } from '../marketing-services.js';
import { objectBody } from './v5-wire.js';
import { v5Datetime } from '../domain/unit-time.js';
import { pathParams, queryParams } from './route-input.js';

const CUSTOM_FIELD_FIELDS = ['id', 'name', 'fieldId', 'type', 'createdAt', 'updatedAt'] as const;

const createSchema = z.object({
  name: z.string().min(1).max(255),
  fieldId: z.string().min(1).max(40),
  type: z.enum(CUSTOM_FIELD_TYPES as [CustomField['type'], ...CustomField['type'][]]).default('Text'),
});

function fieldsParam(raw: unknown): Array<(typeof CUSTOM_FIELD_FIELDS)[number]> {
  if (typeof raw !== 'string' || raw.trim() === '')
    throw new MarketingError(13, 'Required parameter is missing: fields');
  return raw.split(',').map((name) => {
    const trimmed = name.trim();
    if (!(CUSTOM_FIELD_FIELDS as readonly string[]).includes(trimmed)) {
      throw new MarketingError(62, `Invalid field: ${trimmed}`);
    }
    return trimmed as (typeof CUSTOM_FIELD_FIELDS)[number];
  });
}

function customFieldJson(field: CustomField, fields: string[], timeZone: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of fields) {
    const value = field[name as keyof CustomField];
    out[name] = name.endsWith('At') ? v5Datetime(String(value), timeZone) : value;
  }
  return out;
}

/** `/api/v5/objects/custom-fields`: a unit's prospect custom fields, listed and created. */
export function v5CustomFieldRoutes(app: FastifyInstance, services: MarketingServices): void {
  const base = '/api/v5/objects/custom-fields';

  app.get(base, async (request) => {
    const fields = fieldsParam(queryParams(request).fields);
    const list = await services.prospects.customFields(request.marketing.unit.id);
    return {
      nextPageToken: null,
      nextPageUrl: null,
      values: list.map((f) => customFieldJson(f, fields, request.marketing.unit.timeZone)),
    };
  });

  app.get(`${base}/:id`, async (request) => {
    const fields = fieldsParam(queryParams(request).fields);
    const id = Number(pathParams(request, ['id']).id);
    const found = (await services.prospects.customFields(request.marketing.unit.id)).find((f) => f.id === id);
    if (!found) throw new MarketingError(404);
    return customFieldJson(found, fields, request.marketing.unit.timeZone);
  });

  app.post(base, async (request, reply) => {
    const parsed = createSchema.safeParse(objectBody(request.body));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new MarketingError(
        62,
        `Invalid value for field ${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''}`,
      );
    }
    const field = await services.prospects.createCustomField(request.marketing.unit.id, parsed.data);
    return reply
      .code(201)
      .header('Location', `${base}/${field.id}`)
      .send(
        customFieldJson(
          field,
          ['id', 'name', 'fieldId', 'type', 'createdAt', 'updatedAt'],
          request.marketing.unit.timeZone,
        ),
      );
  });
}
