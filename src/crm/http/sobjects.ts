import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { HandoffError } from '../../errors/handoff-error.js';
import type { CrmServices } from '../crm-services.js';
import {
  describeGlobal,
  describeObject,
  objectInfo,
  recentItems,
  recordUrl,
  wireRecord,
} from './record-wire.js';

const recentQuery = z.object({ limit: z.coerce.number().int().min(1).max(200).default(200) });

const typeParams = z.object({ type: z.string() });
const recordParams = z.object({ type: z.string(), id: z.string() });
const externalParams = z.object({ type: z.string(), field: z.string(), value: z.string() });
const fieldsQuery = z.object({ fields: z.string().optional() });

/** A JSON object body, or the error Salesforce gives for anything else. */
export function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HandoffError('JSON_PARSER_ERROR', 'The request body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

/** `/sobjects`: describe, and single-record create, read, update, delete and upsert. */
export function sobjectRoutes(app: FastifyInstance, services: CrmServices): void {
  const { records, schema } = services;

  app.get('/sobjects', async (request) => describeGlobal(schema.allObjects(), request.crm.apiVersion));

  // Recently viewed records (a query's FOR VIEW), newest first, of every object.
  app.get('/recent', async (request) => {
    const { limit } = recentQuery.parse(request.query);
    return recentItems(await services.queries.recentlyViewed(limit), request.crm.apiVersion);
  });

  app.get('/sobjects/:type', async (request) => {
    const { type } = typeParams.parse(request.params);
    const def = records.objectDef(type);
    return objectInfo(def, request.crm.apiVersion, await services.queries.recentlyViewed(25, def.name));
  });

  app.get('/sobjects/:type/describe', async (request) => {
    const { type } = typeParams.parse(request.params);
    const def = records.objectDef(type);
    return describeObject(def, request.crm.apiVersion, schema.childRelationships(def));
  });

  app.post('/sobjects/:type', async (request, reply) => {
    const { type } = typeParams.parse(request.params);
    const id = await records.create(request.crm, type, objectBody(request.body));
    return reply
      .code(201)
      .header('Location', recordUrl(request.crm.apiVersion, records.objectDef(type).name, id))
      .send({ id, success: true, errors: [] });
  });

  app.get('/sobjects/:type/:id', async (request) => {
    const { type, id } = recordParams.parse(request.params);
    const def = records.objectDef(type);
    const record = await records.retrieve(type, id);
    return wireRecord(def, record, request.crm.apiVersion, selectedFields(services, def.name, request.query));
  });

  app.patch('/sobjects/:type/:id', async (request, reply) => {
    const { type, id } = recordParams.parse(request.params);
    await records.update(request.crm, type, id, objectBody(request.body));
    return reply.code(204).send();
  });

  app.delete('/sobjects/:type/:id', async (request, reply) => {
    const { type, id } = recordParams.parse(request.params);
    await records.delete(request.crm, type, id);
    return reply.code(204).send();
  });

  app.get('/sobjects/:type/:field/:value', async (request) => {
    const { type, field, value } = externalParams.parse(request.params);
    const def = records.objectDef(type);
    const record = await records.retrieveByExternalId(type, field, value);
    return wireRecord(def, record, request.crm.apiVersion, selectedFields(services, def.name, request.query));
  });

  app.patch('/sobjects/:type/:field/:value', async (request, reply) => {
    const { type, field, value } = externalParams.parse(request.params);
    const updateOnly = (request.query as Record<string, string | undefined>).updateOnly === 'true';
    try {
      const { id, created } = await records.upsert(
        request.crm,
        type,
        field,
        value,
        objectBody(request.body),
        {
          updateOnly,
        },
      );
      return reply.code(created ? 201 : 200).send({ id, success: true, errors: [], created });
    } catch (error) {
      // Several records share the external id: 300 with their URLs, as Salesforce answers.
      if (error instanceof HandoffError && error.code === 'DUPLICATE_EXTERNAL_ID') {
        const ids = (error.extra?.matchingIds as string[] | undefined) ?? [];
        const def = records.objectDef(type);
        return reply.code(300).send(ids.map((id) => recordUrl(request.crm.apiVersion, def.name, id)));
      }
      throw error;
    }
  });
}

/** The fields a `?fields=a,b` read asks for; unknown names are INVALID_FIELD. */
export function selectedFields(services: CrmServices, type: string, query: unknown) {
  const def = services.records.objectDef(type);
  const { fields } = fieldsQuery.parse(query);
  if (!fields) return def.fields;
  return fields
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '')
    .map((name) => {
      const f = services.schema.field(def, name);
      if (!f)
        throw new HandoffError('INVALID_FIELD', `No such column '${name}' on sobject of type ${def.name}`);
      return f;
    });
}
