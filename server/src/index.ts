export { buildApp, type BuildAppOptions, type WebGuardApp } from './api/app.js';
export { loadConfig, ConfigError, type Config } from './config.js';
export { runCase } from './engine/index.js';
export { SkillRegistry, loadSkills } from './skills/index.js';
export { startRuntime, type Runtime, type RuntimeRoles } from './runtime/runtime.js';
