import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { CrmServices } from '../crm-services.js';
import { jobInfo } from './bulk-ingest.js';

const idParams = z.object({ id: z.string() });
const resultsQuery = z.object({
  locator: z.string().optional(),
  maxRecords: z.coerce.number().int().min(1).optional(),
});

/** `/jobs/query`: Bulk API 2.0 query jobs and their CSV results. */
export function bulkQueryRoutes(app: FastifyInstance, services: CrmServices): void {
  const bulk = services.bulkQuery;

  app.post('/jobs/query', async (request) =>
    jobInfo(await bulk.create(request.crm, request.crm.apiVersion, request.body)),
  );

  app.get('/jobs/query', async () => ({
    done: true,
    records: (await bulk.list()).map(jobInfo),
    nextRecordsUrl: null,
  }));

  app.get('/jobs/query/:id', async (request) => jobInfo(await bulk.get(idParams.parse(request.params).id)));

  app.patch('/jobs/query/:id', async (request) =>
    jobInfo(await bulk.abort(idParams.parse(request.params).id, request.body)),
  );

  app.delete('/jobs/query/:id', async (request, reply) => {
    await bulk.delete(idParams.parse(request.params).id);
    return reply.code(204).send();
  });

  app.get('/jobs/query/:id/results', async (request, reply) => {
    const { id } = idParams.parse(request.params);
    const { locator, maxRecords } = resultsQuery.parse(request.query);
    // jsforce asks for the first page with the literal locator "null" cleared; treat it as none.
    const page = await bulk.results(id, {
      locator: locator && locator !== 'null' ? locator : undefined,
      maxRecords,
    });
    return reply
      .header('Sforce-NumberOfRecords', String(page.count))
      .header('Sforce-Locator', page.locator)
      .type('text/csv; charset=utf-8')
      .send(page.csv);
  });
}
