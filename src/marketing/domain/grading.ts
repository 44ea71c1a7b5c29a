import { z } from 'zod';
import type { ProspectValue } from './prospect-fields.js';

/** Account Engagement's letter grades, lowest first: each step is a third of a letter. */
export const GRADES = ['F', 'D-', 'D', 'D+', 'C-', 'C', 'C+', 'B-', 'B', 'B+', 'A-', 'A', 'A+'] as const;
/** Every prospect starts at D, and each matched criterion moves it. */
const START = GRADES.indexOf('D');

export const gradingProfileSchema = z
  .object({
    criteria: z
      .array(
        z
          .object({
            /** A v5 prospect field name (`jobTitle`, `industry`, `country`, `Employees__c` …). */
            field: z.string().min(1),
            equals: z.string().optional(),
            contains: z.string().optional(),
            in: z.array(z.string()).optional(),
            /** Thirds of a letter a match moves the grade: 3 is a whole letter; negative lowers it. */
            thirds: z.number().int().min(-12).max(12),
          })
          .strict()
          .refine((c) => [c.equals, c.contains, c.in].filter((t) => t !== undefined).length === 1, {
            message: 'give exactly one of equals, contains or in',
          }),
      )
      .min(1),
  })
  .strict();

export type GradingProfile = z.infer<typeof gradingProfileSchema>;

/** The grade a prospect's values earn under the profile (text compared without regard to case). */
export function gradeFor(profile: GradingProfile, values: Record<string, ProspectValue>): string {
  let step = START;
  for (const c of profile.criteria) {
    const raw = values[c.field];
    if (raw === null || raw === undefined || raw === '') continue;
    const value = String(raw).toLowerCase();
    const matched =
      (c.equals !== undefined && value === c.equals.toLowerCase()) ||
      (c.contains !== undefined && value.includes(c.contains.toLowerCase())) ||
      (c.in !== undefined && c.in.some((v) => v.toLowerCase() === value));
    if (matched) step += c.thirds;
  }
  return GRADES[Math.max(0, Math.min(GRADES.length - 1, step))]!;
}
