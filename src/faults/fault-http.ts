import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { FaultInjector, FaultRule } from './fault-rules.js';

const ADMIN_PREFIX = '/_handoff/';

/**
 * The path a rule is matched against: the one the router saw (percent-decoded, repeated
 * slashes as one), so no other spelling of a path slips past a rule meant for it.
 */
export function routedPath(url: string): string {
  const raw = url.split('?')[0] ?? '/';
  let path = raw;
  try {
    path = decodeURIComponent(raw);
  } catch {
    // Not decodable: the router refuses it anyway; match it as sent.
  }
  return path.replace(/\/{2,}/g, '/');
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set when this request's answer must be lost after it is applied. */
    loseAnswer: boolean;
    /** The scope of the fault administrator making this request (undefined: the instance). */
    faultScope: string | undefined;
  }
}

export interface FaultInjectionOptions<K extends string> {
  injector: FaultInjector<K>;
  /** Requests never faulted on their own (a composite's subrequests …). */
  skip?: (request: FastifyRequest) => boolean;
  /** The request's scope (its business unit), for rules an administrator of one added. */
  scopeOf?: (request: FastifyRequest) => string | undefined;
  /** Answers a service-specific error fault in the service's own format. */
  respond: (kind: K, reply: FastifyReply) => FastifyReply;
}

/**
 * Fault injection for a service's routes: rules from config or `/_handoff/faults` make
 * matching requests fail the way the real service does — its error answers, added latency, a
 * dropped connection, or an answer lost after the request was applied.
 */
export function faultInjection<K extends string>(
  app: FastifyInstance,
  options: FaultInjectionOptions<K>,
): void {
  app.decorateRequest('loseAnswer', false);

  app.addHook('onRequest', async (request, reply) => {
    if (!options.injector.active) return;
    if (request.routeOptions.url?.startsWith(ADMIN_PREFIX) || options.skip?.(request)) return;
    const path = routedPath(request.url);
    const fault = options.injector.pick(request.method, path, options.scopeOf?.(request));
    if (fault) return applyFault(fault, request, reply, options.respond);
  });

  app.addHook('onSend', async (request, _reply, payload) => {
    // The request was applied; the client must not learn so.
    if (request.loseAnswer) request.raw.socket.destroy();
    return payload;
  });
}

async function applyFault<K extends string>(
  fault: FaultRule<K>,
  request: FastifyRequest,
  reply: FastifyReply,
  respond: (kind: K, reply: FastifyReply) => FastifyReply,
): Promise<FastifyReply | void> {
  switch (fault.fault) {
    case 'latency':
      await sleep(fault.latencyMs);
      return;
    case 'lost-answer':
      request.loseAnswer = true;
      return;
    case 'drop':
      request.raw.socket.destroy();
      return reply.hijack();
    default:
      // Deliberate: an injected 5xx is not a server error to log.
      request.errorLogged = true;
      return respond(fault.fault as K, reply);
  }
}

export interface FaultAdminOptions<K extends string> {
  injector: FaultInjector<K>;
  /**
   * Throws (in the service's error type) unless the request comes from an administrator;
   * returns the scope the administrator may fault (undefined: the whole instance).
   */
  authorize: (request: FastifyRequest) => Promise<string | undefined>;
  /** The service's answer for a bad rule or a missing one. */
  invalid: (message: string) => Error;
  notFound: (message: string) => Error;
}

/** `/_handoff/faults`: list, add and remove rules; administrators only. */
export function faultAdminRoutes<K extends string>(
  app: FastifyInstance,
  options: FaultAdminOptions<K>,
): void {
  const { injector } = options;
  app.decorateRequest('faultScope', undefined);
  app.addHook('onRequest', async (request) => {
    request.faultScope = await options.authorize(request);
  });

  app.get('/_handoff/faults', async (request) => ({ faults: injector.list(request.faultScope) }));

  app.post('/_handoff/faults', async (request, reply) => {
    const parsed = injector.schema.safeParse(request.body);
    if (!parsed.success) {
      throw options.invalid(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    }
    return reply.code(201).send(injector.add(parsed.data, request.faultScope));
  });

  app.delete('/_handoff/faults', async (request, reply) => {
    injector.clear(request.faultScope);
    return reply.code(204).send();
  });

  app.delete('/_handoff/faults/:id', async (request, reply) => {
    const parsed = z.object({ id: z.coerce.number().int() }).safeParse(request.params);
    if (!parsed.success || !injector.remove(parsed.data.id, request.faultScope)) {
      throw options.notFound(`no fault rule ${String((request.params as { id: string }).id)}`);
    }
    return reply.code(204).send();
  });
}
