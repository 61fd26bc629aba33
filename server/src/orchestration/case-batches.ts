/** How the coordinator may pack quick cases of a run into shared jobs. */
export interface BatchLimits {
  /** Most cases one job runs; 1 gives every case a job of its own. */
  maxCases: number;
  /**
   * Most time a job's cases are expected to take together, in ms: a shared job ends about as
   * soon as one ordinary case would, so no worker sits on a long queue of others' work.
   */
  budgetMs: number;
  /**
   * Fewest jobs the quick cases of one dispatch are spread over when there are enough of them,
   * so every free worker slot gets work.
   */
  minJobs: number;
}

export const DEFAULT_BATCH_LIMITS: BatchLimits = { maxCases: 20, budgetMs: 500, minJobs: 10 };

/** A case as far as batching goes: how long it took on average before, if it ran before. */
export interface BatchableCase {
  expectedMs: number | null;
}

/**
 * Splits cases (in dispatch order) into the jobs that run them. A case that has not run before,
 * or takes long, gets a job of its own; cases known to be quick share jobs, in order, within the
 * limits. Each job keeps its cases in dispatch order.
 */
export function packCases<Case extends BatchableCase>(
  cases: readonly Case[],
  limits: BatchLimits,
): Case[][] {
  const isQuick = (row: Case) => row.expectedMs !== null && row.expectedMs <= limits.budgetMs;
  const quick = cases.filter(isQuick).length;
  const perJob = Math.max(1, Math.min(limits.maxCases, Math.floor(quick / limits.minJobs)));
  const jobs: Case[][] = [];
  let open: { cases: Case[]; ms: number } | undefined;
  for (const row of cases) {
    if (perJob === 1 || !isQuick(row)) {
      jobs.push([row]);
      continue;
    }
    const ms = row.expectedMs ?? 0;
    if (!open || open.cases.length >= perJob || open.ms + ms > limits.budgetMs) {
      open = { cases: [], ms: 0 };
      jobs.push(open.cases);
    }
    open.cases.push(row);
    open.ms += ms;
  }
  return jobs;
}
