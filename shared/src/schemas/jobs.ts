import { z } from 'zod';
import { JsonObject } from './common.js';

/**
 * A case as it was when the run was triggered: later edits to the suite do not change a run
 * that is already under way.
 */
export const CaseSnapshot = z.object({
  case_id: z.number().int(),
  name: z.string(),
  skill_name: z.string(),
  params: JsonObject,
  priority: z.number().int(),
  timeout_seconds: z.number().int().positive(),
});
export type CaseSnapshot = z.infer<typeof CaseSnapshot>;

/** Starts an execution: the orchestrator fans its cases out to the category queues. */
export const RunExecutionJob = z.object({
  execution_id: z.number().int(),
  cases: z.array(CaseSnapshot),
});
export type RunExecutionJob = z.infer<typeof RunExecutionJob>;

/** Runs one case of an execution on the queue of its skill's category. */
export const RunCaseJob = z.object({
  execution_id: z.number().int(),
  case: CaseSnapshot,
});
export type RunCaseJob = z.infer<typeof RunCaseJob>;
