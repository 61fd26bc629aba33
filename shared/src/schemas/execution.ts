import { z } from 'zod';
import { ExecutionCaseState, ExecutionStatus, TriggerSource } from '../status.js';
import { Id, PaginationQuery, Timestamp } from './common.js';
import { QualityGateResult } from './gate.js';
import { TestResult } from './result.js';

export const Execution = z.object({
  id: z.number().int(),
  suite_id: z.number().int(),
  suite_name: z.string(),
  status: ExecutionStatus,
  created_at: Timestamp,
  started_at: Timestamp.nullable(),
  completed_at: Timestamp.nullable(),
  total_tests: z.number().int(),
  passed_tests: z.number().int(),
  failed_tests: z.number().int(),
  skipped_tests: z.number().int(),
  execution_time_ms: z.number().int().nullable(),
  triggered_by: TriggerSource,
  ci_commit_sha: z.string().nullable(),
  ci_branch: z.string().nullable(),
  error_message: z.string().nullable(),
  environment: z.string().nullable(),
  rerun_of: z.number().int().nullable(),
  quality_gate: QualityGateResult.nullable().describe(
    'the suite’s gate, judged when the run ended',
  ),
});
export type Execution = z.infer<typeof Execution>;

export const ExecutionWithResults = Execution.extend({
  results: z.array(TestResult),
});
export type ExecutionWithResults = z.infer<typeof ExecutionWithResults>;

/** Where one case of an execution stands now: waiting, queued, running or finished. */
export const ExecutionCase = z.object({
  case_id: z.number().int(),
  name: z.string(),
  skill_name: z.string(),
  state: ExecutionCaseState.describe('pending: waiting for the cases it depends on'),
  attempt: z.number().int().describe('0 until it first runs; 2 and up on retries'),
  started_at: Timestamp.nullable().describe('when its current attempt started'),
});
export type ExecutionCase = z.infer<typeof ExecutionCase>;

export const ExecutionCaseList = z.object({ items: z.array(ExecutionCase) });
export type ExecutionCaseList = z.infer<typeof ExecutionCaseList>;

export const TriggerExecutionBody = z
  .strictObject({
    suite_id: Id.optional(),
    suite_name: z
      .string()
      .trim()
      .min(1)
      .max(255)
      .optional()
      .describe('looked up in the projects you can see; names are unique per project'),
    project_id: Id.optional().describe(
      'with suite_name: the project to find it in, when more than one of yours has that name',
    ),
    triggered_by: TriggerSource.default('api'),
    ci_commit_sha: z
      .string()
      .trim()
      .regex(/^[0-9a-fA-F]{4,64}$/, 'must be a hex commit hash')
      .optional(),
    ci_branch: z.string().trim().min(1).max(100).optional(),
    environment: z
      .string()
      .trim()
      .min(1)
      .max(100)
      .optional()
      .describe('name of the environment to run against'),
  })
  .refine((body) => (body.suite_id === undefined) !== (body.suite_name === undefined), {
    message: 'give exactly one of suite_id or suite_name',
    path: ['suite_id'],
  })
  .refine((body) => body.project_id === undefined || body.suite_name !== undefined, {
    message: 'project_id only goes with suite_name: a suite_id already names one suite',
    path: ['project_id'],
  });
export type TriggerExecutionBody = z.infer<typeof TriggerExecutionBody>;

export const TriggerExecutionResponse = z.object({
  execution_id: z.number().int(),
  status: ExecutionStatus,
  total_tests: z.number().int(),
});
export type TriggerExecutionResponse = z.infer<typeof TriggerExecutionResponse>;

export const ListExecutionsQuery = PaginationQuery.extend({
  suite_id: Id.optional(),
  status: ExecutionStatus.optional(),
  triggered_by: TriggerSource.optional(),
  ci_branch: z.string().trim().min(1).optional(),
  ci_commit_sha: z.string().trim().min(1).optional(),
  since: Timestamp.optional().describe('only executions created at or after this time'),
  until: Timestamp.optional().describe('only executions created before this time'),
});
export type ListExecutionsQuery = z.infer<typeof ListExecutionsQuery>;

export const IdempotencyHeaders = z.object({
  'idempotency-key': z.string().trim().min(1).max(255).optional(),
});

export const RerunQuery = z.object({
  only: z.enum(['failed', 'all']).default('failed'),
});
export type RerunQuery = z.infer<typeof RerunQuery>;
