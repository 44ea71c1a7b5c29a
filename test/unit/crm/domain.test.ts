import { describe, expect, it } from 'vitest';
import { HandoffError } from '../../../src/errors/handoff-error.js';
import {
  coerceFieldValue,
  formatDatetime,
  parseDatetimeValue,
} from '../../../src/crm/domain/field-values.js';
import {
  formatId,
  IdAllocator,
  idChecksum,
  normalizeId,
  sequenceOf,
} from '../../../src/crm/domain/record-id.js';
import { field, picklist } from '../../../src/crm/domain/schema/field-def.js';
import { dateLiteralRange } from '../../../src/crm/domain/soql/date-literals.js';
import { SoqlPlanner } from '../../../src/crm/domain/soql/soql-planner.js';
import { SchemaRegistry } from '../../../src/crm/domain/schema/schema-registry.js';

const prefixes = (name: string) => ({ Account: '001', Contact: '003', Lead: '00Q', User: '005' })[name];

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error instanceof HandoffError ? error.code : 'not a HandoffError';
  }
}

describe('record ids', () => {
  it('computes the 18-character checksum the way Salesforce documents it', () => {
    // Worked examples published step by step for the 15 → 18 conversion.
    expect(idChecksum('0019000000B98de')).toBe('AAB');
    expect(idChecksum('a0D30000001n7Pi')).toBe('EAI');
    expect(normalizeId('a0D30000001n7Pi')).toBe('a0D30000001n7PiEAI');
  });

  it('accepts an 18-character id in any letter case and restores the canonical id', () => {
    expect(normalizeId('a0d30000001n7pieai')).toBe('a0D30000001n7PiEAI');
    expect(normalizeId('A0D30000001N7PIEAI')).toBe('a0D30000001n7PiEAI');
    expect(normalizeId('0019000000B98deAAB')).toBe('0019000000B98deAAB');
  });

  it('rejects what is not an id', () => {
    expect(normalizeId('abc')).toBeNull();
    expect(normalizeId('001A0000006Vm9r!AE')).toBeNull();
    expect(normalizeId('001A0000006Vm9-')).toBeNull();
  });

  it('issues ids in creation order and continues after the highest stored one', () => {
    const ids = new IdAllocator();
    ids.seed('00Q', formatId('00Q', 61));
    const [a, b] = [ids.allocate('00Q'), ids.allocate('00Q')];
    expect(sequenceOf(a)).toBe(62);
    expect(a < b).toBe(true);
    expect(normalizeId(a)).toBe(a);
  });
});

describe('field values', () => {
  const email = field('Email', 'email');
  const name = field('FirstName', 'string', { length: 5 });
  const employees = field('NumberOfEmployees', 'int', { precision: 3 });
  const revenue = field('AnnualRevenue', 'currency');
  const status = picklist('Status', ['Open', 'Closed'], { restrictedPicklist: true });

  it('stores empty text as null, as Salesforce does', () => {
    expect(coerceFieldValue(name, '', prefixes)).toBeNull();
  });

  it('rejects values with the error code Salesforce uses', () => {
    expect(codeOf(() => coerceFieldValue(email, 'nope', prefixes))).toBe('INVALID_EMAIL_ADDRESS');
    expect(codeOf(() => coerceFieldValue(name, 'toolong', prefixes))).toBe('STRING_TOO_LONG');
    expect(codeOf(() => coerceFieldValue(employees, 'ten', prefixes))).toBe('JSON_PARSER_ERROR');
    expect(codeOf(() => coerceFieldValue(employees, 12345, prefixes))).toBe('NUMBER_OUTSIDE_VALID_RANGE');
    expect(codeOf(() => coerceFieldValue(status, 'Maybe', prefixes))).toBe(
      'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
    );
    expect(
      codeOf(() =>
        coerceFieldValue(field('AccountId', 'reference', { referenceTo: ['Account'] }), 'x', prefixes),
      ),
    ).toBe('MALFORMED_ID');
    expect(
      codeOf(() =>
        coerceFieldValue(
          field('AccountId', 'reference', { referenceTo: ['Account'] }),
          '003A0000006Vm9r',
          prefixes,
        ),
      ),
    ).toBe('FIELD_INTEGRITY_EXCEPTION');
  });

  it('rounds currency to its scale and reads numeric strings', () => {
    expect(coerceFieldValue(revenue, '1234.567', prefixes)).toBe(1234.57);
    expect(coerceFieldValue(employees, '42', prefixes)).toBe(42);
  });

  it('reads Salesforce’s +0000 datetimes and writes them back the same way', () => {
    expect(parseDatetimeValue('2026-01-02T03:04:05.000+0000')).toBe('2026-01-02T03:04:05.000Z');
    expect(parseDatetimeValue('2026-01-02T05:04:05+02:00')).toBe('2026-01-02T03:04:05.000Z');
    expect(parseDatetimeValue('yesterday')).toBeNull();
    expect(formatDatetime('2026-01-02T03:04:05.000Z')).toBe('2026-01-02T03:04:05.000+0000');
  });
});

describe('date literals', () => {
  const now = new Date('2026-11-22T15:30:00Z'); // a Sunday

  it('covers whole UTC days', () => {
    expect(dateLiteralRange('TODAY', now)).toEqual({
      start: new Date('2026-11-22T00:00:00Z'),
      end: new Date('2026-11-23T00:00:00Z'),
    });
    expect(dateLiteralRange('LAST_N_DAYS:7', now)).toEqual({
      start: new Date('2026-11-15T00:00:00Z'),
      end: new Date('2026-11-23T00:00:00Z'),
    });
    expect(dateLiteralRange('THIS_MONTH', now)).toEqual({
      start: new Date('2026-11-01T00:00:00Z'),
      end: new Date('2026-12-01T00:00:00Z'),
    });
    expect(dateLiteralRange('THIS_WEEK', now).start).toEqual(new Date('2026-11-22T00:00:00Z'));
    expect(dateLiteralRange('LAST_QUARTER', now)).toEqual({
      start: new Date('2026-07-01T00:00:00Z'),
      end: new Date('2026-10-01T00:00:00Z'),
    });
  });

  it('rejects an unknown literal', () => {
    expect(codeOf(() => dateLiteralRange('SOMEDAY', now))).toBe('MALFORMED_QUERY');
  });
});

describe('SOQL planning', () => {
  const planner = new SoqlPlanner(new SchemaRegistry());
  const plan = (q: string) => planner.plan(q, { includeDeleted: false, now: new Date() });

  it('binds AND tighter than OR, and NOT tighter than AND', () => {
    const p = plan("SELECT Id FROM Lead WHERE Email = 'a' OR LastName = 'b' AND NOT Company = 'c'");
    expect(p.where?.kind).toBe('or');
    const or = p.where as { kind: 'or'; items: Array<{ kind: string; items?: Array<{ kind: string }> }> };
    expect(or.items.map((i) => i.kind)).toEqual(['compare', 'and']);
    expect(or.items[1]?.items?.map((i) => i.kind)).toEqual(['compare', 'not']);
  });

  it('resolves names case-insensitively to their canonical form', () => {
    const p = plan('select id, owner.name from lead order by lastname');
    expect(p.object.name).toBe('Lead');
    expect(
      p.select.map((s) =>
        s.kind === 'field' ? [...s.path.steps.map((x) => x.name), s.path.field.name].join('.') : '',
      ),
    ).toEqual(['Id', 'Owner.Name']);
  });

  it('refuses an OFFSET above 2,000', () => {
    expect(codeOf(() => plan('SELECT Id FROM Lead OFFSET 2001'))).toBe('MALFORMED_QUERY');
  });
});
