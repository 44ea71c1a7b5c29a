import type { FastifyInstance, FastifyRequest } from 'fastify';
import { TAGGED_OBJECTS } from '../collections/collection-defs.js';
import { MarketingError } from '../domain/marketing-error.js';
import type { MarketingServices } from '../marketing-services.js';
import { recordJson } from './v5-collections.js';
import { objectBody } from './v5-wire.js';
import { pathParams } from './route-input.js';

const TAGGED_OBJECT_FIELDS = TAGGED_OBJECTS.fields.map((f) => f.name);

/** `{tagId}` (or, as a convenience, `{tagName}`: the tag is created when it does not exist). */
function tagOf(body: Record<string, unknown>): { id?: number; name?: string } {
  if (body.tagId !== undefined) {
    const id = typeof body.tagId === 'string' ? Number(body.tagId) : body.tagId;
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1) {
      throw new MarketingError(62, `Invalid value for field tagId: ${JSON.stringify(body.tagId)}`);
    }
    return { id };
  }
  if (typeof body.tagName === 'string') return { name: body.tagName };
  throw new MarketingError(13, 'Required parameter is missing: tagId');
}

function objectOf(request: FastifyRequest): { collection: string; id: number } {
  const { collection, id } = pathParams(request, ['collection', 'id']);
  if (!/^\d{1,15}$/.test(id)) throw new MarketingError(404);
  return { collection, id: Number(id) };
}

/**
 * `POST /api/v5/objects/{prospects|campaigns|lists|forms|…}/{id}/do/addTag` and `do/removeTag`:
 * tags on objects, readable afterwards as `tagged-objects`.
 */
export function v5TagRoutes(app: FastifyInstance, services: MarketingServices): void {
  app.post('/api/v5/objects/:collection/:id/do/addTag', async (request) => {
    const { unit } = request.marketing;
    const tagged = await services.collections.addTag(
      unit.id,
      objectOf(request),
      tagOf(objectBody(request.body)),
    );
    return recordJson(TAGGED_OBJECTS, tagged, TAGGED_OBJECT_FIELDS, unit.timeZone);
  });

  app.post('/api/v5/objects/:collection/:id/do/removeTag', async (request, reply) => {
    await services.collections.removeTag(
      request.marketing.unit.id,
      objectOf(request),
      tagOf(objectBody(request.body)),
    );
    return reply.code(204).send();
  });
}
