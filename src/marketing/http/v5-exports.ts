import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { MarketingError } from '../domain/marketing-error.js';
import type { ExportJob, ExportRequest } from '../export-service.js';
import type { MarketingServices } from '../marketing-services.js';
import { objectBody, requestedFields } from './v5-wire.js';
import { parseUnitDatetime, v5Datetime } from '../domain/unit-time.js';
import { pathParams } from './route-input.js';

/** The export request; its datetimes without an offset are on the unit's wall clock. */
function exportSchema(timeZone: string) {
  const date = z
    .string()
    .transform(
      (v, ctx) =>
        parseUnitDatetime(v, timeZone) ??
        (ctx.addIssue({ code: 'custom', message: 'expected a date and time' }), z.NEVER),
    );
  return z.object({
    object: z.literal('Prospect').default('Prospect'),
    fields: z.array(z.string()).min(1),
    procedure: z.object({
      name: z.enum(['filter_by_created_at', 'filter_by_updated_at']),
      arguments: z
        .object({
          created_after: date.optional(),
          created_before: date.optional(),
          updated_after: date.optional(),
          updated_before: date.optional(),
          deleted: z.union([z.boolean(), z.literal('all')]).default(false),
        })
        .strict()
        .default({ deleted: false }),
    }),
  });
}

function exportJson(job: ExportJob, base: string, timeZone: string): Record<string, unknown> {
  return {
    id: job.id,
    object: 'Prospect',
    status: job.status,
    procedure: { name: job.request.procedure },
    fields: job.request.fields,
    rowCount: job.rowCount,
    resultRefs:
      job.status === 'Complete'
        ? Array.from({ length: job.resultCount }, (_, i) => `${base}/${job.id}/results/${i}`)
        : [],
    createdAt: v5Datetime(job.createdAt, timeZone),
    updatedAt: v5Datetime(job.updatedAt, timeZone),
  };
}

/** `/api/v5/exports`: prospects created or updated in a range, as CSV result files. */
export function v5ExportRoutes(app: FastifyInstance, services: MarketingServices): void {
  const base = '/api/v5/exports';

  app.post(base, async (request, reply) => {
    const { unit } = request.marketing;
    const parsed = exportSchema(unit.timeZone).safeParse(objectBody(request.body));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new MarketingError(
        62,
        `Invalid value for ${issue?.path.join('.') || 'export'}: ${issue?.message ?? ''}`,
      );
    }
    const { procedure } = parsed.data;
    const args = procedure.arguments;
    const byCreated = procedure.name === 'filter_by_created_at';
    if (
      (byCreated
        ? (args.updated_after ?? args.updated_before)
        : (args.created_after ?? args.created_before)) !== undefined
    ) {
      throw new MarketingError(
        62,
        `${procedure.name} takes ${byCreated ? 'created' : 'updated'}_after and _before`,
      );
    }
    const exportRequest: ExportRequest = {
      fields: await requestedFields(services, unit.id, parsed.data.fields.join(',')),
      procedure: procedure.name,
      after: (byCreated ? args.created_after : args.updated_after) ?? null,
      before: (byCreated ? args.created_before : args.updated_before) ?? null,
      deleted: args.deleted === 'all' ? 'all' : args.deleted ? 'true' : 'false',
      timeZone: unit.timeZone,
    };
    const job = await services.exports.create(unit.id, exportRequest);
    return reply
      .code(201)
      .header('Location', `${base}/${job.id}`)
      .send(exportJson(job, base, unit.timeZone));
  });

  app.get(`${base}/:id`, async (request) => {
    const id = Number(pathParams(request, ['id']).id);
    if (!Number.isInteger(id)) throw new MarketingError(404);
    return exportJson(
      await services.exports.get(request.marketing.unit.id, id),
      base,
      request.marketing.unit.timeZone,
    );
  });

  app.get(`${base}/:id/results/:seq`, async (request, reply) => {
    const { id, seq } = pathParams(request, ['id', 'seq']);
    if (!/^\d+$/.test(id) || !/^\d+$/.test(seq)) throw new MarketingError(404);
    const csv = await services.exports.result(request.marketing.unit.id, Number(id), Number(seq));
    return reply.type('text/csv; charset=utf-8').send(csv);
  });
}
