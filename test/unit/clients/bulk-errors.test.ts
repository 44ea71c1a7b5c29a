import { describe, expect, it } from 'vitest';
import { parseBulkError } from '../../../src/clients/salesforce/bulk-errors.js';

describe('a Bulk result row’s sf__Error', () => {
  it.each([
    [
      'REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --',
      {
        errorCode: 'REQUIRED_FIELD_MISSING',
        message: 'Required fields are missing: [LastName]',
        fields: ['LastName'],
      },
    ],
    [
      'FIELD_CUSTOM_VALIDATION_EXCEPTION:See https://example.com/rules: a phone is needed:Phone,MobilePhone --',
      {
        errorCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION',
        message: 'See https://example.com/rules: a phone is needed',
        fields: ['Phone', 'MobilePhone'],
      },
    ],
    [
      'DUPLICATES_DETECTED:Use one of these records?: --',
      { errorCode: 'DUPLICATES_DETECTED', message: 'Use one of these records?', fields: [] },
    ],
    [
      'INVALID_CROSS_REFERENCE_KEY:invalid cross reference id',
      { errorCode: 'INVALID_CROSS_REFERENCE_KEY', message: 'invalid cross reference id', fields: [] },
    ],
    ['UNKNOWN_EXCEPTION', { errorCode: 'UNKNOWN_EXCEPTION', message: '', fields: [] }],
  ])('%s', (text, expected) => {
    expect(parseBulkError(text)).toEqual(expected);
  });
});
