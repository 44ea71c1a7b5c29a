import type { FastifyInstance } from 'fastify';
import type { CrmServices } from '../crm-services.js';
import { BayeuxServer, type BayeuxRequest } from '../events/bayeux-server.js';
import { bearerToken, parseApiVersion } from './request-context.js';

/**
 * `/cometd/XX.X`: the Streaming API endpoint. Messages arrive as a JSON array (or one object)
 * and are answered in one array; the session comes from `Authorization: OAuth …`, as jsforce
 * sends it.
 */
export function cometdRoutes(app: FastifyInstance, services: CrmServices, bayeux: BayeuxServer): void {
  app.addHook('preClose', async () => bayeux.close());

  app.post('/cometd/:version', async (request, reply) => {
    parseApiVersion(`v${(request.params as { version: string }).version}`);
    const body: unknown = request.body;
    const messages = (Array.isArray(body) ? body : [body]).filter(
      (m): m is BayeuxRequest => typeof m === 'object' && m !== null,
    );
    const token = bearerToken(request);
    const session = token ? await services.oauth.verify(token) : null;
    if (!session) {
      // `reconnect: none` tells faye (and jsforce's AuthFailure extension) to give up.
      return reply.send(
        messages.map((m) => ({
          channel: m.channel,
          id: m.id,
          successful: false,
          error: '401::Authentication invalid',
          advice: { reconnect: 'none' },
          ext: { sfdc: { failureReason: '401::Authentication invalid' } },
        })),
      );
    }
    // The response's `close` fires when the client hangs up before we answer.
    const gone = new Promise<void>((resolve) => reply.raw.once('close', () => resolve()));
    const replies = await bayeux.handle(session.userId, messages, gone);
    return reply.send(replies);
  });
}
