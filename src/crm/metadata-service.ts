import { unzipSync } from 'fflate';
import type { Database } from '../store/database.js';
import type { CustomFieldConfig } from './crm-config.js';
import type { CallContext } from './domain/call-context.js';
import { parseSalesforceXml } from './domain/salesforce-xml.js';
import { readMetadataPackage, type PackageComponent } from './domain/metadata-package.js';
import { IdAllocator } from './domain/record-id.js';
import type { CustomObjectSpec } from './domain/schema/custom-objects.js';
import { readObjectMetadata } from './domain/schema/object-metadata.js';
import { SchemaRegistry, type CustomSchema } from './domain/schema/schema-registry.js';
import * as store from './store/metadata-store.js';
import { syncRecordTables } from './store/record-tables.js';

/** Deploy ids carry the key prefix of Salesforce's DeployRequest. */
const DEPLOY_PREFIX = '0Af';
/** Unzipped, a package may not exceed this (Salesforce allows 400 MB; this CRM keeps it all as text). */
const MAX_UNZIPPED_BYTES = 100 * 1024 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The deploy options this CRM heeds; the rest (tests to run, purge on delete) have nothing to act on. */
export interface DeployOptions {
  checkOnly: boolean;
}

/** A component's outcome, as `DeployMessage`. */
export interface DeployMessage {
  changed: boolean;
  componentType: string;
  created: boolean;
  createdDate: string;
  deleted: boolean;
  fileName: string;
  fullName: string;
  success: boolean;
  problem?: string;
  problemType?: 'Error';
}

/** What `checkDeployStatus` answers, as `DeployResult` (this CRM deploys at once, so always done). */
export interface DeployResult {
  id: string;
  checkOnly: boolean;
  completedDate: string;
  createdBy: string;
  createdDate: string;
  details: { componentSuccesses: DeployMessage[]; componentFailures: DeployMessage[] };
  done: true;
  ignoreWarnings: boolean;
  lastModifiedDate: string;
  numberComponentErrors: number;
  numberComponentsDeployed: number;
  numberComponentsTotal: number;
  numberTestErrors: 0;
  numberTestsCompleted: 0;
  numberTestsTotal: 0;
  rollbackOnError: true;
  runTestsEnabled: false;
  startDate: string;
  status: 'Succeeded' | 'Failed';
  success: boolean;
}

/** A component and what deploying it would do: add to the schema, keep as is, or only be kept. */
interface PlannedComponent {
  component: PackageComponent;
  created: boolean;
  changed: boolean;
  problems: string[];
}

/** A deployed file's text, or its bytes as base64 when they are not text (static resources). */
function fileText(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    return `base64:${Buffer.from(bytes).toString('base64')}`;
  }
}

function unzip(zipBase64: string): Map<string, string> | string {
  let total = 0;
  try {
    const entries = unzipSync(Buffer.from(zipBase64, 'base64'), {
      filter(file) {
        total += file.originalSize;
        if (total > MAX_UNZIPPED_BYTES) throw new RangeError('too large');
        return true;
      },
    });
    return new Map(Object.entries(entries).map(([path, bytes]) => [path, fileText(bytes)]));
  } catch (error) {
    return error instanceof RangeError
      ? `The package unzips to more than ${MAX_UNZIPPED_BYTES / 1024 / 1024} MB`
      : 'The deploy file is not a zip archive';
  }
}

/**
 * Each field a deploy added is kept as a component of its own (`CustomField`, its declaration
 * as JSON): an `.object` file deployed later with fewer fields replaces the file, not the
 * fields, as a Salesforce deploy never drops a field it does not mention.
 */
const ADDED_FIELD = 'CustomField';

/** The custom objects and fields earlier deploys put in the org, from what they kept. */
export async function deployedSchema(database: Database): Promise<CustomSchema> {
  const objects: CustomObjectSpec[] = [];
  for (const c of await store.selectComponents(database.db, 'CustomObject')) {
    const declaration = readObjectMetadata(c.fullName, parseSalesforceXml(c.content));
    if (Array.isArray(declaration)) continue; // kept only when it applied
    if (declaration.object) objects.push(declaration.object);
  }
  const fields = (await store.selectComponents(database.db, ADDED_FIELD)).map(
    (c) => JSON.parse(c.content) as CustomFieldConfig,
  );
  return { objects, fields };
}

/**
 * What is declared in config wins over what a deploy brought: a deployed object or field of the
 * same name is left out, so the org starts whatever config later says.
 */
export function mergedSchema(configured: CustomSchema, deployed: CustomSchema): CustomSchema {
  const objectNames = new Set((configured.objects ?? []).map((o) => o.name.toLowerCase()));
  const fieldNames = new Set((configured.fields ?? []).map((f) => `${f.object}.${f.name}`.toLowerCase()));
  return {
    objects: [
      ...(configured.objects ?? []),
      ...(deployed.objects ?? []).filter((o) => !objectNames.has(o.name.toLowerCase())),
    ],
    fields: [
      ...(configured.fields ?? []),
      ...(deployed.fields ?? []).filter((f) => !fieldNames.has(`${f.object}.${f.name}`.toLowerCase())),
    ],
  };
}

export interface MetadataServiceDeps {
  database: Database;
  schema: SchemaRegistry;
  /** What the org declares now: config's custom objects and fields, and earlier deploys'. */
  declared: CustomSchema;
  now: () => Date;
}

/**
 * The Metadata API's deploy: a zip of components is applied whole or not at all. Custom objects
 * and custom fields change the schema (tables, describe, SOQL, every API); every other component
 * (Apex, layouts, reports …) is kept as deployed, since this CRM has nothing that runs it.
 */
export class MetadataService {
  private readonly ids = new IdAllocator();
  private declared: CustomSchema;
  /** Deploys run one at a time: each is planned against what the one before left. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: MetadataServiceDeps) {
    this.declared = deps.declared;
  }

  /** The newest deploy this process has taken in (its own, or another's through catchUp). */
  private lastDeployId: string | null = null;

  async start(): Promise<void> {
    const { db } = this.deps.database;
    this.lastDeployId = await store.selectHighestDeployId(db);
    this.ids.seed(DEPLOY_PREFIX, this.lastDeployId);
  }

  /**
   * Takes in what other CRM processes sharing the database deployed since this one last looked:
   * their custom objects and fields join this process's schema. Answers whether anything did.
   */
  catchUp(): Promise<boolean> {
    const run = this.queue.then(() => this.takeInOthersDeploys());
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async takeInOthersDeploys(): Promise<boolean> {
    const { database, schema } = this.deps;
    const highest = await store.selectHighestDeployId(database.db);
    if (highest === this.lastDeployId) return false;
    this.lastDeployId = highest;
    this.ids.seed(DEPLOY_PREFIX, highest);
    const deployed = await deployedSchema(database);
    const additions: Required<CustomSchema> = {
      objects: (deployed.objects ?? []).filter((o) => !schema.object(o.name)),
      fields: (deployed.fields ?? []).filter((f) => {
        const def = schema.object(f.object);
        return !def || !schema.field(def, f.name);
      }),
    };
    if (additions.objects.length === 0 && additions.fields.length === 0) return false;
    const problems = schema.declare(additions);
    if (problems.length > 0)
      throw new Error(`another process's deploy does not fit this schema: ${problems.join('; ')}`);
    await syncRecordTables(database, schema);
    this.declared = mergedSchema(this.declared, additions);
    return true;
  }

  /** Deploys a package (its zip as base64); answers the deploy's id for `checkDeployStatus`. */
  deploy(ctx: CallContext, zipBase64: string, options: DeployOptions): Promise<string> {
    const run = this.queue.then(() => this.run(ctx, zipBase64, options));
    this.queue = run.catch(() => undefined);
    return run;
  }

  async deployResult(id: string, includeDetails: boolean): Promise<DeployResult | null> {
    const kept = await store.selectDeploy(this.deps.database.db, id);
    if (kept === null) return null;
    const result = JSON.parse(kept) as DeployResult;
    return includeDetails
      ? result
      : {
          ...result,
          details: { componentSuccesses: [], componentFailures: result.details.componentFailures },
        };
  }

  private async run(ctx: CallContext, zipBase64: string, options: DeployOptions): Promise<string> {
    // Planned against what every process has deployed, and numbered after the newest.
    await this.takeInOthersDeploys();
    const id = this.ids.allocate(DEPLOY_PREFIX);
    const started = this.deps.now().toISOString();
    const files = unzip(zipBase64);
    const read =
      typeof files === 'string'
        ? { ok: false as const, fileName: '', problem: files }
        : readMetadataPackage(files);
    let planned: PlannedComponent[];
    let additions: CustomSchema = {};
    if (!read.ok) {
      const component = { fileName: read.fileName, type: '', fullName: read.fileName, content: '' };
      planned = [{ component, created: false, changed: false, problems: [read.problem] }];
    } else {
      const deployed = await store.selectComponentKeys(this.deps.database.db);
      ({ planned, additions } = this.plan(read.components, deployed));
    }
    const failed = planned.filter((p) => p.problems.length > 0);
    const applies = failed.length === 0 && !options.checkOnly;
    if (applies) await this.apply(planned, additions, started);

    const message = (p: PlannedComponent, problem?: string): DeployMessage => ({
      changed: p.changed,
      componentType: p.component.type,
      created: p.created,
      createdDate: started,
      deleted: false,
      fileName: p.component.fileName,
      fullName: p.component.fullName,
      success: problem === undefined,
      ...(problem === undefined ? {} : { problem, problemType: 'Error' as const }),
    });
    const completed = this.deps.now().toISOString();
    const result: DeployResult = {
      id,
      checkOnly: options.checkOnly,
      completedDate: completed,
      createdBy: ctx.userId,
      createdDate: started,
      details: {
        // Rolled back, nothing was deployed: only the failures are told.
        componentSuccesses: failed.length === 0 ? planned.map((p) => message(p)) : [],
        componentFailures: failed.flatMap((p) => p.problems.map((problem) => message(p, problem))),
      },
      done: true,
      ignoreWarnings: false,
      lastModifiedDate: completed,
      numberComponentErrors: failed.length,
      numberComponentsDeployed: failed.length === 0 ? planned.length : 0,
      numberComponentsTotal: planned.length,
      numberTestErrors: 0,
      numberTestsCompleted: 0,
      numberTestsTotal: 0,
      rollbackOnError: true,
      runTestsEnabled: false,
      startDate: started,
      status: failed.length === 0 ? 'Succeeded' : 'Failed',
      success: failed.length === 0,
    };
    await store.insertDeploy(this.deps.database.db, id, JSON.stringify(result), completed);
    this.lastDeployId = id;
    return id;
  }

  /**
   * Works out what each component would do, against the org as it is: objects and fields it
   * lacks are added; ones it has must be declared the same (this CRM does not alter a field).
   */
  private plan(
    components: PackageComponent[],
    deployed: ReadonlySet<string>,
  ): { planned: PlannedComponent[]; additions: CustomSchema } {
    const { schema } = this.deps;
    const additions: Required<CustomSchema> = { objects: [], fields: [] };
    const planned: PlannedComponent[] = [];
    for (const component of components) {
      const entry: PlannedComponent = { component, created: true, changed: false, problems: [] };
      planned.push(entry);
      const existing = deployed.has(store.componentKey(component.type, component.fullName));
      if (component.type !== 'CustomObject') {
        entry.created = !existing;
        entry.changed = existing;
        continue;
      }
      let document: Record<string, unknown>;
      try {
        document = parseSalesforceXml(component.content);
      } catch {
        entry.problems.push(`${component.fileName}: not well-formed XML`);
        continue;
      }
      const declaration = readObjectMetadata(component.fullName, document);
      if (Array.isArray(declaration)) {
        entry.problems.push(...declaration);
        continue;
      }
      const def = schema.object(component.fullName);
      if (!def && !declaration.object) {
        entry.problems.push(`${component.fullName}: no such standard object`);
        continue;
      }
      entry.created = !def;
      if (declaration.object) {
        const declared = (this.declared.objects ?? []).find(
          (o) => o.name.toLowerCase() === component.fullName.toLowerCase(),
        );
        if (!def) additions.objects.push(declaration.object);
        else if (declared && !sameNameField(declared, declaration.object))
          entry.problems.push(
            `${component.fullName}: this CRM does not change an object's name field once made`,
          );
      }
      for (const field of declaration.fields) {
        const known = def ? schema.field(def, field.name) : undefined;
        if (!known) {
          additions.fields.push(field);
          entry.changed ||= Boolean(def);
        } else if (known.type !== field.type) {
          entry.problems.push(
            `${component.fullName}.${field.name}: is a ${known.type} field; this CRM does not change a field's type`,
          );
        }
      }
    }
    // Checked together on a copy of the org, so one object's fields may name another in the package.
    const problems = schemaProblems(mergedSchema(this.declared, additions));
    for (const problem of problems) {
      const owner =
        planned.find(
          (p) => p.component.type === 'CustomObject' && problem.startsWith(p.component.fullName),
        ) ?? planned.find((p) => p.component.type === 'CustomObject');
      owner?.problems.push(problem);
    }
    return { planned, additions };
  }

  private async apply(planned: PlannedComponent[], additions: CustomSchema, at: string): Promise<void> {
    const { database, schema } = this.deps;
    const problems = schema.declare(additions);
    if (problems.length > 0)
      throw new Error(`deploy planned against a changed schema: ${problems.join('; ')}`);
    await syncRecordTables(database, schema);
    this.declared = mergedSchema(this.declared, additions);
    const files = planned.map(({ component }) => ({
      type: component.type,
      fullName: component.fullName,
      fileName: component.fileName,
      content: component.content,
    }));
    const fields = (additions.fields ?? []).map((f) => ({
      type: ADDED_FIELD,
      fullName: `${f.object}.${f.name}`,
      fileName: `objects/${f.object}.object`,
      content: JSON.stringify(f),
    }));
    await store.upsertComponents(database.db, [...files, ...fields], at);
  }
}

function sameNameField(a: CustomObjectSpec, b: CustomObjectSpec): boolean {
  return a.nameField.type === b.nameField.type && a.nameField.displayFormat === b.nameField.displayFormat;
}

/** Why the org's custom schema could not be built, one reason each (none when it can). */
function schemaProblems(custom: CustomSchema): string[] {
  return new SchemaRegistry().declare(custom);
}
