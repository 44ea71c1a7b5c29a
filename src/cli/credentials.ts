import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writePrivateFile } from '../store/private-files.js';

const crmCredentialsSchema = z.object({
  loginUrl: z.string(),
  instanceUrl: z.string(),
  clientId: z.string(),
  clientSecret: z.string(),
  username: z.string(),
  password: z.string(),
});

const marketingCredentialsSchema = z.object({
  baseUrl: z.string(),
  businessUnitId: z.string(),
});

const ingestCredentialsSchema = z.object({
  url: z.string(),
  /** The demo source's write key (Basic auth user name for the Tracking API). */
  writeKey: z.string(),
});

const consoleCredentialsSchema = z.object({
  /** 32 bytes (base64) sealing the console's session cookies: sessions outlive a restart. */
  sessionKey: z.string(),
  /** Where the console answers, beside the other servers' URLs. */
  url: z.string().optional(),
});

/** `<data-dir>/credentials.json`; each area adds its own section, unknown sections are kept. */
const credentialsSchema = z.looseObject({
  crm: crmCredentialsSchema,
  marketing: marketingCredentialsSchema.optional(),
  ingest: ingestCredentialsSchema.optional(),
  console: consoleCredentialsSchema.optional(),
});

export type CrmCredentials = z.infer<typeof crmCredentialsSchema>;
export type Credentials = z.infer<typeof credentialsSchema>;

export function credentialsPath(dataDir: string): string {
  return join(dataDir, 'credentials.json');
}

/**
 * Random base64url text that never begins with `-`: a password or secret starting with a dash
 * reads as an option to every command line it is pasted into (ours, sf, curl).
 */
function secret(bytes: number): string {
  return randomBytes(bytes).toString('base64url').replace(/^-/, 'x');
}

/** A new connected app's consumer key (Salesforce-style, `3MVG9…`) and consumer secret. */
export function newConnectedAppKeys(): { clientId: string; clientSecret: string } {
  return {
    clientId: `3MVG9${secret(30).replace(/[-_]/g, 'A')}`,
    clientSecret: randomBytes(32).toString('hex').toUpperCase(),
  };
}

/** A new admin password. */
export function newPassword(): string {
  return secret(12);
}

/** Fresh demo credentials: a connected app and an admin login. */
export function generateCredentials(): Credentials {
  return {
    crm: {
      loginUrl: '',
      instanceUrl: '',
      ...newConnectedAppKeys(),
      username: 'admin@handoff.local',
      password: newPassword(),
    },
  };
}

export function readCredentials(dataDir: string): Credentials | null {
  const path = credentialsPath(dataDir);
  if (!existsSync(path)) return null;
  const parsed = credentialsSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success) {
    throw new Error(`${path} is not valid: ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`);
  }
  return parsed.data;
}

/** Written owner-only: it holds the demo's passwords and secrets. */
export function writeCredentials(dataDir: string, credentials: Credentials): void {
  writePrivateFile(credentialsPath(dataDir), `${JSON.stringify(credentials, null, 2)}\n`);
}
