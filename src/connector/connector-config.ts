import { z } from 'zod';
import { activitySettingsSchema } from './domain/activity-task.js';
import {
  CONFLICT_POLICIES,
  DEFAULT_MAPPINGS,
  DIRECTIONS,
  type CrmObject,
  type FieldMapping,
} from './domain/field-mapping.js';

const mappingSchema = z
  .object({
    prospectField: z.string().min(1),
    crmField: z.string().min(1),
    direction: z.enum(DIRECTIONS).default('both'),
    conflict: z.enum(CONFLICT_POLICIES).default('crm'),
  })
  .strict();

const rulesSchema = z
  .object({
    createProspects: z.boolean(),
    createLeads: z.enum(['assigned', 'form-success', 'never']),
    followEmailChanges: z.boolean(),
    sharing: z
      .object({ field: z.string().min(1), value: z.string() })
      .strict()
      .nullable(),
    followDeletions: z.boolean(),
  })
  .strict();

/**
 * The whole sync setup as the console edits it: every mapping of both objects and the rules.
 * Saved, it replaces what handoff.config.json set, from the next pass on.
 */
export const syncSettingsSchema = z
  .object({
    mappings: z.object({ Lead: z.array(mappingSchema), Contact: z.array(mappingSchema) }).strict(),
    rules: rulesSchema.partial({ followEmailChanges: true, sharing: true, followDeletions: true }),
  })
  .strict()
  .superRefine((settings, context) => {
    // One field maps once an object: two mappings of it would fight over its value.
    for (const object of ['Lead', 'Contact'] as const) {
      const seen = { prospect: new Set<string>(), crm: new Set<string>() };
      settings.mappings[object].forEach((m, i) => {
        if (seen.prospect.has(m.prospectField))
          context.addIssue({
            code: 'custom',
            path: ['mappings', object, i, 'prospectField'],
            message: `${m.prospectField} is mapped twice on ${object}`,
          });
        if (seen.crm.has(m.crmField))
          context.addIssue({
            code: 'custom',
            path: ['mappings', object, i, 'crmField'],
            message: `${object}.${m.crmField} is mapped twice`,
          });
        seen.prospect.add(m.prospectField);
        seen.crm.add(m.crmField);
      });
    }
  });

export type SyncSettings = z.infer<typeof syncSettingsSchema>;

/** A login to Salesforce (or an Account Engagement org through it); secrets may be `enc:v1:…` or `env:NAME`. */
const loginSchema = z.discriminatedUnion('flow', [
  z
    .object({
      flow: z.literal('password'),
      loginUrl: z.string().url(),
      clientId: z.string().min(1),
      clientSecret: z.string().min(1),
      username: z.string().min(1),
      password: z.string().min(1),
    })
    .strict(),
  z
    .object({
      flow: z.literal('client_credentials'),
      loginUrl: z.string().url(),
      clientId: z.string().min(1),
      clientSecret: z.string().min(1),
    })
    .strict(),
  z
    .object({
      flow: z.literal('refresh_token'),
      loginUrl: z.string().url(),
      clientId: z.string().min(1),
      clientSecret: z.string().min(1).optional(),
      refreshToken: z.string().min(1),
    })
    .strict(),
]);

/**
 * The orgs to sync, for a connector between real Salesforce and Account Engagement orgs (or any
 * other servers): without it, `handoff sync` syncs the data dir's embedded ones.
 */
const connectionsSchema = z
  .object({
    crm: loginSchema,
    marketing: z
      .object({
        baseUrl: z.string().url(),
        businessUnitId: z.string().min(1),
        /** The login for Account Engagement; the CRM's when left out. */
        login: loginSchema.optional(),
      })
      .strict(),
  })
  .strict();

/**
 * `connector` in `handoff.config.json`: mappings that change or add to the defaults (by prospect
 * field), and the sync rules.
 */
export const connectorFileConfigSchema = z
  .object({
    mappings: z
      .object({ Lead: z.array(mappingSchema), Contact: z.array(mappingSchema) })
      .partial()
      .strict()
      .optional(),
    rules: rulesSchema.partial().strict().optional(),
    /**
     * How long a connector process holds the work it took: if it dies, another (or its restart)
     * takes that work over once this has passed. Longer than a batch of 200 takes.
     */
    leaseSeconds: z.number().int().min(1).max(3600).optional(),
    connections: connectionsSchema.optional(),
    /** The share (0–1) of the CRM org's daily API requests past which the connector waits. */
    crmApiShare: z.number().gt(0).max(1).optional(),
    /** Which marketing activities become CRM Tasks (by visitor activity type), and their subjects. */
    activities: activitySettingsSchema.partial().optional(),
    /** Subscribe to the CRM's change events (CometD) besides polling; off for orgs without them. */
    changeEvents: z.boolean().optional(),
    /** Changes arriving within this many ms go out as one batch (default 250). */
    coalesceMs: z.number().int().min(0).max(10_000).optional(),
    /**
     * With change events (CRM) or webhooks (marketing), each side is still polled this often
     * (ms, default 300,000): the safety net for an event that never comes.
     */
    safetyPollMs: z.number().int().min(1_000).max(3_600_000).optional(),
    /**
     * Without events or webhooks, the longest an idle side waits between polls (ms, default
     * 60,000): a change may take this long to cross once nothing has changed for a while.
     */
    idlePollBoundMs: z.number().int().min(1_000).max(86_400_000).optional(),
    /**
     * The business unit's daily API limit (Growth 25,000, Plus 50,000, Advanced 100,000; default
     * 25,000) and the share (0–1, default 0.2) the connector may spend; the rest is the unit's.
     */
    marketingApi: z
      .object({
        dailyLimit: z.number().int().min(1).optional(),
        share: z.number().gt(0).max(1).optional(),
      })
      .strict()
      .optional(),
    /**
     * `handoff sync` verifies every linked pair this often (hours; 24 for nightly) and keeps
     * each run for the console; with `repair`, it settles what it finds through the sync.
     */
    verify: z
      .object({
        everyHours: z
          .number()
          .gt(0)
          .max(24 * 31),
        repair: z.boolean().optional(),
      })
      .strict()
      .optional(),
    /**
     * `handoff sync` takes the marketing engine's signed webhooks on this port
     * (`POST /webhooks/marketing`); the secret (may be `env:NAME` or `enc:v1:…`) is the one
     * the engine signs with (`marketing.webhooks[].secret`).
     */
    webhooks: z
      .object({
        port: z.number().int().min(0).max(65535),
        host: z.string().optional(),
        secret: z.string().min(16),
      })
      .strict()
      .optional(),
  })
  .strict();

export type ConnectorFileConfig = z.infer<typeof connectorFileConfigSchema>;

/** The default mappings with the configured ones over them: same prospect field, replaced; new, added. */
export function mergeMappings(
  configured: ConnectorFileConfig['mappings'] | undefined,
): Record<CrmObject, FieldMapping[]> {
  const merged = {} as Record<CrmObject, FieldMapping[]>;
  for (const object of ['Lead', 'Contact'] as const) {
    const overrides = configured?.[object] ?? [];
    const replaced = new Set(overrides.map((m) => m.prospectField));
    merged[object] = [
      ...DEFAULT_MAPPINGS[object].filter((m) => !replaced.has(m.prospectField)),
      ...overrides,
    ];
  }
  return merged;
}
