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
