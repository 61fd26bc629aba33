import semver from 'semver';
import { z } from 'zod';
import { SkillCategory } from '../status.js';

/** A loaded skill as the registry publishes it; `params_schema` is JSON Schema for form UIs. */
export const SkillInfo = z.object({
  name: z.string(),
  category: SkillCategory,
  version: z.string(),
  description: z.string(),
  timeout_ms: z.number().int().nullable(),
  source: z.string().describe('folder the skill was loaded from'),
  params_schema: z.record(z.string(), z.unknown()),
});
export type SkillInfo = z.infer<typeof SkillInfo>;

/** A skill folder that failed to load, reported instead of taking the others down. */
export const SkillLoadError = z.object({
  source: z.string(),
  name: z.string().nullable(),
  message: z.string(),
});
export type SkillLoadError = z.infer<typeof SkillLoadError>;

/** Every loaded version of a skill, newest first. */
const Versions = z.array(z.string()).describe('every loaded version, newest first');

export const SkillList = z.object({
  items: z.array(SkillInfo.omit({ params_schema: true }).extend({ versions: Versions })),
  errors: z.array(SkillLoadError),
});
export type SkillList = z.infer<typeof SkillList>;

export const SkillNameParams = z.object({ name: z.string().min(1).max(100) });
export type SkillNameParams = z.infer<typeof SkillNameParams>;

/** A skill version a case pins: exact (`1.2.0`) or a range (`^1`, `~1.2`, `>=1.1 <2`). */
export const SkillVersionRange = z
  .string()
  .trim()
  .min(1)
  .max(50)
  .refine((value) => semver.validRange(value) !== null, {
    message: 'must be a version like 1.2.0 or a range like ^1',
  });

export const SkillDetail = SkillInfo.extend({ versions: Versions });
export type SkillDetail = z.infer<typeof SkillDetail>;

export const SkillVersionQuery = z.object({
  version: SkillVersionRange.optional().describe(
    'the newest version satisfying this; default the newest',
  ),
});
export type SkillVersionQuery = z.infer<typeof SkillVersionQuery>;
