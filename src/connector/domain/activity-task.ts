import type { MarketingActivity } from '../../clients/account-engagement/ae-client.js';
import { z } from 'zod';

/**
 * Which activities become CRM Tasks, by visitor activity type: email sent, open and click (a
 * click without an email is a file download), form success and error, unsubscribes and
 * bounces, webinars. Page views (2) are left out: too many, too little for sales.
 */
export const DEFAULT_TASK_TYPES = [1, 3, 4, 6, 11, 12, 13, 23, 24, 25];

/**
 * Subject templates by activity type. Placeholders: {email} (the email's subject, or its
 * campaign), {form} (the form, form handler or landing page), {campaign}, {typeName}, {details}.
 */
export const DEFAULT_SUBJECTS: Record<number, string> = {
  1: 'Email clicked: {email}',
  3: 'Form error: {form}',
  4: 'Form: {form}',
  6: 'Email: {email}',
  11: 'Email opened: {email}',
  12: 'Unsubscribed: {email}',
  13: 'Email bounced: {email}',
  23: 'Webinar invitation: {campaign}',
  24: 'Webinar attended: {campaign}',
  25: 'Webinar registration: {campaign}',
};

/** `connector.activities` in handoff.config.json. */
export const activitySettingsSchema = z
  .object({
    /** Off: no Tasks at all. */
    enabled: z.boolean().default(true),
    types: z.array(z.number().int().positive()).default(DEFAULT_TASK_TYPES),
    subjects: z.record(z.string().regex(/^\d+$/), z.string().min(1).max(255)).default({}),
    /**
     * The activity window: an activity's Task, and the score and last-activity date it moved,
     * wait for the end of the window they fall in (windows aligned to multiples of this), so a
     * stream of activities goes out as a few Composite calls a window (default 5 s).
     */
    batchMs: z.number().int().min(0).max(60_000).default(5_000),
  })
  .strict();
export type ActivitySettings = z.infer<typeof activitySettingsSchema>;

/** The external-id field of a Task made from an activity: upserts on it never make a second Task. */
export const ACTIVITY_ID_FIELD = 'Handoff_Activity_Id__c';

/** Names of the assets an activity points at, looked up by the connector. */
export interface ActivityNames {
  email?: string | null;
  form?: string | null;
  campaign?: string | null;
}

const EMAIL_TYPES = new Set([6, 11, 12, 13, 14]);

/** The Task's external id: the unit and the activity, unique in an org synced with several units. */
export function activityKey(unitId: string, activityId: number): string {
  return `${unitId}:${activityId}`;
}

/** The CRM Task for an activity, on the Lead or Contact `whoId`, owned by that record's owner. */
export function taskFor(
  activity: MarketingActivity,
  context: {
    unitId: string;
    whoId: string;
    ownerId: string | null;
    names: ActivityNames;
    settings: ActivitySettings;
  },
): Record<string, unknown> {
  const { names, settings } = context;
  const isEmail = EMAIL_TYPES.has(activity.type) || (activity.type === 1 && activity.emailId !== null);
  const typeName = activity.typeName ?? `Activity ${activity.type}`;
  const template =
    settings.subjects[String(activity.type)] ??
    (activity.type === 1 && activity.emailId === null
      ? 'File download: {details}'
      : DEFAULT_SUBJECTS[activity.type]) ??
    '{typeName}';
  const values: Record<string, string> = {
    email: names.email ?? names.campaign ?? '',
    form: names.form ?? '',
    campaign: names.campaign ?? '',
    typeName,
    details: activity.details ?? '',
  };
  const subject = template.replace(/\{(\w+)\}/g, (_all, key: string) => values[key] ?? '').trim();
  const description = [
    `${typeName}${activity.details ? `: ${activity.details}` : ''}`,
    names.campaign ? `Campaign: ${names.campaign}` : null,
    `Marketing activity ${activity.id} (${activity.createdAt})`,
  ]
    .filter(Boolean)
    .join('\n');
  return {
    [ACTIVITY_ID_FIELD]: activityKey(context.unitId, activity.id),
    Subject: subject.slice(0, 255) || typeName,
    Type: isEmail ? 'Email' : 'Other',
    Status: 'Completed',
    Priority: 'Normal',
    ActivityDate: activity.createdAt.slice(0, 10),
    Description: description,
    WhoId: context.whoId,
    ...(context.ownerId ? { OwnerId: context.ownerId } : {}),
  };
}
