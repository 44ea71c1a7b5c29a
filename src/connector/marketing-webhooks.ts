import { z } from 'zod';
import { verifySignature } from '../http/webhook-signature.js';
import type { Database } from '../store/database.js';
import { onlyEngagement, windowEnd } from './domain/change-window.js';
import * as queue from './store/work-queue.js';

const eventSchema = z.object({
  event: z.string(),
  businessUnitId: z.string(),
  data: z
    .object({
      prospectId: z.number().int().positive(),
      actor: z.string().optional(),
      /** The prospect fields the write changed. */
      fields: z.array(z.string()).optional(),
    })
    .passthrough(),
});

/** Events that are hand-offs to sales: first in the queue. */
const HANDOFF_EVENTS = new Set(['form.success', 'prospect.assigned']);
const QUEUED_EVENTS = new Set(['form.success', 'prospect.assigned', 'prospect.created', 'prospect.updated']);

export interface WebhookAnswer {
  status: number;
  body: { accepted: boolean; message?: string };
}

/**
 * Marketing → CRM in seconds: the marketing engine's signed webhooks (form success, assignment,
 * prospect create and update) queue the prospect at once — hand-offs at the top priority — and
 * wake the connector. Polling remains the safety net for a webhook that never comes. The
 * answer comes once the item is durable, so a 2xx means it will be worked.
 */
export class MarketingWebhookReceiver {
  constructor(
    private readonly options: {
      database: Database;
      unitId: string;
      secret: string;
      now: () => Date;
      /** The activity window (ms): engagement-only changes wait for its end (domain/change-window.ts). */
      windowMs: number;
      /**
       * Told of each queued event: a hand-off, a change a person made (both worked at once), or
       * an engagement change (worked when its window ends).
       */
      onQueued: (kind: 'handoff' | 'change' | 'engagement') => void;
    },
  ) {}

  async receive(body: string, signature: string | undefined): Promise<WebhookAnswer> {
    const { database, unitId, secret, now } = this.options;
    if (!verifySignature(secret, signature, body, now()))
      return { status: 401, body: { accepted: false, message: 'bad or missing X-Handoff-Signature' } };
    let parsed;
    try {
      parsed = eventSchema.safeParse(JSON.parse(body));
    } catch {
      return { status: 400, body: { accepted: false, message: 'the body is not JSON' } };
    }
    if (!parsed.success)
      return { status: 400, body: { accepted: false, message: 'not a Handoff webhook event' } };
    const event = parsed.data;
    // Another unit's events, events the connector has no work for, and the echoes of its own
    // writes (actor `sync`): acknowledged, ignored.
    if (event.businessUnitId !== unitId || !QUEUED_EVENTS.has(event.event) || event.data.actor === 'sync')
      return { status: 202, body: { accepted: false } };
    // Hand-offs first in the queue; changes a person made at once; what activities moved by
    // themselves (score, last activity) when the activity window ends, with the Tasks.
    const kind = HANDOFF_EVENTS.has(event.event)
      ? 'handoff'
      : event.event === 'prospect.updated' && onlyEngagement(event.data.fields)
        ? 'engagement'
        : 'change';
    const at = now().getTime();
    await queue.enqueue(
      database,
      unitId,
      [
        {
          key: `prospect:${event.data.prospectId}`,
          priority: kind === 'handoff' ? queue.PRIORITY.handoff : queue.PRIORITY.change,
          payload: null,
        },
      ],
      new Date(kind === 'engagement' ? windowEnd(at, this.options.windowMs) : at).toISOString(),
    );
    this.options.onQueued(kind);
    return { status: 202, body: { accepted: true } };
  }
}
