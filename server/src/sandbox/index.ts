export {
  InProcessEngine,
  type CaseEngine,
  type EngineCaseInput,
  type EngineCompensationInput,
  type SkillSource,
} from './case-engine.js';
export { SkillSandbox, type SkillSandboxOptions } from './skill-sandbox.js';
