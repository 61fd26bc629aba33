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

export const SkillList = z.object({
  items: z.array(SkillInfo.omit({ params_schema: true })),
  errors: z.array(SkillLoadError),
});
export type SkillList = z.infer<typeof SkillList>;

export const SkillNameParams = z.object({ name: z.string().min(1).max(100) });
export type SkillNameParams = z.infer<typeof SkillNameParams>;
