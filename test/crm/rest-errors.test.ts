import SqliteDatabase from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { updateRecord } from '../../src/crm/store/record-store.js';
import { startTestCrm, type TestCrm } from '../support/crm-server.js';
import { buildLead, HOT_LEADS_NEED_PHONE, leadKeyField } from '../support/factories.js';

type ErrorBody = Array<{ errorCode: string; message: string; fields?: string[]; duplicateResult?: unknown }>;

async function errorOf(response: Response): Promise<{ status: number; body: ErrorBody }> {
  return { status: response.status, body: (await response.json()) as ErrorBody };
}

describe('REST error responses', () => {
  let crm: TestCrm;

  beforeAll(async () => {
    crm = await startTestCrm({
      busyTimeoutMs: 50,
      config: {
        customFields: [leadKeyField('Badge__c', { length: 20, externalId: false })],
        validationRules: [HOT_LEADS_NEED_PHONE],
        duplicateRules: [{ object: 'Lead', field: 'Email', action: 'block' }],
      },
    });
  });

  afterAll(async () => {
    await crm.close();
  });

  const createLead = (body: Record<string, unknown>) =>
    crm.api('/sobjects/Lead', { method: 'POST', body: JSON.stringify(body) });
  const leadCount = async () => {
    const r = await crm.api(`/query?q=${encodeURIComponent('SELECT COUNT() FROM Lead')}`);
    return ((await r.json()) as { totalSize: number }).totalSize;
  };

  it('answers 401 INVALID_SESSION_ID without a token or with a bad one', async () => {
    for (const auth of [false, 'not-a-token'] as const) {
      const { status, body } = await errorOf(await crm.api('/sobjects/Lead', { auth }));
      expect(status).toBe(401);
      expect(body).toEqual([{ errorCode: 'INVALID_SESSION_ID', message: 'Session expired or invalid' }]);
    }
  });

  it('accepts the OAuth scheme as well as Bearer, as Salesforce does', async () => {
    const token = await crm.token();
    const response = await fetch(`${crm.url}/services/data/v60.0/limits`, {
      headers: { authorization: `OAuth ${token}` },
    });
    expect(response.status).toBe(200);
  });

  it('reports api usage on every data response in Sforce-Limit-Info', async () => {
    const response = await crm.api('/limits');
    expect(response.headers.get('sforce-limit-info')).toMatch(/^api-usage=\d+\/100000$/);
  });

  it('answers 400 REQUIRED_FIELD_MISSING naming the fields, and creates nothing', async () => {
    const before = await leadCount();
    const { status, body } = await errorOf(await createLead({ FirstName: 'No', Email: 'no@x.com' }));
    expect(status).toBe(400);
    expect(body).toEqual([
      {
        errorCode: 'REQUIRED_FIELD_MISSING',
        message: 'Required fields are missing: [LastName, Company]',
        fields: ['LastName', 'Company'],
      },
    ]);
    expect(await leadCount()).toBe(before);
  });

  it('answers FIELD_CUSTOM_VALIDATION_EXCEPTION with the rule’s message when a validation rule fails', async () => {
    const { status, body } = await errorOf(await createLead(buildLead({ Rating: 'Hot' })));
    expect(status).toBe(400);
    expect(body).toEqual([
      {
        errorCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION',
        message: 'A hot lead needs a phone number',
        fields: ['Phone'],
      },
    ]);
    expect((await createLead(buildLead({ Rating: 'Hot', Phone: '555' }))).status).toBe(201);
  });

  it('answers INVALID_FIELD for an unknown field', async () => {
    const { status, body } = await errorOf(await createLead(buildLead({ Shoe_Size__c: 42 })));
    expect(status).toBe(400);
    expect(body[0]).toMatchObject({
      errorCode: 'INVALID_FIELD',
      message: "No such column 'Shoe_Size__c' on sobject of type Lead",
    });
  });

  it('answers INVALID_TYPE for an unknown object in SOQL and in Collections', async () => {
    const q = await errorOf(await crm.api(`/query?q=${encodeURIComponent('SELECT Id FROM Spaceship__c')}`));
    expect(q.status).toBe(400);
    expect(q.body[0]?.errorCode).toBe('INVALID_TYPE');
    const c = await crm.api('/composite/sobjects', {
      method: 'POST',
      body: JSON.stringify({ records: [{ attributes: { type: 'Spaceship__c' }, Name: 'x' }] }),
    });
    expect(c.status).toBe(200);
    expect(
      ((await c.json()) as Array<{ errors: Array<{ statusCode: string }> }>)[0]?.errors[0]?.statusCode,
    ).toBe('INVALID_TYPE');
  });

  it('answers 404 NOT_FOUND for an unknown object or record, and MALFORMED_ID for a bad id', async () => {
    expect((await errorOf(await crm.api('/sobjects/Spaceship__c/describe'))).status).toBe(404);
    const missing = await errorOf(await crm.api('/sobjects/Lead/00Q5g0000009999EAA'));
    expect(missing).toEqual({
      status: 404,
      body: [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }],
    });
    const malformed = await errorOf(
      await crm.api('/sobjects/Lead/not-an-id', { method: 'PATCH', body: '{"Company":"x"}' }),
    );
    expect(malformed.status).toBe(400);
    expect(malformed.body[0]?.errorCode).toBe('MALFORMED_ID');
    const wrongPrefix = await errorOf(await crm.api('/sobjects/Lead/0015g0000000001AAA'));
    expect(wrongPrefix.body[0]?.errorCode).toBe('MALFORMED_ID');
  });

  it('answers MALFORMED_QUERY for bad SOQL and for constructs it does not support, naming them', async () => {
    const bad = await errorOf(await crm.api(`/query?q=${encodeURIComponent('SELEKT Id FROM Lead')}`));
    expect(bad.status).toBe(400);
    expect(bad.body[0]?.errorCode).toBe('MALFORMED_QUERY');
    const semiJoin = await errorOf(
      await crm.api(
        `/query?q=${encodeURIComponent('SELECT Id FROM Lead WHERE Id IN (SELECT LeadId FROM CampaignMember WHERE LeadId IN (SELECT Id FROM Lead))')}`,
      ),
    );
    expect(semiJoin.body[0]).toMatchObject({
      errorCode: 'MALFORMED_QUERY',
      message: expect.stringContaining('semi join'),
    });
  });

  it('answers ENTITY_IS_DELETED for a record in the recycle bin', async () => {
    const { id } = (await (await createLead(buildLead())).json()) as { id: string };
    expect((await crm.api(`/sobjects/Lead/${id}`, { method: 'DELETE' })).status).toBe(204);
    for (const method of ['GET', 'PATCH', 'DELETE']) {
      const r = await errorOf(
        await crm.api(`/sobjects/Lead/${id}`, {
          method,
          ...(method === 'PATCH' ? { body: '{"Company":"x"}' } : {}),
        }),
      );
      expect(r.status).toBe(404);
      expect(r.body[0]?.errorCode).toBe('ENTITY_IS_DELETED');
    }
  });

  it('answers DUPLICATES_DETECTED with the duplicate result when a blocking duplicate rule matches, case-insensitively', async () => {
    const lead = buildLead({ Email: 'twin@example.com' });
    const { id } = (await (await createLead(lead)).json()) as { id: string };
    const before = await leadCount();
    const { status, body } = await errorOf(await createLead(buildLead({ Email: 'TWIN@example.com' })));
    expect(status).toBe(400);
    expect(body[0]).toMatchObject({ errorCode: 'DUPLICATES_DETECTED', message: 'Use one of these records?' });
    expect(JSON.stringify(body[0]?.duplicateResult)).toContain(id);
    expect(await leadCount()).toBe(before);
  });

  it('answers DUPLICATE_VALUE when a unique field’s value is taken', async () => {
    expect((await createLead(buildLead({ Badge__c: 'B-1' }))).status).toBe(201);
    const { status, body } = await errorOf(await createLead(buildLead({ Badge__c: 'b-1' })));
    expect(status).toBe(400);
    expect(body[0]).toMatchObject({ errorCode: 'DUPLICATE_VALUE', fields: ['Badge__c'] });
  });

  it('answers INVALID_CROSS_REFERENCE_KEY for a reference to a record that does not exist', async () => {
    const { status, body } = await errorOf(
      await crm.api('/sobjects/Contact', {
        method: 'POST',
        body: JSON.stringify({ LastName: 'X', AccountId: '0015g00000099ZZAAA' }),
      }),
    );
    expect(status).toBe(400);
    expect(body[0]).toMatchObject({ errorCode: 'INVALID_CROSS_REFERENCE_KEY', fields: ['AccountId'] });
  });

  it('answers JSON_PARSER_ERROR for malformed JSON and for values of the wrong type', async () => {
    const broken = await errorOf(await crm.api('/sobjects/Lead', { method: 'POST', body: '{"LastName": ' }));
    expect(broken.status).toBe(400);
    expect(broken.body[0]?.errorCode).toBe('JSON_PARSER_ERROR');
    const wrongType = await errorOf(await createLead(buildLead({ NumberOfEmployees: 'many' })));
    expect(wrongType.body[0]?.errorCode).toBe('JSON_PARSER_ERROR');
  });

  it('answers STRING_TOO_LONG and INVALID_EMAIL_ADDRESS for bad field values', async () => {
    const long = await errorOf(await createLead(buildLead({ FirstName: 'x'.repeat(41) })));
    expect(long.body[0]).toMatchObject({ errorCode: 'STRING_TOO_LONG', fields: ['FirstName'] });
    const email = await errorOf(await createLead(buildLead({ Email: 'not an email' })));
    expect(email.body[0]).toMatchObject({
      errorCode: 'INVALID_EMAIL_ADDRESS',
      message: 'Email: invalid email address: not an email',
      fields: ['Email'],
    });
  });

  it('answers CANNOT_UPDATE_CONVERTED_LEAD when a converted lead is changed', async () => {
    const { id } = (await (await createLead(buildLead())).json()) as { id: string };
    // Conversion itself arrives with the CRM's second part; mark the lead converted in the store for now.
    await updateRecord(crm.database.db, crm.services.records.objectDef('Lead'), id, { IsConverted: true });
    const { status, body } = await errorOf(
      await crm.api(`/sobjects/Lead/${id}`, { method: 'PATCH', body: '{"Phone":"1"}' }),
    );
    expect(status).toBe(400);
    expect(body[0]?.errorCode).toBe('CANNOT_UPDATE_CONVERTED_LEAD');
  });

  it('answers UNABLE_TO_LOCK_ROW when another writer holds the database lock, and writes nothing', async () => {
    const before = await leadCount();
    const blocker = new SqliteDatabase(crm.database.filename as string);
    blocker.exec('BEGIN IMMEDIATE');
    try {
      const { status, body } = await errorOf(await createLead(buildLead()));
      expect(status).toBe(400);
      expect(body[0]?.errorCode).toBe('UNABLE_TO_LOCK_ROW');
    } finally {
      blocker.exec('ROLLBACK');
      blocker.close();
    }
    expect(await leadCount()).toBe(before);
  });

  it('answers INVALID_FIELD_FOR_INSERT_UPDATE for read-only fields', async () => {
    const { status, body } = await errorOf(
      await createLead(buildLead({ CreatedDate: '2020-01-01T00:00:00Z' })),
    );
    expect(status).toBe(400);
    expect(body[0]).toMatchObject({ errorCode: 'INVALID_FIELD_FOR_INSERT_UPDATE', fields: ['CreatedDate'] });
  });
});

describe('the daily API limit', () => {
  let crm: TestCrm;

  beforeAll(async () => {
    crm = await startTestCrm({ config: { dailyApiLimit: 3 } });
  });

  afterAll(async () => {
    await crm.close();
  });

  it('answers 403 REQUEST_LIMIT_EXCEEDED once the day’s requests are spent', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await crm.api('/limits')).status);
    expect(statuses).toEqual([200, 200, 200, 403]);
    const { body } = await errorOf(await crm.api('/limits'));
    expect(body).toEqual([{ errorCode: 'REQUEST_LIMIT_EXCEEDED', message: 'TotalRequests Limit exceeded.' }]);
  });
});
