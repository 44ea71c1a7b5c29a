import { createHash, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Database } from '../../store/database.js';
import type { UnitOfWork } from '../../store/unit-of-work.js';
import { changeOriginText, type CallContext } from '../domain/call-context.js';
import {
  CHANGE_EVENT_ENTITIES,
  changeEventBody,
  type ChangeEventHeader,
  type ChangeEventPayload,
  type RecordChange,
} from '../domain/change-event.js';
import * as store from '../store/change-event-store.js';

/** A retained change event as subscribers get it. */
export interface ChangeEvent {
  replayId: number;
  entity: string;
  payload: ChangeEventPayload;
}

/** Records the service's own writes; the record service depends only on this. */
export interface ChangeRecorder {
  record(ctx: CallContext, changes: RecordChange[]): Promise<void>;
}

export interface ChangeEventServiceDeps {
  database: Database;
  unitOfWork: UnitOfWork;
  now: () => Date;
  /** How often to look for events other processes committed (PostgreSQL scale-out). */
  pollIntervalMs?: number;
}

export const RETENTION_MS = 72 * 3_600_000;

interface TransactionEvents {
  key: string;
  sequence: number;
  commitMs: number;
  commitNumber: number;
}

const TRANSACTION = Symbol('change-event transaction');

/**
 * Change Data Capture: every change to a published object becomes an event in the writer's
 * transaction (so an event exists exactly when its change committed), numbered by replay id and
 * kept 72 hours. Subscribers hear of new events at once from this process's commits, and within
 * a poll interval from other processes sharing the database.
 */
export class ChangeEventService implements ChangeRecorder {
  private readonly published = new Set(CHANGE_EVENT_ENTITIES);
  private readonly schemaIds = new Map<string, string>();
  private readonly committed = new EventEmitter();
  private commitCounter = 0;
  private lastSeen = 0;
  private poller: NodeJS.Timeout | undefined;

  constructor(private readonly deps: ChangeEventServiceDeps) {
    this.committed.setMaxListeners(0);
  }

  async start(): Promise<void> {
    this.lastSeen = (await this.bounds()).last;
    const interval = this.deps.pollIntervalMs ?? 1_000;
    this.poller = setInterval(() => {
      void this.bounds()
        .then(({ last }) => {
          if (last > this.lastSeen) this.announce(last);
        })
        .catch(() => undefined);
    }, interval);
    this.poller.unref();
  }

  stop(): void {
    clearInterval(this.poller);
  }

  /** The objects whose changes are published. */
  entities(): string[] {
    return [...this.published];
  }

  /** The id of an entity's event schema, as CometD messages carry it (stable for the server's life). */
  schemaId(entity: string): string {
    let id = this.schemaIds.get(entity);
    if (!id) {
      id = createHash('sha256').update(`handoff-cdc:${entity}`).digest('base64url').slice(0, 22);
      this.schemaIds.set(entity, id);
    }
    return id;
  }

  async record(ctx: CallContext, changes: RecordChange[]): Promise<void> {
    const published = changes.filter((c) => this.published.has(c.def.name));
    if (published.length === 0) return;
    const { unitOfWork, now } = this.deps;
    const transaction = unitOfWork.transactionState<TransactionEvents>(TRANSACTION, () => {
      const commitMs = now().getTime();
      this.commitCounter = (this.commitCounter + 1) % 1000;
      // Every event of a transaction shares its key and commit stamp, as Salesforce's do.
      unitOfWork.afterCommit(() => this.announce());
      return { key: randomUUID(), sequence: 0, commitMs, commitNumber: commitMs * 1000 + this.commitCounter };
    });
    if (!transaction) throw new Error('change events are recorded inside the writing transaction');
    const origin = changeOriginText(ctx.origin);
    const events = published.map((change) => {
      const { body, changedFields, nulledFields } = changeEventBody(change);
      transaction.sequence += 1;
      const header: ChangeEventHeader = {
        entityName: change.def.name,
        recordIds: [change.recordId],
        changeType: change.changeType,
        changeOrigin: origin,
        transactionKey: transaction.key,
        sequenceNumber: transaction.sequence,
        commitTimestamp: transaction.commitMs,
        commitNumber: transaction.commitNumber,
        commitUser: ctx.userId,
        changedFields,
        nulledFields,
        diffFields: [],
      };
      return {
        entity: change.def.name,
        commitMs: transaction.commitMs,
        payload: JSON.stringify({ ChangeEventHeader: header, ...body }),
      };
    });
    await store.insertChangeEvents(unitOfWork.current(), this.deps.database.dialect, events);
  }

  /** Retained events after `replayId`, oldest first; `entities` null means every object. */
  async readAfter(
    replayId: number,
    entities: readonly string[] | null,
    limit: number,
  ): Promise<ChangeEvent[]> {
    const rows = await store.selectChangeEventsAfter(this.deps.database.db, replayId, entities, limit);
    return rows.map((r) => ({
      replayId: r.replayId,
      entity: r.entity,
      payload: JSON.parse(r.payload) as ChangeEventPayload,
    }));
  }

  bounds(): Promise<{ first: number; last: number }> {
    return store.selectReplayBounds(this.deps.database.db);
  }

  /** Calls `listener` whenever new events may be readable. Returns the unsubscribe function. */
  onCommitted(listener: () => void): () => void {
    this.committed.on('committed', listener);
    return () => this.committed.off('committed', listener);
  }

  /** Drops events older than the 72-hour retention. */
  purgeExpired(): Promise<number> {
    const cutoff = this.deps.now().getTime() - RETENTION_MS;
    return store.purgeChangeEventsBefore(this.deps.database.db, cutoff);
  }

  private announce(last?: number): void {
    if (last !== undefined) this.lastSeen = last;
    this.committed.emit('committed');
  }
}
