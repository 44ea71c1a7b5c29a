// Over 400 lines on purpose: one identify's way to a prospect (v3 email, v4 id/fid/lookup semantics, retries without duplicates) reads best as one flow.
import type { AccountEngagementClient, ProspectValues } from '../clients/account-engagement/ae-client.js';
import { AE_CODES, isAccountEngagementError } from '../clients/account-engagement/ae-error.js';
import { TrackerError, type TrackerClient } from '../clients/account-engagement/tracker-client.js';
import type { StoreDb } from '../store/database.js';
import {
  pardotInBrowser,
  pardotOptions,
  sendsToPardot,
  type SegmentMessage,
} from './domain/segment-message.js';
import { tracksVisitors, type Source } from './domain/source.js';
import { mapTraits, traitEmail } from './domain/trait-mapping.js';
import * as store from './store/ingest-store.js';

/** What became of one event. `retry` leaves it pending for a later attempt. */
export type Outcome =
  | { status: 'delivered'; result: Record<string, unknown> }
  /** `local`: decided without a remote call. */
  | { status: 'skipped'; reason: string; local?: boolean }
  | { status: 'waiting'; reason: string }
  | { status: 'failed'; error: string; code?: number | null }
  | { status: 'retry'; error: string; delayMs: number };

export interface DeliveryEvent {
  sourceId: string;
  message: SegmentMessage;
  createTriedAt: string | null;
}

export interface DestinationDeps {
  db: StoreDb;
  client: AccountEngagementClient;
  /** The business unit's tracker, for page views of sources with a tracking account id. */
  tracker: TrackerClient;
  now: () => Date;
  /** Persists "a create is being tried" before the call, so a retry knows to look first. */
  markCreateTried: (at: string) => Promise<void>;
}

const CUSTOM_FIELDS_TTL_MS = 60_000;
/** A trait that matches nothing may name a field made a moment ago: look again after this. */
const CUSTOM_FIELDS_RECHECK_MS = 1_000;
const EXTENSION = 'Handoff';
/** How far before a lost create's first try the retry looks for what it made (clock skew). */
const CREATE_LOOKBACK_MS = 5_000;

type FieldList = Array<{ name: string; fieldId: string }>;
const customFieldCache = new WeakMap<AccountEngagementClient, { at: number; fields: Promise<FieldList> }>();

function customFields(client: AccountEngagementClient, maxAgeMs = CUSTOM_FIELDS_TTL_MS): Promise<FieldList> {
  const cached = customFieldCache.get(client);
  if (cached && Date.now() - cached.at < maxAgeMs) return cached.fields;
  const fields = client.customFields();
  customFieldCache.set(client, { at: Date.now(), fields });
  fields.catch(() => customFieldCache.delete(client));
  return fields;
}

class PermanentFailure extends Error {}

const NO_CONSENT = 'the business unit may not track this visitor without consent';

/**
 * The prospect destination: what Segment's Pardot destination does with each call, with the
 * duplicate-prospect failures fixed — Handoff remembers which prospect each userId,
 * anonymousId and lookup value resolved to, so later calls (an email change included) update
 * that prospect; creates are looked for before being retried.
 */
export class ProspectDestination {
  constructor(private readonly source: Source) {}

  async deliver(event: DeliveryEvent, deps: DestinationDeps): Promise<Outcome> {
    const { message } = event;
    if (!sendsToPardot(message))
      return { status: 'skipped', reason: 'integrations turn the Pardot destination off' };
    try {
      switch (message.type) {
        case 'identify':
          return await this.identify(event, deps);
        case 'page':
          if (tracksVisitors(this.source.settings)) return await this.pageView(message, deps);
          return await this.activity(message, deps);
        case 'track':
        case 'screen':
          return await this.activity(message, deps);
        case 'alias':
          return await this.alias(message, deps);
        case 'group':
          return { status: 'skipped', reason: 'group calls do not change prospects', local: true };
      }
    } catch (error) {
      if (error instanceof PermanentFailure) return { status: 'failed', error: error.message };
      if (error instanceof TrackerError) {
        if (error.retryable) return { status: 'retry', error: error.message, delayMs: 5_000 };
        return { status: 'failed', error: error.message };
      }
      if (isAccountEngagementError(error)) {
        if (error.retryable) return { status: 'retry', error: error.message, delayMs: error.retryDelayMs };
        return { status: 'failed', error: error.message, code: error.code };
      }
      // Our own trouble (the store, a bug): keep the event and try again later.
      return { status: 'retry', error: (error as Error).message, delayMs: 5_000 };
    }
  }

  // ---- identify --------------------------------------------------------------------------------

  private async identify(event: DeliveryEvent, deps: DestinationDeps): Promise<Outcome> {
    const { message } = event;
    const { settings } = this.source;
    const traits = message.traits ?? {};
    const email = traitEmail(traits);
    const audienceNames = new Set(Object.keys(settings.audiences));
    let fields = await customFields(deps.client);
    let mapped = mapTraits(traits, fields, audienceNames);
    if (mapped.unknown.length > 0) {
      fields = await customFields(deps.client, CUSTOM_FIELDS_RECHECK_MS);
      mapped = mapTraits(traits, fields, audienceNames);
    }
    const values: ProspectValues = { ...mapped.values };

    const lookup = settings.apiVersion === 4 ? this.lookup(message, fields) : null;
    if (lookup?.value) values[lookup.field] = lookup.value;

    // Who these ids were before this call: read once, for finding the prospect and for noticing
    // an email change.
    const byUser = message.userId
      ? await store.selectIdentity(deps.db, this.source.id, 'user', message.userId)
      : undefined;
    const byAnonymous = message.anonymousId
      ? await store.selectIdentity(deps.db, this.source.id, 'anonymous', message.anonymousId)
      : undefined;
    let prospectId = await this.resolve(message, email, lookup, deps, { byUser, byAnonymous });
    let action: 'created' | 'updated' | 'upserted';
    if (prospectId !== undefined) {
      try {
        await deps.client.updateProspect(prospectId, values);
        action = 'updated';
      } catch (error) {
        // A remembered prospect deleted since: forget it and find or make the person anew.
        if (!isAccountEngagementError(error) || error.code !== AE_CODES.invalidProspectId) throw error;
        if (pardotOptions(message).id !== undefined) throw new PermanentFailure(`no prospect ${prospectId}`);
        prospectId = undefined;
      }
    }
    if (prospectId === undefined) {
      if (!email) {
        return { status: 'skipped', reason: 'no email: Account Engagement needs one to create a prospect' };
      }
      prospectId = await this.create(event, email, values, lookup, deps);
      // v3's upsert may have found the email taken: it updated that prospect instead.
      action = this.source.settings.apiVersion === 3 ? 'upserted' : 'created';
    }
    const at = deps.now().toISOString();
    const before = byUser ?? byAnonymous;
    const known = { prospectId, email: email ?? before?.email ?? null };
    const emailChanged = before !== undefined && email !== null && before.email !== email;
    await this.remember(message, known, lookup?.value ?? null, deps, at, emailChanged);

    for (const [audience, member] of Object.entries(mapped.audiences)) {
      const listId = settings.audiences[audience]!;
      if (member) await deps.client.addToList(listId, prospectId);
      else await deps.client.removeFromList(listId, prospectId);
    }
    return {
      status: 'delivered',
      result: { prospectId, action: action!, unknownTraits: mapped.unknown },
    };
  }

  /** v4's lookup field (its v5 name) and this message's value for it. */
  private lookup(
    message: SegmentMessage,
    fields: ReadonlyArray<{ name: string; fieldId: string }>,
  ): { field: string; value: string | null } | null {
    const name = this.source.settings.lookupField;
    if (!name) return null;
    const custom = fields.find((f) => f.fieldId === name || f.name === name || `${f.fieldId}__c` === name);
    if (!custom)
      throw new PermanentFailure(`the lookup field ${name} is not a custom field of the business unit`);
    const raw = this.source.settings.useUserIdAsLookup ? message.userId : message.traits?.[name];
    const value = raw === undefined || raw === null || String(raw).trim() === '' ? null : String(raw).trim();
    return { field: `${custom.fieldId}__c`, value };
  }

  /** The prospect this identify is about, if one is known or can be found. */
  private async resolve(
    message: SegmentMessage,
    email: string | null,
    lookup: { field: string; value: string | null } | null,
    deps: DestinationDeps,
    ids: { byUser?: store.Identity; byAnonymous?: store.Identity },
  ): Promise<number | undefined> {
    const { db, client } = deps;
    const sourceId = this.source.id;
    const named = pardotOptions(message);
    if (named.id !== undefined) return named.id;
    if (named.fid !== undefined) {
      const found = await client.prospectByFid(named.fid, this.source.settings.apiVersion);
      if (!found) throw new PermanentFailure(`no prospect with CRM id (fid) ${named.fid}`);
      return found.id;
    }
    if (ids.byUser) return ids.byUser.prospectId;
    if (lookup?.value) {
      const known = await store.selectIdentity(db, sourceId, 'lookup', lookup.value);
      if (known) return known.prospectId;
      if (email) {
        const candidates = await client.prospectsByEmail(email, [lookup.field]);
        const match = candidates.find((p) => String(p[lookup.field] ?? '') === lookup.value);
        if (match) return match.id;
      }
      // A lookup value no prospect has: a new person, even if the email is taken (v4).
    }
    if (ids.byAnonymous) return ids.byAnonymous.prospectId;
    // v3: email is the key, and the create below is an upsert by email: no lookup needed.
    if (email && !lookup?.value && this.source.settings.apiVersion === 4) {
      // v4 with nothing better: the latest prospect with the email, rather than Segment's v4
      // habit of a new prospect on every call.
      const [latest] = await client.prospectsByEmail(email, []);
      if (latest) return latest.id;
    }
    return undefined;
  }

  private async create(
    event: DeliveryEvent,
    email: string,
    values: ProspectValues,
    lookup: { field: string; value: string | null } | null,
    deps: DestinationDeps,
  ): Promise<number> {
    const { client } = deps;
    const withCampaign: ProspectValues = { ...values, email };
    if (this.source.settings.campaignId) withCampaign.campaignId = this.source.settings.campaignId;
    if (this.source.settings.apiVersion === 3) {
      // Email is unique: the upsert is its own create key, safe to repeat.
      return (await client.upsertLatestByEmail(email, withCampaign)).id;
    }
    if (event.createTriedAt) {
      // An earlier try may have created the prospect before its answer was lost.
      const since = new Date(Date.parse(event.createTriedAt) - CREATE_LOOKBACK_MS).toISOString();
      const made = await client.prospectsCreatedSince(email, since, lookup ? [lookup.field] : []);
      const ours = made.find((p) => !lookup?.value || String(p[lookup.field] ?? '') === lookup.value);
      if (ours) {
        await client.updateProspect(ours.id, withCampaign);
        return ours.id;
      }
    } else {
      const at = deps.now().toISOString();
      await deps.markCreateTried(at);
      event.createTriedAt = at;
    }
    return (await client.createProspect(withCampaign)).id;
  }

  /** Remembers who this was, and lets the person's parked events go. */
  private async remember(
    message: SegmentMessage,
    identity: store.Identity,
    lookupValue: string | null,
    deps: DestinationDeps,
    at: string,
    emailChanged: boolean,
  ): Promise<void> {
    const sourceId = this.source.id;
    await deps.db.transaction().execute(async (trx) => {
      if (message.userId) await store.upsertIdentity(trx, sourceId, 'user', message.userId, identity, at);
      if (message.anonymousId)
        await store.upsertIdentity(trx, sourceId, 'anonymous', message.anonymousId, identity, at);
      if (lookupValue) await store.upsertIdentity(trx, sourceId, 'lookup', lookupValue, identity, at);
      // Other ids of the person (an anonymousId, a lookup value) learn the new email.
      if (emailChanged && identity.email) {
        await store.updateIdentityEmail(trx, sourceId, identity.prospectId, identity.email, at);
      }
      await store.requeueWaiting(
        trx,
        sourceId,
        {
          userIds: message.userId ? [message.userId] : [],
          anonymousIds: [message.anonymousId, message.previousId].filter((v): v is string => !!v),
        },
        at,
      );
    });
  }

  private async known(message: SegmentMessage, db: StoreDb): Promise<store.Identity | undefined> {
    return (
      (message.userId ? await store.selectIdentity(db, this.source.id, 'user', message.userId) : undefined) ??
      (message.anonymousId
        ? await store.selectIdentity(db, this.source.id, 'anonymous', message.anonymousId)
        : undefined)
    );
  }

  // ---- track, page, screen -----------------------------------------------------------------------

  private async activity(message: SegmentMessage, deps: DestinationDeps): Promise<Outcome> {
    const identity = await this.known(message, deps.db);
    if (!identity) return { status: 'waiting', reason: 'no prospect known yet for this user' };
    const email = identity.email ?? (await this.emailOf(identity.prospectId, deps));
    if (!email) return { status: 'skipped', reason: `prospect ${identity.prospectId} has no email` };
    const type =
      message.type === 'track' ? message.event! : message.type === 'page' ? 'Page View' : 'Screen View';
    const properties = message.properties ?? {};
    const value =
      message.type === 'track'
        ? JSON.stringify(properties).slice(0, 4_000)
        : String(properties.url ?? message.name ?? properties.path ?? '');
    const activity = await deps.client.createExternalActivity({
      extension: EXTENSION,
      type,
      value,
      email,
      activityDate: message.timestamp,
    });
    return {
      status: 'delivered',
      result: { prospectId: identity.prospectId, activityId: activity.id ?? null },
    };
  }

  /**
   * A page view of a source with a tracking account id: counted by the business unit's tracker
   * as a page view of the person's visitor, in a visit, on the prospect (and its score), as if
   * the tracking script had seen it. Page views from before the person was known wait, and are
   * counted once the identify has named the prospect (with the time of delivery: the tracker
   * takes no other). The browser SDK in device mode counts its page views itself.
   */
  private async pageView(message: SegmentMessage, deps: DestinationDeps): Promise<Outcome> {
    if (pardotInBrowser(message))
      return { status: 'skipped', reason: 'counted in the browser by the tracking script', local: true };
    const identity = await this.known(message, deps.db);
    if (!identity) return { status: 'waiting', reason: 'no prospect known yet for this user' };
    const properties = message.properties ?? {};
    const url = String(properties.url ?? properties.path ?? message.name ?? '') || 'about:blank';
    const title = typeof properties.title === 'string' ? properties.title : (message.name ?? null);
    const campaignId = this.source.settings.campaignId ?? null;
    const visit = { accountId: this.source.settings.accountId!, url, campaignId };
    const visitor =
      (await store.selectVisitor(deps.db, this.source.id, identity.prospectId)) ??
      (await this.tieVisitor(identity, visit, undefined, deps));
    if (typeof visitor === 'string') return { status: 'skipped', reason: visitor };
    const counted = await deps.tracker.hit({ ...visit, title, visitor });
    if (!counted) return { status: 'skipped', reason: NO_CONSENT };
    if (counted.id !== visitor.id) {
      // The tracker no longer knew the visitor (its signature changed): it counted the view on
      // a new one, which is tied to the prospect now, the view with it.
      const tied = await this.tieVisitor(identity, visit, counted, deps);
      if (typeof tied === 'string') return { status: 'skipped', reason: tied };
    }
    return { status: 'delivered', result: { prospectId: identity.prospectId, visitorId: counted.id } };
  }

  /**
   * Ties a visitor (a new one when none is given) to the prospect by its email, without
   * counting a page view, and remembers it as the prospect's; a reason when it cannot.
   */
  private async tieVisitor(
    identity: store.Identity,
    visit: { accountId: string; url: string; campaignId: number | null },
    visitor: { id: number; sign: string } | undefined,
    deps: DestinationDeps,
  ): Promise<{ id: number; sign: string } | string> {
    const email = identity.email ?? (await this.emailOf(identity.prospectId, deps));
    if (!email) return `prospect ${identity.prospectId} has no email`;
    const tied = await deps.tracker.hit({ ...visit, email, visitor });
    if (!tied) return NO_CONSENT;
    await store.upsertVisitor(deps.db, this.source.id, identity.prospectId, tied, deps.now().toISOString());
    return tied;
  }

  private async emailOf(prospectId: number, deps: DestinationDeps): Promise<string | null> {
    const prospect = await deps.client.readProspect(prospectId, ['email']);
    return typeof prospect.email === 'string' ? prospect.email : null;
  }

  // ---- alias -------------------------------------------------------------------------------------

  private async alias(message: SegmentMessage, deps: DestinationDeps): Promise<Outcome> {
    const { db } = deps;
    const sourceId = this.source.id;
    const previousId = message.previousId!;
    const previous =
      (await store.selectIdentity(db, sourceId, 'user', previousId)) ??
      (await store.selectIdentity(db, sourceId, 'anonymous', previousId));
    const current = message.userId
      ? await store.selectIdentity(db, sourceId, 'user', message.userId)
      : undefined;
    const target = current ?? previous;
    if (!target) return { status: 'waiting', reason: 'neither id is known yet' };
    const at = deps.now().toISOString();
    await db.transaction().execute(async (trx) => {
      if (message.userId && !current)
        await store.upsertIdentity(trx, sourceId, 'user', message.userId, target, at);
      // The earlier id's later events go to the person it now belongs to.
      await store.upsertIdentity(trx, sourceId, 'anonymous', previousId, target, at);
      await store.requeueWaiting(
        trx,
        sourceId,
        { userIds: message.userId ? [message.userId] : [], anonymousIds: [previousId] },
        at,
      );
    });
    return { status: 'delivered', result: { prospectId: target.prospectId } };
  }
}
