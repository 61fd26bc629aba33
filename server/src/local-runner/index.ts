export { LocalRunnerHost, type LocalRunnerHostOptions } from './host.js';
export {
  loadSkillFolder,
  runSkillFolder,
  type FolderSkill,
  type RunSkillFolderOptions,
} from './run-skill-folder.js';
export { describeEvent, runSkillCommand, type SkillRunOptions } from './cli-run.js';
