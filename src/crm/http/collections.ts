import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { HandoffError } from '../../errors/handoff-error.js';
import type { SaveResult } from '../domain/save-result.js';
import type { CrmServices } from '../crm-services.js';
import { wireRecord } from './record-wire.js';
import { collectionError } from './wire.js';
import { objectBody, selectedFields } from './sobjects.js';

const MAX_RECORDS = 200;

const writeBody = z.object({
  allOrNone: z.boolean().optional().default(false),
  records: z.array(z.record(z.string(), z.unknown())),
});
const retrieveBody = z.object({ ids: z.array(z.string()), fields: z.array(z.string()) });

function tooMany(count: number): void {
  if (count > MAX_RECORDS) {
    throw new HandoffError('EXCEEDED_ID_LIMIT', `Maximum number of records allowed is ${MAX_RECORDS}.`);
  }
}

function typeOf(record: Record<string, unknown>): string {
  const attributes = record.attributes as { type?: unknown } | undefined;
  return typeof attributes?.type === 'string' ? attributes.type : '';
}

/** Per-record results, in request order; `statusCode` in errors (not `errorCode`) as Collections has it. */
function wireResults(results: SaveResult[]): Array<Record<string, unknown>> {
  return results.map((r) => {
    const out: Record<string, unknown> = {};
    if (r.id) out.id = r.id;
    out.success = r.success;
    out.errors = r.errors.map(collectionError);
    if (r.created !== undefined) out.created = r.created;
    return out;
  });
}

function parseWriteBody(body: unknown) {
  const parsed = writeBody.safeParse(objectBody(body));
  if (!parsed.success) throw new HandoffError('JSON_PARSER_ERROR', 'Expected {"allOrNone":…,"records":[…]}');
  tooMany(parsed.data.records.length);
  return parsed.data;
}

/** sObject Collections: up to 200 records a call, one result per record. */
export function collectionRoutes(app: FastifyInstance, services: CrmServices): void {
  const { records } = services;

  app.post('/composite/sobjects', async (request) => {
    const { allOrNone, records: items } = parseWriteBody(request.body);
    const results = await records.createMany(
      request.crm,
      items.map((input) => ({ type: typeOf(input), input })),
      allOrNone,
    );
    return wireResults(results);
  });

  app.patch('/composite/sobjects', async (request) => {
    const { allOrNone, records: items } = parseWriteBody(request.body);
    const results = await records.updateMany(
      request.crm,
      items.map((input) => {
        const { Id, id, ...rest } = input;
        return { type: typeOf(input), id: Id ?? id, input: rest };
      }),
      allOrNone,
    );
    return wireResults(results);
  });

  app.patch('/composite/sobjects/:type/:field', async (request) => {
    const { type, field } = z.object({ type: z.string(), field: z.string() }).parse(request.params);
    const { allOrNone, records: items } = parseWriteBody(request.body);
    const def = records.objectDefForType(type);
    const fieldDef = services.schema.field(def, field);
    const results = await records.upsertMany(
      request.crm,
      type,
      field,
      items.map((input) => {
        const key = Object.keys(input).find(
          (k) => k.toLowerCase() === (fieldDef?.name ?? field).toLowerCase(),
        );
        const raw = key ? input[key] : undefined;
        return { value: raw === null || raw === undefined ? '' : String(raw), input };
      }),
      allOrNone,
    );
    return wireResults(results);
  });

  app.delete('/composite/sobjects', async (request) => {
    const query = z
      .object({ ids: z.string().default(''), allOrNone: z.string().optional() })
      .parse(request.query);
    const ids = query.ids.split(',').filter((id) => id !== '');
    tooMany(ids.length);
    return wireResults(await records.deleteMany(request.crm, ids, query.allOrNone === 'true'));
  });

  const retrieve = async (type: string, ids: string[], fields: string[], apiVersion: string) => {
    tooMany(ids.length);
    const def = records.objectDefForType(type);
    const chosen = selectedFields(services, def.name, { fields: fields.join(',') });
    const found = await records.retrieveMany(type, ids);
    return found.map((r) => (r ? wireRecord(def, r, apiVersion, chosen) : null));
  };

  app.get('/composite/sobjects/:type', async (request) => {
    const { type } = z.object({ type: z.string() }).parse(request.params);
    const query = z
      .object({ ids: z.string().default(''), fields: z.string().default('Id') })
      .parse(request.query);
    return retrieve(
      type,
      query.ids.split(',').filter(Boolean),
      query.fields.split(','),
      request.crm.apiVersion,
    );
  });

  app.post('/composite/sobjects/:type', async (request) => {
    const { type } = z.object({ type: z.string() }).parse(request.params);
    const parsed = retrieveBody.safeParse(objectBody(request.body));
    if (!parsed.success) throw new HandoffError('JSON_PARSER_ERROR', 'Expected {"ids":[…],"fields":[…]}');
    return retrieve(type, parsed.data.ids, parsed.data.fields, request.crm.apiVersion);
  });
}
