import { z } from 'zod';
import { createGunzip } from 'node:zlib';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  InvalidMessage,
  MAX_REQUEST_BYTES,
  MESSAGE_TYPES,
  readBatch,
  readMessage,
  type MessageType,
} from './domain/segment-message.js';
import type { Source } from './domain/source.js';
import { allowCors, browserRoutes } from './http/browser-routes.js';
import { RateLimiter } from './http/rate-limiter.js';
import { invalidInputMessage } from '../http/invalid-input.js';
import type { IngestServices } from './ingest-services.js';
import { logServerError, requestBasics, serverOptions, type WireError } from '../http/server-basics.js';
import { ingestHealth } from './http/health.js';

/** A failure met before any route, in the Tracking API's JSON. */
function renderIngestError(status: number, message: string): WireError {
  return {
    contentType: 'application/json',
    body: JSON.stringify({ success: false, code: status === 404 ? 'not_found' : 'invalid_request', message }),
  };
}

function fail(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply.code(status).send({ success: false, code, message });
}

/** A body's `writeKey`, where a browser SDK puts it (anything else in the body is the event's). */
const bodyWriteKey = z.object({ writeKey: z.string() });

/** The write key from `Authorization: Basic base64(writeKey:)`, or from the body. */
function writeKeyOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header?.startsWith('Basic ')) {
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    const key = decoded.split(':')[0];
    if (key) return key;
  }
  const body = bodyWriteKey.safeParse(request.body);
  return body.success && body.data.writeKey ? body.data.writeKey : undefined;
}

/**
 * The Segment-compatible Tracking API: `/v1/{identify,track,page,screen,group,alias,batch}`.
 * A 200 `{"success":true}` means the events are in the durable log; delivery to prospects
 * follows in the background.
 */
export function buildIngestApp(services: IngestServices): FastifyInstance {
  const app = Fastify({ ...serverOptions('ingest', renderIngestError), bodyLimit: MAX_REQUEST_BYTES });
  requestBasics(app, 'ingest');
  const accepted = ingestHealth(app, services);
  const limiter = new RateLimiter(services.rateLimit);

  // Segment's and RudderStack's libraries may gzip the body; the size limit applies unzipped.
  app.addHook('preParsing', async (request, _reply, payload) => {
    const encoding = request.headers['content-encoding'];
    if (encoding === 'gzip') {
      delete request.headers['content-length'];
      return payload.pipe(createGunzip());
    }
    return payload;
  });

  // The body is JSON whatever the label: browsers' sendBeacon posts text/plain, and
  // RudderStack's library labels its gzipped JSON application/x-www-form-urlencoded.
  const jsonAnyway = (
    _request: FastifyRequest,
    body: string | Buffer,
    done: (e: Error | null, v?: unknown) => void,
  ) => {
    try {
      done(null, JSON.parse(body.toString()));
    } catch {
      done(Object.assign(new Error('the body is not valid JSON'), { statusCode: 400 }), undefined);
    }
  };
  app.addContentTypeParser(
    ['text/plain', 'application/x-www-form-urlencoded'],
    { parseAs: 'string' },
    jsonAnyway,
  );

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return fail(
        reply,
        400,
        'request_too_large',
        `the request is larger than ${MAX_REQUEST_BYTES / 1024} KB`,
      );
    }
    if (error.code === 'Z_DATA_ERROR' || error.code === 'Z_BUF_ERROR') {
      return fail(reply, 400, 'invalid_request', 'the body is not valid gzip');
    }
    const invalid = invalidInputMessage(error);
    if (invalid !== undefined) return fail(reply, 400, 'invalid_request', invalid);
    if (error.statusCode && error.statusCode < 500) {
      const message =
        error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'send JSON (application/json)' : error.message;
      return fail(
        reply,
        400,
        'invalid_request',
        message.replace(/^Body is not valid JSON.*/, 'the body is not valid JSON'),
      );
    }
    logServerError(request, error, 'ingest request failed');
    return fail(reply, 500, 'internal_error', 'the event could not be stored; send it again');
  });
  app.setNotFoundHandler((_request, reply) => fail(reply, 404, 'not_found', 'no such endpoint'));

  const accept = async (request: FastifyRequest, reply: FastifyReply, type: MessageType | 'batch') => {
    const writeKey = writeKeyOf(request);
    const source: Source | undefined = writeKey ? await services.sources.authenticate(writeKey) : undefined;
    if (request.headers.origin) void reply.header('access-control-allow-origin', '*');
    if (!source)
      return fail(reply, 401, 'unauthorized', 'a valid write key is required (Basic auth user name)');
    // A browser page: only from an origin the source takes.
    if (!allowCors(request, reply, source)) {
      void reply.removeHeader('access-control-allow-origin');
      return fail(reply, 403, 'origin_not_allowed', 'this source does not take events from this origin');
    }
    const receivedAt = services.now();
    let messages;
    try {
      messages =
        type === 'batch'
          ? readBatch(request.body, receivedAt)
          : [readMessage(request.body, type, receivedAt)];
    } catch (error) {
      if (error instanceof InvalidMessage) return fail(reply, 400, 'invalid_request', error.message);
      throw error;
    }
    const allowed = limiter.take(source.id, messages.length);
    if (!allowed.ok) {
      return fail(
        reply.header('Retry-After', String(allowed.retryAfterSeconds)),
        429,
        'rate_limited',
        'too many events; slow down',
      );
    }
    if (messages.length > 0) await services.events.append(source.id, messages);
    accepted.inc(messages.length);
    return reply.send({ success: true });
  };

  for (const type of MESSAGE_TYPES) app.post(`/v1/${type}`, (request, reply) => accept(request, reply, type));
  app.post('/v1/batch', (request, reply) => accept(request, reply, 'batch'));
  // Segment's libraries also use the one-letter paths; the browser SDK needs the rest.
  app.post('/v1/b', (request, reply) => accept(request, reply, 'batch'));
  browserRoutes(app, services, accept);
  return app;
}
