export {
  loadSkills,
  toSkillInfo,
  SKILL_FILES,
  type LoadedSkill,
  type LoaderLogger,
  type LoadSkillsOptions,
  type LoadSkillsResult,
} from './load-skills.js';
export { SkillRegistry, type SkillLookup, type SkillRegistryOptions } from './skill-registry.js';
export { SkillReloader, type SkillReloaderDeps } from './skill-reloader.js';
export { builtinSkillsDir } from './builtin-skills-dir.js';
export {
  createSkillImporter,
  describeImportFailure,
  type SkillModuleImporter,
} from './import-skill-module.js';
