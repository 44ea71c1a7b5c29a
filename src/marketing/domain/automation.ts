import { z } from 'zod';
import { MarketingError } from './marketing-error.js';
import type { ProspectValue } from './prospect-fields.js';

/**
 * Automation: what a rule checks on a prospect, and what it (or a form's completion actions)
 * does. Kept as JSON on the rule, form or form handler, and checked here on every write, so a
 * stored rule always runs.
 */
const comparison = z.enum([
  'equals',
  'notEquals',
  'contains',
  'isEmpty',
  'isNotEmpty',
  'greaterThan',
  'atLeast',
  'lessThan',
  'atMost',
]);

export const conditionSchema = z.discriminatedUnion('kind', [
  /** A prospect field (`score`, `grade`, `country`, `Favorite_Color__c` …) compared with a value;
   *  grades compare by rank (`atLeast` `B-`). */
  z
    .object({
      kind: z.literal('field'),
      field: z.string().min(1),
      op: comparison,
      value: z.unknown().optional(),
    })
    .strict(),
  /** The prospect has (or has not) an activity of this type, optionally on one form, handler, email. */
  z
    .object({
      kind: z.literal('activity'),
      type: z.number().int(),
      formId: z.number().int().optional(),
      formHandlerId: z.number().int().optional(),
      emailId: z.number().int().optional(),
      present: z.boolean().default(true),
    })
    .strict(),
  /** No activity for at least `days` (or, without any, since it was made): score decay rules. */
  z.object({ kind: z.literal('inactive'), days: z.number().int().min(1).max(3650) }).strict(),
  /** The prospect is (or is not) a member of the list. */
  z.object({ kind: z.literal('list'), listId: z.number().int(), member: z.boolean().default(true) }).strict(),
]);

export const actionSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('addToList'), listId: z.number().int() }).strict(),
  z.object({ kind: z.literal('removeFromList'), listId: z.number().int() }).strict(),
  z.object({ kind: z.literal('adjustScore'), points: z.number().int() }).strict(),
  /** Assignment is the hand-off to sales: the connector makes a Lead for an assigned prospect. */
  z.object({ kind: z.literal('assignUser'), userId: z.number().int() }).strict(),
  z.object({ kind: z.literal('assignRoundRobin'), userIds: z.array(z.number().int()).min(1) }).strict(),
  /** Tells a user (or any system) by webhook, signed like the engine's other webhooks. */
  z.object({ kind: z.literal('notify'), url: z.string().url() }).strict(),
  z.object({ kind: z.literal('setField'), field: z.string().min(1), value: z.unknown() }).strict(),
  z.object({ kind: z.literal('addTag'), tag: z.string().min(1).max(255) }).strict(),
]);

export type Condition = z.infer<typeof conditionSchema>;
export type Action = z.infer<typeof actionSchema>;

function parseJson<T>(schema: z.ZodType<T>, name: string, raw: ProspectValue | undefined): T[] {
  if (raw === null || raw === undefined || raw === '') return [];
  let value: unknown;
  try {
    value = JSON.parse(String(raw));
  } catch {
    throw new MarketingError(62, `Invalid value for field ${name}: not JSON`);
  }
  const parsed = z.array(schema).safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new MarketingError(
      62,
      `Invalid value for field ${name}: ${issue.path.join('.') || '(list)'}: ${issue.message}`,
    );
  }
  return parsed.data;
}

export function parseConditions(raw: ProspectValue | undefined): Condition[] {
  return parseJson(conditionSchema, 'conditions', raw);
}

export function parseActions(raw: ProspectValue | undefined, name = 'actions'): Action[] {
  return parseJson(actionSchema, name, raw);
}
