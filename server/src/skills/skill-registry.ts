import semver from 'semver';
import type { SkillList, SkillLoadError } from '@webguard/shared';
import { checkParams, ROOT_PATH, type ParamsCheck } from '../engine/check-params.js';
import { loadSkills, type LoadedSkill, type LoadSkillsOptions } from './load-skills.js';

export type SkillRegistryOptions = LoadSkillsOptions;

/** What a lookup by name and version requirement found, or why it found nothing. */
export type SkillLookup = { ok: true; skill: LoadedSkill } | { ok: false; reason: string };

/**
 * The skills this process can run, every loaded version of each, looked up by name and an
 * optional version requirement (exact `1.2.0` or a range like `^1`); `load()` again to pick up
 * edits.
 */
export class SkillRegistry {
  /** Newest version first. */
  private skills = new Map<string, LoadedSkill[]>();
  private loadErrors: SkillLoadError[] = [];
  private pending: Promise<void> = Promise.resolve();

  constructor(private readonly options: SkillRegistryOptions) {}

  /**
   * Loads every skill and swaps the new set in at once, so lookups never see a half-loaded
   * registry and running cases keep the definition they started with. Calls are queued: a
   * reload requested during another sees the later files.
   */
  load(): Promise<void> {
    const next = this.pending.then(async () => {
      const { skills, errors } = await loadSkills(this.options);
      const byName = new Map<string, LoadedSkill[]>();
      for (const skill of skills) {
        const versions = byName.get(skill.info.name) ?? [];
        versions.push(skill);
        byName.set(skill.info.name, versions);
      }
      for (const versions of byName.values())
        versions.sort((a, b) => semver.rcompare(a.info.version, b.info.version));
      this.skills = byName;
      this.loadErrors = errors;
    });
    // A failed load must not block the ones queued after it; its caller still sees the error.
    this.pending = next.catch(() => undefined);
    return next;
  }

  /** The newest version of `name`, or the newest that satisfies `version` when given. */
  get(name: string, version?: string | null): LoadedSkill | undefined {
    const found = this.find(name, version);
    return found.ok ? found.skill : undefined;
  }

  find(name: string, version?: string | null): SkillLookup {
    const versions = this.skills.get(name);
    if (!versions) return { ok: false, reason: `unknown skill "${name}"` };
    if (!version) return { ok: true, skill: versions[0]! };
    // A run pins the exact version of each case, looked up per case: no range to parse then.
    const match =
      versions.find((skill) => skill.info.version === version) ??
      versions.find((skill) => semver.satisfies(skill.info.version, version));
    if (match) return { ok: true, skill: match };
    const have = versions.map((skill) => skill.info.version).join(', ');
    return {
      ok: false,
      reason: `skill "${name}" has no version matching "${version}" (installed: ${have})`,
    };
  }

  /** Every loaded version of `name`, newest first. */
  versions(name: string): string[] {
    return (this.skills.get(name) ?? []).map((skill) => skill.info.version);
  }

  /** The newest version of each skill, sorted by name. */
  list(): LoadedSkill[] {
    return [...this.skills.values()]
      .map((versions) => versions[0]!)
      .sort((a, b) => a.info.name.localeCompare(b.info.name));
  }

  /** Every loaded version of every skill. */
  all(): LoadedSkill[] {
    return [...this.skills.values()].flat();
  }

  errors(): SkillLoadError[] {
    return [...this.loadErrors];
  }

  /** What the registry holds as the API and the CLI publish it: newest versions, then failures. */
  summary(): SkillList {
    return {
      items: this.list().map(({ info }) => ({
        name: info.name,
        category: info.category,
        version: info.version,
        versions: this.versions(info.name),
        description: info.description,
        timeout_ms: info.timeout_ms,
        source: info.source,
      })),
      errors: this.errors(),
    };
  }

  /** Checks params against a skill's schema, with one issue per bad field. */
  validateParams(name: string, params: unknown, version?: string | null): ParamsCheck {
    const found = this.find(name, version);
    if (!found.ok) return { ok: false, issues: [{ path: ROOT_PATH, message: found.reason }] };
    return checkParams(found.skill.definition.params, params);
  }
}
