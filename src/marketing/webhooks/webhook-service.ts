import { randomUUID } from 'node:crypto';
import { signatureHeader } from '../../http/webhook-signature.js';
import type { Logger } from 'pino';
import { z } from 'zod';
import { backoffMs } from '../../store/backoff.js';
import type { Database } from '../../store/database.js';
import type { UnitOfWork } from '../../store/unit-of-work.js';
import * as store from './webhook-store.js';

export const WEBHOOK_EVENTS = [
  'prospect.created',
  'prospect.updated',
  'prospect.assigned',
  'form.success',
] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number] | 'automation.notify';

/** `marketing.webhooks` in handoff.config.json: where to tell whom about what. */
export const webhookSubscriptionSchema = z
  .object({
    url: z.string().url(),
    events: z.array(z.enum(WEBHOOK_EVENTS)).min(1),
    /** Signs each call (`X-Handoff-Signature`); the receiver checks it with the same secret. */
    secret: z.string().min(16),
  })
  .strict();
export type WebhookSubscription = z.infer<typeof webhookSubscriptionSchema>;

/** Attempts before a delivery is given up (about a day of backoff). */
const MAX_ATTEMPTS = 12;
const LEASE_MS = 30_000;
const IDLE_MS = 500;

export { webhookSignature } from '../../http/webhook-signature.js';

/**
 * Webhooks: each is written to an outbox in the transaction of the change it announces, so none
 * is lost or sent for a change that rolled back, then POSTed as JSON, signed
 * (`X-Handoff-Signature: t=<unix seconds>,v1=<hex>`), and tried again with backoff until the
 * receiver answers 2xx (or MAX_ATTEMPTS have failed).
 */
export class WebhookService {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly deps: {
      database: Database;
      unitOfWork: UnitOfWork;
      now: () => Date;
      log: Logger;
      subscriptions: WebhookSubscription[];
      /** Signs calls to URLs of automation `notify` actions. */
      notifySecret: string;
      firstRetryMs?: number;
    },
  ) {}

  /** Whether anyone listens to `event` (callers skip building payloads otherwise). */
  wants(event: WebhookEvent): boolean {
    return this.deps.subscriptions.some((s) => (s.events as readonly string[]).includes(event));
  }

  /** Queues `event` for its subscribers, inside the caller's transaction. */
  async emit(unitId: string, event: WebhookEvent, data: Record<string, unknown>): Promise<void> {
    for (const s of this.deps.subscriptions)
      if ((s.events as readonly string[]).includes(event))
        await this.enqueue(unitId, s.url, s.secret, event, data);
  }

  /** Queues one call to `url` (an automation `notify` action), inside the caller's transaction. */
  notify(unitId: string, url: string, data: Record<string, unknown>): Promise<void> {
    return this.enqueue(unitId, url, this.deps.notifySecret, 'automation.notify', data);
  }

  private async enqueue(
    unitId: string,
    url: string,
    secret: string,
    event: WebhookEvent,
    data: Record<string, unknown>,
  ): Promise<void> {
    const at = this.deps.now().toISOString();
    const payload = JSON.stringify({ id: randomUUID(), event, businessUnitId: unitId, occurredAt: at, data });
    await store.insertDelivery(this.deps.unitOfWork.current(), { unitId, url, secret, event, payload }, at);
    this.deps.unitOfWork.afterCommit(() => this.kick());
  }

  start(): void {
    this.stopped = false;
    this.kick();
  }

  /** Sends what is due now (and again whenever more is queued or falls due). */
  kick(): void {
    if (this.stopped || this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.running = this.deliverDue()
      .then(() => undefined)
      .catch((error: unknown) => this.deps.log.error({ err: error }, 'webhook delivery failed'))
      .finally(() => {
        this.running = null;
        if (!this.stopped) this.timer = setTimeout(() => this.kick(), IDLE_MS);
      });
  }

  async deliverDue(): Promise<number> {
    const db = this.deps.database.db;
    let sent = 0;
    for (;;) {
      const now = this.deps.now();
      const due = await store.claimDue(
        db,
        now.toISOString(),
        new Date(now.getTime() + LEASE_MS).toISOString(),
        20,
      );
      if (due.length === 0) return sent;
      await Promise.all(due.map((d) => this.deliver(d)));
      sent += due.length;
    }
  }

  private async deliver(delivery: store.Delivery): Promise<void> {
    const db = this.deps.database.db;
    const timestamp = String(Math.floor(this.deps.now().getTime() / 1000));
    try {
      const response = await fetch(delivery.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Handoff-Webhooks/1',
          'x-handoff-event': delivery.event,
          'x-handoff-delivery': String(delivery.id),
          'x-handoff-signature': signatureHeader(delivery.secret, timestamp, delivery.payload),
        },
        body: delivery.payload,
        signal: AbortSignal.timeout(10_000),
      });
      await response.body?.cancel();
      if (response.ok) return store.markDelivered(db, delivery.id, this.deps.now().toISOString());
      throw new Error(`HTTP ${response.status}`);
    } catch (error) {
      const attempts = delivery.attempts + 1;
      const next =
        attempts >= MAX_ATTEMPTS
          ? null
          : new Date(
              this.deps.now().getTime() + backoffMs(attempts - 1, this.deps.firstRetryMs ?? 1_000),
            ).toISOString();
      await store.markFailedAttempt(db, delivery.id, (error as Error).message, next);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
