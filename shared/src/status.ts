import { z } from 'zod';

/** Every status and enum value is listed once here; schemas and the database derive from these. */

export const EXECUTION_STATUSES = [
  'queued',
  'running',
  'passed',
  'failed',
  'error',
  'timeout',
  'cancelled',
  'skipped',
] as const;
export const ExecutionStatus = z.enum(EXECUTION_STATUSES);
export type ExecutionStatus = z.infer<typeof ExecutionStatus>;

/** Statuses after which an execution never changes again. */
export const FINAL_EXECUTION_STATUSES = [
  'passed',
  'failed',
  'error',
  'timeout',
  'cancelled',
  'skipped',
] as const satisfies readonly ExecutionStatus[];

export const RESULT_STATUSES = ['passed', 'failed', 'skipped', 'timeout', 'error'] as const;
export const ResultStatus = z.enum(RESULT_STATUSES);
export type ResultStatus = z.infer<typeof ResultStatus>;

export const ERROR_TYPES = ['assertion', 'timeout', 'network', 'system'] as const;
export const ErrorType = z.enum(ERROR_TYPES);
export type ErrorType = z.infer<typeof ErrorType>;

/** A skill's category is also the name of the queue its cases run on. */
export const SKILL_CATEGORIES = ['browser', 'api', 'data', 'performance', 'security'] as const;
export const SkillCategory = z.enum(SKILL_CATEGORIES);
export type SkillCategory = z.infer<typeof SkillCategory>;

export const TRIGGER_SOURCES = ['manual', 'api', 'ci', 'schedule', 'rerun'] as const;
export const TriggerSource = z.enum(TRIGGER_SOURCES);
export type TriggerSource = z.infer<typeof TriggerSource>;

export const USER_ROLES = ['admin', 'tester', 'viewer'] as const;
export const UserRole = z.enum(USER_ROLES);
export type UserRole = z.infer<typeof UserRole>;

export const ARTIFACT_KINDS = ['screenshot', 'video', 'trace', 'log', 'attachment'] as const;
export const ArtifactKind = z.enum(ARTIFACT_KINDS);
export type ArtifactKind = z.infer<typeof ArtifactKind>;

/** Where one case of a running execution stands. */
export const EXECUTION_CASE_STATES = [
  'pending',
  'queued',
  'running',
  'done',
  'skipped',
  'cancelled',
] as const;
export const ExecutionCaseState = z.enum(EXECUTION_CASE_STATES);
export type ExecutionCaseState = z.infer<typeof ExecutionCaseState>;

/** Failures worth retrying by default: the ones a second attempt can plausibly fix. */
export const RETRYABLE_ERROR_TYPES = [
  'timeout',
  'network',
  'system',
] as const satisfies readonly ErrorType[];

/** The BullMQ job states WebGuard reports queue depth by (dashboard, metrics). */
export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed', 'completed'] as const;
export const QueueState = z.enum(QUEUE_STATES);
export type QueueState = z.infer<typeof QueueState>;

/** Where a notification channel delivers. */
export const CHANNEL_TYPES = ['webhook', 'slack', 'email'] as const;
export const ChannelType = z.enum(CHANNEL_TYPES);
export type ChannelType = z.infer<typeof ChannelType>;

/** When a suite notifies a channel: a run failed, a run passed after a failing one, or every run. */
export const NOTIFICATION_RULES = ['failure', 'recovery', 'always'] as const;
export const NotificationRule = z.enum(NOTIFICATION_RULES);
export type NotificationRule = z.infer<typeof NotificationRule>;

/** Why a message was sent: a suite's rule matched a run, or someone asked for a test message. */
export const DELIVERY_REASONS = [...NOTIFICATION_RULES, 'test'] as const;
export const DeliveryReason = z.enum(DELIVERY_REASONS);
export type DeliveryReason = z.infer<typeof DeliveryReason>;

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export const DeliveryStatus = z.enum(DELIVERY_STATUSES);
export type DeliveryStatus = z.infer<typeof DeliveryStatus>;
