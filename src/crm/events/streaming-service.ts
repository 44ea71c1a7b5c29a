import { EventEmitter } from 'node:events';
import { soqlString } from '../../clients/salesforce/soql.js';
import type { Database } from '../../store/database.js';
import { notificationType, pushTopicOf, topicWatches, type PushTopic } from '../domain/push-topic.js';
import type { SchemaRegistry } from '../domain/schema/schema-registry.js';
import type { QueryService } from '../query-service.js';
import * as store from '../store/streaming-event-store.js';
import type { ChangeEventService } from './change-event-service.js';

/** Generic events are kept a day for replay, as Salesforce keeps them. */
export const STREAMING_RETENTION_MS = 24 * 3_600_000;
/** The API version topic notifications are shaped for (datetimes, field names). */
const NOTIFICATION_API_VERSION = '60.0';

/** A Streaming API message's data: a PushTopic notification or a generic event. */
export interface StreamingMessage {
  replayId: number;
  data: Record<string, unknown>;
}

export interface StreamingServiceDeps {
  database: Database;
  schema: SchemaRegistry;
  queries: QueryService;
  changeEvents: ChangeEventService;
  now: () => Date;
  /** How often to look for events other processes pushed (PostgreSQL scale-out). */
  pollIntervalMs?: number;
}

/**
 * The Streaming API's PushTopics and generic streaming channels. A topic's notifications are
 * read from the change events of its object (so they share their replay ids and retention):
 * each change the topic watches, of a record its query matches, becomes `{event, sobject}` with
 * the fields the query selects. Generic events pushed to a `/u/…` channel are kept a day.
 */
export class StreamingService {
  private readonly pushed = new EventEmitter();
  /** The users subscribed to a channel in this process (the CometD server tells). */
  private presence: (channel: string) => ReadonlySet<string> = () => new Set();
  private lastSeen = 0;
  private poller: NodeJS.Timeout | undefined;

  constructor(private readonly deps: StreamingServiceDeps) {
    this.pushed.setMaxListeners(0);
  }

  async start(): Promise<void> {
    this.lastSeen = await store.selectLastStreamingReplayId(this.deps.database.db);
    this.poller = setInterval(() => {
      void store
        .selectLastStreamingReplayId(this.deps.database.db)
        .then((last) => {
          if (last > this.lastSeen) this.announce(last);
        })
        .catch(() => undefined);
    }, this.deps.pollIntervalMs ?? 1_000);
    this.poller.unref();
  }

  stop(): void {
    clearInterval(this.poller);
  }

  /** The active PushTopic of that name, or null. */
  async topic(name: string): Promise<PushTopic | null> {
    const found = await this.deps.queries.query(
      `SELECT Name, Query, IsActive, NotifyForFields, NotifyForOperationCreate, NotifyForOperationUpdate, NotifyForOperationDelete, NotifyForOperationUndelete FROM PushTopic WHERE Name = ${soqlString(name)}`,
      { includeDeleted: false, pageSize: 1, userId: '', apiVersion: NOTIFICATION_API_VERSION },
    );
    const record = found.records[0] as Record<string, string | number | boolean | null> | undefined;
    if (!record || record.IsActive === false) return null;
    return pushTopicOf(this.deps.schema, record, this.deps.now());
  }

  /** The id of the StreamingChannel record of that name, or null. */
  async channelId(name: string): Promise<string | null> {
    const found = await this.deps.queries.query(
      `SELECT Id FROM StreamingChannel WHERE Name = ${soqlString(name)}`,
      { includeDeleted: false, pageSize: 1, userId: '', apiVersion: NOTIFICATION_API_VERSION },
    );
    const id = found.records[0]?.Id;
    return typeof id === 'string' ? id : null;
  }

  /**
   * The replay ids a generic channel subscription may start from. A topic's are the change
   * events' (its notifications are read from them).
   */
  async channelBounds(): Promise<{ first: number; last: number }> {
    return { first: 0, last: await store.selectLastStreamingReplayId(this.deps.database.db) };
  }

  /**
   * The topic's next notifications after `cursor`, and the cursor past what was looked at
   * (changes the topic does not notify of are passed over too).
   */
  async topicMessages(
    topic: PushTopic,
    cursor: number,
    limit: number,
  ): Promise<{ messages: StreamingMessage[]; cursor: number }> {
    const events = await this.deps.changeEvents.readAfter(cursor, [topic.object], limit);
    if (events.length === 0) return { messages: [], cursor };
    const watched = events.flatMap((event) => {
      const header = event.payload.ChangeEventHeader;
      const type = notificationType(header.changeType);
      return type && topicWatches(topic, header.changeType, header.changedFields)
        ? header.recordIds.map((id) => ({ event, id, type }))
        : [];
    });
    const matched = await this.deps.queries.matchingAmong(
      topic.query,
      [...new Set(watched.map((w) => w.id))],
      NOTIFICATION_API_VERSION,
    );
    const byId = new Map(matched.map((record) => [String(record.Id), record]));
    const messages: StreamingMessage[] = [];
    for (const { event, id, type } of watched) {
      const record = byId.get(id);
      if (!record) continue;
      const { attributes: _attributes, ...fields } = record;
      messages.push({
        replayId: event.replayId,
        data: {
          event: {
            type,
            createdDate: new Date(event.payload.ChangeEventHeader.commitTimestamp).toISOString(),
            replayId: event.replayId,
          },
          // Deleted records carry their Id only.
          sobject: type === 'deleted' ? { Id: id } : { Id: id, ...fields },
        },
      });
    }
    return { messages, cursor: events[events.length - 1]!.replayId };
  }

  /** Tells who is subscribed where, for the answers to a push. */
  setPresence(presence: (channel: string) => ReadonlySet<string>): void {
    this.presence = presence;
  }

  /**
   * Pushes events to a generic channel: each to every subscriber, or only to the users it names.
   * Answers as Salesforce does, per event: a broadcast's fan-out is -1; a targeted event's is
   * how many of its users are subscribed now, with each one's online status.
   */
  async push(
    channel: string,
    events: Array<{ payload: string; userIds: string[] }>,
  ): Promise<Array<{ fanoutCount: number; userOnlineStatus: Record<string, boolean> }>> {
    const createdMs = this.deps.now().getTime();
    await store.insertStreamingEvents(
      this.deps.database.db,
      events.map(({ payload, userIds }) => ({
        channel,
        createdMs,
        payload: JSON.stringify({ payload, userIds }),
      })),
    );
    this.announce();
    const online = this.presence(channel);
    return events.map(({ userIds }) => {
      if (userIds.length === 0) return { fanoutCount: -1, userOnlineStatus: {} };
      const status = Object.fromEntries(userIds.map((id) => [id, online.has(id)]));
      return { fanoutCount: userIds.filter((id) => online.has(id)).length, userOnlineStatus: status };
    });
  }

  /** A generic channel's events after `cursor` (those for `userId`), and the cursor past them. */
  async channelMessages(
    channel: string,
    cursor: number,
    limit: number,
    userId: string,
  ): Promise<{ messages: StreamingMessage[]; cursor: number }> {
    const events = await store.selectStreamingEventsAfter(this.deps.database.db, channel, cursor, limit);
    const messages: StreamingMessage[] = [];
    for (const e of events) {
      const { payload, userIds } = JSON.parse(e.payload) as { payload: string; userIds: string[] };
      if (userIds.length > 0 && !userIds.includes(userId)) continue;
      messages.push({
        replayId: e.replayId,
        data: { event: { createdDate: new Date(e.createdMs).toISOString(), replayId: e.replayId }, payload },
      });
    }
    return { messages, cursor: events.at(-1)?.replayId ?? cursor };
  }

  /** Calls `listener` whenever a generic event may be readable. Returns the unsubscribe function. */
  onPushed(listener: () => void): () => void {
    this.pushed.on('pushed', listener);
    return () => this.pushed.off('pushed', listener);
  }

  purgeExpired(): Promise<number> {
    return store.purgeStreamingEventsBefore(
      this.deps.database.db,
      this.deps.now().getTime() - STREAMING_RETENTION_MS,
    );
  }

  private announce(last?: number): void {
    if (last !== undefined) this.lastSeen = last;
    this.pushed.emit('pushed');
  }
}
