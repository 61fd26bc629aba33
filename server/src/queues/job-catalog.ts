import type { JobsOptions } from 'bullmq';
import { z } from 'zod';
import {
  AdvanceExecutionJob,
  CompensateCaseJob,
  DeliverNotificationJob,
  ExecutionDeadlineJob,
  NotifyExecutionJob,
  PruneArtifactsJob,
  RunCaseJob,
  RunCasesJob,
  ScheduledRunJob,
  SKILL_CATEGORIES,
  type SkillCategory,
} from '@webguard/shared';

/**
 * The orchestration queue, one queue per skill category (so each gets its own workers and
 * concurrency), the notifications queue (so a slow mail server never holds up dispatching
 * cases), and the queue cron schedules fire into.
 */
export const EXECUTIONS_QUEUE = 'executions';
export const NOTIFICATIONS_QUEUE = 'notifications';
export const SCHEDULES_QUEUE = 'schedules';
export const QUEUE_NAMES = [
  EXECUTIONS_QUEUE,
  ...SKILL_CATEGORIES,
  NOTIFICATIONS_QUEUE,
  SCHEDULES_QUEUE,
] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

/** Queues a plain `worker` serves by default; schedules belong to the `scheduler` role. */
export const WORKER_QUEUES: QueueName[] = [
  EXECUTIONS_QUEUE,
  ...SKILL_CATEGORIES,
  NOTIFICATIONS_QUEUE,
];

const keep = {
  removeOnComplete: { age: 24 * 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
} as const;

/**
 * Every job WebGuard queues: its payload schema and delivery options. Processors parse the
 * payload with the same schema before acting on it, and act idempotently: BullMQ delivers at
 * least once.
 */
export const JOB_CATALOG = {
  'advance-execution': {
    schema: AdvanceExecutionJob,
    options: { attempts: 5, backoff: { type: 'exponential', delay: 1_000 }, ...keep },
  },
  'execution-deadline': {
    schema: ExecutionDeadlineJob,
    options: { attempts: 5, backoff: { type: 'exponential', delay: 1_000 }, ...keep },
  },
  'reap-executions': {
    schema: z.object({}),
    options: { attempts: 1, removeOnComplete: true, removeOnFail: { count: 100 } },
  },
  'run-case': {
    schema: RunCaseJob,
    // A failed check is a result, not a job failure: attempts only cover infrastructure errors
    // such as a database write that did not go through. Case retries are separate jobs.
    options: { attempts: 3, backoff: { type: 'exponential', delay: 2_000 }, ...keep },
  },
  'run-cases': {
    schema: RunCasesJob,
    options: { attempts: 3, backoff: { type: 'exponential', delay: 2_000 }, ...keep },
  },
  'compensate-case': {
    schema: CompensateCaseJob,
    options: { attempts: 3, backoff: { type: 'exponential', delay: 2_000 }, ...keep },
  },
  'prune-artifacts': {
    schema: PruneArtifactsJob,
    // Repeats hourly (see scheduleArtifactRetention); a failed run is simply the next tick's work.
    options: { attempts: 1, removeOnComplete: true, removeOnFail: { count: 100 } },
  },
  'notify-execution': {
    schema: NotifyExecutionJob,
    options: { attempts: 5, backoff: { type: 'exponential', delay: 1_000 }, ...keep },
  },
  // A receiver that is down gets 6 tries over about a minute (1 s, 2 s, 4 s, … apart).
  'deliver-notification': {
    schema: DeliverNotificationJob,
    options: { attempts: 6, backoff: { type: 'exponential', delay: 1_000 }, ...keep },
  },
  'scheduled-run': {
    schema: ScheduledRunJob,
    options: { attempts: 3, backoff: { type: 'exponential', delay: 5_000 }, ...keep },
  },
} as const satisfies Record<string, { schema: z.ZodType; options: JobsOptions }>;

export type JobName = keyof typeof JOB_CATALOG;

export function isQueueName(name: string): name is QueueName {
  return (QUEUE_NAMES as readonly string[]).includes(name);
}

export const queueForCategory = (category: SkillCategory): QueueName => category;

/** Job ids make re-delivery and repeated dispatch harmless: BullMQ keeps one job per id. */
export const jobIds = {
  runCase: (executionId: number, caseId: number, attempt: number) =>
    `case-${executionId}-${caseId}-${attempt}`,
  /** Cases of one run sharing a job, named after the first (a case is dispatched once). */
  runCases: (executionId: number, firstCaseId: number, attempt: number) =>
    `cases-${executionId}-${firstCaseId}-${attempt}`,
  compensate: (executionId: number, caseId: number) => `compensate-${executionId}-${caseId}`,
  deadline: (executionId: number) => `deadline-${executionId}`,
  schedule: (suiteId: number) => `suite-${suiteId}`,
};

/** BullMQ runs priority 1 first; a case's priority runs highest first, from -1000 to 1000. */
export const bullPriority = (casePriority: number) =>
  1001 - Math.max(-1000, Math.min(1000, casePriority));
