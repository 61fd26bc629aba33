import { z } from 'zod';
import { Id, JsonObject, PaginationQuery, Timestamp } from './common.js';
import { SkillVersionRange } from './skill.js';

const CaseName = z.string().trim().min(1, 'must not be empty').max(255);

const DependsOn = z
  .array(z.string().trim().min(1).max(255))
  .max(100)
  .describe('names of cases or groups of this suite that must pass before this case runs');
const Group = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .describe('cases in a group can be depended on together');
const Retries = z
  .number()
  .int()
  .min(0)
  .max(10)
  .describe("retries after a retryable failure; null takes the suite's retry_on_failure default");

const SkillName = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lowercase letters, digits and dashes');

const SkillVersion = SkillVersionRange.describe(
  'the skill version this case runs: exact (1.2.0) or a range (^1); null runs the newest installed',
);

export const TestCase = z.object({
  id: z.number().int(),
  suite_id: z.number().int(),
  name: z.string(),
  skill_name: z.string(),
  skill_version: z.string().nullable(),
  params: JsonObject,
  priority: z.number().int(),
  timeout_seconds: z.number().int(),
  enabled: z.boolean(),
  depends_on: z.array(z.string()),
  group: z.string().nullable(),
  retries: z.number().int().nullable(),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type TestCase = z.infer<typeof TestCase>;

export const CreateCaseBody = z.strictObject({
  name: CaseName,
  skill_name: SkillName,
  skill_version: SkillVersion.nullable().optional(),
  params: JsonObject.default({}),
  priority: z.number().int().min(-1000).max(1000).default(0),
  timeout_seconds: z.number().int().min(1).max(86_400).default(300),
  enabled: z.boolean().default(true),
  depends_on: DependsOn.default([]),
  group: Group.nullable().optional(),
  retries: Retries.nullable().optional(),
});
export type CreateCaseBody = z.infer<typeof CreateCaseBody>;

export const UpdateCaseBody = z
  .strictObject({
    name: CaseName,
    skill_name: SkillName,
    skill_version: SkillVersion.nullable(),
    params: JsonObject,
    priority: z.number().int().min(-1000).max(1000),
    timeout_seconds: z.number().int().min(1).max(86_400),
    enabled: z.boolean(),
    depends_on: DependsOn,
    group: Group.nullable(),
    retries: Retries.nullable(),
  })
  .partial()
  .refine((body) => Object.keys(body).length > 0, 'at least one field must be given');
export type UpdateCaseBody = z.infer<typeof UpdateCaseBody>;

export const ListCasesQuery = PaginationQuery.extend({
  enabled: z.stringbool().optional(),
});
export type ListCasesQuery = z.infer<typeof ListCasesQuery>;

export const CaseParams = z.object({ suiteId: Id, caseId: Id });
export type CaseParams = z.infer<typeof CaseParams>;
