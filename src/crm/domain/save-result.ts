import type { HandoffError } from '../../errors/handoff-error.js';

/** The outcome of one record in a write: what Collections and Composite report per record. */
export interface SaveResult {
  id: string | null;
  success: boolean;
  errors: HandoffError[];
  created?: boolean;
}

export function saved(id: string, created?: boolean): SaveResult {
  return created === undefined
    ? { id, success: true, errors: [] }
    : { id, success: true, errors: [], created };
}

export function failed(error: HandoffError, id: string | null = null): SaveResult {
  return { id, success: false, errors: [error] };
}
