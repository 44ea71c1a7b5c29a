import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { BulkJob } from '../bulk/bulk-job.js';
import type { ResultKind } from '../bulk/bulk-ingest-service.js';
import type { CrmServices } from '../crm-services.js';
import { formatDatetime } from '../domain/field-values.js';

// Salesforce takes up to ~100 MB of raw CSV per upload; leave room for encoding overhead.
const UPLOAD_LIMIT = 150 * 1024 * 1024;
const idParams = z.object({ id: z.string() });

/** A job as Bulk API 2.0 describes it. */
export function jobInfo(job: BulkJob): Record<string, unknown> {
  const base = {
    id: job.id,
    operation: job.operation,
    object: job.object,
    createdById: job.createdById,
    createdDate: formatDatetime(job.createdDate),
    systemModstamp: formatDatetime(job.systemModstamp),
    state: job.state,
    concurrencyMode: 'Parallel',
    contentType: 'CSV',
    apiVersion: Number(job.apiVersion),
    lineEnding: job.lineEnding,
    columnDelimiter: job.columnDelimiter,
    numberRecordsProcessed: job.recordsProcessed,
    retries: 0,
    totalProcessingTime: job.processingMs,
  };
  if (job.jobType === 'V2Query') return { ...base, query: job.query, jobType: 'V2Query' };
  return {
    ...base,
    ...(job.externalIdFieldName ? { externalIdFieldName: job.externalIdFieldName } : {}),
    jobType: 'V2Ingest',
    contentUrl: `services/data/v${job.apiVersion}/jobs/ingest/${job.id}/batches`,
    numberRecordsFailed: job.recordsFailed,
    apiActiveProcessingTime: job.processingMs,
    apexProcessingTime: 0,
    ...(job.errorMessage ? { errorMessage: job.errorMessage } : {}),
  };
}

/** `/jobs/ingest`: Bulk API 2.0 ingest jobs. */
export function bulkIngestRoutes(app: FastifyInstance, services: CrmServices): void {
  const bulk = services.bulkIngest;
  app.addContentTypeParser(
    'text/csv',
    { parseAs: 'string', bodyLimit: UPLOAD_LIMIT },
    (_request, body, done) => done(null, body),
  );

  app.post('/jobs/ingest', async (request) =>
    jobInfo(await bulk.create(request.crm, request.crm.apiVersion, request.body)),
  );

  app.get('/jobs/ingest', async () => ({
    done: true,
    records: (await bulk.list()).map(jobInfo),
    nextRecordsUrl: null,
  }));

  app.get('/jobs/ingest/:id', async (request) => jobInfo(await bulk.get(idParams.parse(request.params).id)));

  app.put('/jobs/ingest/:id/batches', { bodyLimit: UPLOAD_LIMIT }, async (request, reply) => {
    await bulk.upload(
      idParams.parse(request.params).id,
      typeof request.body === 'string' ? request.body : '',
    );
    return reply.code(201).send();
  });

  app.patch('/jobs/ingest/:id', async (request) =>
    jobInfo(await bulk.setState(idParams.parse(request.params).id, request.body)),
  );

  app.delete('/jobs/ingest/:id', async (request, reply) => {
    await bulk.delete(idParams.parse(request.params).id);
    return reply.code(204).send();
  });

  for (const kind of [
    'successfulResults',
    'failedResults',
    'unprocessedrecords',
  ] as const satisfies readonly ResultKind[]) {
    app.get(`/jobs/ingest/:id/${kind}`, async (request, reply) => {
      const { id } = idParams.parse(request.params);
      await bulk.get(id);
      return reply.type('text/csv; charset=utf-8').send(Readable.from(bulk.results(id, kind)));
    });
  }
}
