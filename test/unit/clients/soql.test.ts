import { describe, expect, it } from 'vitest';
import { soqlDatetime, soqlList, soqlString } from '../../../src/clients/salesforce/soql.js';

describe('SOQL literals', () => {
  it('quotes a string so that it cannot end its quotes and add a clause', () => {
    expect(soqlString("O'Brien")).toBe("'O\\'Brien'");
    expect(soqlString("x' OR Name != '")).toBe("'x\\' OR Name != \\''");
    // A trailing backslash would otherwise escape the closing quote.
    expect(soqlString('a\\')).toBe("'a\\\\'");
    expect(soqlString("a\\' OR Id != '")).toBe("'a\\\\\\' OR Id != \\''");
  });

  it('lists ids for IN, each quoted', () => {
    expect(soqlList(['00Q1', "00Q2'"])).toBe("('00Q1', '00Q2\\'')");
  });

  it('writes an instant to the second, in UTC, as SOQL wants it', () => {
    expect(soqlDatetime('2026-12-06T12:34:56.789Z')).toBe('2026-12-06T12:34:56Z');
    expect(soqlDatetime('2026-12-06T13:34:56.789+01:00')).toBe('2026-12-06T12:34:56Z');
    expect(soqlDatetime(new Date(Date.UTC(2026, 0, 2, 3, 4, 5)))).toBe('2026-01-02T03:04:05Z');
  });
});
