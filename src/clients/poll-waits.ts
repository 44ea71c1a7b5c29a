/**
 * The waits between asks of a job's state (a Bulk API query job, a v5 export): short at first,
 * since a small job is done in moments, then doubling up to `longestMs`, so a long job costs
 * few asks against the API limit.
 */
export function* pollWaits(longestMs: number, firstMs = 25): Generator<number, never> {
  for (let wait = Math.min(firstMs, longestMs); ; wait = Math.min(wait * 2, longestMs)) yield wait;
}
