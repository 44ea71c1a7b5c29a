import Fastify, { type FastifyInstance } from 'fastify';
import type { Connector } from './connector-services.js';

/** Where the marketing engine's webhooks reach a running connector. */
export const WEBHOOK_PATH = '/webhooks/marketing';

/**
 * The connector's one HTTP route, `POST /webhooks/marketing`: the body is kept as sent (its
 * signature covers the exact bytes) and handed to the connector, which answers 202 once the
 * prospect is queued, 401 for a bad signature.
 */
export function buildConnectorWebhookApp(connector: () => Connector | undefined): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) =>
    done(null, body),
  );
  app.post(WEBHOOK_PATH, async (request, reply) => {
    const target = connector();
    if (!target) return reply.code(503).send({ accepted: false, message: 'the connector is starting' });
    const signature = request.headers['x-handoff-signature'];
    const answer = await target.receiveWebhook(
      typeof request.body === 'string' ? request.body : '',
      typeof signature === 'string' ? signature : undefined,
    );
    return reply.code(answer.status).send(answer.body);
  });
  return app;
}
