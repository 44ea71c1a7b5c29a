import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { LogController, type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { createLogger } from '../log.js';
import { observeRequests } from './observability.js';
import type {} from './request-flags.js';
import { recordRoutes } from './route-registry.js';

/** How a service writes an error the framework itself meets (a bad URL, headers too large …). */
export interface WireError {
  contentType: string;
  body: string;
}

/** Renders a framework-level failure (`status`, a plain `message`) in the service's own format. */
export type RenderWireError = (status: number, message: string, request?: FastifyRequest) => WireError;

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  414: 'URI Too Long',
  431: 'Request Header Fields Too Large',
};

interface FastifyReplyLike {
  code(status: number): FastifyReplyLike;
  type(contentType: string): FastifyReplyLike;
  send(body: string): unknown;
}

/** Node's parser errors, each as the status a client should see. */
function clientErrorStatus(error: Error & { code?: string }): number {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return 431;
    case 'HPE_URI_TOO_LONG':
      return 414;
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return 408;
    default:
      return 400;
  }
}

/**
 * The Fastify options every Handoff server shares: a pino logger (errors only: request logging
 * off, so a busy server does not flood its terminal), a request id for each request, and
 * parser-level failures (431, 414, a malformed request line) answered in the service's format
 * rather than Node's or Fastify's own.
 */
export function serverOptions(name: string, render: RenderWireError): FastifyServerOptions {
  return {
    // Warnings and errors only, unless HANDOFF_LOG_LEVEL asks for more: a 5xx is always an error.
    loggerInstance: createLogger(name, process.env.HANDOFF_LOG_LEVEL ?? 'warn'),
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => randomUUID(),
    // Requests whose URL Fastify cannot decode (a lone `%`), in the service's own shape.
    frameworkErrors: (error, request, reply) => {
      const raw = (error as { statusCode?: number }).statusCode ?? 400;
      const status = raw < 500 ? raw : 400;
      const answer = render(status, error.message, request as FastifyRequest);
      const plain = reply as unknown as FastifyReplyLike;
      void plain.code(status).type(answer.contentType).send(answer.body);
    },
    clientErrorHandler: (error: Error & { code?: string }, socket: Socket) => {
      if (!socket.writable) return socket.destroy();
      const status = clientErrorStatus(error);
      const answer = render(status, STATUS_TEXT[status] ?? 'Bad Request');
      socket.end(
        `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Bad Request'}\r\n` +
          `Content-Type: ${answer.contentType}\r\nContent-Length: ${Buffer.byteLength(answer.body)}\r\n` +
          `Connection: close\r\n\r\n${answer.body}`,
      );
    },
  };
}

/**
 * What every Handoff server does for every request: the response names the request id (so a
 * user can quote it, and an operator find the log line), a 5xx is always logged — with the
 * id, the route and the stack, never the body — whichever handler produced it, and every
 * request is counted in the server's metrics (`server` names it there).
 */
export function requestBasics(app: FastifyInstance, server: string): void {
  recordRoutes(app);
  observeRequests(app, server);
  // NUL cannot be stored by PostgreSQL's text, and no real field holds one: refused everywhere,
  // on every store alike, before a handler sees it (each scope's handler writes the 400).
  app.addHook('preValidation', async (request) => {
    for (const part of [request.params, request.query, request.body])
      if (holdsNul(part)) throw new InvalidRequestError('The request contains a NUL character (\\u0000)');
  });
  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    if (reply.statusCode >= 500 && !request.errorLogged)
      request.log.error(
        { method: request.method, route: request.routeOptions.url, status: reply.statusCode },
        'answered with a server error',
      );
  });
}

/** Logs an unexpected error once, with what an operator needs and nothing of the body. */
export function logServerError(request: FastifyRequest, error: unknown, what: string): void {
  request.errorLogged = true;
  request.log.error({ err: error, method: request.method, route: request.routeOptions.url }, what);
}

/** A 4xx the caller caused, for each scope's error handler to write in its own format. */
export class InvalidRequestError extends Error {
  readonly statusCode = 400;
  constructor(message: string) {
    super(message);
    this.name = 'InvalidRequestError';
  }
}

/** Whether a request part (text, or parsed JSON of bounded depth) holds a NUL anywhere. */
function holdsNul(value: unknown): boolean {
  const stack: unknown[] = [value];
  let seen = 0;
  while (stack.length > 0) {
    const current = stack.pop();
    if (typeof current === 'string') {
      if (current.includes('\u0000')) return true;
    } else if (Buffer.isBuffer(current)) {
      if (current.includes(0)) return true;
    } else if (typeof current === 'object' && current !== null) {
      // Bodies are bounded in size and depth before this; a walk of their entries is cheap.
      if ((seen += 1) > 1_000_000) return false;
      for (const [key, child] of Object.entries(current)) {
        if (key.includes('\u0000')) return true;
        stack.push(child);
      }
    }
  }
  return false;
}
