import type { ReadinessResponse } from '@webguard/shared';
import type { CaseRepository, ExecutionRepository, SuiteRepository } from '../db/index.js';
import type { ExecutionService } from '../services/execution-service.js';
import type { SkillRegistry } from '../skills/index.js';

/** What route handlers may use; built once per process by the runtime and handed to the app. */
export interface ApiServices {
  suites: SuiteRepository;
  cases: CaseRepository;
  executions: ExecutionRepository;
  executionService: ExecutionService;
  skills: SkillRegistry;
  readiness(): Promise<ReadinessResponse>;
}

declare module 'fastify' {
  interface FastifyInstance {
    services: ApiServices;
  }
}
