/** setTimeout fires at once for delays above 2^31-1 ms (about 24.8 days); longer limits are capped. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

export function timerDelay(ms: number): number {
  return Math.min(Math.max(ms, 0), MAX_TIMER_DELAY_MS);
}
