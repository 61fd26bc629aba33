import { z } from 'zod';
import { SKILL_CATEGORIES, type SkillCategory } from '../status.js';
import type { JsonObject } from '../schemas/common.js';
import type { SkillContext } from './context.js';

/** What a skill's `run` may return: its outputs, which later cases can read. */
export type SkillOutputs = JsonObject | void;

export interface SkillDefinition<
  Params extends z.ZodType = z.ZodType,
  Outputs extends SkillOutputs = SkillOutputs,
> {
  /** Unique name, lowercase with dashes; cases refer to the skill by it. */
  name: string;
  /** Also the queue its cases run on. */
  category: SkillCategory;
  /** Semantic version, e.g. `1.2.0`. */
  version: string;
  description: string;
  /** Validates params when a case is saved and again before it runs; published as JSON Schema. */
  params: Params;
  /** Default time limit for one case; a case's own `timeout_seconds` wins when set lower. */
  timeoutMs?: number;
  run(ctx: SkillContext, params: z.output<Params>): Promise<Outputs> | Outputs;
  /** Undoes what `run` did when a later case of the workflow fails (saga compensation). */
  compensate?(ctx: SkillContext, params: z.output<Params>, outputs: Outputs): Promise<void> | void;
}

/** Declares a skill; the identity function that gives `run` its typed params. */
export function defineSkill<Params extends z.ZodType, Outputs extends SkillOutputs>(
  definition: SkillDefinition<Params, Outputs>,
): SkillDefinition<Params, Outputs> {
  return definition;
}

const isFunction = (value: unknown): value is (...args: never[]) => unknown =>
  typeof value === 'function';

/**
 * The runtime check a loader applies to whatever a `skill.ts` exports, so a broken skill is
 * rejected with a message naming the bad field instead of failing later inside a run.
 */
export const SkillDefinitionShape = z.object({
  name: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lowercase letters, digits and dashes'),
  category: z.enum(SKILL_CATEGORIES),
  version: z
    .string()
    .regex(/^\d+\.\d+\.\d+(?:[-+][\w.-]+)?$/, 'must be a semantic version like 1.0.0'),
  description: z.string().min(1, 'must describe what the skill checks'),
  params: z.custom<z.ZodType>(
    (value) => value instanceof z.ZodType,
    'must be a zod schema (import { z } from "@webguard/shared")',
  ),
  timeoutMs: z.number().int().positive().optional(),
  run: z.custom<SkillDefinition['run']>(isFunction, 'must be a function'),
  compensate: z
    .custom<NonNullable<SkillDefinition['compensate']>>(isFunction, 'must be a function')
    .optional(),
});
