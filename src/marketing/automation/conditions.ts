import type { StoreDb } from '../../store/database.js';
import type { Condition } from '../domain/automation.js';
import { GRADES } from '../domain/grading.js';
import type { Prospect } from '../domain/prospect.js';
import type { ProspectValue } from '../domain/prospect-fields.js';
import { hasActivity, isListMember } from './automation-store.js';

/** Grades compare by rank (`B-` is above `C+`); other values as numbers where both are. */
function rank(field: string, value: unknown): number | string | null {
  if (value === null || value === undefined || value === '') return null;
  if (field === 'grade') {
    const at = GRADES.indexOf(String(value) as (typeof GRADES)[number]);
    return at < 0 ? null : at;
  }
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) && String(value).trim() !== '' ? n : String(value).toLowerCase();
}

function fieldMatches(
  condition: Extract<Condition, { kind: 'field' }>,
  actual: ProspectValue | undefined,
): boolean {
  const { op, field } = condition;
  const empty = actual === null || actual === undefined || actual === '';
  if (op === 'isEmpty') return empty;
  if (op === 'isNotEmpty') return !empty;
  const left = rank(field, actual);
  const right = rank(field, condition.value);
  switch (op) {
    case 'equals':
      return left !== null && left === right;
    case 'notEquals':
      return left !== right;
    case 'contains':
      return (
        !empty &&
        String(actual)
          .toLowerCase()
          .includes(String(condition.value ?? '').toLowerCase())
      );
    default: {
      if (left === null || right === null || typeof left !== typeof right) return false;
      if (op === 'greaterThan') return left > right;
      if (op === 'atLeast') return left >= right;
      if (op === 'lessThan') return left < right;
      return left <= right;
    }
  }
}

/** Whether the prospect meets one condition, now. */
export async function meets(
  db: StoreDb,
  prospect: Prospect,
  condition: Condition,
  now: Date,
): Promise<boolean> {
  switch (condition.kind) {
    case 'inactive': {
      const last = prospect.values.lastActivityAt ?? prospect.values.createdAt;
      return typeof last === 'string' && now.getTime() - Date.parse(last) >= condition.days * 86_400_000;
    }
    case 'field':
      return fieldMatches(condition, prospect.values[condition.field]);
    case 'activity': {
      const { type, formId, formHandlerId, emailId } = condition;
      const found = await hasActivity(db, prospect.unitId, prospect.id, {
        type,
        formId,
        formHandlerId,
        emailId,
      });
      return found === condition.present;
    }
    case 'list':
      return (await isListMember(db, prospect.unitId, condition.listId, prospect.id)) === condition.member;
  }
}

/** Whether the prospect meets all (or any) of the conditions. */
export async function meetsAll(
  db: StoreDb,
  prospect: Prospect,
  conditions: Condition[],
  matchType: 'all' | 'any',
  now: Date,
): Promise<boolean> {
  for (const condition of conditions) {
    const met = await meets(db, prospect, condition, now);
    if (matchType === 'any' && met) return true;
    if (matchType === 'all' && !met) return false;
  }
  return matchType === 'all';
}
