import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { faultAdminRoutes, faultInjection } from '../faults/fault-http.js';
import { faultRuleSchema, FaultInjector } from '../faults/fault-rules.js';
import { MarketingError, type MarketingErrorCode } from './domain/marketing-error.js';
import { sendLegacyError } from './http/legacy-wire.js';
import { sendV5Error } from './http/v5-wire.js';
import type { MarketingServices } from './marketing-services.js';

/** The marketing engine's own error faults, beside latency, drop and lost-answer. */
export const MARKETING_FAULT_KINDS = [
  'error-500', // 500, nothing applied
  'unavailable-503', // 503, nothing applied
  'concurrency-66', // 429 code 66, nothing applied
  'daily-limit-122', // 429 code 122, nothing applied
  'token-184', // 401 code 184, nothing applied
] as const;

export type MarketingFaultKind = (typeof MARKETING_FAULT_KINDS)[number];

export const marketingFaultRuleSchema = faultRuleSchema(MARKETING_FAULT_KINDS);

export function newMarketingFaultInjector(): FaultInjector<MarketingFaultKind> {
  return new FaultInjector<MarketingFaultKind>(marketingFaultRuleSchema);
}

const CODES: Partial<Record<MarketingFaultKind, MarketingErrorCode>> = {
  'concurrency-66': 66,
  'daily-limit-122': 122,
  'token-184': 184,
};

/** An injected failure in the format of the route's API family (v5 JSON or the v3/v4 envelope). */
function respond(kind: MarketingFaultKind, reply: FastifyReply): FastifyReply {
  const { request } = reply;
  const code = CODES[kind];
  if (code === undefined) {
    const status = kind === 'unavailable-503' ? 503 : 500;
    const message =
      status === 503
        ? 'Service temporarily unavailable (injected fault)'
        : 'An internal error occurred (injected fault)';
    if (request.url.startsWith('/api/v5/')) return reply.code(status).send({ code: status, message });
    const error = Object.assign(new Error(message), { statusCode: status });
    return sendLegacyError(request, reply.code(status), error);
  }
  const error = new MarketingError(code);
  return request.url.startsWith('/api/v5/') || request.url.startsWith('/_handoff/')
    ? sendV5Error(request, reply, error)
    : sendLegacyError(request, reply, error);
}

function unitHeader(request: FastifyRequest): string | undefined {
  const raw = request.headers['pardot-business-unit-id'];
  return (Array.isArray(raw) ? raw[0] : raw)?.trim();
}

export function marketingFaultInjection(app: FastifyInstance, services: MarketingServices): void {
  // A unit administrator's rules fault that unit's API calls only (the business unit header).
  faultInjection(app, { injector: services.faults, respond, scopeOf: unitHeader });
}

/**
 * `/_handoff/faults` on the marketing engine: for Account Engagement administrators only, each
 * for their own business unit (named by `Pardot-Business-Unit-Id`, as every API call does); the
 * rules they add fault that unit's requests, and they see and remove only those.
 */
export function marketingFaultAdminRoutes(app: FastifyInstance, services: MarketingServices): void {
  app.setErrorHandler((error, request, reply) => sendV5Error(request, reply, error));
  faultAdminRoutes(app, {
    injector: services.faults,
    async authorize(request) {
      const header = request.headers.authorization;
      const token = header ? /^Bearer\s+(.+)$/i.exec(header.trim())?.[1] : undefined;
      const session = token ? await services.tokens.verify(token) : null;
      if (!session) throw new MarketingError(184);
      const unitId = unitHeader(request);
      if (!unitId) throw new MarketingError(181);
      const unit = services.units.get(unitId);
      if (!unit || !(await services.units.isAdministrator(session.userId, unit.id))) {
        throw new MarketingError(
          201,
          'Only an Account Engagement administrator of this business unit may change its fault injection',
        );
      }
      return unit.id;
    },
    invalid: (message) => new MarketingError(62, message),
    notFound: (message) => new MarketingError(404, message),
  });
}
