import { text } from 'node:stream/consumers';
import { findOrgAdmin } from '../crm/org-setup.js';
import { ConfigError, type CliFlags } from './config.js';
import {
  credentialsPath,
  newConnectedAppKeys,
  newPassword,
  readCredentials,
  writeCredentials,
} from './credentials.js';
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
    let password: string;
    if (flags.resetPassword) {
      password = newPassword();
    } else {
      if (process.stdin.isTTY)
        throw new ConfigError(
          `give ${admin.username}'s password on standard input (from the first process's credentials.json), ` +
            'or pass --reset-password to set a new one (the old one then stops working everywhere)',
        );
      password = (await text(process.stdin)).trim();
      // Checked before anything is written: a wrong password leaves the org as it was.
      if (!(await crm.oauth.passwordMatches(admin.username, password)))
        throw new ConfigError(`that is not ${admin.username}'s password; nothing written`);
    }
    const fresh = newConnectedAppKeys();
    await crm.oauth.registerConnectedApp({
      clientId: fresh.clientId,
      clientSecret: fresh.clientSecret,
      name: `Handoff (issued ${new Date().toISOString().slice(0, 10)})`,
      runAsUserId: admin.userId,
    });
    if (flags.resetPassword) await crm.oauth.setPassword(admin.userId, password);
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
