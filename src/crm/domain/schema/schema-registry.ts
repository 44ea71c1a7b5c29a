import type { CustomFieldConfig } from '../../crm-config.js';
import { activityViews } from './activity-objects.js';
import { customObjectDef, derivedKeyPrefix, type CustomObjectSpec } from './custom-objects.js';
import { field, reference, type FieldDef, type ObjectDef } from './field-def.js';
import { standardObjects } from './standard-objects.js';

/** What an org declares beside the standard objects: custom objects, then custom fields on any object. */
export interface CustomSchema {
  objects?: CustomObjectSpec[];
  fields?: CustomFieldConfig[];
}

/** A parent's view of the records that point at it: `Contacts` of an Account, through AccountId. */
export interface ChildRelationship {
  child: ObjectDef;
  field: FieldDef;
  name: string;
}

/**
 * The org's schema: standard objects plus the custom objects and fields declared in config. Names
 * are matched case-insensitively, as Salesforce does, and always answered in canonical case.
 */
export class SchemaRegistry {
  private readonly objects = new Map<string, ObjectDef>();
  private readonly fieldsByObject = new Map<string, Map<string, FieldDef>>();
  private readonly objectsByPrefix = new Map<string, ObjectDef>();

  constructor(custom: CustomSchema = {}) {
    for (const def of standardObjects()) this.add(def);
    for (const def of activityViews()) this.add(def);
    const problems = this.declare(custom);
    if (problems.length > 0) throw new Error(`invalid custom schema:\n  ${problems.join('\n  ')}`);
  }

  /**
   * Adds custom objects, then custom fields (which may name them), as the org declares them in
   * config or deploys them. Answers what could not be added; everything else is.
   */
  declare(custom: CustomSchema): string[] {
    const problems: string[] = [];
    for (const object of custom.objects ?? []) {
      const problem = this.addCustomObject(object);
      if (problem) problems.push(problem);
    }
    for (const declared of custom.fields ?? []) {
      const problem = this.addCustomField(declared);
      if (problem) problems.push(problem);
    }
    return problems;
  }

  private add(def: ObjectDef): void {
    this.objects.set(def.name.toLowerCase(), def);
    if (!def.view) this.objectsByPrefix.set(def.keyPrefix, def);
    this.fieldsByObject.set(
      def.name.toLowerCase(),
      new Map(def.fields.map((f) => [f.name.toLowerCase(), f])),
    );
  }

  private addCustomObject(spec: CustomObjectSpec): string | null {
    if (this.object(spec.name)) return `${spec.name}: already defined`;
    const keyPrefix = spec.keyPrefix ?? derivedKeyPrefix(spec.name);
    const holder = this.objectForPrefix(keyPrefix);
    if (holder) {
      return `${spec.name}: key prefix ${keyPrefix} is ${holder.name}'s; give one of them its own keyPrefix (a01 … azz)`;
    }
    this.add(customObjectDef(spec, keyPrefix));
    return null;
  }

  private addCustomField(custom: CustomFieldConfig): string | null {
    const def = this.object(custom.object);
    if (!def) return `${custom.object}.${custom.name}: no such object`;
    if (this.field(def, custom.name)) return `${def.name}.${custom.name}: already defined`;
    if (custom.type === 'reference') {
      const targets = custom.referenceTo ?? [];
      const unknown = targets.filter((t) => !this.object(t));
      if (targets.length === 0 || unknown.length > 0) {
        return `${def.name}.${custom.name}: referenceTo must name existing objects`;
      }
    }
    if (custom.type === 'picklist' && (custom.picklistValues ?? []).length === 0) {
      return `${def.name}.${custom.name}: a picklist needs picklistValues`;
    }
    const options = {
      label: custom.label,
      length: custom.length,
      precision: custom.precision,
      scale: custom.scale,
      externalId: custom.externalId,
      unique: custom.unique,
      nillable: !custom.required,
      picklistValues: custom.picklistValues,
      restrictedPicklist: custom.restrictedPicklist,
      childRelationshipName: custom.childRelationshipName ?? null,
      custom: true,
    };
    const fieldDef =
      custom.type === 'reference'
        ? reference(
            custom.name,
            (custom.referenceTo ?? []).map((t) => this.object(t)?.name ?? t),
            options,
          )
        : field(custom.name, custom.type, options);
    // A new definition rather than a changed one: what was worked out from the old (defaults,
    // change-event placements) is keyed by the definition, and is worked out again.
    this.add({ ...def, fields: [...def.fields, fieldDef] });
    return null;
  }

  /** The objects that have records of their own (not the activity views), in the order declared. */
  allObjects(): ObjectDef[] {
    return [...this.objects.values()].filter((def) => !def.view);
  }

  object(name: string): ObjectDef | undefined {
    return this.objects.get(name.toLowerCase());
  }

  objectForPrefix(keyPrefix: string): ObjectDef | undefined {
    return this.objectsByPrefix.get(keyPrefix);
  }

  field(def: ObjectDef, name: string): FieldDef | undefined {
    return this.fieldsByObject.get(def.name.toLowerCase())?.get(name.toLowerCase());
  }

  /**
   * The objects that point at `def` through a named child relationship (Account → Contacts …),
   * each name once: where two of a child's fields could (an activity's AccountId and WhatId),
   * the first declared is the relationship.
   */
  childRelationships(def: ObjectDef): ChildRelationship[] {
    const out: ChildRelationship[] = [];
    const named = new Set<string>();
    for (const child of this.objects.values()) {
      for (const f of child.fields) {
        if (!f.childRelationshipName || !f.referenceTo.includes(def.name)) continue;
        if (named.has(f.childRelationshipName)) continue;
        named.add(f.childRelationshipName);
        out.push({ child, field: f, name: f.childRelationshipName });
      }
    }
    return out;
  }

  /**
   * The child relationship of `def` called `name` (`Contacts` of Account). Polymorphic ones
   * (Tasks through WhoId and WhatId) resolve to the field that can point at `def`.
   */
  childRelationship(def: ObjectDef, name: string): ChildRelationship | undefined {
    const lower = name.toLowerCase();
    return this.childRelationships(def).find((r) => r.name.toLowerCase() === lower);
  }

  /** The reference field whose relationship is `name` (Owner → OwnerId, Account → AccountId, Foo__r → Foo__c). */
  relationship(def: ObjectDef, name: string): FieldDef | undefined {
    const lower = name.toLowerCase();
    return def.fields.find((f) => f.relationshipName?.toLowerCase() === lower);
  }
}
