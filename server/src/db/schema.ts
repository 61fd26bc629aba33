import { sql } from 'drizzle-orm';
import type { SealedSecret } from '../orchestration/secret-box.js';
import {
  type AnyPgColumn,
  bigint,
  boolean,
  check,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  pgView,
  primaryKey,
  serial,
  text,
  timestamp,
  uniqueIndex,
  varchar,
} from 'drizzle-orm/pg-core';
import {
  ARTIFACT_KINDS,
  CHANNEL_TYPES,
  DELIVERY_REASONS,
  DELIVERY_STATUSES,
  NOTIFICATION_RULES,
  EXECUTION_CASE_STATES,
  type CompensationRecord,
  ERROR_TYPES,
  EXECUTION_STATUSES,
  RESULT_STATUSES,
  SKILL_CATEGORIES,
  USER_ROLES,
  type JsonObject,
  type LogEntry,
  type QualityGate,
  type QualityGateResult,
  type StepRecord,
} from '@webguard/shared';

/** A CHECK that keeps a varchar column inside one of the shared status lists. */
const oneOf = (column: string, values: readonly string[]) =>
  sql.raw(`${column} IN (${values.map((value) => `'${value}'`).join(', ')})`);

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp('updated_at', { withTimezone: true }).notNull().defaultNow();

/** The project every install starts with; rows from before projects existed belong to it. */
export const DEFAULT_PROJECT_ID = 1;

/** Tenants: suites, executions, environments and tokens belong to one; users have a role in each. */
export const projects = pgTable('projects', {
  id: serial('id').primaryKey(),
  slug: varchar('slug', { length: 100 }).notNull().unique(),
  name: varchar('name', { length: 200 }).notNull(),
  createdAt: createdAt(),
});

const projectId = () =>
  integer('project_id')
    .notNull()
    .default(DEFAULT_PROJECT_ID)
    .references(() => projects.id, { onDelete: 'cascade' });

/** Suite names are unique within a project; two projects may each have a `smoke` suite. */
export const testSuites = pgTable(
  'test_suites',
  {
    id: serial('id').primaryKey(),
    projectId: projectId(),
    name: varchar('name', { length: 255 }).notNull(),
    description: text('description'),
    enabled: boolean('enabled').notNull().default(true),
    scheduleCron: varchar('schedule_cron', { length: 100 }),
    maxConcurrentTests: integer('max_concurrent_tests').notNull().default(5),
    timeoutMinutes: integer('timeout_minutes').notNull().default(60),
    retryOnFailure: boolean('retry_on_failure').notNull().default(true),
    /** IANA zone the cron expression is read in; null means UTC. */
    scheduleTimezone: varchar('schedule_timezone', { length: 64 }),
    /** Skip the cases not yet started once one case fails. */
    stopOnError: boolean('stop_on_error').notNull().default(false),
    /** Cancel the rest of a run after this many failed cases; null means never. */
    maxFailures: integer('max_failures'),
    /** Rules judged when a run ends; null means no gate. */
    qualityGate: jsonb('quality_gate').$type<QualityGate>(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (table) => [uniqueIndex('uq_test_suites_project_name').on(table.projectId, table.name)],
);

/** Environment names are unique within a project, like suite names. */
export const environments = pgTable(
  'environments',
  {
    id: serial('id').primaryKey(),
    projectId: projectId(),
    name: varchar('name', { length: 100 }).notNull(),
    description: text('description'),
    variables: jsonb('variables').$type<Record<string, string>>().notNull().default({}),
    /** Secret values encrypted with the server's key; never returned by the API. */
    secrets: jsonb('secrets').$type<Record<string, SealedSecret>>().notNull().default({}),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (table) => [uniqueIndex('uq_environments_project_name').on(table.projectId, table.name)],
);

export const testCases = pgTable(
  'test_cases',
  {
    id: serial('id').primaryKey(),
    suiteId: integer('suite_id')
      .notNull()
      .references(() => testSuites.id, { onDelete: 'cascade' }),
    name: varchar('name', { length: 255 }).notNull(),
    skillName: varchar('skill_name', { length: 100 }).notNull(),
    /** A version or range of the skill this case runs; null means the newest installed. */
    skillVersion: varchar('skill_version', { length: 50 }),
    params: jsonb('params').$type<JsonObject>().notNull().default({}),
    priority: integer('priority').notNull().default(0),
    timeoutSeconds: integer('timeout_seconds').notNull().default(300),
    enabled: boolean('enabled').notNull().default(true),
    /** Names of cases in the same suite that must finish first (workflow DAG). */
    dependsOn: jsonb('depends_on').$type<string[]>().notNull().default([]),
    /** Retries for this case; null means the suite's `retry_on_failure` default. */
    retries: integer('retries'),
    /** Cases sharing a group run in parallel with each other. */
    group: varchar('group', { length: 100 }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (table) => [
    index('idx_test_cases_suite').on(table.suiteId),
    uniqueIndex('uq_test_cases_suite_name').on(table.suiteId, table.name),
  ],
);

export const testExecutions = pgTable(
  'test_executions',
  {
    id: serial('id').primaryKey(),
    suiteId: integer('suite_id')
      .notNull()
      .references(() => testSuites.id, { onDelete: 'cascade' }),
    status: varchar('status', { length: 20 }).notNull().default('queued'),
    /** When the run was accepted; `started_at` is when a worker began it. */
    createdAt: createdAt(),
    startedAt: timestamp('started_at', { withTimezone: true }),
    completedAt: timestamp('completed_at', { withTimezone: true }),
    totalTests: integer('total_tests').notNull().default(0),
    passedTests: integer('passed_tests').notNull().default(0),
    failedTests: integer('failed_tests').notNull().default(0),
    skippedTests: integer('skipped_tests').notNull().default(0),
    executionTimeMs: integer('execution_time_ms'),
    triggeredBy: varchar('triggered_by', { length: 100 }).notNull().default('api'),
    ciCommitSha: varchar('ci_commit_sha', { length: 64 }),
    ciBranch: varchar('ci_branch', { length: 100 }),
    errorMessage: text('error_message'),
    environmentId: integer('environment_id').references(() => environments.id, {
      onDelete: 'set null',
    }),
    /** Kept by name too, so the record survives the environment being deleted. */
    environmentName: varchar('environment_name', { length: 100 }),
    /** A retried trigger with the same key returns this execution instead of starting another. */
    idempotencyKey: varchar('idempotency_key', { length: 255 }),
    rerunOf: integer('rerun_of').references((): AnyPgColumn => testExecutions.id, {
      onDelete: 'set null',
    }),
    /** The suite's gate as judged when the run closed. */
    qualityGate: jsonb('quality_gate').$type<QualityGateResult>(),
  },
  (table) => [
    uniqueIndex('uq_test_executions_idempotency')
      .on(table.suiteId, table.idempotencyKey)
      .where(sql`idempotency_key IS NOT NULL`),
    index('idx_test_executions_started').on(table.startedAt.desc()),
    index('idx_test_executions_status').on(table.status),
    index('idx_test_executions_suite').on(table.suiteId, table.startedAt.desc()),
    index('idx_test_executions_created').on(table.createdAt.desc()),
    check('ck_test_executions_status', oneOf('status', EXECUTION_STATUSES)),
  ],
);

export const testResults = pgTable(
  'test_results',
  {
    id: serial('id').primaryKey(),
    executionId: integer('execution_id')
      .notNull()
      .references(() => testExecutions.id, { onDelete: 'cascade' }),
    /** Null once the case is deleted: the history of past runs is kept. */
    testCaseId: integer('test_case_id').references(() => testCases.id, { onDelete: 'set null' }),
    testName: varchar('test_name', { length: 255 }).notNull(),
    skillName: varchar('skill_name', { length: 100 }),
    status: varchar('status', { length: 20 }).notNull(),
    errorMessage: text('error_message'),
    errorType: varchar('error_type', { length: 100 }),
    stackTrace: text('stack_trace'),
    executionTimeMs: integer('execution_time_ms'),
    screenshotUrl: varchar('screenshot_url', { length: 500 }),
    videoUrl: varchar('video_url', { length: 500 }),
    logUrl: varchar('log_url', { length: 500 }),
    retryCount: integer('retry_count').notNull().default(0),
    /** Passed only after a retry. */
    flaky: boolean('flaky').notNull().default(false),
    /** The case was quarantined when the run closed: reported, but it did not fail the run. */
    quarantined: boolean('quarantined').notNull().default(false),
    /** What undoing this case's work did when a later case of the run failed. */
    compensation: jsonb('compensation').$type<CompensationRecord>(),
    startedAt: timestamp('started_at', { withTimezone: true }),
    completedAt: timestamp('completed_at', { withTimezone: true }),
    steps: jsonb('steps').$type<StepRecord[]>().notNull().default([]),
    logs: jsonb('logs').$type<LogEntry[]>().notNull().default([]),
    outputs: jsonb('outputs').$type<JsonObject>().notNull().default({}),
    createdAt: createdAt(),
  },
  (table) => [
    index('idx_test_results_status').on(table.status),
    index('idx_test_results_created').on(table.createdAt.desc()),
    // A case's latest results, read when a run of it starts (dispatch order, shared jobs).
    index('idx_test_results_case').on(table.testCaseId, table.id),
    // At-least-once job delivery must still write one row per case and run. It also serves
    // lookups by run alone (its leading column), so a second index on execution_id would only
    // slow down every result written.
    uniqueIndex('uq_test_results_execution_case').on(table.executionId, table.testCaseId),
    check('ck_test_results_status', oneOf('status', RESULT_STATUSES)),
    check(
      'ck_test_results_error_type',
      sql`error_type IS NULL OR ${oneOf('error_type', ERROR_TYPES)}`,
    ),
  ],
);

/**
 * The state of each case within one execution: the coordinator decides from these rows what to
 * dispatch next, so any process can pick up where another stopped.
 */
export const executionCases = pgTable(
  'execution_cases',
  {
    id: serial('id').primaryKey(),
    executionId: integer('execution_id')
      .notNull()
      .references(() => testExecutions.id, { onDelete: 'cascade' }),
    caseId: integer('case_id').notNull(),
    name: varchar('name', { length: 255 }).notNull(),
    skillName: varchar('skill_name', { length: 100 }).notNull(),
    /** The exact skill version chosen when the run started, so every attempt runs the same. */
    skillVersion: varchar('skill_version', { length: 50 }),
    params: jsonb('params').$type<JsonObject>().notNull().default({}),
    /** Names of the cases (groups already expanded) that must pass first. */
    dependsOn: jsonb('depends_on').$type<string[]>().notNull().default([]),
    priority: integer('priority').notNull().default(0),
    timeoutSeconds: integer('timeout_seconds').notNull(),
    retries: integer('retries').notNull().default(0),
    /** Position among equally ready cases: from priority and history. */
    dispatchOrder: integer('dispatch_order').notNull().default(0),
    /**
     * The case's average time over its recent runs, null before its first: a case known to be
     * quick may share a job with other quick cases of its run.
     */
    expectedMs: integer('expected_ms'),
    /** The BullMQ job that runs the current attempt, alone or with other cases. */
    jobId: varchar('job_id', { length: 100 }),
    state: varchar('state', { length: 20 }).notNull().default('pending'),
    attempt: integer('attempt').notNull().default(0),
    resultStatus: varchar('result_status', { length: 20 }),
    outputs: jsonb('outputs').$type<JsonObject>(),
    /** null, or `queued`/`done` once this passed case is being or has been compensated. */
    compensationState: varchar('compensation_state', { length: 20 }),
    queuedAt: timestamp('queued_at', { withTimezone: true }),
    startedAt: timestamp('started_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (table) => [
    uniqueIndex('uq_execution_cases_case').on(table.executionId, table.caseId),
    index('idx_execution_cases_state').on(table.executionId, table.state),
    check('ck_execution_cases_state', oneOf('state', EXECUTION_CASE_STATES)),
  ],
);

/** Cases that keep running but may not fail their run or gate until `until`. */
export const caseQuarantines = pgTable(
  'case_quarantines',
  {
    id: serial('id').primaryKey(),
    suiteId: integer('suite_id')
      .notNull()
      .references(() => testSuites.id, { onDelete: 'cascade' }),
    caseName: varchar('case_name', { length: 255 }).notNull(),
    reason: text('reason').notNull(),
    createdBy: varchar('created_by', { length: 320 }).notNull(),
    until: timestamp('until', { withTimezone: true }).notNull(),
    liftedAt: timestamp('lifted_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (table) => [index('idx_case_quarantines_suite').on(table.suiteId, table.until)],
);

export const testMetrics = pgTable(
  'test_metrics',
  {
    id: serial('id').primaryKey(),
    testResultId: integer('test_result_id')
      .notNull()
      .references(() => testResults.id, { onDelete: 'cascade' }),
    metricName: varchar('metric_name', { length: 100 }).notNull(),
    metricValue: numeric('metric_value', { mode: 'number' }).notNull(),
    metricUnit: varchar('metric_unit', { length: 20 }),
    createdAt: createdAt(),
  },
  (table) => [index('idx_test_metrics_result').on(table.testResultId)],
);

export const skillsRegistry = pgTable(
  'skills_registry',
  {
    id: serial('id').primaryKey(),
    name: varchar('name', { length: 100 }).notNull().unique(),
    category: varchar('category', { length: 50 }).notNull(),
    description: text('description'),
    version: varchar('version', { length: 20 }),
    enabled: boolean('enabled').notNull().default(true),
    paramsSchema: jsonb('params_schema').$type<Record<string, unknown>>().notNull().default({}),
    source: text('source'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  () => [check('ck_skills_registry_category', oneOf('category', SKILL_CATEGORIES))],
);

export const users = pgTable(
  'users',
  {
    id: serial('id').primaryKey(),
    email: varchar('email', { length: 320 }).notNull().unique(),
    displayName: varchar('display_name', { length: 255 }),
    passwordHash: text('password_hash'),
    /** Administrators have the admin role in every project and manage users and projects. */
    isAdmin: boolean('is_admin').notNull().default(false),
    disabled: boolean('disabled').notNull().default(false),
    lastLoginAt: timestamp('last_login_at', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  () => [],
);

/** A user's role in one project. */
export const projectMembers = pgTable(
  'project_members',
  {
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    projectId: integer('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    role: varchar('role', { length: 20 }).notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.userId, table.projectId] }),
    index('idx_project_members_project').on(table.projectId),
    check('ck_project_members_role', oneOf('role', USER_ROLES)),
  ],
);

export const apiTokens = pgTable(
  'api_tokens',
  {
    id: serial('id').primaryKey(),
    /** Who created it; null for tokens made on the command line or whose creator was deleted. */
    userId: integer('user_id').references(() => users.id, { onDelete: 'set null' }),
    projectId: integer('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    /** What the token may do in its project. */
    role: varchar('role', { length: 20 }).notNull(),
    name: varchar('name', { length: 255 }).notNull(),
    /** Only a hash is stored; the token itself is shown once. */
    tokenHash: varchar('token_hash', { length: 128 }).notNull().unique(),
    /** First characters of the token, so a user can tell their tokens apart. */
    tokenPrefix: varchar('token_prefix', { length: 16 }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (table) => [
    index('idx_api_tokens_user').on(table.userId),
    index('idx_api_tokens_project').on(table.projectId),
    check('ck_api_tokens_role', oneOf('role', USER_ROLES)),
  ],
);

/** Why a refresh token stopped working before it expired. */
export const REFRESH_TOKEN_REVOCATIONS = ['rotated', 'logout', 'reuse', 'account'] as const;
export type RefreshTokenRevocation = (typeof REFRESH_TOKEN_REVOCATIONS)[number];

/**
 * Every refresh token issued, by its JWT id. A sign-in starts a family; each refresh revokes
 * the presented token and issues the next one in the same family, so a rotated token shown
 * again means it was copied, and the whole family is revoked.
 */
export const refreshTokens = pgTable(
  'refresh_tokens',
  {
    jti: varchar('jti', { length: 64 }).primaryKey(),
    familyId: varchar('family_id', { length: 64 }).notNull(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    /** Why it stopped working: `rotated` marks the tokens whose reuse betrays a theft. */
    revokedReason: varchar('revoked_reason', { length: 20 }).$type<RefreshTokenRevocation>(),
    createdAt: createdAt(),
  },
  (table) => [
    index('idx_refresh_tokens_family').on(table.familyId),
    index('idx_refresh_tokens_user').on(table.userId),
    check('ck_refresh_tokens_reason', oneOf('revoked_reason', REFRESH_TOKEN_REVOCATIONS)),
  ],
);

export const artifacts = pgTable(
  'artifacts',
  {
    id: serial('id').primaryKey(),
    resultId: integer('result_id')
      .notNull()
      .references(() => testResults.id, { onDelete: 'cascade' }),
    kind: varchar('kind', { length: 20 }).notNull(),
    name: varchar('name', { length: 255 }).notNull(),
    contentType: varchar('content_type', { length: 255 }).notNull(),
    sizeBytes: bigint('size_bytes', { mode: 'number' }).notNull(),
    storageKey: text('storage_key').notNull(),
    createdAt: createdAt(),
  },
  (table) => [
    index('idx_artifacts_result').on(table.resultId),
    index('idx_artifacts_created').on(table.createdAt),
    check('ck_artifacts_kind', oneOf('kind', ARTIFACT_KINDS)),
  ],
);

/**
 * Files of artifact rows that were deleted, by any path (retention, a suite deleted with its
 * runs), waiting for the store to delete them. A trigger on `artifacts` fills it in the deleting
 * transaction, so a cascade cannot orphan a file and a crash cannot lose one.
 */
export const artifactDeletions = pgTable('artifact_deletions', {
  storageKey: text('storage_key').primaryKey(),
  deletedAt: timestamp('deleted_at', { withTimezone: true }).notNull().defaultNow(),
});

export const notificationChannels = pgTable(
  'notification_channels',
  {
    id: serial('id').primaryKey(),
    projectId: projectId(),
    name: varchar('name', { length: 255 }).notNull(),
    type: varchar('type', { length: 20 }).notNull(),
    /** What may be shown: the webhook URL, the e-mail sender and recipients. */
    config: jsonb('config').$type<JsonObject>().notNull().default({}),
    /** HMAC key, Slack webhook URL, SMTP URL: encrypted with the server's key. */
    secrets: jsonb('secrets').$type<Record<string, SealedSecret>>().notNull().default({}),
    enabled: boolean('enabled').notNull().default(true),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (table) => [
    uniqueIndex('uq_notification_channels_project_name').on(table.projectId, table.name),
    check('ck_notification_channels_type', oneOf('type', CHANNEL_TYPES)),
  ],
);

/** Which channels a suite notifies, and on what. */
export const suiteNotifications = pgTable(
  'suite_notifications',
  {
    suiteId: integer('suite_id')
      .notNull()
      .references(() => testSuites.id, { onDelete: 'cascade' }),
    channelId: integer('channel_id')
      .notNull()
      .references(() => notificationChannels.id, { onDelete: 'cascade' }),
    rule: varchar('rule', { length: 20 }).notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.suiteId, table.channelId] }),
    check('ck_suite_notifications_rule', oneOf('rule', NOTIFICATION_RULES)),
  ],
);

/** The delivery log: one row per run and channel, whatever the number of attempts. */
export const notificationDeliveries = pgTable(
  'notification_deliveries',
  {
    id: serial('id').primaryKey(),
    channelId: integer('channel_id')
      .notNull()
      .references(() => notificationChannels.id, { onDelete: 'cascade' }),
    /** Null for a test message, which belongs to no run. */
    executionId: integer('execution_id').references(() => testExecutions.id, {
      onDelete: 'cascade',
    }),
    rule: varchar('rule', { length: 20 }).notNull(),
    status: varchar('status', { length: 20 }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    responseStatus: integer('response_status'),
    createdAt: createdAt(),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
  },
  (table) => [
    uniqueIndex('uq_notification_deliveries_run').on(table.channelId, table.executionId),
    check('ck_notification_deliveries_status', oneOf('status', DELIVERY_STATUSES)),
    check('ck_notification_deliveries_rule', oneOf('rule', DELIVERY_REASONS)),
  ],
);

/**
 * Per-suite statistics over the last 30 days. The time filter sits in the join (not a WHERE)
 * so a suite with no recent run still appears, with zero executions.
 */
export const suiteStatistics = pgView('v_test_suite_statistics', {
  suiteId: integer('suite_id').notNull(),
  suiteName: varchar('suite_name', { length: 255 }).notNull(),
  totalExecutions: integer('total_executions').notNull(),
  passedExecutions: integer('passed_executions').notNull(),
  failedExecutions: integer('failed_executions').notNull(),
  passRate: numeric('pass_rate', { mode: 'number' }),
  avgExecutionTimeMs: numeric('avg_execution_time_ms', { mode: 'number' }),
  lastExecutionAt: timestamp('last_execution_at', { withTimezone: true }),
}).as(sql`
  SELECT
    ts.id AS suite_id,
    ts.name AS suite_name,
    COUNT(te.id)::int AS total_executions,
    COUNT(te.id) FILTER (WHERE te.status = 'passed')::int AS passed_executions,
    COUNT(te.id) FILTER (WHERE te.status = 'failed')::int AS failed_executions,
    ROUND(COUNT(te.id) FILTER (WHERE te.status = 'passed')::numeric / NULLIF(COUNT(te.id), 0) * 100, 2) AS pass_rate,
    ROUND(AVG(te.execution_time_ms), 2) AS avg_execution_time_ms,
    MAX(te.completed_at) AS last_execution_at
  FROM test_suites ts
  LEFT JOIN test_executions te
    ON te.suite_id = ts.id AND te.completed_at >= NOW() - INTERVAL '30 days'
  GROUP BY ts.id, ts.name
`);
