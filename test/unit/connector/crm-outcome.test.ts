import { describe, expect, it } from 'vitest';
import {
  classifyAnswer,
  refusalFromThrown,
  refusalSummary,
  type SaveOutcome,
} from '../../../src/connector/domain/crm-outcome.js';

describe('how a record’s answer to a CRM write is taken', () => {
  const cases: Array<[string, SaveOutcome | undefined, 'written' | 'refused' | 'retry']> = [
    ['success', { success: true, id: '00Q' }, 'written'],
    [
      'a validation rule',
      { success: false, errors: [{ errorCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION', message: 'no' }] },
      'refused',
    ],
    [
      'a required field',
      { success: false, errors: [{ statusCode: 'REQUIRED_FIELD_MISSING', message: 'LastName' }] },
      'refused',
    ],
    [
      'a locked row',
      { success: false, errors: [{ statusCode: 'UNABLE_TO_LOCK_ROW', message: 'locked' }] },
      'retry',
    ],
    [
      'limits',
      { success: false, errors: [{ errorCode: 'REQUEST_LIMIT_EXCEEDED', message: 'limit' }] },
      'retry',
    ],
    [
      'an expired session',
      { success: false, errors: [{ errorCode: 'INVALID_SESSION_ID', message: 'expired' }] },
      'retry',
    ],
    ['no answer for the record', undefined, 'retry'],
    ['a failure without a code', { success: false, errors: [] }, 'refused'],
  ];
  it.each(cases)('%s', (_, answer, expected) => {
    expect(classifyAnswer(answer)).toBe(expected);
  });
});

describe('a refusal for the sync-error list', () => {
  it('takes the first error’s code and fields, and every message', () => {
    expect(
      refusalSummary({
        success: false,
        errors: [
          {
            errorCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION',
            message: 'Phone: digits only',
            fields: ['Phone'],
          },
          { statusCode: 'STRING_TOO_LONG', message: 'Title too long' },
        ],
      }),
    ).toEqual({
      code: 'FIELD_CUSTOM_VALIDATION_EXCEPTION',
      message: 'Phone: digits only; Title too long',
      fields: ['Phone'],
    });
  });

  it('names the written fields when the CRM names none, and says something when it says nothing', () => {
    expect(refusalSummary({ success: false }, ['Phone', 'Title'])).toEqual({
      code: null,
      message: 'the CRM refused the write',
      fields: ['Phone', 'Title'],
    });
  });
});

describe('a single-record save that threw', () => {
  it('is a refusal to record when the CRM refused it', () => {
    expect(
      refusalFromThrown(
        Object.assign(new Error('Company: required'), {
          errorCode: 'REQUIRED_FIELD_MISSING',
          data: { fields: ['Company'] },
        }),
      ),
    ).toEqual({
      success: false,
      errors: [{ errorCode: 'REQUIRED_FIELD_MISSING', message: 'Company: required', fields: ['Company'] }],
    });
  });

  it('is thrown on for a retry when it may pass later: no code, a 5xx, a lock, limits', () => {
    expect(refusalFromThrown(new Error('socket hang up'))).toBeNull();
    expect(refusalFromThrown(Object.assign(new Error('x'), { errorCode: 'ERROR_HTTP_503' }))).toBeNull();
    expect(refusalFromThrown(Object.assign(new Error('x'), { errorCode: 'UNABLE_TO_LOCK_ROW' }))).toBeNull();
    expect(
      refusalFromThrown(Object.assign(new Error('x'), { errorCode: 'REQUEST_LIMIT_EXCEEDED' })),
    ).toBeNull();
  });
});
