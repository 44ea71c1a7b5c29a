import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { isHandoffError } from '../../errors/handoff-error.js';
import { logServerError } from '../../http/server-basics.js';
import { AsyncApiError, isQuery, type V1ContentType, type V1Job } from '../bulk/bulk1-job.js';
import {
  mediaType,
  readJobInfo,
  writeBatchInfo,
  writeBatchList,
  writeError,
  writeIngestResults,
  writeJobInfo,
  writeResultList,
  type WireFormat,
} from '../bulk/bulk1-formats.js';
import type { CrmServices } from '../crm-services.js';
import { callOptionsClient } from '../domain/call-context.js';
import { bearerToken } from './request-context.js';

// As Bulk API 2.0's uploads: Salesforce takes 10 MB a batch; leave room.
const BATCH_LIMIT = 150 * 1024 * 1024;
const MIN_VERSION = 20;
const MAX_VERSION = 66;

const versionPath = z.object({ version: z.string() });
const jobPath = versionPath.extend({ jobId: z.string() });
const batchPath = jobPath.extend({ batchId: z.string() });
const resultPath = batchPath.extend({ resultId: z.string() });

function headerValue(raw: string | string[] | undefined): string | undefined {
  return Array.isArray(raw) ? raw[0] : raw;
}

/** Answers in JSON to a client that sends JSON or works a JSON job; in XML otherwise. */
function formatOf(request: FastifyRequest, job?: V1Job): WireFormat {
  const type = headerValue(request.headers['content-type']) ?? '';
  if (/json/i.test(type)) return 'json';
  if (/xml/i.test(type)) return 'xml';
  return job?.contentType === 'JSON' ? 'json' : 'xml';
}

/** The batch format a request's Content-Type names, if it names one. */
function contentTypeOf(request: FastifyRequest): V1ContentType | null {
  const type = headerValue(request.headers['content-type']) ?? '';
  if (/csv/i.test(type)) return 'CSV';
  if (/json/i.test(type)) return 'JSON';
  if (/xml/i.test(type)) return 'XML';
  return null;
}

function text(body: unknown): string {
  return typeof body === 'string' ? body : '';
}

function send(
  reply: FastifyReply,
  status: number,
  format: WireFormat | V1ContentType,
  body: string,
): FastifyReply {
  return reply.code(status).type(mediaType(format)).send(body);
}

/**
 * Bulk API 1.0 under `/services/async/{version}`: its own session header (`X-SFDC-Session`,
 * or a bearer token), its own error shape (AsyncApiException, in XML or JSON), and every call
 * counted against the org's daily API requests like the REST API's.
 */
export function bulk1Routes(app: FastifyInstance, services: CrmServices): void {
  const bulk = services.bulk1;
  app.decorateRequest('crm', null as unknown as FastifyRequest['crm']);
  // Bodies as sent, whatever their type: a batch is stored as it came, and job requests are
  // read as XML or JSON here, so Bulk's own errors answer malformed ones.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: BATCH_LIMIT }, (_request, body, done) =>
    done(null, body),
  );

  app.addHook('onRequest', async (request) => {
    const raw = versionPath.parse(request.params).version;
    const major = /^(\d{2})\.0$/.exec(raw)?.[1];
    if (!major || Number(major) < MIN_VERSION || Number(major) > MAX_VERSION)
      throw new AsyncApiError('InvalidUrl', `Invalid API version: ${raw}`);
    const token = headerValue(request.headers['x-sfdc-session']) ?? bearerToken(request);
    const session = token ? await services.oauth.verify(token) : null;
    if (!session) throw new AsyncApiError('InvalidSessionId', 'Invalid session id');
    if (!services.usage.consume()) throw new AsyncApiError('ExceededQuota', 'TotalRequests Limit exceeded.');
    request.crm = {
      userId: session.userId,
      autoAssign: false,
      apiVersion: `${major}.0`,
      origin: {
        api: 'bulkapi',
        version: `${major}.0`,
        client: callOptionsClient(headerValue(request.headers['sforce-call-options'])),
      },
    };
  });
  app.addHook('onSend', async (_request, reply) => {
    const { used, max } = services.usage.snapshot();
    reply.header('Sforce-Limit-Info', `api-usage=${used}/${max}`);
  });
  app.setErrorHandler((error, request, reply) => {
    const format = formatOf(request);
    if (error instanceof AsyncApiError)
      return send(reply, error.status, format, writeError(error.code, error.message, format));
    if (isHandoffError(error))
      return send(reply, 400, format, writeError('InvalidBatch', error.message, format));
    const status = (error as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500)
      return send(reply, status, format, writeError('ClientInputError', (error as Error).message, format));
    logServerError(request, error, 'Bulk API 1.0 request failed');
    return send(
      reply,
      500,
      format,
      writeError('InternalServerError', 'An unexpected error occurred', format),
    );
  });
  app.setNotFoundHandler((request, reply) => {
    const format = formatOf(request);
    return send(reply, 404, format, writeError('InvalidUrl', 'Invalid URL', format));
  });

  const answerJob = async (reply: FastifyReply, status: number, format: WireFormat, job: V1Job) =>
    send(reply, status, format, writeJobInfo(job, await bulk.counts(job.id), format));

  app.post('/job', async (request, reply) => {
    const format = formatOf(request);
    const job = await bulk.createJob(
      request.crm,
      request.crm.apiVersion,
      readJobInfo(text(request.body), format),
    );
    return answerJob(reply, 201, format, job);
  });

  app.get('/job/:jobId', async (request, reply) => {
    const job = await bulk.job(jobPath.parse(request.params).jobId);
    return answerJob(reply, 200, formatOf(request, job), job);
  });

  app.post('/job/:jobId', async (request, reply) => {
    const format = formatOf(request);
    const job = await bulk.changeState(
      jobPath.parse(request.params).jobId,
      readJobInfo(text(request.body), format),
    );
    return answerJob(reply, 200, format, job);
  });

  app.post('/job/:jobId/batch', async (request, reply) => {
    const { jobId } = jobPath.parse(request.params);
    const batch = await bulk.addBatch(jobId, text(request.body), contentTypeOf(request));
    const job = await bulk.job(jobId);
    const format = formatOf(request, job);
    return send(reply, 201, format, writeBatchInfo(batch, format));
  });

  app.get('/job/:jobId/batch', async (request, reply) => {
    const { jobId } = jobPath.parse(request.params);
    const job = await bulk.job(jobId);
    const format = formatOf(request, job);
    return send(reply, 200, format, writeBatchList(await bulk.batches(jobId), format));
  });

  app.get('/job/:jobId/batch/:batchId', async (request, reply) => {
    const { jobId, batchId } = batchPath.parse(request.params);
    const job = await bulk.job(jobId);
    const format = formatOf(request, job);
    return send(reply, 200, format, writeBatchInfo(await bulk.batch(jobId, batchId), format));
  });

  app.get('/job/:jobId/batch/:batchId/request', async (request, reply) => {
    const { jobId, batchId } = batchPath.parse(request.params);
    const job = await bulk.job(jobId);
    const batch = await bulk.batch(jobId, batchId, true);
    return send(reply, 200, isQuery(job.operation) ? 'CSV' : job.contentType, batch.request);
  });

  app.get('/job/:jobId/batch/:batchId/result', async (request, reply) => {
    const { jobId, batchId } = batchPath.parse(request.params);
    const results = await bulk.results(jobId, batchId);
    const { contentType } = results.job;
    if ('resultIds' in results) {
      // A query's list of result files: XML unless the job is JSON (CSV jobs list in XML).
      const listType = contentType === 'JSON' ? 'JSON' : 'XML';
      return send(reply, 200, listType, writeResultList(results.resultIds, listType));
    }
    return send(reply, 200, contentType, writeIngestResults(results.rows, contentType));
  });

  app.get('/job/:jobId/batch/:batchId/result/:resultId', async (request, reply) => {
    const { jobId, batchId, resultId } = resultPath.parse(request.params);
    const job = await bulk.job(jobId);
    const file = bulk.queryResult(jobId, batchId, resultId);
    // The first piece is read before answering, so a bad id is an error and not a broken stream.
    const first = await file.next();
    async function* rest(): AsyncGenerator<string> {
      if (!first.done) yield first.value;
      yield* file;
    }
    return reply.code(200).type(mediaType(job.contentType)).send(Readable.from(rest()));
  });
}
