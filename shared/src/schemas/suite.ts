import { z } from 'zod';
import { Id, PaginationQuery, Timestamp } from './common.js';
import { QualityGate } from './gate.js';

const SuiteName = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(255)
  .regex(/^[^/\\]+$/, 'must not contain slashes');

/** An IANA time zone name such as `Europe/Berlin`, checked against the runtime's zone data. */
const Timezone = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .refine((zone) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: zone });
      return true;
    } catch {
      return false;
    }
  }, 'must be an IANA time zone such as Europe/Berlin or UTC');

export const Suite = z.object({
  id: z.number().int(),
  project_id: z.number().int(),
  name: z.string(),
  description: z.string().nullable(),
  enabled: z.boolean(),
  schedule_cron: z.string().nullable(),
  max_concurrent_tests: z.number().int(),
  timeout_minutes: z.number().int(),
  retry_on_failure: z.boolean(),
  schedule_timezone: z.string().nullable(),
  stop_on_error: z.boolean(),
  max_failures: z.number().int().nullable(),
  quality_gate: QualityGate.nullable(),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type Suite = z.infer<typeof Suite>;

export const CreateSuiteBody = z.strictObject({
  project_id: Id.optional().describe("default: the token's project, else the default project"),
  name: SuiteName,
  description: z.string().max(10_000).nullable().optional(),
  enabled: z.boolean().default(true),
  schedule_cron: z.string().trim().min(1).max(100).nullable().optional(),
  max_concurrent_tests: z.number().int().min(1).max(1000).default(5),
  timeout_minutes: z.number().int().min(1).max(1440).default(60),
  retry_on_failure: z.boolean().default(true),
  schedule_timezone: Timezone.nullable().optional(),
  stop_on_error: z.boolean().default(false),
  max_failures: z.number().int().min(1).max(100_000).nullable().optional(),
  quality_gate: QualityGate.nullable().optional(),
});
export type CreateSuiteBody = z.infer<typeof CreateSuiteBody>;

export const UpdateSuiteBody = z
  .strictObject({
    name: SuiteName,
    description: z.string().max(10_000).nullable(),
    enabled: z.boolean(),
    schedule_cron: z.string().trim().min(1).max(100).nullable(),
    max_concurrent_tests: z.number().int().min(1).max(1000),
    timeout_minutes: z.number().int().min(1).max(1440),
    retry_on_failure: z.boolean(),
    schedule_timezone: Timezone.nullable(),
    stop_on_error: z.boolean(),
    max_failures: z.number().int().min(1).max(100_000).nullable(),
    quality_gate: QualityGate.nullable(),
  })
  .partial()
  .refine((body) => Object.keys(body).length > 0, 'at least one field must be given');
export type UpdateSuiteBody = z.infer<typeof UpdateSuiteBody>;

export const ListSuitesQuery = PaginationQuery.extend({
  name: z.string().trim().min(1).optional().describe('case-insensitive substring of the name'),
  enabled: z.stringbool().optional(),
  project_id: Id.optional(),
});
export type ListSuitesQuery = z.infer<typeof ListSuitesQuery>;

export const SuiteIdParams = z.object({ suiteId: Id });
export type SuiteIdParams = z.infer<typeof SuiteIdParams>;

/** The next times a suite's schedule fires. */
export const SuiteSchedule = z.object({
  suite_id: z.number().int(),
  schedule_cron: z.string().nullable(),
  timezone: z.string(),
  active: z.boolean().describe('false when there is no cron or the suite is disabled'),
  next_runs: z.array(Timestamp),
});
export type SuiteSchedule = z.infer<typeof SuiteSchedule>;
