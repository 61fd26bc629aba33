import { z } from 'zod';
import { UserRole } from '../status.js';
import { Timestamp } from './common.js';

/** Sign-in by e-mail and password; the answer carries both tokens. */
export const LoginBody = z.strictObject({
  email: z.string().trim().toLowerCase().pipe(z.email()),
  password: z.string().min(1).max(1024),
});
export type LoginBody = z.infer<typeof LoginBody>;

/** OAuth-style token pair: `access_token` goes in `Authorization: Bearer`, `refresh_token` renews it. */
export const TokenPair = z.object({
  access_token: z.string(),
  refresh_token: z.string(),
  expires_in: z.number().int().positive().describe('seconds until access_token expires'),
  token_type: z.literal('Bearer'),
});
export type TokenPair = z.infer<typeof TokenPair>;
export const LoginResponse = TokenPair;
export type LoginResponse = TokenPair;

/** Swaps a refresh token for a new pair; the one sent stops working. */
export const RefreshBody = z.strictObject({ refresh_token: z.string().min(1).max(4096) });
export type RefreshBody = z.infer<typeof RefreshBody>;
export const RefreshResponse = TokenPair;
export type RefreshResponse = TokenPair;

/** Ends the sign-in session the refresh token belongs to. */
export const LogoutBody = RefreshBody;
export type LogoutBody = RefreshBody;

const ProjectSlug = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .regex(
    /^[a-z0-9][a-z0-9-]*$/,
    'must be lowercase letters, digits and -, starting with a letter or digit',
  );

/** A project owns suites, executions, environments, channels and tokens. */
export const Project = z.object({
  id: z.number().int(),
  slug: z.string(),
  name: z.string(),
  created_at: Timestamp,
});
export type Project = z.infer<typeof Project>;

export const CreateProjectBody = z.strictObject({
  slug: ProjectSlug,
  name: z.string().trim().min(1).max(200),
});
export type CreateProjectBody = z.infer<typeof CreateProjectBody>;

/** A user's role in one project. */
export const ProjectMembership = z.object({
  project_id: z.number().int(),
  project_slug: z.string(),
  role: UserRole,
});
export type ProjectMembership = z.infer<typeof ProjectMembership>;

/** A user as the API shows it; admins (`is_admin`) have the admin role in every project. */
export const User = z.object({
  id: z.number().int(),
  email: z.string(),
  name: z.string().nullable(),
  is_admin: z.boolean(),
  disabled: z.boolean(),
  memberships: z.array(ProjectMembership),
  created_at: Timestamp,
  last_login_at: Timestamp.nullable(),
});
export type User = z.infer<typeof User>;

const Password = z.string().min(12, 'must be at least 12 characters').max(1024);

export const CreateUserBody = z.strictObject({
  email: z.string().trim().toLowerCase().pipe(z.email()),
  name: z.string().trim().max(200).nullable().optional(),
  password: Password,
  is_admin: z.boolean().default(false),
  memberships: z
    .array(z.strictObject({ project_id: z.number().int().positive(), role: UserRole }))
    .default([]),
});
export type CreateUserBody = z.infer<typeof CreateUserBody>;

/** A signed-in user changing their own password. */
export const ChangePasswordBody = z.strictObject({
  current_password: z.string().min(1).max(1024),
  new_password: Password,
});
export type ChangePasswordBody = z.infer<typeof ChangePasswordBody>;

export const UpdateUserBody = z
  .strictObject({
    name: z.string().trim().max(200).nullable(),
    password: Password,
    is_admin: z.boolean(),
    disabled: z.boolean(),
    memberships: z
      .array(z.strictObject({ project_id: z.number().int().positive(), role: UserRole }))
      .describe('replaces all memberships'),
  })
  .partial()
  .refine((body) => Object.keys(body).length > 0, 'at least one field must be given');
export type UpdateUserBody = z.infer<typeof UpdateUserBody>;

/** Who is calling: a signed-in user or an API token (then `token` says which and its scope). */
export const MeResponse = z.object({
  kind: z.enum(['user', 'token']),
  user: User.nullable(),
  token: z
    .object({
      id: z.number().int(),
      name: z.string(),
      project_id: z.number().int(),
      role: UserRole,
      expires_at: Timestamp.nullable(),
    })
    .nullable(),
});
export type MeResponse = z.infer<typeof MeResponse>;

/** An API token as listed: never the secret itself, which is shown once at creation. */
export const ApiToken = z.object({
  id: z.number().int(),
  name: z.string(),
  project_id: z.number().int(),
  role: UserRole,
  prefix: z.string().describe('first characters of the token, to recognise it'),
  created_by: z.number().int().nullable(),
  created_at: Timestamp,
  expires_at: Timestamp.nullable(),
  last_used_at: Timestamp.nullable(),
  revoked_at: Timestamp.nullable(),
});
export type ApiToken = z.infer<typeof ApiToken>;

export const CreateApiTokenBody = z.strictObject({
  name: z.string().trim().min(1).max(100),
  project_id: z.number().int().positive(),
  role: UserRole.default('tester').describe('at most the creator’s own role in the project'),
  expires_in_days: z
    .number()
    .int()
    .min(1)
    .max(3650)
    .nullable()
    .default(90)
    .describe('null: never expires'),
});
export type CreateApiTokenBody = z.infer<typeof CreateApiTokenBody>;

/** The one response that carries the token's secret. */
export const CreatedApiToken = ApiToken.extend({
  token: z.string().describe('shown once; store it now'),
});
export type CreatedApiToken = z.infer<typeof CreatedApiToken>;

export const ApiTokenListQuery = z.object({
  project_id: z.coerce.number().int().positive().optional(),
  include_revoked: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true'),
});
export type ApiTokenListQuery = z.infer<typeof ApiTokenListQuery>;
