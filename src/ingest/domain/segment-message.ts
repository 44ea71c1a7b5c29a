import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { MAX_JSON_DEPTH, valueDepth } from '../../http/json-body.js';

/** Segment's limits (API-FACTS.md): 32 KB an event, 500 KB a request, 2,500 events a batch. */
export const MAX_EVENT_BYTES = 32 * 1024;
export const MAX_REQUEST_BYTES = 500 * 1024;
export const MAX_BATCH_EVENTS = 2_500;

export const MESSAGE_TYPES = ['identify', 'track', 'page', 'screen', 'group', 'alias'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

const id = z.union([z.string(), z.number()]).transform(String);
const object = z.record(z.string(), z.unknown());
const isoDate = z.union([z.string(), z.number()]).refine((v) => !Number.isNaN(new Date(v).getTime()), {
  message: 'is not a date',
});

const common = {
  userId: id.nullish(),
  anonymousId: id.nullish(),
  messageId: z.string().max(100).nullish(),
  timestamp: isoDate.nullish(),
  // RudderStack's name for the client's event time.
  originalTimestamp: isoDate.nullish(),
  sentAt: isoDate.nullish(),
  context: object.nullish(),
  integrations: object.nullish(),
  writeKey: z.string().optional(),
};

const messageSchemas = {
  identify: z.looseObject({ ...common, traits: object.nullish() }),
  track: z.looseObject({
    ...common,
    event: z.string().min(1, 'must not be empty'),
    properties: object.nullish(),
  }),
  page: z.looseObject({
    ...common,
    name: z.string().nullish(),
    category: z.string().nullish(),
    properties: object.nullish(),
  }),
  screen: z.looseObject({ ...common, name: z.string().nullish(), properties: object.nullish() }),
  group: z.looseObject({ ...common, groupId: id, traits: object.nullish() }),
  alias: z.looseObject({ ...common, previousId: id }),
} as const;

/** An accepted message as Handoff keeps it: typed, with server-side times and a message id. */
export interface SegmentMessage {
  type: MessageType;
  messageId: string;
  userId: string | null;
  anonymousId: string | null;
  /** When it happened, corrected for the sender's clock (ISO). */
  timestamp: string;
  receivedAt: string;
  traits?: Record<string, unknown>;
  event?: string;
  name?: string | null;
  properties?: Record<string, unknown>;
  groupId?: string;
  previousId?: string;
  context?: Record<string, unknown>;
  integrations?: Record<string, unknown>;
  /**
   * The destinations the sender ran in the browser (analytics.js's `_metadata.bundled`): a
   * destination listed here has had the event already and is not sent it again.
   */
  bundled?: string[];
}

/** The largest time a JavaScript Date holds (±100,000,000 days from 1970). */
const MAX_TIME_MS = 8.64e15;

export class InvalidMessage extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidMessage';
  }
}

function describe(error: z.ZodError, where: string): string {
  const issue = error.issues[0]!;
  const path = issue.path.join('.');
  return `${where}${path ? `.${path}` : ''} ${issue.message}`;
}

/**
 * Checks one raw message and brings it to Handoff's form. `sentAt` corrects the sender's clock:
 * timestamp = receivedAt − (sentAt − timestamp), as Segment does.
 */
export function readMessage(
  raw: unknown,
  type: MessageType,
  receivedAt: Date,
  defaults: {
    sentAt?: unknown;
    context?: Record<string, unknown>;
    integrations?: Record<string, unknown>;
  } = {},
  where = 'message',
): SegmentMessage {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new InvalidMessage(`${where} must be an object`);
  // Never deliverable, so refused now (400), not accepted and retried for ever.
  if (valueDepth(raw) > MAX_JSON_DEPTH)
    throw new InvalidMessage(`${where} nests deeper than ${MAX_JSON_DEPTH} levels`);
  if (Buffer.byteLength(JSON.stringify(raw)) > MAX_EVENT_BYTES) {
    throw new InvalidMessage(`${where} is larger than ${MAX_EVENT_BYTES / 1024} KB`);
  }
  const parsed = messageSchemas[type].safeParse(raw);
  if (!parsed.success) throw new InvalidMessage(describe(parsed.error, where));
  const m = parsed.data as z.infer<(typeof messageSchemas)['track']> & Record<string, unknown>;
  // RudderStack's browser SDK sends `userId: ""` for a visitor not yet identified.
  const userId = m.userId || null;
  const anonymousId = m.anonymousId || null;
  if (!userId && !anonymousId) throw new InvalidMessage(`${where} needs a userId or an anonymousId`);

  const sentAt = m.sentAt ?? (defaults.sentAt as string | number | undefined);
  let at = receivedAt.getTime();
  const clientTime = m.timestamp ?? m.originalTimestamp;
  if (clientTime !== undefined && clientTime !== null) {
    const timestamp = new Date(clientTime).getTime();
    at =
      sentAt !== undefined && sentAt !== null && !Number.isNaN(new Date(sentAt).getTime())
        ? receivedAt.getTime() - (new Date(sentAt).getTime() - timestamp)
        : timestamp;
  }
  if (!Number.isFinite(at) || Math.abs(at) > MAX_TIME_MS)
    throw new InvalidMessage(`${where}.timestamp is not a date that can be stored`);
  const message: SegmentMessage = {
    type,
    messageId: m.messageId ?? `handoff-${randomUUID()}`,
    userId,
    anonymousId,
    timestamp: new Date(at).toISOString(),
    receivedAt: receivedAt.toISOString(),
  };
  const context = { ...defaults.context, ...(m.context ?? {}) };
  if (Object.keys(context).length > 0) message.context = context;
  const integrations = { ...defaults.integrations, ...(m.integrations ?? {}) };
  if (Object.keys(integrations).length > 0) message.integrations = integrations;
  if (type === 'identify') {
    // RudderStack's browser SDK carries an identify's traits in `context.traits` only; Segment's
    // SDKs put them at the top, which wins where both name a trait.
    const contextTraits = (m.context as { traits?: unknown } | null | undefined)?.traits;
    message.traits = {
      ...(typeof contextTraits === 'object' && contextTraits !== null && !Array.isArray(contextTraits)
        ? (contextTraits as Record<string, unknown>)
        : {}),
      ...((m.traits as Record<string, unknown> | null) ?? {}),
    };
  }
  const bundled = (m._metadata as { bundled?: unknown } | null | undefined)?.bundled;
  if (Array.isArray(bundled)) {
    const names = bundled.filter((name): name is string => typeof name === 'string' && name.length <= 100);
    if (names.length > 0) message.bundled = names.slice(0, 100);
  }
  if (type === 'group') message.traits = (m.traits as Record<string, unknown> | null) ?? {};
  if (type === 'track') message.event = m.event;
  if (type === 'track' || type === 'page' || type === 'screen')
    message.properties = (m.properties as Record<string, unknown> | null) ?? {};
  if (type === 'page' || type === 'screen') message.name = (m.name as string | null | undefined) ?? null;
  if (type === 'group') message.groupId = m.groupId as string;
  if (type === 'alias') message.previousId = m.previousId as string;
  return message;
}

const batchSchema = z.looseObject({
  batch: z.array(z.unknown()).max(MAX_BATCH_EVENTS, `has more than ${MAX_BATCH_EVENTS} events`),
  context: object.nullish(),
  integrations: object.nullish(),
  sentAt: isoDate.nullish(),
  writeKey: z.string().optional(),
});

/** A `/v1/batch` body: every item checked; one bad item refuses the whole request. */
export function readBatch(raw: unknown, receivedAt: Date): SegmentMessage[] {
  // A batch's events sit two levels down: each may nest as deeply as a single call's.
  if (valueDepth(raw, MAX_JSON_DEPTH + 3) > MAX_JSON_DEPTH + 2)
    throw new InvalidMessage(`batch nests deeper than ${MAX_JSON_DEPTH} levels`);
  const parsed = batchSchema.safeParse(raw);
  if (!parsed.success) throw new InvalidMessage(describe(parsed.error, 'batch'));
  const { batch, context, integrations, sentAt } = parsed.data;
  return batch.map((item, i) => {
    const type = (item as { type?: unknown } | null)?.type;
    if (typeof type !== 'string' || !(MESSAGE_TYPES as readonly string[]).includes(type)) {
      throw new InvalidMessage(`batch.${i}.type must be one of ${MESSAGE_TYPES.join(', ')}`);
    }
    return readMessage(
      item,
      type as MessageType,
      receivedAt,
      { sentAt, context: context ?? undefined, integrations: integrations ?? undefined },
      `batch.${i}`,
    );
  });
}

/** Whether the Pardot destination should see a message (`integrations` semantics). */
export function sendsToPardot(message: SegmentMessage): boolean {
  const integrations = message.integrations ?? {};
  const named = integrations.Pardot;
  if (named === false) return false;
  if (named !== undefined && named !== null) return true;
  return integrations.All !== false;
}

/** Whether the sender ran the Pardot destination in the browser for this event (device mode). */
export function pardotInBrowser(message: SegmentMessage): boolean {
  return message.bundled?.includes('Pardot') ?? false;
}

/** `integrations.Pardot.{id, fid}`: a prospect the caller names directly. */
export function pardotOptions(message: SegmentMessage): { id?: number; fid?: string } {
  const named = message.integrations?.Pardot;
  if (typeof named !== 'object' || named === null) return {};
  const { id, fid } = named as { id?: unknown; fid?: unknown };
  const out: { id?: number; fid?: string } = {};
  if ((typeof id === 'string' || typeof id === 'number') && /^\d+$/.test(String(id))) out.id = Number(id);
  if (typeof fid === 'string' && fid !== '') out.fid = fid;
  return out;
}
