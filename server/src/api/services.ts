import type { ReadinessResponse } from '@webguard/shared';
import type { ArtifactService } from '../artifacts/index.js';
import type { AccessControl, AuthService } from '../auth/index.js';
import type { NotificationService } from '../notifications/index.js';
import type {
  AuthRepository,
  ReportRepository,
  QuarantineRepository,
  NotificationRepository,
  CaseRepository,
  EnvironmentRepository,
  ExecutionRepository,
  SuiteRepository,
} from '../db/index.js';
import type { ExecutionCoordinator } from '../orchestration/execution-coordinator.js';
import type { ExecutionService } from '../services/execution-service.js';
import type { ScheduleService } from '../services/schedule-service.js';
import type { SkillRegistry, SkillReloader } from '../skills/index.js';

/** What route handlers may use; built once per process by the runtime and handed to the app. */
export interface ApiServices {
  suites: SuiteRepository;
  cases: CaseRepository;
  executions: ExecutionRepository;
  environments: EnvironmentRepository;
  executionService: ExecutionService;
  coordinator: ExecutionCoordinator;
  schedules: ScheduleService;
  skills: SkillRegistry;
  skillReloader: SkillReloader;
  artifacts: ArtifactService;
  auth: AuthService;
  /** Users, projects and tokens as stored. */
  accounts: AuthRepository;
  access: AccessControl;
  reports: ReportRepository;
  quarantines: QuarantineRepository;
  notifications: NotificationService;
  notificationRows: NotificationRepository;
  readiness(): Promise<ReadinessResponse>;
}

declare module 'fastify' {
  interface FastifyInstance {
    services: ApiServices;
  }
}
