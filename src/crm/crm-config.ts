import { z } from 'zod';
import { FIELD_TYPES, type FieldType } from './domain/schema/field-def.js';
import { CUSTOM_KEY_PREFIX, displayFormatProblem } from './domain/schema/custom-objects.js';
import { crmFaultRuleSchema } from './faults/crm-faults.js';

/** Custom fields take any field type but `id`, which only the record's own Id has. */
const CUSTOM_FIELD_TYPES = FIELD_TYPES.filter((t): t is Exclude<FieldType, 'id'> => t !== 'id');

export const customFieldSchema = z.object({
  object: z.string().min(1),
  name: z.string().regex(/^[A-Za-z][A-Za-z0-9_]*__c$/, 'custom field names look like Name__c'),
  type: z.enum(CUSTOM_FIELD_TYPES),
  label: z.string().optional(),
  length: z.number().int().min(1).max(131072).optional(),
  precision: z.number().int().min(1).max(18).optional(),
  scale: z.number().int().min(0).max(17).optional(),
  externalId: z.boolean().default(false),
  unique: z.boolean().default(false),
  required: z.boolean().default(false),
  picklistValues: z.array(z.string()).optional(),
  restrictedPicklist: z.boolean().default(false),
  referenceTo: z.array(z.string()).optional(),
  /** A reference's name on the parent's side, for subqueries: `Tickets__r`. */
  childRelationshipName: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_]*__r$/, 'child relationship names look like Tickets__r')
    .optional(),
});

/** A custom object, in the shape of Salesforce's `CustomObject` metadata; its fields are custom fields naming it. */
export const customObjectSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z][A-Za-z0-9_]*__c$/, 'custom object names look like Name__c'),
    label: z.string().min(1).optional(),
    pluralLabel: z.string().min(1).optional(),
    keyPrefix: z
      .string()
      .regex(CUSTOM_KEY_PREFIX, 'a custom key prefix is "a" and two letters or digits, such as a01')
      .optional(),
    nameField: z
      .object({
        label: z.string().min(1).default('Name'),
        type: z.enum(['Text', 'AutoNumber']).default('Text'),
        displayFormat: z.string().optional(),
      })
      .default({ label: 'Name', type: 'Text' }),
  })
  .superRefine((object, ctx) => {
    const problem =
      object.nameField.type === 'AutoNumber' ? displayFormatProblem(object.nameField.displayFormat) : null;
    if (problem) ctx.addIssue({ code: 'custom', path: ['nameField', 'displayFormat'], message: problem });
  });

export const ruleConditionSchema = z.object({
  field: z.string().min(1),
  op: z.enum([
    'equals',
    'notEquals',
    'blank',
    'notBlank',
    'contains',
    'notContains',
    'greaterThan',
    'lessThan',
  ]),
  value: z.union([z.string(), z.number(), z.boolean()]).optional(),
});

export const validationRuleSchema = z.object({
  object: z.string().min(1),
  name: z.string().min(1),
  /** The record is rejected when every condition holds (Salesforce: the formula is true). */
  when: z.array(ruleConditionSchema).min(1),
  message: z.string().min(1),
  /** The field the error is shown on, if any. */
  field: z.string().optional(),
  active: z.boolean().default(true),
});

export const duplicateRuleSchema = z.object({
  object: z.enum(['Lead', 'Contact']),
  field: z.string().default('Email'),
  action: z.enum(['block', 'allow']),
});

/** A connected app for the OAuth web-server (authorization code) flow: a web app's "Connect to Salesforce". */
export const connectedAppSchema = z.object({
  name: z.string().min(1),
  clientId: z.string().min(8),
  /** Plain, or sealed with `handoff secret encrypt` (enc:v1:…). */
  clientSecret: z.string().min(8),
  /** The exact URLs the app may have its users sent back to with a code. */
  callbackUrls: z.array(z.url({ protocol: /^https?$/ })).min(1),
});

export const crmConfigSchema = z.object({
  orgName: z.string().default('Handoff Demo'),
  /** Requests a day before 403 REQUEST_LIMIT_EXCEEDED (resets at 00:00 UTC). */
  dailyApiLimit: z.number().int().min(1).default(100_000),
  accessTokenTtlSeconds: z.number().int().min(1).default(7200),
  customObjects: z.array(customObjectSchema).default([]),
  customFields: z.array(customFieldSchema).default([]),
  validationRules: z.array(validationRuleSchema).default([]),
  duplicateRules: z.array(duplicateRuleSchema).default([]),
  connectedApps: z.array(connectedAppSchema).default([]),
  /** Round robin over active users on Lead create, unless `Sforce-Auto-Assign: FALSE`. */
  leadAssignment: z.enum(['round-robin', 'off']).default('round-robin'),
  /**
   * Where clients reach the CRM, if not the address it listens on: behind a TLS-terminating
   * proxy, `https://crm.example.com`. OAuth answers (`instance_url`, identity URLs) and the
   * credentials file give this address.
   */
  publicUrl: z
    .string()
    .url()
    .refine((url) => /^https?:\/\//.test(url), 'an http:// or https:// URL')
    .optional(),
  /**
   * Fault injection (`faults.enabled` in handoff.config.json, or `--faults`): off unless the
   * operator turns it on. Off, `/_handoff/faults` is not there and `faults` is refused.
   */
  faultInjection: z.boolean().default(false),
  /** Faults injected from the start (more can be added at run time through /_handoff/faults). */
  faults: z.array(crmFaultRuleSchema).default([]),
});

export type CrmConfig = z.infer<typeof crmConfigSchema>;
/** What may be given (defaults filled in by the schema). */
export type CrmConfigInput = z.input<typeof crmConfigSchema>;
export type CustomFieldConfig = z.infer<typeof customFieldSchema>;
export type CustomObjectConfig = z.infer<typeof customObjectSchema>;
export type ValidationRuleConfig = z.infer<typeof validationRuleSchema>;
export type RuleCondition = z.infer<typeof ruleConditionSchema>;
export type DuplicateRuleConfig = z.infer<typeof duplicateRuleSchema>;
