import { randomBytes } from 'node:crypto';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { UnitOfWork } from '../../store/unit-of-work.js';
import type { ActivityService } from '../activity-service.js';
import { CAMPAIGNS, EMAILS, LISTS } from '../collections/collection-defs.js';
import type { CollectionRecord, CollectionService } from '../collections/collection-service.js';
import type { BusinessUnit } from '../domain/business-unit.js';
import { MarketingError } from '../domain/marketing-error.js';
import type { Prospect } from '../domain/prospect.js';
import type { ProspectService } from '../prospect-service.js';
import * as store from './email-store.js';

/** `POST /api/v5/objects/emails`: a one-to-one email (`prospectId`) or a list email (`listIds`). */
export const sendEmailSchema = z
  .object({
    campaignId: z.number().int(),
    subject: z.string().min(1).max(255),
    htmlMessage: z.string().max(1_000_000).optional(),
    textMessage: z.string().max(1_000_000).optional(),
    prospectId: z.number().int().optional(),
    listIds: z.array(z.number().int()).min(1).optional(),
    name: z.string().max(255).optional(),
    fromAddress: z.string().email().optional(),
    fromName: z.string().max(255).optional(),
    /** Operational emails (receipts, password resets) go to opted-out prospects too. */
    isOperational: z.boolean().optional(),
  })
  .strict()
  .refine((v) => (v.prospectId === undefined) !== (v.listIds === undefined), {
    message: 'give either prospectId or listIds',
  })
  .refine((v) => v.htmlMessage !== undefined || v.textMessage !== undefined, {
    message: 'give htmlMessage or textMessage',
  });
export type SendEmail = z.infer<typeof sendEmailSchema>;

const HREF = /href\s*=\s*(["'])(https?:\/\/[^"']+)\1/gi;

/** The distinct http(s) links of an HTML message, in order: what clicks may lead to. */
export function linksOf(html: string): string[] {
  const urls: string[] = [];
  for (const match of html.matchAll(HREF)) {
    const url = match[2]!.replace(/&amp;/g, '&');
    if (!urls.includes(url)) urls.push(url);
  }
  return urls;
}

interface Outgoing {
  to: string;
  token: string;
  email: CollectionRecord;
  links: string[];
  baseUrl: string;
}

/**
 * Email engagement: sends are recorded (6 Sent) with a tracking id per recipient; opens (11),
 * clicks (1, redirected only to links the email carried), unsubscribes (12) and bounces (13)
 * come back to the prospect. No mail leaves the machine unless an SMTP server is configured;
 * then each recipient's copy, with its tracked links, goes out through it after the send is
 * recorded.
 */
export class EmailService {
  private readonly transport: Transporter | null;
  private sending: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: {
      collections: CollectionService;
      prospects: ProspectService;
      activities: ActivityService;
      unitOfWork: UnitOfWork;
      now: () => Date;
      log: Logger;
      /** smtp://user:pass@host:port — none: sends are only recorded. */
      smtpUrl?: string;
      /** The From address when a send names none. */
      defaultFrom?: string;
    },
  ) {
    this.transport = deps.smtpUrl ? nodemailer.createTransport(deps.smtpUrl) : null;
  }

  /** Records the send and its recipients; mails them (when SMTP is configured) once committed. */
  async send(unit: BusinessUnit, input: SendEmail, baseUrl: string): Promise<CollectionRecord> {
    const { collections, activities, unitOfWork } = this.deps;
    const outgoing: Outgoing[] = [];
    const email = await unitOfWork.run(async (db) => {
      const campaign = await collections.read(CAMPAIGNS, unit.id, input.campaignId).catch(() => null);
      if (!campaign || campaign.isDeleted)
        throw new MarketingError(
          62,
          `Invalid value for field campaignId: no such record ${input.campaignId}`,
        );
      const recipients =
        input.prospectId !== undefined
          ? [await this.oneToOne(unit, input.prospectId, input.isOperational === true)]
          : await this.listRecipients(unit, input.listIds!, input.isOperational === true);
      const links = linksOf(input.htmlMessage ?? '');
      const record = await collections.createAsEngine(EMAILS, unit.id, {
        name: input.name ?? input.subject,
        subject: input.subject,
        campaignId: input.campaignId,
        prospectId: input.prospectId ?? null,
        listIds: input.listIds?.join(',') ?? null,
        htmlMessage: input.htmlMessage ?? null,
        textMessage: input.textMessage ?? null,
        fromName: input.fromName ?? null,
        fromAddress: input.fromAddress ?? null,
        isOperational: input.isOperational ?? false,
        recipientCount: recipients.length,
        sentAt: this.deps.now().toISOString(),
      });
      await store.insertLinks(db, record.id, links);
      const rows = recipients.map((p) => ({
        token: randomBytes(16).toString('base64url'),
        unitId: unit.id,
        emailId: record.id,
        prospectId: p.id,
      }));
      await store.insertRecipients(db, rows);
      for (const [i, p] of recipients.entries()) {
        await activities.record(unit, {
          type: 6,
          prospectId: p.id,
          emailId: record.id,
          campaignId: input.campaignId,
          details: input.subject,
        });
        outgoing.push({ to: String(p.values.email), token: rows[i]!.token, email: record, links, baseUrl });
      }
      return record;
    });
    if (this.transport && outgoing.length > 0) {
      const transport = this.transport;
      this.sending = this.sending.then(() => this.mail(transport, outgoing));
    }
    return email;
  }

  /** Waits for the mail of every send so far to be handed to the SMTP server. */
  idle(): Promise<void> {
    return this.sending;
  }

  private async oneToOne(unit: BusinessUnit, prospectId: number, operational: boolean): Promise<Prospect> {
    const prospect = await this.deps.prospects.read(unit.id, prospectId).catch(() => null);
    if (!prospect || prospect.isDeleted)
      throw new MarketingError(62, `Invalid value for field prospectId: no such record ${prospectId}`);
    const why = this.unmailable(prospect, operational);
    if (why) throw new MarketingError(62, `The prospect cannot be emailed: ${why}`);
    return prospect;
  }

  private async listRecipients(
    unit: BusinessUnit,
    listIds: number[],
    operational: boolean,
  ): Promise<Prospect[]> {
    const ids = new Set<number>();
    for (const listId of listIds) {
      const list = await this.deps.collections.read(LISTS, unit.id, listId).catch(() => null);
      if (!list || list.isDeleted)
        throw new MarketingError(62, `Invalid value for field listIds: no such list ${listId}`);
      // A prospect opted out of one list hears nothing through it.
      for (const m of await this.deps.collections.memberships(unit.id, { listId }))
        if (m.values.optedOut !== true) ids.add(Number(m.values.prospectId));
    }
    const out: Prospect[] = [];
    for (const id of [...ids].sort((a, b) => a - b)) {
      const prospect = await this.deps.prospects.read(unit.id, id).catch(() => null);
      if (prospect && !prospect.isDeleted && !this.unmailable(prospect, operational)) out.push(prospect);
    }
    return out;
  }

  /** Why the prospect must not get a (non-operational) email, or null. */
  private unmailable(prospect: Prospect, operational: boolean): string | null {
    const v = prospect.values;
    if (!v.email) return 'no email address';
    if (v.isEmailHardBounced === true) return 'its address bounced';
    if (operational) return null;
    if (v.optedOut === true) return 'opted out';
    if (v.isDoNotEmail === true) return 'do not email';
    return null;
  }

  private async mail(transport: Transporter, outgoing: Outgoing[]): Promise<void> {
    for (const message of outgoing) {
      const { email, token, links, baseUrl } = message;
      const track = `${baseUrl}/e/${token}`;
      const unsubscribe = `${track}/u`;
      const v = email.values;
      let html = typeof v.htmlMessage === 'string' ? v.htmlMessage : null;
      if (html !== null) {
        html = html.replace(HREF, (_all, quote: string, url: string) => {
          const at = links.indexOf(url.replace(/&amp;/g, '&'));
          return `href=${quote}${track}/c/${at}${quote}`;
        });
        html += `<p><a href="${unsubscribe}">Unsubscribe</a></p><img src="${track}/o.gif" width="1" height="1" alt="">`;
      }
      const text =
        typeof v.textMessage === 'string' ? `${v.textMessage}\n\nUnsubscribe: ${unsubscribe}\n` : undefined;
      const fromAddress =
        typeof v.fromAddress === 'string'
          ? v.fromAddress
          : (this.deps.defaultFrom ?? 'marketing@handoff.local');
      try {
        await transport.sendMail({
          from: typeof v.fromName === 'string' ? { name: v.fromName, address: fromAddress } : fromAddress,
          to: message.to,
          subject: String(v.subject),
          html: html ?? undefined,
          text,
          headers: {
            'List-Unsubscribe': `<${unsubscribe}>`,
            'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
          },
        });
      } catch (error) {
        this.deps.log.error(
          { err: error, emailId: email.id },
          'an email could not be handed to the SMTP server',
        );
      }
    }
  }

  // ---- engagement -----------------------------------------------------------------------------

  private async recipient(
    token: string,
  ): Promise<{ recipient: store.Recipient; email: CollectionRecord } | null> {
    if (!/^[A-Za-z0-9_-]{10,40}$/.test(token)) return null;
    const recipient = await store.selectRecipient(this.deps.unitOfWork.current(), token);
    if (!recipient) return null;
    const email = await this.deps.collections.read(EMAILS, recipient.unitId, recipient.emailId);
    return { recipient, email };
  }

  private campaignOf(email: CollectionRecord): number | null {
    return typeof email.values.campaignId === 'number' ? email.values.campaignId : null;
  }

  /** The open pixel was loaded: 11 Open. False when the token is unknown. */
  async opened(unit: (id: string) => BusinessUnit | undefined, token: string): Promise<boolean> {
    const found = await this.recipient(token);
    const owner = found && unit(found.recipient.unitId);
    if (!found || !owner) return false;
    await this.deps.activities.record(owner, {
      type: 11,
      prospectId: found.recipient.prospectId,
      emailId: found.email.id,
      campaignId: this.campaignOf(found.email),
      details: String(found.email.values.subject ?? ''),
    });
    return true;
  }

  /** A tracked link was followed: 1 Click; the URL it leads to (only ever one the email carried). */
  async clicked(
    unit: (id: string) => BusinessUnit | undefined,
    token: string,
    position: number,
  ): Promise<string | null> {
    const found = await this.recipient(token);
    const owner = found && unit(found.recipient.unitId);
    if (!found || !owner) return null;
    const url = await store.selectLink(this.deps.unitOfWork.current(), found.email.id, position);
    if (!url) return null;
    await this.deps.activities.record(owner, {
      type: 1,
      prospectId: found.recipient.prospectId,
      emailId: found.email.id,
      campaignId: this.campaignOf(found.email),
      details: url,
    });
    return url;
  }

  /** The recipient unsubscribed: opted out, with 12 Unsubscribe Page. False when the token is unknown. */
  async unsubscribed(unit: (id: string) => BusinessUnit | undefined, token: string): Promise<boolean> {
    const found = await this.recipient(token);
    const owner = found && unit(found.recipient.unitId);
    if (!found || !owner) return false;
    await this.deps.unitOfWork.run(async () => {
      const prospect = await this.deps.prospects.read(owner.id, found.recipient.prospectId);
      if (prospect.isDeleted || prospect.values.optedOut === true) return;
      await this.deps.prospects.update(owner, { type: 'system', id: 'unsubscribe' }, prospect.id, {
        optedOut: true,
      });
      await this.deps.activities.record(owner, {
        type: 12,
        prospectId: prospect.id,
        emailId: found.email.id,
        campaignId: this.campaignOf(found.email),
      });
    });
    return true;
  }

  /** A bounce the mail system reported: 13 Bounced; a hard one stops mail to the address. */
  async bounced(
    unit: BusinessUnit,
    emailId: number,
    input: { prospectId: number; type: 'hard' | 'soft'; reason?: string },
  ): Promise<void> {
    await this.deps.unitOfWork.run(async () => {
      const email = await this.deps.collections.read(EMAILS, unit.id, emailId);
      const prospect = await this.deps.prospects.read(unit.id, input.prospectId).catch(() => null);
      if (!prospect || prospect.isDeleted)
        throw new MarketingError(
          62,
          `Invalid value for field prospectId: no such record ${input.prospectId}`,
        );
      await this.deps.activities.record(unit, {
        type: 13,
        prospectId: prospect.id,
        emailId,
        campaignId: this.campaignOf(email),
        details: `${input.type} bounce${input.reason ? `: ${input.reason}` : ''}`,
      });
      if (input.type === 'hard')
        await this.deps.prospects.update(unit, { type: 'system', id: 'bounce' }, prospect.id, {
          isEmailHardBounced: true,
          emailBouncedAt: this.deps.now().toISOString(),
          emailBouncedReason: input.reason ?? 'hard bounce',
        });
    });
  }
}
