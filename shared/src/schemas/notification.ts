import { z } from 'zod';
import { ChannelType, DeliveryReason, DeliveryStatus, NotificationRule } from '../status.js';
import { Timestamp } from './common.js';

const HttpUrl = z
  .string()
  .trim()
  .pipe(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }));
const Name = z.string().trim().min(1).max(255);
const ProjectId = z
  .number()
  .int()
  .positive()
  .optional()
  .describe("default: the token's project, else the default project");

/** Secret fields (`secret`, `webhook_url`, `smtp_url`) are stored encrypted and never returned. */
export const CreateChannelBody = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('webhook'),
    name: Name,
    project_id: ProjectId,
    url: HttpUrl,
    secret: z
      .string()
      .min(16, 'must be at least 16 characters')
      .max(256)
      .describe('HMAC-SHA256 key; each request carries X-WebGuard-Signature'),
  }),
  z.strictObject({
    type: z.literal('slack'),
    name: Name,
    project_id: ProjectId,
    webhook_url: HttpUrl.describe('a Slack incoming-webhook URL (a secret)'),
  }),
  z.strictObject({
    type: z.literal('email'),
    name: Name,
    project_id: ProjectId,
    smtp_url: z
      .string()
      .trim()
      .regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL, e.g. smtp://user:pass@mail:587')
      .describe('SMTP server with credentials (a secret)'),
    from: z.email(),
    to: z.array(z.email()).min(1).max(50),
  }),
]);
export type CreateChannelBody = z.infer<typeof CreateChannelBody>;

/** A channel as the API shows it: where it delivers, never its secrets. */
export const NotificationChannel = z.object({
  id: z.number().int(),
  project_id: z.number().int(),
  name: z.string(),
  type: ChannelType,
  enabled: z.boolean(),
  target: z.string().describe('where it delivers, secrets left out'),
  created_at: Timestamp,
});
export type NotificationChannel = z.infer<typeof NotificationChannel>;

export const UpdateChannelBody = z
  .strictObject({ name: Name, enabled: z.boolean() })
  .partial()
  .refine((body) => Object.keys(body).length > 0, 'at least one field must be given');
export type UpdateChannelBody = z.infer<typeof UpdateChannelBody>;

export const SuiteNotification = z.object({
  channel_id: z.number().int(),
  rule: NotificationRule,
});
export type SuiteNotification = z.infer<typeof SuiteNotification>;

export const SuiteNotifications = z.object({
  items: z.array(SuiteNotification).max(100),
});
export type SuiteNotifications = z.infer<typeof SuiteNotifications>;

/** One attempt series to send one run's notification (or a test message) to one channel. */
export const NotificationDelivery = z.object({
  id: z.number().int(),
  channel_id: z.number().int(),
  execution_id: z.number().int().nullable().describe('null for a test message'),
  rule: DeliveryReason,
  status: DeliveryStatus,
  attempts: z.number().int(),
  last_error: z.string().nullable(),
  response_status: z.number().int().nullable(),
  created_at: Timestamp,
  delivered_at: Timestamp.nullable(),
});
export type NotificationDelivery = z.infer<typeof NotificationDelivery>;

/**
 * The body a webhook receives (and what Slack and e-mail messages are written from). A test
 * message (`channel.test`, rule `test`) carries a made-up run with execution id 0.
 */
export const NotificationPayload = z.object({
  event: z.enum(['execution.finished', 'channel.test']),
  rule: DeliveryReason,
  execution: z.object({
    id: z.number().int(),
    suite_id: z.number().int(),
    suite_name: z.string(),
    status: z.string(),
    total_tests: z.number().int(),
    passed_tests: z.number().int(),
    failed_tests: z.number().int(),
    skipped_tests: z.number().int(),
    execution_time_ms: z.number().int().nullable(),
    ci_commit_sha: z.string().nullable(),
    ci_branch: z.string().nullable(),
    quality_gate_passed: z.boolean().nullable(),
  }),
  failures: z.array(z.object({ test_name: z.string(), error_message: z.string().nullable() })),
});
export type NotificationPayload = z.infer<typeof NotificationPayload>;

/** How sending a test message through a channel went, answered once the receiver has replied. */
export const ChannelTestResult = z.object({
  delivered: z.boolean(),
  error: z.string().nullable().describe("the receiver's refusal or why it could not be reached"),
  response_status: z.number().int().nullable().describe('HTTP status, for webhook and Slack'),
  delivery_id: z.number().int().describe("the attempt's entry in the channel's delivery log"),
});
export type ChannelTestResult = z.infer<typeof ChannelTestResult>;

/** Decides which of a finished run's suite channels to notify. */
export const NotifyExecutionJob = z.object({ execution_id: z.number().int() });
export type NotifyExecutionJob = z.infer<typeof NotifyExecutionJob>;

/** Sends one delivery; retried with backoff by the queue. */
export const DeliverNotificationJob = z.object({ delivery_id: z.number().int() });
export type DeliverNotificationJob = z.infer<typeof DeliverNotificationJob>;
