import type { FastifyInstance } from 'fastify';
import { EXTERNAL_ACTIVITIES } from '../collections/collection-defs.js';
import { MarketingError } from '../domain/marketing-error.js';
import type { MarketingServices } from '../marketing-services.js';
import { recordJson } from './v5-collections.js';
import { objectBody } from './v5-wire.js';
import { pathParams } from './route-input.js';

const FIELDS = EXTERNAL_ACTIVITIES.fields.map((f) => f.name);
const WRITABLE = ['extension', 'type', 'value', 'email', 'activityDate'];

/**
 * `POST /api/v5/external-activities`: an activity from another system, on the prospect with
 * the given email. Read back with `/api/v5/external-activities/{id}` or queried as the
 * `external-activities` collection (`prospectId`, `type` filters).
 */
export function v5ExternalActivityRoutes(app: FastifyInstance, services: MarketingServices): void {
  const base = '/api/v5/external-activities';

  app.post(base, async (request, reply) => {
    const { unit } = request.marketing;
    const body = objectBody(request.body);
    const unknown = Object.keys(body).find((name) => !WRITABLE.includes(name));
    if (unknown !== undefined) throw new MarketingError(62, `Invalid field: ${unknown}`);
    // The collection's own field rules (types, required, lengths) check the body.
    const values = services.collections.readInput(EXTERNAL_ACTIVITIES, body, 'create', unit.timeZone);
    const record = await services.activities.recordExternal(unit, {
      extension: String(values.extension),
      type: String(values.type),
      value: (values.value as string | null | undefined) ?? null,
      email: String(values.email),
      activityDate: (values.activityDate as string | null | undefined) ?? null,
    });
    return reply
      .code(201)
      .header('Location', `${base}/${record.id}`)
      .send(recordJson(EXTERNAL_ACTIVITIES, record, FIELDS, unit.timeZone));
  });

  app.get(`${base}/:id`, async (request) => {
    const { unit } = request.marketing;
    const raw = pathParams(request, ['id']).id;
    const record = await services.collections.read(
      EXTERNAL_ACTIVITIES,
      unit.id,
      /^\d{1,15}$/.test(raw) ? Number(raw) : 0,
    );
    return recordJson(EXTERNAL_ACTIVITIES, record, FIELDS, unit.timeZone);
  });
}
