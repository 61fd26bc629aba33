export { openDatabase, type Database, type DatabaseHandle } from './database.js';
export { DataDirLockedError } from './data-dir-lock.js';
export { SuiteRepository } from './suite-repository.js';
export { AuthRepository, type UserRecord } from './auth-repository.js';
export { CaseRepository } from './case-repository.js';
export { ExecutionRepository, type NewExecution } from './execution-repository.js';
export { ResultRepository, type ResultCase } from './result-repository.js';
export { SkillRegistryRepository } from './skill-registry-repository.js';
export { EnvironmentRepository, type EnvironmentValues } from './environment-repository.js';
