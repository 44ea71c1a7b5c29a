import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { HandoffError } from '../../errors/handoff-error.js';
import type { CrmServices } from '../crm-services.js';

const pushParams = z.object({ type: z.string(), id: z.string() });
const pushBody = z.object({
  pushEvents: z
    .array(
      z.object({
        payload: z.string().max(3_000, 'payload: at most 3,000 characters'),
        userIds: z.array(z.string()).default([]),
      }),
    )
    .min(1, 'pushEvents: at least one event')
    .max(1_000, 'pushEvents: at most 1,000 events'),
});

/**
 * `POST /sobjects/StreamingChannel/{id}/push`: generic streaming events for the channel's
 * subscribers, each answered with its fan-out and the online status of the users it names.
 */
export function streamingPushRoutes(app: FastifyInstance, services: CrmServices): void {
  const { records, streaming } = services;
  app.post('/sobjects/:type/:id/push', async (request) => {
    const { type, id } = pushParams.parse(request.params);
    const def = records.objectDef(type);
    if (def.name !== 'StreamingChannel')
      throw new HandoffError('NOT_FOUND', 'The requested resource does not exist');
    const [channel] = await records.retrieveMany('StreamingChannel', [id]);
    if (!channel) throw new HandoffError('NOT_FOUND', 'The requested resource does not exist');
    const parsed = pushBody.safeParse(request.body);
    if (!parsed.success)
      throw new HandoffError('JSON_PARSER_ERROR', parsed.error.issues.map((i) => i.message).join('; '));
    return streaming.push(String(channel.Name), parsed.data.pushEvents);
  });
}
