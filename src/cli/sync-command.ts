import cliProgress from 'cli-progress';
import { openConnector, type Connector } from '../connector/connector-services.js';
import type { PassResult } from '../connector/sync-types.js';
import { buildConnectorWebhookApp, WEBHOOK_PATH } from '../connector/webhook-app.js';
import { runDoctor } from '../connector/doctor.js';
import { encryptSecret, resolveSecret, secretKey } from '../store/sealed-secrets.js';
import { openConnectorAdmin, type ConnectorAdmin } from '../connector/connector-admin.js';
import { ConfigError, resolveConfig, type CliFlags } from './config.js';
import { readCredentials } from './credentials.js';
import { listenOn, urlOf } from './listen.js';
import { connectorConfigFor } from './server-config.js';
import { buildMetricsApp } from '../http/metrics-app.js';
import { openDataStore } from './data-store.js';
import { forecastDay } from '../connector/connector-status.js';
import { marketingLimits } from '../connector/work/marketing-budget.js';

const { SingleBar, Presets } = cliProgress;

/** `handoff sync [--once]`: the connector between the CRM and the marketing engine of the data dir. */
export async function runSync(
  flags: CliFlags & { once?: boolean; interval: string; metricsPort?: string },
): Promise<void> {
  const config = resolveConfig(flags);
  const hooks = config.connector?.webhooks;
  const connectorConfig = {
    ...connectorConfigFor(config),
    ...(hooks ? { webhookSecret: resolveSecret(hooks.secret, () => secretKey(config.dataDir)) } : {}),
  };
  const interval = Number(flags.interval);
  if (!Number.isInteger(interval) || interval < 100)
    throw new ConfigError('--interval must be at least 100 (ms)');
  const database = openDataStore(config);
  try {
    const connector = await openConnector({
      database,
      config: connectorConfig,
    });
    for (const problem of connector.engine.problems) console.log(`mapping skipped: ${problem.message}`);
    if (flags.once) {
      const pass = await connector.runOnce();
      console.log(
        `CRM records ${pass.crmRecords}, prospects ${pass.prospects}, queued ${pass.queued}, worked ${pass.worked}, ` +
          `prospects created ${pass.created}, Leads created ${pass.leadsCreated}, ` +
          `writes to the CRM ${pass.writesToCrm}, to marketing ${pass.writesToMarketing}, errors ${pass.errors.length}`,
      );
      if (pass.calls) console.log(`API calls: CRM ${pass.calls.crm}, marketing ${pass.calls.marketing}`);
      if (pass.throttled)
        console.log(
          `the ${pass.throttled === 'crm' ? 'CRM' : 'marketing'} API budget is spent: waiting (see handoff sync status)`,
        );
      for (const e of pass.errors) console.log(`  ${e.side} ${e.record}: ${e.message}`);
      await database.close();
      process.exitCode = pass.errors.length > 0 ? 1 : 0;
      return;
    }
    connector.start(interval);
    const receiver = hooks ? buildConnectorWebhookApp(() => connector) : null;
    if (receiver && hooks) {
      await receiver.listen({ host: hooks.host ?? config.host, port: hooks.port });
      console.log(`marketing webhooks taken at ${urlOf(receiver, hooks.host ?? config.host)}${WEBHOOK_PATH}`);
    }
    const metricsPort = flags.metricsPort ?? process.env.HANDOFF_METRICS_PORT;
    const metrics = metricsPort === undefined ? null : buildMetricsApp('sync', connector.readiness());
    if (metrics) {
      connector.registerMetrics(metrics.metrics);
      await listenOn(metrics, 'sync metrics server', config.host, Number(metricsPort), '--metrics-port');
      console.log(`metrics at ${urlOf(metrics, config.host)}/metrics (health: /healthz, /readyz)`);
    }
    console.log('syncing; Ctrl-C stops');
    const stop = () => {
      void (receiver?.close() ?? Promise.resolve())
        .then(() => metrics?.close())
        .then(() => connector.stop())
        .then(() => database.close())
        .then(() => process.exit(0));
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  } catch (error) {
    await database.close();
    throw error;
  }
}

/**
 * `handoff sync backfill [--restart]`: the initial sync of everything both sides hold, with a
 * progress bar; stopped, it goes on where it left off the next time.
 */
export async function runSyncBackfill(flags: CliFlags & { restart?: boolean }): Promise<void> {
  const config = resolveConfig(flags);
  const connectorConfig = connectorConfigFor(config);
  const database = openDataStore(config);
  try {
    const connector = await openConnector({ database, config: connectorConfig });
    const bar = new SingleBar(
      {
        format:
          '{object} |{bar}| {percentage}% {value}/{total}  linked {linked}, queued {queued}, skipped {skipped}',
        noTTYOutput: true,
        notTTYSchedule: 5_000,
      },
      Presets.shades_classic,
    );
    let current: string | null = null;
    const started = Date.now();
    const result = await connector.backfill({
      restart: flags.restart,
      onProgress(p) {
        const payload = { object: p.object, linked: p.linked, queued: p.queued, skipped: p.skipped };
        if (current !== p.object) {
          if (current) bar.stop();
          current = p.object;
          bar.start(p.total, p.done, payload);
        } else {
          bar.update(p.done, payload);
        }
      },
    });
    if (current) bar.stop();
    const backfilled = Date.now();
    // What the backfill queued (records matched by email, hand-offs): worked off now.
    const { last: pass } = await workOffQueue(connector);
    const seconds = (Date.now() - started) / 1000;
    const passSeconds = (Date.now() - backfilled) / 1000;
    console.log(
      `backfill done in ${seconds.toFixed(1)} s (the sync passes after it ${passSeconds.toFixed(1)} s): ${result.linked} linked (${result.created} prospects created), ` +
        `${result.queued} queued for the sync, ${result.skipped} skipped (no email or not shared); ` +
        `writes to the CRM ${result.writesToCrm}, marketing API calls ${result.marketingCalls}; still queued ${pass.waiting ?? 0}`,
    );
    for (const e of [...result.errors, ...pass.errors]) console.log(`  ${e.side} ${e.record}: ${e.message}`);
    process.exitCode = result.errors.length > 0 ? 1 : 0;
  } finally {
    await database.close();
  }
}

/**
 * Passes until the queue is empty, or a pass works nothing (what is left waits out a retry),
 * at most 1,000: what a running sync would do with what a command queued. The last pass (its
 * waiting count and errors) and the writes of them all.
 */
export async function workOffQueue(
  connector: Connector,
): Promise<{ last: PassResult; writesToCrm: number; writesToMarketing: number }> {
  let last = await connector.runOnce();
  const written = { writesToCrm: last.writesToCrm, writesToMarketing: last.writesToMarketing };
  for (let i = 0; i < 1_000 && (last.waiting ?? 0) > 0 && last.worked > 0; i++) {
    last = await connector.runOnce();
    written.writesToCrm += last.writesToCrm;
    written.writesToMarketing += last.writesToMarketing;
  }
  return { last, ...written };
}

/** `handoff sync log <id>`: what the sync wrote for a record (CRM id or prospect id), field by field. */
export async function runSyncLog(flags: CliFlags, recordId: string): Promise<void> {
  await withConnectorAdmin(flags, async (admin) => {
    const entries = await admin.syncLog(recordId);
    if (entries.length === 0) {
      // Not found is a failure a script can see.
      console.error(`nothing synced for ${recordId}`);
      process.exitCode = 1;
    }
    for (const e of entries) {
      const target =
        e.toSide === 'crm'
          ? `CRM ${e.crmObject} ${e.crmId} ${e.crmField ?? ''}`
          : `prospect ${e.prospectId} ${e.field}`;
      console.log(
        `${e.at}  → ${target.trim()} = ${JSON.stringify(e.value)} (was ${JSON.stringify(e.previous)})`,
      );
      console.log(`    ${e.reason}; ${e.apiCall}`);
    }
  });
}

/**
 * `handoff secret encrypt [value]`: a secret (the argument, or standard input) as the `enc:v1:…`
 * value to put in `connector.connections`, under the data dir's key (made if there is none) or
 * HANDOFF_SECRET_KEY.
 */
export async function runSecretEncrypt(flags: CliFlags, value: string | undefined): Promise<void> {
  const config = resolveConfig(flags);
  let plain = value;
  if (plain === undefined) {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    plain = Buffer.concat(chunks)
      .toString('utf8')
      .replace(/\r?\n$/, '');
  }
  if (!plain)
    throw new ConfigError('nothing to encrypt: give the secret as an argument or on standard input');
  console.log(encryptSecret(plain, secretKey(config.dataDir, true)));
}

/** `handoff doctor`: checks both connections, rights, mappings and budget; exits 1 if any fails. */
export async function runDoctorCommand(flags: CliFlags): Promise<void> {
  const config = resolveConfig(flags);
  // The mappings the sync runs with: saved from the console into the store, if they were.
  const saved = await withConnectorAdmin(flags, (admin) => admin.savedSettings()).catch(() => null);
  const checks = await runDoctor(connectorConfigFor(config), saved?.mappings ?? null);
  for (const c of checks) console.log(`${c.ok ? '✓' : '✗'} ${c.name.padEnd(22)} ${c.detail}`);
  const failed = checks.filter((c) => !c.ok).length;
  console.log(failed === 0 ? 'all good' : `${failed} problem${failed === 1 ? '' : 's'} found`);
  process.exitCode = failed === 0 ? 0 : 1;
}

/** The connector of the data dir's store and business unit, as the store holds it. */
async function withConnectorAdmin<T>(
  flags: CliFlags,
  work: (admin: ConnectorAdmin, unitId: string) => Promise<T>,
): Promise<T> {
  const config = resolveConfig(flags);
  const unitId =
    config.connector?.connections?.marketing.businessUnitId ??
    readCredentials(config.dataDir)?.marketing?.businessUnitId;
  if (!unitId) {
    throw new ConfigError(
      `no marketing credentials in ${config.dataDir} and no connector.connections: start \`handoff demo\` first`,
    );
  }
  const database = openDataStore(config);
  try {
    return await work(await openConnectorAdmin(database, unitId), unitId);
  } finally {
    await database.close();
  }
}

/** `all`, or error ids separated by commas, as `--retry` and `--skip` take them. */
function errorIds(option: string, value: string | true): number[] | 'all' {
  if (value === true || value === 'all') return 'all';
  const ids = value.split(',').map((part) => part.trim().replace(/^#/, ''));
  if (ids.length === 0 || ids.some((id) => !/^\d+$/.test(id)))
    throw new ConfigError(`${option} takes an error id (as listed, #12 or 12), several with commas, or all`);
  return ids.map(Number);
}

/**
 * `handoff sync errors [--retry ID|all] [--skip ID|all]`: the sync-error list of the data dir's
 * business unit, each error with the refused value, the person, both records and what to do.
 */
export async function runSyncErrors(
  flags: CliFlags & { retry?: string | true; skip?: string | true },
): Promise<void> {
  const retry = flags.retry === undefined ? undefined : errorIds('--retry', flags.retry);
  const skip = flags.skip === undefined ? undefined : errorIds('--skip', flags.skip);
  const consoleUrl = readCredentials(resolveConfig(flags).dataDir)?.console?.url;
  await withConnectorAdmin(flags, async (admin) => {
    const errors = await admin.errors();
    if (retry !== undefined || skip !== undefined) {
      // Ids that name no open error are a mistake worth a non-zero exit, not a silent 0.
      const open = new Set(errors.map((e) => e.id));
      const unknown = [
        ...(retry === 'all' ? [] : (retry ?? [])),
        ...(skip === 'all' ? [] : (skip ?? [])),
      ].filter((id) => !open.has(id));
      if (unknown.length > 0)
        throw new ConfigError(`no open sync error ${unknown.map((id) => `#${id}`).join(', ')}`);
      if (retry !== undefined)
        console.log(`${await admin.retry(retry)} marked for retry: the next pass tries again`);
      if (skip !== undefined) console.log(`${await admin.skip(skip)} skipped`);
      return;
    }
    if (errors.length === 0) console.log('no sync errors');
    const byCategory = new Map<string, typeof errors>();
    for (const e of errors) byCategory.set(e.category, [...(byCategory.get(e.category) ?? []), e]);
    for (const [category, list] of byCategory) {
      console.log(`${category} (${list.length})  ${list[0]!.hint}`);
      for (const e of list) {
        const who = [e.person.name, e.person.email ? `<${e.person.email}>` : null].filter(Boolean).join(' ');
        const tries = e.tries > 1 ? `, refused ${e.tries} times` : '';
        console.log(
          `  #${e.id}  ${who || '(no name)'}  ${e.side} refused  since ${e.createdAt}${tries}${e.state === 'retry' ? '  (retry asked)' : ''}`,
        );
        console.log(`      ${e.code ?? ''}${e.code ? ': ' : ''}${e.message}`);
        const values = Object.entries(e.values)
          .filter(([field]) => e.fields.length === 0 || e.fields.includes(field))
          .map(([field, value]) => `${field} = ${JSON.stringify(value)}`);
        if (values.length > 0) console.log(`      refused  ${values.join(', ')}`);
        const records = [
          e.crmId ? `${e.crmObject} ${e.crmId}` : `${e.crmObject} (not made)`,
          e.prospectId !== null ? `prospect ${e.prospectId}` : null,
        ].filter(Boolean);
        console.log(`      records  ${records.join(' / ')}`);
        if (consoleUrl) {
          for (const id of [e.crmId, e.prospectId].filter((id) => id !== null))
            console.log(`      ${consoleUrl}/#/explorer/${encodeURIComponent(String(id))}`);
        }
      }
    }
  });
}

/** `handoff sync status`: cursors, linked pairs, the work queue and open sync errors of the data dir's unit. */
export async function runSyncStatus(flags: CliFlags): Promise<void> {
  await withConnectorAdmin(flags, async (admin, unitId) => {
    const now = Date.now();
    console.log(`business unit  ${unitId}`);
    console.log(`linked pairs   ${await admin.linkCount()}`);
    console.log(`paused         ${(await admin.paused()) ? 'yes (handoff sync resume)' : 'no'}`);
    const backfill = await admin.backfill();
    if (backfill.needed)
      console.log(
        'backfill       needed: records made before the connector first started are not synced; run `handoff sync backfill` (or Run backfill in the console)',
      );
    else if (backfill.doneAt) console.log(`backfill       done ${backfill.doneAt}`);
    const gap = await admin.changeEventGap();
    if (gap)
      console.log(
        `change events  lost after replay id ${gap.replayId}${gap.lastEventAt ? ` (last event ${gap.lastEventAt})` : ''}, noticed ${gap.detectedAt}: ${gap.reason}; the window was reconciled by querying the CRM`,
      );
    const cursors = await admin.cursors();
    if (cursors.length === 0) console.log('cursors        none yet: the connector has not run');
    for (const c of cursors) {
      if (c.name.startsWith('backfill:')) {
        const object = c.name.slice('backfill:'.length);
        console.log(
          `backfill ${object.padEnd(8)} ${c.value === 'done' ? 'done' : `stopped after ${c.value}`}`,
        );
        continue;
      }
      // Time cursors say how far behind they are; id cursors (visitor activities, change-event
      // replay ids) say where they stand.
      const at = /^-?\d+$/.test(c.value) ? Number.NaN : Date.parse(c.value);
      if (Number.isNaN(at)) {
        console.log(`cursor ${c.name.padEnd(10)} after id ${c.value}`);
        continue;
      }
      const lag = Math.max(0, Math.round((now - at) / 1000));
      console.log(`cursor ${c.name.padEnd(10)} ${c.value}  (${lag} s behind now)`);
    }
    const depth = await admin.queue();
    const waiting = Object.values(depth.byPriority).reduce((a, b) => a + b, 0);
    const names: Record<number, string> = { 0: 'hand-offs', 1: 'deletions and retries', 2: 'changes' };
    console.log(
      `queue          ${waiting}${
        waiting
          ? `  (${Object.entries(depth.byPriority)
              .map(([p, n]) => `${names[Number(p)] ?? `priority ${p}`} ${n}`)
              .join(', ')}; ${depth.retrying} retrying; oldest ${depth.oldest})`
          : ''
      }`,
    );
    const usage = await admin.crmApiUsage();
    console.log(
      usage
        ? `CRM API        ${usage.used} of ${usage.limit} requests today (forecast ${forecastDay(usage.used, new Date(now))}); the connector waits from ${Math.round(usage.share * 100)} %${usage.used >= usage.share * usage.limit ? ' (waiting now)' : ''}`
        : 'CRM API        not read yet',
    );
    // Account Engagement tells no usage: the connector's own calls, against its share.
    // The limits the connector runs with (the demo's unit's, where no orgs are configured).
    const { dailyLimit: limit, share } = marketingLimits(
      connectorConfigFor(resolveConfig(flags)).marketingApi,
    );
    const calls = await admin.callsToday('marketing');
    console.log(
      `marketing API  ${calls} calls today by the connector (forecast ${forecastDay(calls, new Date(now))}); its share ${Math.round(limit * share)} (${Math.round(share * 100)} % of the unit's ${limit})${calls >= limit * share ? ' (waiting now)' : ''}`,
    );
    const errors = await admin.errorCounts();
    const total = Object.values(errors).reduce((a, b) => a + b, 0);
    console.log(
      `sync errors    ${total}${
        total
          ? `  (${Object.entries(errors)
              .map(([k, v]) => `${k} ${v}`)
              .join(', ')})`
          : ''
      }`,
    );
  });
}

/** `handoff sync pause` / `resume`: every connector on the data dir's store stops or goes on. */
export async function runSyncPause(flags: CliFlags, paused: boolean): Promise<void> {
  await withConnectorAdmin(flags, async (admin) => {
    await admin.pause(paused);
    console.log(paused ? 'paused: passes do nothing until `handoff sync resume`' : 'resumed');
  });
}
