import { field, picklist, reference, type FieldDef, type ObjectDef } from './field-def.js';

/**
 * `ActivityHistory` and `OpenActivity`: Salesforce's read-only views of a record's Tasks and
 * Events, past (closed Tasks, Events that have ended) and open (the rest). They have no records
 * of their own and no key prefix, and are read only as a parent's subquery:
 * `(SELECT Subject, What.Name FROM ActivityHistories)` on an Account, Contact, Lead,
 * Opportunity, Campaign or Case. The store serves each from a view over the Task and Event tables.
 */
export const ACTIVITY_VIEWS = ['ActivityHistory', 'OpenActivity'] as const;
export type ActivityView = (typeof ACTIVITY_VIEWS)[number];

const readOnly = { createable: false, updateable: false } as const;

function activityFields(children: string): FieldDef[] {
  const system = { ...readOnly, system: true };
  return [
    field('Id', 'id', { ...system, nillable: false, label: 'Activity ID' }),
    field('IsDeleted', 'boolean', { ...system, label: 'Deleted' }),
    field('CreatedDate', 'datetime', system),
    reference('CreatedById', ['User'], { ...system, relationshipName: 'CreatedBy' }),
    field('LastModifiedDate', 'datetime', system),
    reference('LastModifiedById', ['User'], { ...system, relationshipName: 'LastModifiedBy' }),
    field('SystemModstamp', 'datetime', system),
    reference('OwnerId', ['User'], { ...readOnly, relationshipName: 'Owner' }),
    // The Account each activity counts toward: its What when an Account, else its Contact's or
    // Opportunity's Account. Listed before WhatId, so an Account's children go through it.
    reference('AccountId', ['Account'], { ...readOnly, childRelationshipName: children }),
    reference('WhoId', ['Contact', 'Lead'], {
      ...readOnly,
      relationshipName: 'Who',
      childRelationshipName: children,
    }),
    reference('WhatId', ['Account', 'Opportunity', 'Campaign', 'Case'], {
      ...readOnly,
      relationshipName: 'What',
      childRelationshipName: children,
    }),
    field('Subject', 'string', { ...readOnly, length: 255 }),
    field('IsTask', 'boolean', { ...readOnly, label: 'Task' }),
    field('ActivityDate', 'date', { ...readOnly, label: 'Due Date Only' }),
    field('ActivityDateTime', 'datetime', { ...readOnly, label: 'Due Date Time' }),
    field('EndDateTime', 'datetime', readOnly),
    field('DurationInMinutes', 'int', { ...readOnly, label: 'Duration' }),
    field('IsAllDayEvent', 'boolean', { ...readOnly, label: 'All-Day Event' }),
    picklist('Status', [], readOnly),
    picklist('Priority', [], readOnly),
    picklist('ActivityType', [], { ...readOnly, label: 'Activity Type' }),
    field('IsClosed', 'boolean', { ...readOnly, label: 'Closed' }),
    field('Location', 'string', { ...readOnly, length: 255 }),
    field('Description', 'textarea', readOnly),
  ];
}

function view(name: ActivityView, labelPlural: string, children: string): ObjectDef {
  return {
    name,
    label: name.replace(/([a-z])([A-Z])/g, '$1 $2'),
    labelPlural,
    keyPrefix: '',
    table: `crm_${name.toLowerCase()}`,
    createable: false,
    updateable: false,
    deletable: false,
    view: true,
    fields: activityFields(children),
  };
}

export function activityViews(): ObjectDef[] {
  return [
    view('ActivityHistory', 'Activity Histories', 'ActivityHistories'),
    view('OpenActivity', 'Open Activities', 'OpenActivities'),
  ];
}
