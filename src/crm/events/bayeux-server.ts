import { randomBytes } from 'node:crypto';
import { ALL_CHANGE_EVENTS_CHANNEL, changeEventChannel } from '../domain/change-event.js';
import type { PushTopic } from '../domain/push-topic.js';
import type { ChangeEventService } from './change-event-service.js';
import type { StreamingService } from './streaming-service.js';

/** A Bayeux message as clients send it (only the members we read). */
export interface BayeuxRequest {
  channel?: unknown;
  id?: unknown;
  clientId?: unknown;
  subscription?: unknown;
  connectionType?: unknown;
  advice?: { timeout?: unknown } | null;
  ext?: Record<string, unknown> | null;
}

export type BayeuxReply = Record<string, unknown>;

/** What a subscription carries: change events, a PushTopic's notifications, or generic events. */
type Source =
  /** The objects it carries; null for `/data/ChangeEvents` (all of them). */
  { kind: 'changes'; entities: string[] | null } | { kind: 'topic'; topic: PushTopic } | { kind: 'generic' };

interface Subscription {
  channel: string;
  source: Source;
  /** The replay id of the last event handed to the client (or passed over). */
  cursor: number;
}

interface Session {
  id: string;
  userId: string;
  subscriptions: Map<string, Subscription>;
  lastSeen: number;
  /** Set while a `/meta/connect` is held open: wakes it to answer now. */
  wake?: () => void;
}

export interface BayeuxServerOptions {
  events: ChangeEventService;
  /** PushTopics (`/topic/…`) and generic channels (`/u/…`); without it, change events only. */
  streaming?: StreamingService;
  /** How long a `/meta/connect` is held when there is nothing to send (Salesforce: 110 s). */
  connectTimeoutMs?: number;
  /** Events per connect response at most; the rest go in the next one. */
  maxEventsPerResponse?: number;
}

const SESSION_GRACE_MS = 40_000;

function invalidReplay(replay: unknown): string {
  return `400::The replayId {${String(replay)}} you provided was invalid. Please provide a valid ID, -2 to replay all events, or -1 to replay only new events.`;
}

/**
 * Where a subscription starts for a replay id: `-1` after the newest event, `-2` before the
 * oldest kept; a saved id resumes after itself and must still be kept (or be the newest), or
 * events were lost — null then.
 */
function cursorWithin(replay: number, { first, last }: { first: number; last: number }): number | null {
  if (replay === -1) return last;
  if (replay === -2) return 0;
  return Number.isInteger(replay) && replay >= 0 && replay <= last && replay >= Math.max(first - 1, 0)
    ? replay
    : null;
}

/**
 * The Bayeux (CometD) long-polling server jsforce's streaming client (faye) talks to, serving
 * change-event channels with Salesforce's replay extension: `-1` new events only, `-2` every
 * retained event, or a replay id to resume after.
 */
export class BayeuxServer {
  private readonly sessions = new Map<string, Session>();
  private readonly channels: Map<string, string[] | null>;
  private readonly connectTimeoutMs: number;
  private readonly maxEvents: number;
  private readonly unsubscribe: Array<() => void>;
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly options: BayeuxServerOptions) {
    this.connectTimeoutMs = options.connectTimeoutMs ?? 110_000;
    this.maxEvents = options.maxEventsPerResponse ?? 500;
    this.channels = new Map<string, string[] | null>([[ALL_CHANGE_EVENTS_CHANNEL, null]]);
    for (const entity of options.events.entities()) this.channels.set(changeEventChannel(entity), [entity]);
    const wakeAll = () => {
      for (const session of this.sessions.values()) session.wake?.();
    };
    this.unsubscribe = [options.events.onCommitted(wakeAll)];
    if (options.streaming) {
      this.unsubscribe.push(options.streaming.onPushed(wakeAll));
      options.streaming.setPresence((channel) => this.subscribers(channel));
    }
    this.sweeper = setInterval(() => this.sweep(), 10_000);
    this.sweeper.unref();
  }

  /** Answers held connects (clients reconnect elsewhere) and stops listening for events. */
  close(): void {
    this.closed = true;
    for (const stop of this.unsubscribe) stop();
    clearInterval(this.sweeper);
    for (const session of this.sessions.values()) session.wake?.();
  }

  /**
   * Handles one HTTP request's messages for an authenticated user. `gone` resolves when the
   * client hangs up, so a held connect stops waiting (and hands out nothing).
   */
  async handle(userId: string, messages: BayeuxRequest[], gone: Promise<void>): Promise<BayeuxReply[]> {
    const replies: BayeuxReply[] = [];
    for (const message of messages) {
      const channel = typeof message.channel === 'string' ? message.channel : '';
      const base: BayeuxReply = { channel };
      if (message.id !== undefined) base.id = message.id;
      if (channel === '/meta/handshake') {
        replies.push(this.handshake(userId, base));
        continue;
      }
      const session = typeof message.clientId === 'string' ? this.sessions.get(message.clientId) : undefined;
      if (!session || session.userId !== userId) {
        replies.push({
          ...base,
          successful: false,
          error: '403::Unknown client',
          advice: { reconnect: 'handshake', interval: 0 },
        });
        continue;
      }
      base.clientId = session.id;
      session.lastSeen = Date.now();
      switch (channel) {
        case '/meta/connect':
          replies.push(...(await this.connect(session, message, base, gone)));
          break;
        case '/meta/subscribe':
          replies.push(await this.subscribe(session, message, base));
          break;
        case '/meta/unsubscribe': {
          const name = typeof message.subscription === 'string' ? message.subscription : '';
          const known = session.subscriptions.delete(name);
          replies.push(
            known
              ? { ...base, subscription: name, successful: true }
              : {
                  ...base,
                  subscription: name,
                  successful: false,
                  error: `404:${name}:Subscription not found`,
                },
          );
          break;
        }
        case '/meta/disconnect':
          this.sessions.delete(session.id);
          session.wake?.();
          replies.push({ ...base, successful: true });
          break;
        default:
          replies.push({ ...base, successful: false, error: `403:${channel}:Publish denied` });
      }
    }
    return replies;
  }

  private handshake(userId: string, base: BayeuxReply): BayeuxReply {
    const id = randomBytes(18).toString('base64url');
    this.sessions.set(id, { id, userId, subscriptions: new Map(), lastSeen: Date.now() });
    return {
      ...base,
      version: '1.0',
      minimumVersion: '1.0',
      clientId: id,
      supportedConnectionTypes: ['long-polling'],
      successful: true,
      advice: { reconnect: 'retry', interval: 0, timeout: this.connectTimeoutMs },
      ext: { replay: true, 'payload.format': true },
    };
  }

  private async subscribe(session: Session, message: BayeuxRequest, base: BayeuxReply): Promise<BayeuxReply> {
    const name = typeof message.subscription === 'string' ? message.subscription : '';
    const reply = { ...base, subscription: name };
    const source = await this.sourceOf(name);
    if (!source) {
      return {
        ...reply,
        successful: false,
        error: `400::The channel you requested to subscribe to does not exist {${name}}`,
      };
    }
    const replayMap = message.ext?.replay;
    const requested =
      replayMap && typeof replayMap === 'object' ? (replayMap as Record<string, unknown>)[name] : undefined;
    const replay = requested === undefined || requested === null ? -1 : Number(requested);
    const cursor = await this.cursorFor(source, replay);
    if (cursor === null) return { ...reply, successful: false, error: invalidReplay(requested) };
    session.subscriptions.set(name, { channel: name, source, cursor });
    // A held connect may now have events to carry (replay -2 or an old id).
    session.wake?.();
    return { ...reply, successful: true };
  }

  private async connect(
    session: Session,
    message: BayeuxRequest,
    base: BayeuxReply,
    gone: Promise<void>,
  ): Promise<BayeuxReply[]> {
    // A client keeps one connect open: a new one answers the old.
    session.wake?.();
    const advice = { reconnect: 'retry', interval: 0, timeout: this.connectTimeoutMs };
    const reply = { ...base, successful: true, advice };
    const immediate = message.advice?.timeout === 0;
    let events = await this.collect(session);
    if (events.length > 0 || immediate || this.closed) return [...events, reply];

    // A client that hangs up stops the wait once; nothing is handed to it.
    let hungUp = false;
    void gone.then(() => {
      hungUp = true;
      session.wake?.();
    });
    const deadline = Date.now() + this.connectTimeoutMs;
    while (!this.closed && !hungUp && this.sessions.has(session.id) && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        session.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      session.wake = undefined;
      if (hungUp) return [];
      events = await this.collect(session);
      if (events.length > 0) break;
    }
    if (!this.sessions.has(session.id)) {
      return [
        { ...base, successful: false, error: '403::Unknown client', advice: { reconnect: 'handshake' } },
      ];
    }
    session.lastSeen = Date.now();
    return [...events, reply];
  }

  /** The users with a live session subscribed to a channel. */
  private subscribers(channel: string): Set<string> {
    const users = new Set<string>();
    for (const session of this.sessions.values())
      if (session.subscriptions.has(channel)) users.add(session.userId);
    return users;
  }

  /** What a channel carries, or null for a channel that does not exist. */
  private async sourceOf(name: string): Promise<Source | null> {
    const entities = this.channels.get(name);
    if (entities !== undefined) return { kind: 'changes', entities };
    const { streaming } = this.options;
    if (!streaming) return null;
    if (name.startsWith('/topic/')) {
      const topic = await streaming.topic(name.slice('/topic/'.length));
      return topic ? { kind: 'topic', topic } : null;
    }
    if (name.startsWith('/u/')) return (await streaming.channelId(name)) ? { kind: 'generic' } : null;
    return null;
  }

  /** Where a subscription starts for a replay id, within its channel's kept replay ids. */
  private async cursorFor(source: Source, replay: number): Promise<number | null> {
    const { streaming } = this.options;
    // A topic's notifications are read from the change events, so they share their replay ids.
    const bounds =
      source.kind === 'generic' && streaming
        ? await streaming.channelBounds()
        : await this.options.events.bounds();
    return cursorWithin(replay, bounds);
  }

  /** The next events of each subscription, moving its cursor past them. */
  private async collect(session: Session): Promise<BayeuxReply[]> {
    const out: BayeuxReply[] = [];
    const { streaming } = this.options;
    for (const sub of session.subscriptions.values()) {
      const room = this.maxEvents - out.length;
      if (room <= 0) break;
      if (sub.source.kind !== 'changes') {
        if (!streaming) continue;
        const { messages, cursor } =
          sub.source.kind === 'topic'
            ? await streaming.topicMessages(sub.source.topic, sub.cursor, room)
            : await streaming.channelMessages(sub.channel, sub.cursor, room, session.userId);
        for (const m of messages) out.push({ channel: sub.channel, data: m.data });
        sub.cursor = cursor;
        continue;
      }
      const events = await this.options.events.readAfter(sub.cursor, sub.source.entities, room);
      for (const event of events) {
        out.push({
          channel: sub.channel,
          data: {
            schema: this.options.events.schemaId(event.entity),
            payload: event.payload,
            event: { replayId: event.replayId },
          },
        });
        sub.cursor = event.replayId;
      }
    }
    return out;
  }

  private sweep(): void {
    const cutoff = Date.now() - this.connectTimeoutMs - SESSION_GRACE_MS;
    for (const session of this.sessions.values()) {
      if (!session.wake && session.lastSeen < cutoff) this.sessions.delete(session.id);
    }
  }
}
