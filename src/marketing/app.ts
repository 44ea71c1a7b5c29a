import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from 'fastify';
import { jsonBodyParser } from '../http/json-body.js';
import { MarketingError } from './domain/marketing-error.js';
import { historyRoutes } from './http/history.js';
import { legacyProspectRoutes } from './http/legacy-prospects.js';
import { legacyActivityRoutes } from './http/legacy-activities.js';
import { legacyCollectionRoutes } from './http/legacy-collections.js';
import { sendLegacyError } from './http/legacy-wire.js';
import { authenticate } from './http/request-context.js';
import { v5CustomFieldRoutes } from './http/v5-custom-fields.js';
import { v5ImportRoutes } from './http/v5-imports.js';
import { v5TagRoutes } from './http/v5-tags.js';
import { v5ExternalActivityRoutes } from './http/v5-external-activities.js';
import { v5ExportRoutes } from './http/v5-exports.js';
import { v5CollectionRoutes } from './http/v5-collections.js';
import { v5ProspectRoutes } from './http/v5-prospects.js';
import { sendV5Error } from './http/v5-wire.js';
import { isLegacyPath, renderMarketingError } from './http/framework-errors.js';
import { requestBasics, serverOptions } from '../http/server-basics.js';
import { marketingHealth } from './http/health.js';
import { hostedPageSecurityHeaders } from '../http/security-headers.js';
import type { MarketingServices } from './marketing-services.js';
import { formHandlerRoutes } from './http/form-handler-routes.js';
import { trackingRoutes } from './http/tracking-routes.js';
import { formRoutes } from './http/form-routes.js';
import { emailTrackingRoutes, v5EmailRoutes } from './http/email-routes.js';
import { marketingFaultAdminRoutes, marketingFaultInjection } from './marketing-faults.js';

/** Outside the API scopes (no route matched; a body unread): v3/v4's envelope on its paths, else v5's. */
function sendMarketingError(request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply {
  return isLegacyPath(request.url)
    ? sendLegacyError(request, reply, error)
    : sendV5Error(request, reply, error);
}

/** The Account Engagement-compatible marketing engine as a Fastify app; the CLI or a test listens. */
export function buildMarketingApp(
  services: MarketingServices,
  options: FastifyServerOptions = {},
): FastifyInstance {
  const app = Fastify({
    ...serverOptions('marketing', renderMarketingError),
    bodyLimit: 10 * 1024 * 1024,
    ...options,
  });
  requestBasics(app, 'marketing');
  marketingHealth(app, services);
  hostedPageSecurityHeaders(app);
  void app.register(formbody);
  void app.register(cookie);
  jsonBodyParser(app, () => new MarketingError(62, 'The request body is not valid JSON'));
  app.setErrorHandler((error, request, reply) => sendMarketingError(request, reply, error));
  marketingFaultInjection(app, services);
  // Run-time fault rules only where the operator turned fault injection on.
  if (services.faultInjection)
    void app.register(async (admin) => {
      marketingFaultAdminRoutes(admin, services);
    });
  app.setNotFoundHandler((request, reply) => sendMarketingError(request, reply, new MarketingError(404)));

  // Public: the tracker, and customers' own forms posting to their form handlers.
  trackingRoutes(app, services);
  formHandlerRoutes(app, services);
  formRoutes(app, services);
  emailTrackingRoutes(app, services);
  // v5 (and Handoff's own routes beside it): JSON errors `{code, message}`.
  void app.register(async (v5) => {
    authenticate(v5, services);
    v5.setErrorHandler((error, request, reply) => sendV5Error(request, reply, error));
    v5ProspectRoutes(v5, services);
    v5CustomFieldRoutes(v5, services);
    historyRoutes(v5, services);
    await v5ImportRoutes(v5, services);
    v5ExportRoutes(v5, services);
    v5TagRoutes(v5, services);
    v5ExternalActivityRoutes(v5, services);
    v5EmailRoutes(v5, services);
    // Last: its `/api/v5/objects/:collection` routes yield to the specific ones above.
    v5CollectionRoutes(v5, services);
  });
  // v3/v4: XML (or JSON with format=json) envelopes with `stat="fail"`.
  void app.register(async (legacy) => {
    authenticate(legacy, services, 'preValidation');
    legacy.setErrorHandler((error, request, reply) => sendLegacyError(request, reply, error));
    legacyProspectRoutes(legacy, services);
    legacyActivityRoutes(legacy, services);
    // Last: its `/api/:object/…` routes yield to the prospect and activity ones above.
    legacyCollectionRoutes(legacy, services);
  });
  return app;
}
