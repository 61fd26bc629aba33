import type { JobsOptions } from 'bullmq';
import {
  RunCaseJob,
  RunExecutionJob,
  SKILL_CATEGORIES,
  type SkillCategory,
} from '@webguard/shared';

/** The orchestration queue, plus one queue per skill category so each gets its own workers. */
export const EXECUTIONS_QUEUE = 'executions';
export const QUEUE_NAMES = [EXECUTIONS_QUEUE, ...SKILL_CATEGORIES] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

/**
 * Every job WebGuard queues: its payload schema, the queue it runs on and its delivery options.
 * Processors parse the payload with the same schema before acting on it.
 */
export const JOB_CATALOG = {
  'run-execution': {
    schema: RunExecutionJob,
    options: {
      attempts: 5,
      backoff: { type: 'exponential', delay: 1_000 },
      removeOnComplete: { age: 24 * 3600, count: 10_000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    },
  },
  'run-case': {
    schema: RunCaseJob,
    options: {
      // Failed checks are results, not job failures: attempts only cover infrastructure errors
      // such as a database write that did not go through.
      attempts: 3,
      backoff: { type: 'exponential', delay: 2_000 },
      removeOnComplete: { age: 24 * 3600, count: 10_000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    },
  },
} as const satisfies Record<string, { schema: unknown; options: JobsOptions }>;

export type JobName = keyof typeof JOB_CATALOG;

export function isQueueName(name: string): name is QueueName {
  return (QUEUE_NAMES as readonly string[]).includes(name);
}

export const queueForCategory = (category: SkillCategory): QueueName => category;

/** Job ids make re-delivery and double triggers harmless: BullMQ keeps one job per id. */
export const jobIds = {
  execution: (executionId: number) => `execution-${executionId}`,
  case: (executionId: number, caseId: number) => `case-${executionId}-${caseId}`,
};

/** BullMQ runs priority 1 first; a case's priority runs highest first, from -1000 to 1000. */
export const bullPriority = (casePriority: number) =>
  1001 - Math.max(-1000, Math.min(1000, casePriority));
