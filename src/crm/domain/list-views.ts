import { formatId } from './record-id.js';
import type { ObjectDef } from './schema/field-def.js';

/** A list view: a named SOQL query over an object, with the columns a list shows. */
export interface ListView {
  id: string;
  developerName: string;
  label: string;
  object: ObjectDef;
  columns: string[];
  query: string;
}

/** The columns an object's lists show: its name and the fields people scan a list by. */
const LIST_COLUMNS: Record<string, string[]> = {
  Account: ['Name', 'BillingState', 'Phone', 'Type', 'OwnerId'],
  Contact: ['Name', 'AccountId', 'Title', 'Phone', 'Email', 'OwnerId'],
  Lead: ['Name', 'Title', 'Company', 'Phone', 'Email', 'Status', 'OwnerId'],
  Opportunity: ['Name', 'AccountId', 'Amount', 'CloseDate', 'StageName', 'OwnerId'],
  Campaign: ['Name', 'Type', 'Status', 'StartDate', 'EndDate', 'IsActive'],
  Case: ['CaseNumber', 'Subject', 'Status', 'Priority', 'OwnerId'],
  Task: ['Subject', 'WhoId', 'WhatId', 'ActivityDate', 'Status', 'OwnerId'],
  Event: ['Subject', 'WhoId', 'WhatId', 'ActivityDate', 'OwnerId'],
  User: ['Name', 'Alias', 'Username', 'IsActive'],
};

/** The list view's key prefix, as Salesforce's. */
const LIST_VIEW_PREFIX = '00B';

/**
 * Each object's list views: "All {records}" and "Recently Viewed" (what FOR VIEW stamps), with
 * ids that are stable for the object, so a client can keep one. Pure.
 */
export function listViewsOf(def: ObjectDef, index: number): ListView[] {
  const fieldNames = new Set(def.fields.map((f) => f.name));
  const columns = (LIST_COLUMNS[def.name] ?? ['Name']).filter((c) => fieldNames.has(c));
  if (!columns.includes('Id')) columns.push('Id');
  const select = columns.join(', ');
  const order = fieldNames.has('Name') ? 'Name ASC NULLS FIRST, Id ASC NULLS FIRST' : 'Id ASC NULLS FIRST';
  const views: ListView[] = [
    {
      id: formatId(LIST_VIEW_PREFIX, index * 2 + 1),
      developerName: `All${def.name.replace(/[^A-Za-z0-9]/g, '')}s`,
      label: `All ${def.labelPlural}`,
      object: def,
      columns,
      query: `SELECT ${select} FROM ${def.name} ORDER BY ${order}`,
    },
  ];
  if (fieldNames.has('LastViewedDate')) {
    views.push({
      id: formatId(LIST_VIEW_PREFIX, index * 2 + 2),
      developerName: 'RecentlyViewed',
      label: `Recently Viewed ${def.labelPlural}`,
      object: def,
      columns,
      query: `SELECT ${select} FROM ${def.name} WHERE LastViewedDate != NULL ORDER BY LastViewedDate DESC NULLS LAST, Id DESC NULLS LAST`,
    });
  }
  return views;
}
