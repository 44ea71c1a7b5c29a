import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gradeFor, gradingProfileSchema } from '../../src/marketing/domain/grading.js';
import { startTestMarketing, type TestMarketing } from '../support/marketing-server.js';

const profile = gradingProfileSchema.parse({
  criteria: [
    { field: 'jobTitle', contains: 'vp', thirds: 3 },
    { field: 'industry', equals: 'Software', thirds: 2 },
    { field: 'country', in: ['United States', 'Canada'], thirds: 1 },
    { field: 'company', equals: 'Competitor Inc', thirds: -6 },
  ],
});

describe('grading', () => {
  it('moves the grade from D by a third of a letter for each point a matched criterion gives', () => {
    expect(gradeFor(profile, {})).toBe('D');
    expect(gradeFor(profile, { jobTitle: 'VP Sales' })).toBe('C');
    expect(gradeFor(profile, { jobTitle: 'VP Sales', industry: 'software', country: 'Canada' })).toBe('B');
    expect(gradeFor(profile, { company: 'competitor inc' })).toBe('F');
    expect(
      gradeFor(
        gradingProfileSchema.parse({ criteria: [{ field: 'jobTitle', contains: 'chief', thirds: 12 }] }),
        { jobTitle: 'Chief of Staff' },
      ),
    ).toBe('A+');
  });

  it('refuses a criterion without exactly one test', () => {
    expect(() => gradingProfileSchema.parse({ criteria: [{ field: 'jobTitle', thirds: 1 }] })).toThrow(
      /exactly one of equals, contains or in/,
    );
  });

  describe('on the engine', () => {
    let m: TestMarketing;
    beforeAll(async () => {
      m = await startTestMarketing({ grading: profile });
    });
    afterAll(() => m.close());

    it('grades prospects as they are created and changed, over the API, with history', async () => {
      const created = await m.call('/api/v5/objects/prospects?fields=id,grade', {
        method: 'POST',
        body: JSON.stringify({ email: 'graded@example.com', jobTitle: 'VP Marketing' }),
      });
      const { id, grade } = created.body as { id: number; grade: string };
      expect(grade).toBe('C');
      const changed = await m.call(`/api/v5/objects/prospects/${id}?fields=grade`, {
        method: 'PATCH',
        body: JSON.stringify({ industry: 'Software', country: 'United States' }),
      });
      expect((changed.body as { grade: string }).grade).toBe('B');
      // A grade written outright stands.
      const set = await m.call(`/api/v5/objects/prospects/${id}?fields=grade`, {
        method: 'PATCH',
        body: JSON.stringify({ grade: 'A' }),
      });
      expect((set.body as { grade: string }).grade).toBe('A');
      const history = (await m.services.prospects.history(m.v3Unit.id, id)).filter(
        (c) => c.field === 'grade',
      );
      expect(history.map((c) => c.newValue)).toEqual(['C', 'B', 'A']);
    });
  });
});
