import { z } from 'zod';
import { Timestamp } from './common.js';

const VariableName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be letters, digits and _, not starting with a digit')
  .max(100);
const Values = z.record(VariableName, z.string().max(10_000));

/** An environment as the API shows it: variables in full, secrets by name only. */
export const Environment = z.object({
  id: z.number().int(),
  project_id: z.number().int(),
  name: z.string(),
  description: z.string().nullable(),
  variables: z.record(z.string(), z.string()),
  secret_names: z.array(z.string()),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type Environment = z.infer<typeof Environment>;

const EnvironmentName = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .regex(/^[\w.-]+$/, 'must be letters, digits, _, . and -');

export const CreateEnvironmentBody = z.strictObject({
  project_id: z
    .number()
    .int()
    .positive()
    .optional()
    .describe("default: the token's project, else the default project"),
  name: EnvironmentName,
  description: z.string().max(10_000).nullable().optional(),
  variables: Values.default({}),
  secrets: Values.default({}).describe(
    'write-only: values are stored encrypted and never returned',
  ),
});
export type CreateEnvironmentBody = z.infer<typeof CreateEnvironmentBody>;

export const UpdateEnvironmentBody = z
  .strictObject({
    name: EnvironmentName,
    description: z.string().max(10_000).nullable(),
    variables: Values.describe('replaces all variables'),
    secrets: z
      .record(VariableName, z.string().max(10_000).nullable())
      .describe('sets the given secrets; null deletes one; others are kept'),
  })
  .partial()
  .refine((body) => Object.keys(body).length > 0, 'at least one field must be given');
export type UpdateEnvironmentBody = z.infer<typeof UpdateEnvironmentBody>;
