import type { CrmServices } from '../crm/crm-services.js';
import type { CallContext } from '../crm/domain/call-context.js';
import type { BusinessUnit } from '../marketing/domain/business-unit.js';
import type { MarketingServices } from '../marketing/marketing-services.js';

const REPS = [
  { FirstName: 'Maya', LastName: 'Okafor' },
  { FirstName: 'Tom', LastName: 'Brennan' },
  { FirstName: 'Priya', LastName: 'Raman' },
];

const COMPANIES = [
  {
    Name: 'Northwind Traders',
    Industry: 'Retail',
    Website: 'https://northwind.example',
    NumberOfEmployees: 420,
  },
  {
    Name: 'Contoso Health',
    Industry: 'Healthcare',
    Website: 'https://contoso.example',
    NumberOfEmployees: 2600,
  },
  {
    Name: 'Fabrikam Energy',
    Industry: 'Energy',
    Website: 'https://fabrikam.example',
    NumberOfEmployees: 910,
  },
  {
    Name: 'Tailspin Logistics',
    Industry: 'Transportation',
    Website: 'https://tailspin.example',
    NumberOfEmployees: 150,
  },
  { Name: 'Litware Labs', Industry: 'Technology', Website: 'https://litware.example', NumberOfEmployees: 75 },
];

const PEOPLE = [
  ['Ada', 'Lovelace'],
  ['Grace', 'Hopper'],
  ['Alan', 'Turing'],
  ['Katherine', 'Johnson'],
  ['Linus', 'Pauling'],
  ['Marie', 'Curie'],
  ['Nikola', 'Tesla'],
  ['Rosalind', 'Franklin'],
  ['Tim', 'Berners-Lee'],
  ['Hedy', 'Lamarr'],
  ['Edsger', 'Dijkstra'],
  ['Barbara', 'Liskov'],
  ['Claude', 'Shannon'],
  ['Frances', 'Allen'],
  ['Donald', 'Knuth'],
  ['Radia', 'Perlman'],
  ['John', 'McCarthy'],
  ['Margaret', 'Hamilton'],
  ['Ken', 'Thompson'],
  ['Shafi', 'Goldwasser'],
] as const;

function failures(results: Array<{ success: boolean; errors: Array<{ message: string }> }>): string[] {
  return results.filter((r) => !r.success).flatMap((r) => r.errors.map((e) => e.message));
}

/**
 * A small, believable org for the demo: reps to assign leads to, accounts with contacts,
 * leads from several sources, campaigns and open tasks. Written through the record service,
 * so it obeys the same rules as API writes.
 */
export async function loadSampleData(services: CrmServices, adminUserId: string): Promise<void> {
  const ctx: CallContext = { userId: adminUserId, autoAssign: undefined };
  const { records } = services;
  const check = (label: string, results: Parameters<typeof failures>[0]) => {
    const problems = failures(results);
    if (problems.length > 0) throw new Error(`sample ${label} failed: ${problems.join('; ')}`);
    return results.map((r) => (r as { id?: string | null }).id ?? '');
  };

  check(
    'users',
    await records.createMany(
      ctx,
      REPS.map((rep) => ({
        type: 'User',
        input: {
          ...rep,
          Username: `${rep.FirstName.toLowerCase()}@handoff.local`,
          Email: `${rep.FirstName.toLowerCase()}@handoff.local`,
          Alias: rep.FirstName.toLowerCase().slice(0, 5),
          Title: 'Account Executive',
        },
      })),
      true,
    ),
  );
  const accountIds = check(
    'accounts',
    await records.createMany(
      ctx,
      COMPANIES.map((c) => ({ type: 'Account', input: { ...c, Type: 'Prospect' } })),
      true,
    ),
  );
  check(
    'contacts',
    await records.createMany(
      ctx,
      PEOPLE.slice(0, 10).map(([first, last], i) => ({
        type: 'Contact',
        input: {
          FirstName: first,
          LastName: last,
          AccountId: accountIds[i % accountIds.length],
          Email: `${first.toLowerCase()}.${last.toLowerCase()}@${(COMPANIES[i % COMPANIES.length]?.Website ?? '').replace('https://', '')}`,
          Title: ['VP Marketing', 'Head of Ops', 'CTO', 'Director of Sales', 'Data Engineer'][i % 5],
          LeadSource: 'Web',
        },
      })),
      true,
    ),
  );
  check(
    'leads',
    await records.createMany(
      ctx,
      PEOPLE.slice(10).map(([first, last], i) => ({
        type: 'Lead',
        input: {
          FirstName: first,
          LastName: last,
          Company: `${last} & Co`,
          Email: `${first.toLowerCase()}@${last.toLowerCase().replace(/[^a-z]/g, '')}.example`,
          LeadSource: ['Web', 'Phone Inquiry', 'Partner Referral', 'Advertisement'][i % 4],
          Industry: ['Technology', 'Finance', 'Education', 'Media'][i % 4],
          Rating: ['Hot', 'Warm', 'Cold'][i % 3],
        },
      })),
      true,
    ),
  );
  const campaignIds = check(
    'campaigns',
    await records.createMany(
      ctx,
      [
        { Name: 'Spring Webinar Series', Type: 'Webinar', Status: 'In Progress', IsActive: true },
        { Name: 'Data Summit 2026', Type: 'Conference', Status: 'Planned', IsActive: true },
        { Name: 'Newsletter', Type: 'Email', Status: 'In Progress', IsActive: true },
      ].map((input) => ({ type: 'Campaign', input })),
      true,
    ),
  );
  check(
    'tasks',
    await records.createMany(
      ctx,
      accountIds.slice(0, 3).map((accountId, i) => ({
        type: 'Task',
        input: {
          Subject: ['Follow up call', 'Send proposal', 'Book demo'][i],
          WhatId: accountId,
          Priority: 'High',
        },
      })),
      true,
    ),
  );
  check(
    'opportunities',
    await records.createMany(
      ctx,
      accountIds.slice(0, 2).map((accountId, i) => ({
        type: 'Opportunity',
        input: {
          Name: `${COMPANIES[i]?.Name ?? 'Deal'} expansion`,
          AccountId: accountId,
          StageName: 'Qualification',
          CloseDate: new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10),
          Amount: 48_000 + i * 12_000,
          CampaignId: campaignIds[0],
        },
      })),
      true,
    ),
  );
}

/**
 * Prospects for the demo business unit, once: marketing-side people, some of them the same
 * people as the CRM's sample leads (by email), as a real org's two sides would hold them.
 */
export async function loadSampleProspects(services: MarketingServices, unit: BusinessUnit): Promise<void> {
  const existing = await services.prospects.count({ unitId: unit.id, deleted: 'all', where: [] });
  if (existing > 0) return;
  const actor = { type: 'import' } as const;
  for (const [i, [first, last]] of PEOPLE.slice(10).entries()) {
    await services.prospects.create(unit, actor, {
      email: `${first.toLowerCase()}@${last.toLowerCase().replace(/[^a-z]/g, '')}.example`,
      firstName: first,
      lastName: last,
      company: `${last} & Co`,
      score: (i * 17) % 120,
      grade: ['A', 'B+', 'C', 'B-'][i % 4] ?? null,
    });
  }
  for (const [first, last, company] of [
    ['Ada', 'Lovelace', 'Analytical Engines'],
    ['Charles', 'Babbage', 'Difference Works'],
    ['Joan', 'Clarke', 'Hut Eight'],
  ] as const) {
    await services.prospects.create(unit, actor, {
      email: `${first.toLowerCase()}.${last.toLowerCase()}@${company.toLowerCase().replace(/[^a-z]/g, '')}.example`,
      firstName: first,
      lastName: last,
      company,
      score: 25,
    });
  }
}

/**
 * The demo's landing page: a "Contact us" form (email, names, company) on a page with the
 * tracking script, so the demo can be driven from a browser. Made once; its id is returned.
 */
export async function loadSampleLandingPage(
  services: MarketingServices,
  unit: BusinessUnit,
  /** The marketing user a submission is assigned to: the hand-off that makes the CRM Lead. */
  assignTo: number | undefined,
): Promise<number> {
  const { collections } = services;
  const byName = async (name: string, def: string) =>
    (
      await collections.query(collections.definition(def)!, {
        unitId: unit.id,
        deleted: 'false',
        where: [['name', '=', name]],
        afterId: 0,
        descending: false,
        limit: 1,
      })
    )[0]?.id;
  const existing = await byName('Contact us', 'landing-pages');
  if (existing !== undefined) return existing;
  const def = (name: string) => collections.definition(name)!;
  const campaign =
    (await byName('Website', 'campaigns')) ??
    (await collections.create(def('campaigns'), unit.id, { name: 'Website' })).id;
  const form = await collections.create(def('forms'), unit.id, {
    name: 'Contact us',
    campaignId: campaign,
    thankYouContent: 'Thank you! Someone from sales will be in touch.',
    completionActions:
      assignTo === undefined ? null : JSON.stringify([{ kind: 'assignUser', userId: assignTo }]),
  });
  for (const [sortOrder, prospectApiFieldId, label, isRequired] of [
    [1, 'email', 'Work email', true],
    [2, 'firstName', 'First name', true],
    [3, 'lastName', 'Last name', true],
    [4, 'company', 'Company', false],
  ] as const)
    await collections.create(def('form-fields'), unit.id, {
      formId: form.id,
      prospectApiFieldId,
      label,
      isRequired,
      sortOrder,
    });
  const page = await collections.create(def('landing-pages'), unit.id, {
    name: 'Contact us',
    title: 'Talk to us',
    description: 'Tell us who you are and we will get back to you.',
    campaignId: campaign,
    formId: form.id,
  });
  return page.id;
}
