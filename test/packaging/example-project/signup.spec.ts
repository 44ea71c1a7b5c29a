// The example of docs/testing.md: a project testing its own Salesforce and Account Engagement
// integration against Handoff's embedded servers, started in-process by handoff/testing.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHandoff, type RunningHandoff } from 'handoff/testing';

/** The code under test: a sign-up handler that creates a Lead and tells the marketing side. */
async function signUp(h: RunningHandoff, person: { email: string; lastName: string; company: string }) {
  const conn = await h.crm.connect();
  const lead = await conn
    .sobject('Lead')
    .create({ Email: person.email, LastName: person.lastName, Company: person.company });
  const response = await fetch(`${h.ingest.url}/v1/track`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Basic ${Buffer.from(`${h.ingest.writeKey}:`).toString('base64')}`,
    },
    body: JSON.stringify({ userId: person.email, event: 'Signed Up', properties: { plan: 'trial' } }),
  });
  if (!response.ok) throw new Error(`tracking failed: ${response.status}`);
  return lead;
}

async function prospectsWithEmail(h: RunningHandoff, email: string) {
  const response = await fetch(
    `${h.marketing.url}/api/v5/objects/prospects?fields=id,email,lastName,company&email=${encodeURIComponent(email)}`,
    { headers: await h.marketing.headers() },
  );
  return ((await response.json()) as { values: Array<Record<string, unknown>> }).values;
}

describe('sign-up', () => {
  let h: RunningHandoff;
  beforeAll(async () => {
    h = await startHandoff({
      crm: {
        validationRules: [
          {
            object: 'Lead',
            name: 'No_Free_Mail',
            when: [{ field: 'Email', op: 'contains', value: '@freemail.example' }],
            message: 'Use a work email',
            field: 'Email',
          },
        ],
      },
    });
  });
  afterAll(() => h.stop());
  beforeEach(() => h.reset());

  it('creates a Lead that the sync turns into a prospect', async () => {
    const lead = await signUp(h, {
      email: 'ada@analytical.example',
      lastName: 'Lovelace',
      company: 'Analytical',
    });
    expect(lead.success).toBe(true);
    await h.sync();
    expect(await prospectsWithEmail(h, 'ada@analytical.example')).toMatchObject([
      { lastName: 'Lovelace', company: 'Analytical' },
    ]);
  });

  it('is refused by the org’s validation rule, as Salesforce would refuse it', async () => {
    await expect(
      signUp(h, { email: 'bob@freemail.example', lastName: 'B', company: 'B' }),
    ).rejects.toMatchObject({
      errorCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION',
    });
  });

  it('retries when Salesforce is briefly unavailable', async () => {
    h.crm.faults.add({ route: 'POST /services/data/*/sobjects/Lead', fault: 'unavailable-503', times: 1 });
    await expect(signUp(h, { email: 'cy@example.com', lastName: 'C', company: 'C' })).rejects.toMatchObject({
      errorCode: 'SERVER_UNAVAILABLE',
    });
    await expect(signUp(h, { email: 'cy@example.com', lastName: 'C', company: 'C' })).resolves.toMatchObject({
      success: true,
    });
  });

  it('needs a new token once the old one has expired', async () => {
    const token = await h.crm.token();
    await h.clock.advance(3 * 60 * 60 * 1000); // tokens live two hours
    const answer = await fetch(`${h.crm.url}/services/data/v60.0/limits`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(answer.status).toBe(401);
  });
});
