import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { MarketingError } from '../domain/marketing-error.js';
import { MAX_BATCH_BYTES, type ImportJob } from '../import-service.js';
import type { MarketingServices } from '../marketing-services.js';
import { objectBody } from './v5-wire.js';
import { v5Datetime } from '../domain/unit-time.js';
import { pathParams } from './route-input.js';

const inputSchema = z.object({
  operation: z.enum(['Create', 'Update', 'Upsert']),
  object: z.literal('Prospect').default('Prospect'),
  state: z.enum(['Open', 'Ready']).default('Open'),
});

function importJson(job: ImportJob, timeZone: string): Record<string, unknown> {
  return {
    id: job.id,
    operation: job.operation,
    object: 'Prospect',
    status: job.status,
    isExpired: false,
    createdCount: job.createdCount,
    updatedCount: job.updatedCount,
    errorCount: job.errorCount,
    createdAt: v5Datetime(job.createdAt, timeZone),
    updatedAt: v5Datetime(job.updatedAt, timeZone),
  };
}

/** The multipart parts of an imports call: `input` (JSON) and `importFile` (CSV). */
async function parts(request: FastifyRequest): Promise<{ input?: unknown; file?: string }> {
  if (!request.isMultipart()) throw new MarketingError(62, 'Send imports as multipart/form-data');
  const out: { input?: unknown; file?: string } = {};
  for await (const part of request.parts({ limits: { fileSize: MAX_BATCH_BYTES } })) {
    // Clients send `input` as a plain field or as a JSON file part; both are read.
    const text = part.type === 'file' ? (await part.toBuffer()).toString('utf8') : String(part.value);
    if (part.type === 'file' && part.file.truncated) {
      throw new MarketingError(62, 'An import batch may be at most 10 MB');
    }
    if (part.fieldname === 'importFile') out.file = text;
    else if (part.fieldname === 'input') {
      try {
        out.input = JSON.parse(text);
      } catch {
        throw new MarketingError(62, 'The input part is not valid JSON');
      }
    }
  }
  return out;
}

function importId(raw: string): number {
  if (!/^\d{1,15}$/.test(raw)) throw new MarketingError(404);
  return Number(raw);
}

/** `/api/v5/imports`: bulk prospect create, update and upsert from CSV batches. */
export async function v5ImportRoutes(app: FastifyInstance, services: MarketingServices): Promise<void> {
  await app.register(multipart, { limits: { fileSize: MAX_BATCH_BYTES + 1, files: 2 } });
  const base = '/api/v5/imports';

  app.post(base, async (request, reply) => {
    const { unit, actor } = request.marketing;
    const { input, file } = await parts(request);
    const parsed = inputSchema.safeParse(input ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new MarketingError(
        62,
        `Invalid value for ${issue?.path.join('.') || 'input'}: ${issue?.message ?? ''}`,
      );
    }
    let job = await services.imports.create(unit.id, actor, parsed.data.operation);
    if (file !== undefined) await services.imports.addBatch(unit.id, job.id, file);
    if (parsed.data.state === 'Ready') job = await services.imports.submit(unit.id, job.id);
    return reply.code(201).header('Location', `${base}/${job.id}`).send(importJson(job, unit.timeZone));
  });

  app.post(`${base}/:id/batches`, async (request, reply) => {
    const { unit } = request.marketing;
    const id = importId(pathParams(request, ['id']).id);
    const { file } = await parts(request);
    if (file === undefined) throw new MarketingError(13, 'Required part is missing: importFile');
    await services.imports.addBatch(unit.id, id, file);
    return reply.code(204).send();
  });

  app.patch(`${base}/:id`, async (request) => {
    const { unit } = request.marketing;
    const id = importId(pathParams(request, ['id']).id);
    const body = objectBody(request.body);
    if (body.status !== 'Ready')
      throw new MarketingError(62, 'Only {"status": "Ready"} may be set on an import');
    return importJson(await services.imports.submit(unit.id, id), unit.timeZone);
  });

  app.get(`${base}/:id`, async (request) => {
    const id = importId(pathParams(request, ['id']).id);
    return importJson(
      await services.imports.get(request.marketing.unit.id, id),
      request.marketing.unit.timeZone,
    );
  });

  app.get(`${base}/:id/errors`, async (request, reply) => {
    const id = importId(pathParams(request, ['id']).id);
    const csv = await services.imports.errors(request.marketing.unit.id, id);
    return reply.type('text/csv; charset=utf-8').send(csv);
  });
}
