import type jsforce from 'jsforce';
import { StreamingExtension } from 'jsforce/lib/api/streaming.js';
import type { Logger } from 'pino';
import { CONNECTOR_CLIENT_ID } from '../clients/salesforce/crm-connection.js';
import type { Database } from '../store/database.js';
import type { CrmObject } from './domain/field-mapping.js';
import * as store from './store/link-store.js';
import * as queue from './store/work-queue.js';

const CHANNEL = '/data/ChangeEvents';
/** Start with new events only: what happened before is the polling capture's. */
const NEW_EVENTS_ONLY = -1;
const RESUBSCRIBE_MS = 5_000;
/**
 * How long an org keeps change events (72 hours), less an hour's margin: a replay id saved
 * longer ago than that may name an event that is gone, and resuming from it would miss the rest.
 */
const RETAINED_MS = 71 * 3_600_000;

/** Events lost between a saved replay id and now: the connector queries the CRM for them. */
export interface ChangeEventGap {
  /** The replay id the stream could not resume after. */
  replayId: number;
  /** When that id's event arrived (unknown for ids saved before this was kept). */
  lastEventAt: string | null;
  detectedAt: string;
  /** Why: the org refused the id, or it is older than the retention window. */
  reason: string;
}

interface ChangeMessage {
  payload: {
    ChangeEventHeader: { entityName: string; recordIds: string[]; changeType: string; changeOrigin?: string };
  };
  event: { replayId: number };
}

type FayeClient = ReturnType<jsforce.Connection['streaming']['createClient']>;

/**
 * CRM → marketing in seconds: the connector subscribes to the org's change events over CometD
 * (jsforce streaming, with the replay extension) and queues each changed Lead or Contact at
 * once. The replay id of the last queued event is kept in the store, so a restart resumes
 * after it and misses nothing; when the org no longer has it (older than 72 hours), the stream
 * starts over with new events and the polling capture — which keeps running as the safety net,
 * from its own cursor — covers the gap. Our own writes (`changeOrigin` `client=handoff-connector`)
 * are skipped. An org without change events is simply polled.
 */
export class CrmChangeStream {
  private client: FayeClient | null = null;
  private stopped = false;
  private retry: NodeJS.Timeout | null = null;
  /** Events queue in arrival order: a replay id is saved only after the ones before it. */
  private chain: Promise<void> = Promise.resolve();
  private settle: (subscribed: boolean) => void = () => undefined;
  /** Whether the first subscription went through (false: polling only, for now). */
  readonly ready = new Promise<boolean>((resolve) => (this.settle = resolve));

  constructor(
    private readonly options: {
      database: Database;
      crm: jsforce.Connection;
      unitId: string;
      now: () => Date;
      log: Logger;
      /** Told after records are queued: the connector works them soon. */
      onQueued: () => void;
      /**
       * Told when a subscription starts with new events only: what changed before it is the
       * polling capture's, which should look now rather than at its next safety-net poll.
       */
      onFreshStart?: () => void;
      /**
       * Told when events were lost (a saved replay id past the org's retention): the window is
       * the polling capture's to reconcile by query, now.
       */
      onGap?: (gap: ChangeEventGap) => void;
    },
  ) {}

  private get cursorName(): string {
    return `${this.options.unitId}:change-events`;
  }

  private get lastEventName(): string {
    return `${this.options.unitId}:change-events-at`;
  }

  async start(): Promise<void> {
    this.stopped = false;
    const { database, now } = this.options;
    const saved = await store.selectCursor(database.db, this.cursorName);
    const replayId = saved === undefined ? NEW_EVENTS_ONLY : Number(saved);
    const lastEventAt = (await store.selectCursor(database.db, this.lastEventName)) ?? null;
    // Resuming after an event the org may no longer keep would subscribe to a stream that
    // skips what came after it: known lost, and reconciled by query instead.
    if (replayId >= 0 && lastEventAt && now().getTime() - Date.parse(lastEventAt) > RETAINED_MS) {
      await this.lost(replayId, lastEventAt, 'the saved replay id is older than the 72-hour retention');
      this.subscribe(NEW_EVENTS_ONLY);
      return;
    }
    this.subscribe(replayId);
  }

  /** Records lost events: the stream starts over with new ones, and the connector is told. */
  private async lost(replayId: number, lastEventAt: string | null, reason: string): Promise<void> {
    await this.forget();
    this.options.onGap?.({ replayId, lastEventAt, detectedAt: this.options.now().toISOString(), reason });
  }

  private subscribe(replayId: number): void {
    if (this.stopped) return;
    const { crm, log } = this.options;
    const client = crm.streaming.createClient([
      new StreamingExtension.Replay(CHANNEL, replayId),
      new StreamingExtension.AuthFailure(() => this.again(NEW_EVENTS_ONLY, 'authentication failed')),
    ]);
    this.client = client;
    const subscription = client.subscribe(CHANNEL, (message: unknown) => {
      this.chain = this.chain
        .then(() => this.receive(message as ChangeMessage))
        .catch((error: unknown) => {
          log.error({ err: error }, 'a change event could not be queued; polling will pick the record up');
        });
    }) as unknown as { then(ok: () => void, failed: (error: unknown) => void): void };
    subscription.then(
      () => {
        log.info({ replayId }, 'subscribed to CRM change events');
        this.settle(true);
        if (replayId === NEW_EVENTS_ONLY) this.options.onFreshStart?.();
      },
      (error: unknown) => {
        this.settle(false);
        // A replay id the org no longer keeps (events lost: a gap, reconciled by query), or
        // change events not enabled: start over with new events, or keep trying for an org
        // that comes back.
        const message = (error as { message?: string }).message ?? String(error);
        const gone = replayId >= 0 && /replayId/i.test(message);
        void (async () => {
          if (gone) {
            const lastEventAt =
              (await store.selectCursor(this.options.database.db, this.lastEventName)) ?? null;
            await this.lost(replayId, lastEventAt, `the org refused the saved replay id: ${message}`);
          } else await this.forget();
          this.again(NEW_EVENTS_ONLY, message);
        })();
      },
    );
  }

  private async forget(): Promise<void> {
    await store.saveCursor(this.options.database.db, this.cursorName, String(NEW_EVENTS_ONLY));
  }

  private again(replayId: number, why: string): void {
    if (this.stopped || this.retry) return;
    this.options.log.warn({ why }, 'CRM change events unavailable for now; polling goes on');
    this.disconnect();
    this.retry = setTimeout(() => {
      this.retry = null;
      // A refresh of the token where it expired: any call does it.
      void this.options.crm.limits().then(
        () => this.subscribe(replayId),
        () => this.subscribe(replayId),
      );
    }, RESUBSCRIBE_MS);
  }

  private async receive(message: ChangeMessage): Promise<void> {
    const { database, unitId, now } = this.options;
    const header = message.payload.ChangeEventHeader;
    const object = header.entityName as CrmObject;
    const ours = (header.changeOrigin ?? '').includes(`client=${CONNECTOR_CLIENT_ID}`);
    if ((object === 'Lead' || object === 'Contact') && !ours) {
      // Re-read when worked (no copy): the event carries only what changed.
      const items = header.recordIds.map((id) => ({
        key: `${object}:${id}`,
        priority: queue.PRIORITY.change,
        payload: null,
      }));
      await queue.enqueue(database, unitId, items, now().toISOString());
      if (items.length > 0) this.options.onQueued();
    }
    await store.saveCursor(database.db, this.cursorName, String(message.event.replayId));
    await store.saveCursor(database.db, this.lastEventName, now().toISOString());
  }

  private disconnect(): void {
    // faye has disconnect(); jsforce's typings leave it out.
    (this.client as unknown as { disconnect?: () => void } | null)?.disconnect?.();
    this.client = null;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.settle(false);
    if (this.retry) clearTimeout(this.retry);
    this.disconnect();
    await this.chain;
  }
}
