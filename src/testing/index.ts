/**
 * `handoff/testing`: the embedded CRM (Salesforce's wire API), marketing engine (Account
 * Engagement's) and ingest (Segment's Tracking API), started in the test's own process on free
 * ports, for other projects' test suites. See docs/testing.md.
 */
import { randomBytes } from 'node:crypto';
import jsforce from 'jsforce';
import { SalesforceTokenSource } from '../clients/salesforce-oauth.js';
import type { PassResult } from '../connector/sync-types.js';
import type { CallContext } from '../crm/domain/call-context.js';
import {
  openStack,
  type CrmSettings,
  type KitCredentials,
  type KitDatabase,
  type Stack,
  type StackParts,
  untilDelivered,
} from './stack.js';
import { TestClock } from './test-clock.js';

export { TestClock };
export type { CrmSettings, KitCredentials, KitDatabase };

/** A fault rule: `route` is `METHOD /path/pattern` (`*` one segment, `**` any), as in the docs. */
export interface FaultRule {
  route: string;
  /** latency, drop, lost-answer, or the service's own (CRM: error-500, unavailable-503, request-limit, lock; marketing: its error codes). */
  fault: string;
  probability?: number;
  times?: number;
  latencyMs?: number;
}

export interface KitOptions {
  /** Default: SQLite in memory, gone when the kit stops. */
  database?: KitDatabase;
  /** The CRM's settings: custom fields, validation rules, duplicate rules, API limit, faults … */
  crm?: CrmSettings;
  /** The business unit: several prospects per email (v4 behaviour) and its daily API limit. */
  marketing?: { allowMultiplePerEmail?: boolean; dailyApiLimit?: number };
  /** A clock to share between kits, or to hold before starting; one is made otherwise. */
  clock?: TestClock;
}

/** Faults injected into a server's requests from the test (no HTTP, no `--faults` needed). */
export interface KitFaults {
  /** Adds a rule; answers its id. */
  add(rule: FaultRule): number;
  /** Removes every rule. */
  clear(): void;
}

export interface KitCrm {
  /** The CRM's base URL: instance URL and login URL alike. */
  url: string;
  credentials: KitCredentials;
  clock: TestClock;
  faults: KitFaults;
  /** An access token of the admin (password grant), for raw HTTP calls. */
  token(): Promise<string>;
  /** A jsforce connection logged in as the admin. */
  connect(options?: { version?: string }): Promise<jsforce.Connection>;
  /** Seeds records of any object (as the admin; no API calls counted); answers their ids. */
  insert(type: string, records: Array<Record<string, unknown>>): Promise<string[]>;
  /** Adds an active user who can log in with this password; answers the User id. */
  addUser(user: {
    username: string;
    password: string;
    lastName: string;
    firstName?: string;
    email?: string;
  }): Promise<string>;
}

export interface KitMarketing {
  url: string;
  businessUnitId: string;
  faults: KitFaults;
  /** The headers of an API call: the CRM admin's bearer token and the business unit. */
  headers(): Promise<Record<string, string>>;
  /** Seeds prospects by v5 field name (`email`, `firstName`, custom `Favorite_Color__c`), as the system; answers their ids. */
  addProspects(prospects: Array<Record<string, string | number | boolean | null>>): Promise<number[]>;
  /** Adds a prospect custom field (`fieldId` is the API name, e.g. `Favorite_Color`). */
  addCustomField(field: { name: string; fieldId: string; type?: 'Text' | 'Number' | 'Date' }): Promise<void>;
  /** Gives a CRM user access to the business unit (Account Engagement's user sync). */
  grant(user: { crmUserId: string; email: string; role?: string }): Promise<void>;
  /**
   * Another business unit (a tenant of its own), granted to the admin; answers its id, for the
   * `Pardot-Business-Unit-Id` header. The kit's own unit stays the one `headers()` names.
   */
  addUnit(unit: { name: string; allowMultiplePerEmail?: boolean; dailyApiLimit?: number }): Promise<string>;
}

export interface KitIngest {
  url: string;
  /** The test source's write key (Basic auth user name, empty password). */
  writeKey: string;
  /** Resolves when every accepted event has been delivered (or failed for good). */
  settled(timeoutMs?: number): Promise<void>;
}

interface Lifecycle {
  clock: TestClock;
  /**
   * Back to a fresh org (and unit, and source) with the same credentials, on new ports: read
   * `url` again after it, and make new clients (a pooled connection to the old port would fail).
   */
  reset(): Promise<void>;
  /** Stops every server and drops in-memory data. */
  stop(): Promise<void>;
}

export type RunningCrm = KitCrm & Lifecycle;
export type RunningMarketing = Lifecycle & { crm: KitCrm; marketing: KitMarketing };
export type RunningHandoff = RunningMarketing & {
  ingest: KitIngest;
  /** One sync pass between the CRM and the marketing engine, as `handoff sync --once` runs. */
  sync(): Promise<PassResult>;
};

/** Starts the CRM alone, with an empty org: an admin and a connected app. */
export async function startCrm(options: KitOptions = {}): Promise<RunningCrm> {
  const kit = await startKit({ marketing: false, ingest: false, connector: false }, options);
  // Assigned onto the CRM's object, not spread: its `url` is a getter (a reset moves it).
  return Object.assign(kit.crm, { reset: kit.reset, stop: kit.stop });
}

/** Starts the CRM (for its OAuth server) and the marketing engine with one business unit. */
export async function startMarketing(options: KitOptions = {}): Promise<RunningMarketing> {
  const kit = await startKit({ marketing: true, ingest: false, connector: false }, options);
  return { crm: kit.crm, marketing: kit.marketing(), clock: kit.clock, reset: kit.reset, stop: kit.stop };
}

/** Starts everything: CRM, marketing engine, ingest (one source) and the connector between them. */
export async function startHandoff(options: KitOptions = {}): Promise<RunningHandoff> {
  const kit = await startKit({ marketing: true, ingest: true, connector: true }, options);
  return {
    crm: kit.crm,
    marketing: kit.marketing(),
    ingest: kit.ingest(),
    sync: () => kit.current().connector!.runOnce(),
    clock: kit.clock,
    reset: kit.reset,
    stop: kit.stop,
  };
}

async function startKit(parts: StackParts, options: KitOptions) {
  const clock = options.clock ?? new TestClock();
  const base = {
    clientId: `3MVG9${randomBytes(20).toString('hex')}`,
    clientSecret: randomBytes(32).toString('hex').toUpperCase(),
    username: 'admin@handoff.test',
    password: randomBytes(12).toString('base64url'),
  };
  const stackOptions = {
    database: options.database,
    crm: options.crm,
    marketing: options.marketing,
    clock,
    credentials: base,
  };
  let stack: Stack = await openStack(parts, stackOptions);
  const current = () => stack;
  const credentials: KitCredentials = { ...base, loginUrl: stack.crm.url, instanceUrl: stack.crm.url };
  let cachedToken: string | null = null;
  // The admin's token, logged in again once the clock has moved past its expiry.
  const token = async () => {
    if (!cachedToken || !(await stack.crm.services.oauth.verify(cachedToken)))
      cachedToken = await new SalesforceTokenSource({ flow: 'password', ...credentials }).token();
    return cachedToken;
  };
  const crmCtx = (): CallContext => ({ userId: stack.crm.adminUserId, autoAssign: false });

  const crm: KitCrm = {
    get url() {
      return stack.crm.url;
    },
    credentials,
    clock,
    faults: faultsOf(() => stack.crm.services.faults),
    token,
    async connect(connectOptions = {}) {
      const conn = new jsforce.Connection({
        oauth2: {
          loginUrl: credentials.loginUrl,
          clientId: credentials.clientId,
          clientSecret: credentials.clientSecret,
        },
        version: connectOptions.version ?? '60.0',
      });
      await conn.login(credentials.username, credentials.password);
      return conn;
    },
    async insert(type, records) {
      const ids: string[] = [];
      for (const record of records) ids.push(await stack.crm.services.records.create(crmCtx(), type, record));
      return ids;
    },
    async addUser(user) {
      const id = await stack.crm.services.records.create(crmCtx(), 'User', {
        Username: user.username,
        LastName: user.lastName,
        FirstName: user.firstName,
        Email: user.email ?? user.username,
        IsActive: true,
      });
      await stack.crm.services.oauth.setPassword(id, user.password);
      return id;
    },
  };

  const marketing = (): KitMarketing => ({
    get url() {
      return stack.marketing!.url;
    },
    get businessUnitId() {
      return stack.marketing!.unit.id;
    },
    faults: faultsOf(() => stack.marketing!.services.faults),
    async headers() {
      return {
        authorization: `Bearer ${await token()}`,
        'pardot-business-unit-id': stack.marketing!.unit.id,
      };
    },
    async addProspects(prospects) {
      const { services, unit } = stack.marketing!;
      const ids: number[] = [];
      for (const values of prospects)
        ids.push((await services.prospects.create(unit, { type: 'system' }, values)).id);
      return ids;
    },
    async addCustomField(field) {
      const { services, unit } = stack.marketing!;
      await services.prospects.createCustomField(unit.id, {
        name: field.name,
        fieldId: field.fieldId,
        type: field.type ?? 'Text',
      });
    },
    async grant(user) {
      await stack.marketing!.services.units.grant(stack.marketing!.unit.id, user);
    },
    async addUnit(unit) {
      const created = await stack.marketing!.services.units.ensure({
        ...unit,
        grants: [{ crmUserId: stack.crm.adminUserId, email: credentials.username }],
      });
      return created.id;
    },
  });

  const ingest = (): KitIngest => ({
    get url() {
      return stack.ingest!.url;
    },
    get writeKey() {
      return stack.ingest!.writeKey;
    },
    settled: (timeoutMs) => untilDelivered(stack.ingest!.services, timeoutMs),
  });

  return {
    clock,
    crm,
    marketing,
    ingest,
    current,
    async reset() {
      await stack.close();
      cachedToken = null;
      // New ports (a client's pooled connection to an old one would fail once), the same logins.
      stack = await openStack(parts, stackOptions);
      credentials.loginUrl = stack.crm.url;
      credentials.instanceUrl = stack.crm.url;
    },
    async stop() {
      await stack.close();
    },
  };
}

function faultsOf(injector: () => { add(input: unknown): { id: number }; clear(): void }): KitFaults {
  return {
    add: (rule) => injector().add(rule).id,
    clear: () => injector().clear(),
  };
}
