import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { gradingProfileSchema } from '../marketing/domain/grading.js';
import { connectorFileConfigSchema } from '../connector/connector-config.js';
import { crmConfigSchema } from '../crm/crm-config.js';
import { isValidTimeZone } from '../marketing/domain/unit-time.js';
import { marketingFaultRuleSchema } from '../marketing/marketing-faults.js';
import { webhookSubscriptionSchema } from '../marketing/webhooks/webhook-service.js';
import { ConfigError } from './config-error.js';

// Where the other commands have always found it.
export { ConfigError };

const port = z.coerce.number().int().min(0).max(65535);

/** `handoff.config.json`: everything optional; flags and environment override it. */
export const fileConfigSchema = z
  .object({
    host: z.string().optional(),
    dataDir: z.string().optional(),
    /** postgres://… to keep state in PostgreSQL instead of the embedded SQLite file. */
    databaseUrl: z.string().optional(),
    ports: z
      .object({
        crm: port.optional(),
        marketing: port.optional(),
        ingest: port.optional(),
        console: port.optional(),
      })
      .strict()
      .optional(),
    crm: crmConfigSchema.partial().optional(),
    /**
     * Fault injection (`/_handoff/faults` and `crm.faults` / `marketing.faults`): off unless the
     * operator turns it on, here or with `--faults`. It lets an administrator make the servers fail.
     */
    faults: z
      .object({ enabled: z.boolean().default(false) })
      .strict()
      .optional(),
    marketing: z
      .object({
        faults: z.array(marketingFaultRuleSchema).default([]),
        /** Who hears of prospect changes, assignments and form successes, by signed webhook. */
        webhooks: z.array(webhookSubscriptionSchema).optional(),
        /** Mail goes out through this SMTP server (smtp://user:pass@host:port); none: sends are only recorded. */
        smtp: z.object({ url: z.string().url(), from: z.string().email().optional() }).strict().optional(),
        /** Where recipients and browsers reach the engine (tracked email links), if not its own URL. */
        publicUrl: z.string().url().optional(),
        /** Points per visitor activity type ("2" page view, "4" form success …) over the defaults. */
        /** The grading profile: criteria that move each prospect's grade from D, in thirds of a letter. */
        grading: gradingProfileSchema.optional(),
        scoring: z
          .record(z.string().regex(/^\d+$/, 'a visitor activity type number'), z.number().int())
          .optional(),
        /** The demo business unit's settings. */
        unit: z
          .object({
            timeZone: z.string().refine(isValidTimeZone, 'not a time zone name (e.g. America/New_York)'),
            allowMultiplePerEmail: z.boolean(),
            dailyApiLimit: z.number().int().positive(),
            /** Track nothing of a visitor until it consents (`pi_opt_in`). */
            requireTrackingConsent: z.boolean(),
            /** The sites the tracker runs on: origins or host names (`example.com`). */
            trackerDomains: z.array(z.string().min(1)),
          })
          .partial()
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
    /** The connector of `handoff demo` and `handoff sync`: mappings over the defaults, and rules. */
    connector: connectorFileConfigSchema.optional(),
    ingest: z
      .object({
        /** Events a second per source before the Tracking API answers 429 (0: no limit). */
        rateLimit: z.number().int().min(0).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export const DEFAULT_PORTS = { crm: 4010, marketing: 4020, ingest: 4030, console: 4000 } as const;

export interface ResolvedConfig {
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  ports: { crm: number; marketing: number; ingest: number; console: number };
  /** Whether fault injection is on (`faults.enabled`, `--faults`, HANDOFF_FAULTS=on). */
  faultsEnabled: boolean;
  crm: z.infer<typeof fileConfigSchema>['crm'];
  marketing: z.infer<typeof fileConfigSchema>['marketing'];
  ingest: z.infer<typeof fileConfigSchema>['ingest'];
  connector: z.infer<typeof fileConfigSchema>['connector'];
}

export interface CliFlags {
  host?: string;
  dataDir?: string;
  config?: string;
  databaseUrl?: string;
  crmPort?: string;
  marketingPort?: string;
  ingestPort?: string;
  consolePort?: string;
  faults?: boolean;
}

function formatIssues(source: string, error: z.ZodError): string {
  return error.issues
    .map((issue) => `${source}: ${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('\n');
}

function parsePort(source: string, raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const parsed = port.safeParse(raw);
  if (!parsed.success)
    throw new ConfigError(`${source}: expected a port number from 0 to 65535, got "${raw}"`);
  return parsed.data;
}

/** Flags win over environment, environment over `handoff.config.json`, and that over defaults. */
export function resolveConfig(
  flags: CliFlags,
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): ResolvedConfig {
  const configPath = resolve(cwd, flags.config ?? env.HANDOFF_CONFIG ?? 'handoff.config.json');
  let file: z.infer<typeof fileConfigSchema> = {};
  if (existsSync(configPath)) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(configPath, 'utf8'));
    } catch (error) {
      throw new ConfigError(`${configPath}: not valid JSON (${(error as Error).message})`);
    }
    const parsed = fileConfigSchema.safeParse(raw);
    if (!parsed.success) throw new ConfigError(formatIssues(configPath, parsed.error));
    file = parsed.data;
  } else if (flags.config) {
    throw new ConfigError(`${configPath}: no such file`);
  }
  const pick = (name: keyof typeof DEFAULT_PORTS, flag: string | undefined, envName: string): number =>
    parsePort(`--${name}-port`, flag) ??
    parsePort(envName, env[envName]) ??
    file.ports?.[name] ??
    DEFAULT_PORTS[name];
  return {
    host: flags.host ?? env.HANDOFF_HOST ?? file.host ?? '127.0.0.1',
    dataDir: resolve(cwd, flags.dataDir ?? env.HANDOFF_DATA_DIR ?? file.dataDir ?? '.handoff'),
    databaseUrl: flags.databaseUrl ?? env.HANDOFF_DATABASE_URL ?? file.databaseUrl,
    ports: {
      crm: pick('crm', flags.crmPort, 'HANDOFF_CRM_PORT'),
      marketing: pick('marketing', flags.marketingPort, 'HANDOFF_MARKETING_PORT'),
      ingest: pick('ingest', flags.ingestPort, 'HANDOFF_INGEST_PORT'),
      console: pick('console', flags.consolePort, 'HANDOFF_CONSOLE_PORT'),
    },
    faultsEnabled: flags.faults ?? (env.HANDOFF_FAULTS === 'on' || (file.faults?.enabled ?? false)),
    crm: file.crm,
    marketing: file.marketing,
    ingest: file.ingest,
    connector: file.connector,
  };
}
