import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { IngestServices } from '../../ingest/ingest-services.js';
import { SourceError } from '../../ingest/source-service.js';
import { parseOr400, sendError } from './console-error.js';

const newSource = z
  .object({ name: z.string().trim().min(1).max(100), apiVersion: z.union([z.literal(3), z.literal(4)]) })
  .strict();
const retryBody = z.object({ seqs: z.union([z.array(z.number().int()).min(1), z.literal('all')]) }).strict();

/**
 * The ingest: sources and their write keys (shown once, when made or rotated: the store keeps
 * only their hashes), recent events, and failed deliveries to retry.
 */
export function ingestRoutes(app: FastifyInstance, ingest: IngestServices | undefined): void {
  const need = () => {
    if (!ingest)
      throw Object.assign(new Error('The ingest is not running in this process'), { statusCode: 404 });
    return ingest;
  };

  app.get('/ingest', async () => {
    const i = need();
    const [sources, status, recent, failures] = await Promise.all([
      i.sources.list(),
      i.status(),
      i.recent(50),
      i.failures({ limit: 100 }),
    ]);
    return { sources, status, recent, failures };
  });

  app.post('/ingest/sources', async (request, reply) => {
    const body = parseOr400(reply, newSource, request.body);
    if (!body) return reply;
    try {
      const { source, writeKey } = await need().sources.create(body.name, { apiVersion: body.apiVersion });
      return reply.code(201).send({ source, writeKey });
    } catch (error) {
      if (error instanceof SourceError) return sendError(reply, 400, 'INVALID_SOURCE', error.message);
      throw error;
    }
  });

  app.post('/ingest/sources/:id/rotate', async (request, reply) => {
    try {
      return { writeKey: await need().sources.rotate((request.params as { id: string }).id) };
    } catch (error) {
      if (error instanceof SourceError) return sendError(reply, 404, 'NOT_FOUND', error.message);
      throw error;
    }
  });

  app.post('/ingest/retry', async (request, reply) => {
    const body = parseOr400(reply, retryBody, request.body);
    if (!body) return reply;
    return { retried: await need().retryFailed(body.seqs) };
  });
}
