import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ConsoleBackend } from '../console-backend.js';
import { pairView, search } from '../explorer.js';
import { parseOr400, sendError } from './console-error.js';

const searchQuery = z.object({ q: z.string().max(200) });

/** The record explorer: search both sides, then a record with its pair, history, activities and Tasks. */
export function explorerRoutes(app: FastifyInstance, backend: ConsoleBackend): void {
  app.get('/explorer/search', async (request, reply) => {
    const query = parseOr400(reply, searchQuery, request.query);
    if (!query) return reply;
    return { hits: await search(backend, query.q) };
  });

  app.get('/explorer/records/:id', async (request, reply) => {
    const { id } = request.params as { id: string };
    const view = await pairView(backend, id);
    return view ?? sendError(reply, 404, 'NOT_FOUND', `Neither side has a record ${id}`);
  });
}
