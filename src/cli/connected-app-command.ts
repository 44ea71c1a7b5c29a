import { z } from 'zod';
import { ConfigError, type CliFlags } from './config.js';
import { newConnectedAppKeys } from './credentials.js';
import { withCrmServices } from './crm-offline.js';

const callbackUrls = z.array(z.url({ protocol: /^https?$/ })).min(1);

/**
 * `handoff connected-app add`: a connected app for the web-server flow (a web app's "Connect to
 * Salesforce"), with the exact callback URLs it may send users back to. The consumer key and
 * secret are printed once; the secret is kept only as a hash. (`crm.connectedApps` in
 * handoff.config.json does the same from configuration.)
 */
export async function runConnectedAppAdd(
  flags: CliFlags & { name: string; callbackUrl: string[] },
): Promise<void> {
  const urls = callbackUrls.safeParse(flags.callbackUrl);
  if (!urls.success) throw new ConfigError('--callback-url takes http(s) URLs, one or more');
  await withCrmServices(flags, async (crm) => {
    const { clientId, clientSecret } = newConnectedAppKeys();
    await crm.oauth.registerConnectedApp({
      clientId,
      clientSecret,
      name: flags.name,
      runAsUserId: null,
      callbackUrls: urls.data,
    });
    console.log(`connected app "${flags.name}"`);
    console.log(`  consumer key     ${clientId}`);
    console.log(`  consumer secret  ${clientSecret}  (shown once)`);
    console.log(`  callback URLs    ${urls.data.join(' ')}`);
  });
}
