/** What kind of trouble a refused write is, so an admin can fix a whole kind at once. */
export const ERROR_CATEGORIES = [
  'validation',
  'required-field',
  'duplicate',
  'permission',
  'limits',
  'other',
] as const;
export type ErrorCategory = (typeof ERROR_CATEGORIES)[number];

/** A refused write's category from the side's error code (Salesforce's names, Account Engagement's numbers). */
export function categorize(code: string | number | null | undefined): ErrorCategory {
  const c = String(code ?? '');
  if (
    [
      'FIELD_CUSTOM_VALIDATION_EXCEPTION',
      'INVALID_EMAIL_ADDRESS',
      'STRING_TOO_LONG',
      'INVALID_TYPE_ON_FIELD_IN_RECORD',
      'INVALID_FIELD',
      'JSON_PARSER_ERROR',
      '4',
      '62',
    ].includes(c)
  ) {
    return 'validation';
  }
  if (c === 'REQUIRED_FIELD_MISSING') return 'required-field';
  if (['DUPLICATE_VALUE', 'DUPLICATES_DETECTED'].includes(c)) return 'duplicate';
  if (c.startsWith('INSUFFICIENT_ACCESS') || c === 'INVALID_CROSS_REFERENCE_KEY') return 'permission';
  if (['REQUEST_LIMIT_EXCEEDED', '66', '122'].includes(c)) return 'limits';
  return 'other';
}

/** What to do about each kind of refusal: the console and the CLI show it beside the error. */
export const ERROR_HINTS: Record<ErrorCategory, string> = {
  validation:
    'A value the other side rejects (a validation rule, a format): correct the value on either record, or change the rule, then Retry.',
  'required-field':
    'A field the other side requires is empty: fill it on either record (or map a field that has it), then Retry.',
  duplicate: 'The other side found a duplicate: merge the records, or change the duplicate rule, then Retry.',
  permission:
    'The sync user may not do this: grant it access to the object and fields (or the record), then Retry.',
  limits: 'An API limit was reached: it clears by itself; Retry once the limit resets.',
  other:
    'Read the message; fix the cause on either record, then Retry, or Skip to leave the record as it is.',
};

/** The hint for a stored category (an unknown one gets the general hint). */
export function errorHint(category: string): string {
  return ERROR_HINTS[category as ErrorCategory] ?? ERROR_HINTS.other;
}
