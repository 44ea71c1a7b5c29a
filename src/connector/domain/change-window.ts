/**
 * When a queued change is due. Changes a person made (a field edited, a form filled) go at
 * once, bursts gathered by the scheduler's coalescing window, so they cross in about a second.
 * What activities move by themselves — an open's score and last-activity date, the Tasks of the
 * activities — waits for the activity window's end: every change of a window is then due at the
 * same instant, and a stream of opens goes out as a few Composite calls a window (200 records a
 * Collections call, five of those a call), not a few calls a second.
 */

/** Prospect fields that activities move (scoring, grading, the last activity's date). */
export const ENGAGEMENT_FIELDS: ReadonlySet<string> = new Set(['score', 'grade', 'lastActivityAt']);

/** Whether a prospect change touched engagement fields alone (and so can wait for its window). */
export function onlyEngagement(fields: readonly string[] | undefined): boolean {
  return fields !== undefined && fields.length > 0 && fields.every((f) => ENGAGEMENT_FIELDS.has(f));
}

/**
 * The end of the activity window `at` falls in: windows are aligned to multiples of `windowMs`,
 * the same for every process and every kind of item, so a window's changes come due together.
 */
export function windowEnd(atMs: number, windowMs: number): number {
  if (windowMs <= 0) return atMs;
  return (Math.floor(atMs / windowMs) + 1) * windowMs;
}
