import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { CrmServices } from '../crm-services.js';
import type { FieldDef, ObjectDef } from '../domain/schema/field-def.js';
import type { ChildRelationship } from '../domain/schema/schema-registry.js';
import { describeField } from './record-wire.js';

const typeParams = z.object({ type: z.string() });
const namedParams = typeParams.extend({ name: z.string() });

/** The fields a page shows: what a user can fill in, then what the system keeps. */
function pageFields(def: ObjectDef): FieldDef[] {
  const visible = def.fields.filter((f) => !f.name.startsWith('Is') || f.name === 'IsActive');
  return [...visible.filter((f) => !f.system), ...visible.filter((f) => f.system && f.name !== 'Id')];
}

function layoutItem(f: FieldDef | undefined, editable: boolean) {
  if (!f)
    return {
      editableForNew: false,
      editableForUpdate: false,
      label: '',
      layoutComponents: [],
      placeholder: true,
      required: false,
    };
  return {
    editableForNew: editable && f.createable,
    editableForUpdate: editable && f.updateable,
    label: f.label,
    layoutComponents: [
      { details: describeField(f), displayLines: 1, tabOrder: 0, type: 'Field', value: f.name },
    ],
    placeholder: false,
    required: f.required,
  };
}

/** One two-column section of a page layout, as describe/layouts writes it. */
function section(heading: string, fields: FieldDef[], editable: boolean) {
  const rows = [];
  for (let i = 0; i < fields.length; i += 2) {
    const items = [layoutItem(fields[i], editable), layoutItem(fields[i + 1], editable)];
    rows.push({ layoutItems: items, numItems: items.length });
  }
  return {
    collapsed: false,
    columns: 2,
    heading,
    layoutRows: rows,
    layoutSectionId: null,
    parentLayoutId: null,
    rows: rows.length,
    tabOrder: 'TopToBottom',
    useCollapsibleSection: false,
    useHeading: true,
  };
}

function relatedList(r: ChildRelationship) {
  return {
    buttons: [],
    columns: [
      {
        field: `${r.child.name}.Name`,
        fieldApiName: 'Name',
        format: null,
        label: 'Name',
        lookupId: null,
        name: 'Name',
        sortable: true,
      },
    ],
    custom: false,
    field: r.field.name,
    label: r.child.labelPlural,
    limitRows: 5,
    name: r.name,
    sobject: r.child.name,
    sort: [],
  };
}

/** The one page layout every object has here, built from its fields and child relationships. */
function pageLayout(def: ObjectDef, children: ChildRelationship[]) {
  const fields = pageFields(def);
  return {
    buttonLayoutSection: { detailButtons: [] },
    detailLayoutSections: [section(`${def.label} Information`, fields, false)],
    editLayoutSections: [
      section(
        `${def.label} Information`,
        fields.filter((f) => f.createable || f.updateable),
        true,
      ),
    ],
    feedView: null,
    highlightsPanelLayoutSection: null,
    id: null,
    multirowEditLayoutSections: [],
    offlineLinks: [],
    quickActionList: { quickActionListItems: [] },
    relatedContent: null,
    relatedLists: children.filter((r) => r.child.fields.some((f) => f.name === 'Name')).map(relatedList),
    saveOptions: [],
  };
}

/** The object's compact layout (what a record's highlights show): its name and first fields. */
function compactLayout(def: ObjectDef) {
  const names = ['Name', 'Title', 'Company', 'Email', 'Phone', 'Subject', 'Status', 'OwnerId'];
  const fields = names.map((n) => def.fields.find((f) => f.name === n)).filter((f): f is FieldDef => !!f);
  return {
    actions: [],
    fieldItems: fields.map((f) => layoutItem(f, false)),
    id: null,
    imageItems: [],
    label: 'System Default',
    name: 'SYSTEM',
    objectType: def.name,
  };
}

/**
 * `describe/layouts`, `describe/compactLayouts`, `describe/namedLayouts/{name}` and
 * `describe/approvalLayouts`: one layout per object, made from its schema, for the clients that
 * read layouts to draw a form (jsforce's layouts(), compactLayouts() …). There are no record
 * types, so no record-type mappings.
 */
export function layoutRoutes(app: FastifyInstance, services: CrmServices): void {
  const { records, schema } = services;

  app.get('/sobjects/:type/describe/layouts', async (request) => {
    const def = records.objectDef(typeParams.parse(request.params).type);
    return {
      layouts: [pageLayout(def, schema.childRelationships(def))],
      recordTypeMappings: [],
      recordTypeSelectorRequired: [false],
    };
  });

  app.get('/sobjects/:type/describe/namedLayouts/:name', async (request) => {
    const { type } = namedParams.parse(request.params);
    const def = records.objectDef(type);
    return {
      layouts: [pageLayout(def, schema.childRelationships(def))],
      recordTypeMappings: [],
      recordTypeSelectorRequired: [false],
    };
  });

  app.get('/sobjects/:type/describe/compactLayouts', async (request) => {
    const def = records.objectDef(typeParams.parse(request.params).type);
    return {
      compactLayouts: [compactLayout(def)],
      defaultCompactLayoutId: null,
      recordTypeCompactLayoutMappings: [],
    };
  });

  app.get('/sobjects/:type/describe/approvalLayouts', async (request) => {
    records.objectDef(typeParams.parse(request.params).type);
    return { approvalLayouts: [] };
  });
}
