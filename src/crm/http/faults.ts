import type { FastifyInstance, FastifyReply } from 'fastify';
import { HandoffError } from '../../errors/handoff-error.js';
import { faultAdminRoutes as adminRoutes, faultInjection as injection } from '../../faults/fault-http.js';
import type { CrmServices } from '../crm-services.js';
import type { CrmFaultKind } from '../faults/crm-faults.js';
import { INTERNAL_SECRET_HEADER } from './composite.js';
import { bearerToken } from './request-context.js';
import { CRM_HTTP_STATUS, restError } from './wire.js';
import { logServerError } from '../../http/server-basics.js';

function failWith(reply: FastifyReply, error: HandoffError): FastifyReply {
  return reply.code(CRM_HTTP_STATUS[error.code]).send(restError(error));
}

const ANSWERS: Record<CrmFaultKind, () => HandoffError> = {
  'error-500': () => new HandoffError('UNKNOWN_EXCEPTION', 'An unexpected error occurred (injected fault).'),
  'unavailable-503': () =>
    new HandoffError('SERVER_UNAVAILABLE', 'Server temporarily unavailable (injected fault).'),
  'request-limit': () => new HandoffError('REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.'),
  lock: () => new HandoffError('UNABLE_TO_LOCK_ROW', 'unable to obtain exclusive access to this record'),
};

/**
 * Fault injection on the CRM, answered in the REST error format. Composite subrequests are not
 * faulted on their own: the composite call is.
 */
export function faultInjection(app: FastifyInstance, services: CrmServices): void {
  injection(app, {
    injector: services.faults,
    skip: (request) => request.headers[INTERNAL_SECRET_HEADER] === services.internalSecret,
    respond: (kind, reply) => failWith(reply, ANSWERS[kind]()),
  });
}

/** `/_handoff/faults` on the CRM: the org administrator's token only. */
export function faultAdminRoutes(app: FastifyInstance, services: CrmServices): void {
  app.setErrorHandler((error, request, reply) => {
    if (error instanceof HandoffError) return failWith(reply, error);
    logServerError(request, error, 'unexpected error in fault admin request');
    return failWith(reply, new HandoffError('UNKNOWN_EXCEPTION', 'unexpected error'));
  });
  adminRoutes(app, {
    injector: services.faults,
    async authorize(request) {
      const token = bearerToken(request);
      const session = token ? await services.oauth.verify(token) : null;
      if (!session) throw new HandoffError('INVALID_SESSION_ID', 'Session expired or invalid');
      if (session.userId !== services.adminUserId()) {
        throw new HandoffError(
          'INSUFFICIENT_ACCESS',
          'Only the org administrator may change fault injection',
        );
      }
      return undefined;
    },
    invalid: (message) => new HandoffError('INVALID_INPUT', message),
    notFound: (message) => new HandoffError('NOT_FOUND', message),
  });
}
