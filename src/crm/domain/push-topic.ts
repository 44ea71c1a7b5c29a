import { HandoffError } from '../../errors/handoff-error.js';
import { CHANGE_EVENT_ENTITIES } from './change-event.js';
import type { RecordValues } from './schema/field-def.js';
import type { SchemaRegistry } from './schema/schema-registry.js';
import type { Predicate, QueryPlan } from './soql/query-plan.js';
import { SoqlPlanner } from './soql/soql-planner.js';

/**
 * PushTopics (Streaming API): a topic's SOQL query says which records' changes it carries and
 * which fields each notification holds. Pure: the rules a topic's query must meet, and whether a
 * change concerns a topic at all before its record is matched against the query.
 */

/** What the streaming server needs of a PushTopic record. */
export interface PushTopic {
  name: string;
  query: string;
  /** The object the query reads. */
  object: string;
  /** Fields the query selects, and fields its WHERE clause reads (lower case). */
  selectFields: string[];
  whereFields: string[];
  notifyForFields: 'All' | 'Referenced' | 'Select' | 'Where';
  operations: { CREATE: boolean; UPDATE: boolean; DELETE: boolean; UNDELETE: boolean };
}

function invalid(message: string): HandoffError {
  return new HandoffError('INVALID_FIELD', `Query: ${message}`, { fields: ['Query'] });
}

function whereFieldNames(predicate: Predicate | null, out: Set<string>): Set<string> {
  if (!predicate) return out;
  switch (predicate.kind) {
    case 'and':
    case 'or':
      for (const item of predicate.items) whereFieldNames(item, out);
      break;
    case 'not':
      whereFieldNames(predicate.item, out);
      break;
    case 'search':
      for (const f of predicate.fields) out.add(f.name.toLowerCase());
      break;
    default:
      out.add(predicate.path.field.name.toLowerCase());
  }
  return out;
}

/**
 * Plans a topic's query and holds it to Salesforce's PushTopic rules: one object whose changes
 * are recorded, its own fields only, no ORDER BY, LIMIT, OFFSET, aggregates, subqueries or
 * semi-joins. Throws the field error a save of the topic answers.
 */
export function planTopicQuery(schema: SchemaRegistry, query: string, now: Date): QueryPlan {
  let plan: QueryPlan;
  try {
    plan = new SoqlPlanner(schema).plan(query, { includeDeleted: false, now });
  } catch (error) {
    throw invalid(error instanceof Error ? error.message : String(error));
  }
  if (!CHANGE_EVENT_ENTITIES.includes(plan.object.name))
    throw invalid(
      `PushTopics on ${plan.object.name} are not supported (${CHANGE_EVENT_ENTITIES.join(', ')} are)`,
    );
  if (plan.orderBy.length > 0 || plan.limit !== null || plan.offset > 0)
    throw invalid('ORDER BY, LIMIT and OFFSET are not allowed in a PushTopic query');
  if (plan.countOnly || plan.groupBy.length > 0 || plan.select.some((s) => s.kind !== 'field'))
    throw invalid('aggregates, GROUP BY and subqueries are not allowed in a PushTopic query');
  if (plan.select.some((s) => s.kind === 'field' && s.path.steps.length > 0))
    throw invalid('relationship fields are not allowed in a PushTopic query');
  const semiJoin = (p: Predicate | null): boolean =>
    p !== null &&
    (p.kind === 'semi' ||
      ((p.kind === 'and' || p.kind === 'or') && p.items.some(semiJoin)) ||
      (p.kind === 'not' && semiJoin(p.item)));
  if (semiJoin(plan.where)) throw invalid('semi-joins are not allowed in a PushTopic query');
  return plan;
}

/** The topic a saved PushTopic record describes (its query already checked on save). */
export function pushTopicOf(schema: SchemaRegistry, record: RecordValues, now: Date): PushTopic {
  const query = String(record.Query ?? '');
  const plan = planTopicQuery(schema, query, now);
  const notify = String(record.NotifyForFields ?? 'Referenced');
  return {
    name: String(record.Name ?? ''),
    query,
    object: plan.object.name,
    selectFields: plan.select.flatMap((s) => (s.kind === 'field' ? [s.path.field.name.toLowerCase()] : [])),
    whereFields: [...whereFieldNames(plan.where, new Set())],
    notifyForFields: (['All', 'Referenced', 'Select', 'Where'].includes(notify)
      ? notify
      : 'Referenced') as PushTopic['notifyForFields'],
    operations: {
      CREATE: record.NotifyForOperationCreate !== false,
      UPDATE: record.NotifyForOperationUpdate !== false,
      DELETE: record.NotifyForOperationDelete !== false,
      UNDELETE: record.NotifyForOperationUndelete !== false,
    },
  };
}

/** The notification type a change's type becomes (`created` …), or null for none (gaps). */
export function notificationType(changeType: string): 'created' | 'updated' | 'deleted' | 'undeleted' | null {
  switch (changeType) {
    case 'CREATE':
      return 'created';
    case 'UPDATE':
      return 'updated';
    case 'DELETE':
      return 'deleted';
    case 'UNDELETE':
      return 'undeleted';
    default:
      return null;
  }
}

/**
 * Whether a change is one the topic notifies of, before its record is matched: the operation
 * is on, and an update changed a field the topic's NotifyForFields watches.
 */
export function topicWatches(
  topic: PushTopic,
  changeType: string,
  changedFields: readonly string[],
): boolean {
  const operation = changeType as keyof PushTopic['operations'];
  if (!topic.operations[operation]) return false;
  if (changeType !== 'UPDATE' || topic.notifyForFields === 'All') return true;
  const watched =
    topic.notifyForFields === 'Select'
      ? topic.selectFields
      : topic.notifyForFields === 'Where'
        ? topic.whereFields
        : [...topic.selectFields, ...topic.whereFields];
  // A topic without a WHERE clause watching its WHERE fields hears of every update.
  if (topic.notifyForFields === 'Where' && watched.length === 0) return true;
  const changed = new Set(changedFields.flatMap(fieldNamesOfPath));
  return watched.some((f) => changed.has(f));
}

/**
 * The field names a change event's changed-field path stands for (lower case): a compound's
 * component names its field (`MailingAddress.City` is MailingCity, `Name.FirstName` FirstName)
 * and the compound itself (a Lead's Name changes with its LastName).
 */
function fieldNamesOfPath(path: string): string[] {
  const [compound, key] = path.toLowerCase().split('.');
  if (!compound || key === undefined) return [path.toLowerCase()];
  const prefix = compound.endsWith('address') ? compound.slice(0, -'address'.length) : '';
  return [compound, `${prefix}${key}`];
}

/** The rules a PushTopic or StreamingChannel record meets on every save (other objects: none). */
export function checkStreamingRecord(
  schema: SchemaRegistry,
  objectName: string,
  record: RecordValues,
  now: Date,
): void {
  if (objectName === 'PushTopic') planTopicQuery(schema, String(record.Query ?? ''), now);
  if (objectName === 'StreamingChannel' && !/^\/u\/[A-Za-z0-9_/]+$/.test(String(record.Name ?? '')))
    throw new HandoffError(
      'FIELD_INTEGRITY_EXCEPTION',
      'Streaming Channel Name: a channel name starts with /u/ and holds letters, digits, _ and /',
      { fields: ['Name'] },
    );
}
