import { randomBytes } from 'node:crypto';
import { text } from 'node:stream/consumers';
import { OAuthError } from '../crm/auth/oauth-service.js';
import { findOrgAdmin } from '../crm/org-setup.js';
import { ConfigError, type CliFlags } from './config.js';
import { credentialsPath, newConnectedAppKeys, readCredentials, writeCredentials } from './credentials.js';
import { withCrmServices } from './crm-offline.js';

export interface CredentialsFlags extends CliFlags {
  resetPassword?: boolean;
  crmUrl?: string;
}

/**
 * `handoff credentials`: working CRM credentials for a data dir whose database already holds an
 * org (a second machine of a deployment). It issues a new connected app (the others keep
 * working) and, for the admin login, checks the admin password given on standard input — or,
 * with `--reset-password`, sets a new one (then every other credentials.json must be updated).
 * The secrets are printed once and written owner-only to the data dir's credentials.json.
 */
export async function runCredentials(flags: CredentialsFlags): Promise<void> {
  await withCrmServices(flags, async (crm, config) => {
    const admin = await findOrgAdmin(crm);
    if (!admin)
      throw new ConfigError(
        'this database holds no org yet: start `handoff crm` (or `handoff demo`) with it first; the first start makes the org and its credentials',
      );
    const fresh = newConnectedAppKeys();
    await crm.oauth.registerConnectedApp({
      clientId: fresh.clientId,
      clientSecret: fresh.clientSecret,
      name: `Handoff (issued ${new Date().toISOString().slice(0, 10)})`,
      runAsUserId: admin.userId,
    });
    let password: string;
    if (flags.resetPassword) {
      password = randomBytes(12).toString('base64url');
      await crm.oauth.setPassword(admin.userId, password);
    } else {
      if (process.stdin.isTTY)
        throw new ConfigError(
          `give ${admin.username}'s password on standard input (from the first process's credentials.json), ` +
            'or pass --reset-password to set a new one (the old one then stops working everywhere)',
        );
      password = (await text(process.stdin)).trim();
      try {
        await crm.oauth.token({
          grant_type: 'password',
          client_id: fresh.clientId,
          client_secret: fresh.clientSecret,
          username: admin.username,
          password,
        });
      } catch (error) {
        if (error instanceof OAuthError)
          throw new ConfigError(
            `that is not ${admin.username}'s password (${error.description}); nothing written`,
          );
        throw error;
      }
    }
    const existing = readCredentials(config.dataDir);
    const url = flags.crmUrl ?? existing?.crm.loginUrl ?? '';
    writeCredentials(config.dataDir, {
      ...existing,
      crm: { ...fresh, loginUrl: url, instanceUrl: url, username: admin.username, password },
    });
    console.log(`new connected app for org ${admin.orgId}`);
    console.log(`  client id      ${fresh.clientId}`);
    console.log(`  client secret  ${fresh.clientSecret}  (shown once)`);
    console.log(`  username       ${admin.username}`);
    if (flags.resetPassword) console.log(`  password       ${password}  (new; shown once)`);
    console.log(`credentials written to ${credentialsPath(config.dataDir)}`);
  });
}
