import { faultRuleSchema } from '../../faults/fault-rules.js';

/** The CRM's own error faults, beside latency, drop and lost-answer. */
export const CRM_FAULT_KINDS = [
  'error-500', // 500 UNKNOWN_EXCEPTION, nothing applied
  'unavailable-503', // 503 SERVER_UNAVAILABLE, nothing applied
  'request-limit', // 403 REQUEST_LIMIT_EXCEEDED, nothing applied
  'lock', // 400 UNABLE_TO_LOCK_ROW, nothing applied
] as const;

export type CrmFaultKind = (typeof CRM_FAULT_KINDS)[number];

export const crmFaultRuleSchema = faultRuleSchema(CRM_FAULT_KINDS);
