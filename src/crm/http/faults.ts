import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { HandoffError } from '../../errors/handoff-error.js';
import type { CrmServices } from '../crm-services.js';
import { faultRuleSchema, type FaultRule } from '../faults/fault-rules.js';
import { INTERNAL_SECRET_HEADER } from './composite.js';
import { bearerToken } from './request-context.js';
import { CRM_HTTP_STATUS, restError } from './wire.js';

const ADMIN_PREFIX = '/_handoff/';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set when this request's answer must be lost after it is applied. */
    loseAnswer: boolean;
  }
}

function failWith(reply: FastifyReply, error: HandoffError): FastifyReply {
  return reply.code(CRM_HTTP_STATUS[error.code]).send(restError(error));
}

async function applyFault(
  fault: FaultRule,
  request: FastifyRequest,
  reply: FastifyReply,
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
    case 'error-500':
      return failWith(
        reply,
        new HandoffError('UNKNOWN_EXCEPTION', 'An unexpected error occurred (injected fault).'),
      );
    case 'unavailable-503':
      return failWith(
        reply,
        new HandoffError('SERVER_UNAVAILABLE', 'Server temporarily unavailable (injected fault).'),
      );
    case 'request-limit':
      return failWith(reply, new HandoffError('REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.'));
    case 'lock':
      return failWith(
        reply,
        new HandoffError('UNABLE_TO_LOCK_ROW', 'unable to obtain exclusive access to this record'),
      );
  }
}

/**
 * Fault injection: rules from config or `/_handoff/faults` make matching requests fail the way
 * real orgs do, so other areas can prove they survive them. Composite subrequests are not
 * faulted on their own: the composite call is.
 */
export function faultInjection(app: FastifyInstance, services: CrmServices): void {
  app.decorateRequest('loseAnswer', false);

  app.addHook('onRequest', async (request, reply) => {
    if (!services.faults.active) return;
    const path = request.url.split('?')[0] ?? '/';
    if (path.startsWith(ADMIN_PREFIX)) return;
    if (request.headers[INTERNAL_SECRET_HEADER] === services.internalSecret) return;
    const fault = services.faults.pick(request.method, path);
    if (fault) return applyFault(fault, request, reply);
  });

  app.addHook('onSend', async (request, _reply, payload) => {
    // The request was applied; the client must not learn so.
    if (request.loseAnswer) request.raw.socket.destroy();
    return payload;
  });
}

/** `/_handoff/faults`: list, add and remove rules; the org administrator's token only. */
export function faultAdminRoutes(app: FastifyInstance, services: CrmServices): void {
  app.setErrorHandler((error, request, reply) => {
    if (error instanceof HandoffError) return failWith(reply, error);
    if (error instanceof z.ZodError) {
      return failWith(
        reply,
        new HandoffError(
          'INVALID_INPUT',
          error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
        ),
      );
    }
    request.log.error({ err: error }, 'unexpected error in fault admin request');
    return failWith(reply, new HandoffError('UNKNOWN_EXCEPTION', 'unexpected error'));
  });

  app.addHook('onRequest', async (request) => {
    const token = bearerToken(request);
    const session = token ? await services.oauth.verify(token) : null;
    if (!session) throw new HandoffError('INVALID_SESSION_ID', 'Session expired or invalid');
    if (session.userId !== services.adminUserId()) {
      throw new HandoffError('INSUFFICIENT_ACCESS', 'Only the org administrator may change fault injection');
    }
  });

  app.get('/_handoff/faults', async () => ({ faults: services.faults.list() }));

  app.post('/_handoff/faults', async (request, reply) => {
    const rule = services.faults.add(faultRuleSchema.parse(request.body));
    return reply.code(201).send(rule);
  });

  app.delete('/_handoff/faults', async (_request, reply) => {
    services.faults.clear();
    return reply.code(204).send();
  });

  app.delete('/_handoff/faults/:id', async (request, reply) => {
    const { id } = z.object({ id: z.coerce.number().int() }).parse(request.params);
    if (!services.faults.remove(id)) throw new HandoffError('NOT_FOUND', `no fault rule ${id}`);
    return reply.code(204).send();
  });
}
