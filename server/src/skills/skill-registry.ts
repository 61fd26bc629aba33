import type { SkillLoadError } from '@webguard/shared';
import { checkParams, ROOT_PATH, type ParamsCheck } from '../engine/check-params.js';
import { loadSkills, type LoadedSkill, type LoadSkillsOptions } from './load-skills.js';

export type SkillRegistryOptions = LoadSkillsOptions;

/** The skills this process can run, looked up by name; `load()` again to pick up edits. */
export class SkillRegistry {
  private skills = new Map<string, LoadedSkill>();
  private loadErrors: SkillLoadError[] = [];
  private pending: Promise<void> = Promise.resolve();

  constructor(private readonly options: SkillRegistryOptions) {}

  /**
   * Loads every skill and swaps the new set in at once, so lookups never see a half-loaded
   * registry. Calls are queued: a reload requested during another sees the later files.
   */
  load(): Promise<void> {
    const next = this.pending.then(async () => {
      const { skills, errors } = await loadSkills(this.options);
      this.skills = new Map(skills.map((skill) => [skill.info.name, skill]));
      this.loadErrors = errors;
    });
    // A failed load must not block the ones queued after it; its caller still sees the error.
    this.pending = next.catch(() => undefined);
    return next;
  }

  get(name: string): LoadedSkill | undefined {
    return this.skills.get(name);
  }

  /** Sorted by name. */
  list(): LoadedSkill[] {
    return [...this.skills.values()].sort((a, b) => a.info.name.localeCompare(b.info.name));
  }

  errors(): SkillLoadError[] {
    return [...this.loadErrors];
  }

  /** Checks params against a skill's schema, with one issue per bad field. */
  validateParams(name: string, params: unknown): ParamsCheck {
    const skill = this.skills.get(name);
    if (!skill)
      return { ok: false, issues: [{ path: ROOT_PATH, message: `unknown skill "${name}"` }] };
    return checkParams(skill.definition.params, params);
  }
}
