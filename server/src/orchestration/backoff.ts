/**
 * Delay before retry `attempt` (1 for the first retry): exponential from `baseMs`, capped, with
 * "equal jitter" — half fixed, half random — so retries of many cases do not land together yet
 * never come back sooner than half the nominal delay.
 */
export function retryDelayMs(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const nominal = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(nominal / 2 + random() * (nominal / 2));
}
