import { homedir } from 'node:os';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import {
  CaptureMode,
  ERROR_TYPES,
  ErrorType,
  MAX_CASES_PER_JOB,
  RETRYABLE_ERROR_TYPES,
} from '@webguard/shared';
import type { S3StoreOptions } from './artifacts/s3-store.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const port = z.coerce
  .number({ error: 'must be a number' })
  .int('must be a whole number')
  .min(1, 'must be between 1 and 65535')
  .max(65535, 'must be between 1 and 65535');

const positiveInt = (max: number) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(1, `must be between 1 and ${max}`)
    .max(max, `must be between 1 and ${max}`);

const url = (protocols: string[], example: string) =>
  z
    .string()
    .trim()
    .refine((value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    }, `must be a URL like ${example}`);

const pathList = z
  .string()
  .optional()
  .transform((value) =>
    (value ?? '')
      .split(delimiter)
      .map((entry) => entry.trim())
      .filter((entry) => entry.length > 0)
      .map((entry) => resolve(entry)),
  );

const absolutePath = z.string().trim().min(1).refine(isAbsolute, 'must be an absolute path');

/** Browser cases and their artifacts (screenshots, videos, traces, logs). */
const browserAndArtifactEnv = {
  /** Folders searched for Chromium when WEBGUARD_CHROMIUM_PATH is unset. */
  PATH: z.string().default(''),
  WEBGUARD_CHROMIUM_PATH: absolutePath.optional(),
  WEBGUARD_VIDEO: CaptureMode.default('off'),
  // Traces and videos cost a third or more of a case's time on a small machine: opt in.
  WEBGUARD_TRACE: CaptureMode.default('off'),
  WEBGUARD_ARTIFACTS_DIR: absolutePath.optional(),
  WEBGUARD_ARTIFACT_RETENTION_DAYS: z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number of days')
    .min(0, 'must be 0 (keep forever) or more days')
    .max(3650, 'must be at most 3650 days')
    .default(30),
  WEBGUARD_S3_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name')
    .optional(),
  WEBGUARD_S3_ENDPOINT: url(['http:', 'https:'], 'http://127.0.0.1:9000').optional(),
  WEBGUARD_S3_REGION: z.string().trim().min(1).default('us-east-1'),
  WEBGUARD_S3_ACCESS_KEY_ID: z.string().trim().min(1).optional(),
  WEBGUARD_S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  WEBGUARD_S3_FORCE_PATH_STYLE: z.stringbool({ error: 'must be true or false' }).optional(),
  WEBGUARD_S3_PREFIX: z
    .string()
    .regex(
      /^([\w.-]+\/)*[\w.-]*$/,
      'must be a key prefix like webguard/ (letters, digits, . _ - and /)',
    )
    .default(''),
};

const commaList = z
  .string()
  .default('')
  .transform((value) =>
    value
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean),
  );

/** Sign-in, tokens and the HTTP hardening around them. */
const authEnv = {
  WEBGUARD_ADMIN_EMAIL: z.email('must be an e-mail address').default('admin@webguard.local'),
  WEBGUARD_ADMIN_PASSWORD: z.string().min(12, 'must be at least 12 characters').optional(),
  WEBGUARD_ACCESS_TOKEN_TTL: positiveInt(86_400).default(900),
  WEBGUARD_REFRESH_TOKEN_TTL: positiveInt(90 * 86_400).default(7 * 86_400),
  WEBGUARD_REFRESH_REUSE_GRACE: z.coerce
    .number({ error: 'must be a number of seconds' })
    .int('must be a whole number of seconds')
    .min(0, 'must be 0 (no grace) or more seconds')
    .max(300, 'must be at most 300 seconds')
    .default(10),
  WEBGUARD_CORS_ORIGINS: commaList.pipe(
    z.array(url(['http:', 'https:'], 'https://webguard.example.com'), {
      error: 'must list origins like https://webguard.example.com, separated by commas',
    }),
  ),
  WEBGUARD_TRUST_PROXY: z.coerce
    .number({ error: 'must be a number of proxy hops' })
    .int('must be a whole number of proxy hops')
    .min(0, 'must be 0 (no proxy) or more hops')
    .max(10, 'must be at most 10 hops')
    .default(0),
  WEBGUARD_REQUEST_TIMEOUT_MS: positiveInt(3_600_000).default(30_000),
  WEBGUARD_METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  WEBGUARD_LOGIN_RATE_LIMIT: positiveInt(100_000).default(10),
  WEBGUARD_TRIGGER_RATE_LIMIT: positiveInt(100_000).default(60),
};

/** Live events, browser frames, metrics and traces. */
const observabilityEnv = {
  WEBGUARD_LIVE_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  WEBGUARD_LIVE_STREAM_MAXLEN: positiveInt(1_000_000).default(10_000),
  WEBGUARD_LIVE_STREAM_TTL: positiveInt(30 * 86_400).default(86_400),
  WEBGUARD_LIVE_TICK_MS: positiveInt(60_000).default(5_000),
  WEBGUARD_FRAME_FPS: positiveInt(30).default(2),
  WEBGUARD_METRICS_PORT: port.optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: z
    .string()
    .trim()
    .transform((value) => value || undefined)
    .pipe(url(['http:', 'https:'], 'http://otel-collector:4318').optional())
    .optional(),
  OTEL_SERVICE_NAME: z.string().trim().min(1).default('webguard'),
};

/** Every environment variable WebGuard reads, with its default. Nothing else reads process.env. */
export const EnvSchema = z.object({
  ...browserAndArtifactEnv,
  ...authEnv,
  ...observabilityEnv,
  HOST: z.string().trim().min(1).default('127.0.0.1'),
  PORT: port.default(8000),
  DATABASE_URL: url(['postgres:', 'postgresql:'], 'postgres://user@127.0.0.1:5432/webguard')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  REDIS_URL: url(['redis:', 'rediss:'], 'redis://127.0.0.1:6379').default('redis://127.0.0.1:6379'),
  WEBGUARD_HOME: z
    .string()
    .trim()
    .min(1)
    .refine(isAbsolute, 'must be an absolute path')
    .default(join(homedir(), '.webguard')),
  WEBGUARD_QUEUE_PREFIX: z
    .string()
    .regex(/^[\w:-]+$/, 'may contain only letters, digits, _, - and :')
    .default('webguard'),
  WEBGUARD_SKILLS_PATHS: pathList,
  WEBGUARD_SKILLS_WATCH: z.stringbool({ error: 'must be true or false' }).default(false),
  WEBGUARD_BODY_LIMIT: positiveInt(100 * 1024 * 1024).default(1024 * 1024),
  WEBGUARD_SKILL_ISOLATION: z
    .enum(['thread', 'none'], { error: 'must be thread or none' })
    .default('thread'),
  WEBGUARD_SKILL_MEMORY_MB: z.coerce
    .number({ error: 'must be a number of megabytes' })
    .int('must be a whole number of megabytes')
    .min(32, 'must be between 32 and 65536 megabytes')
    .max(65536, 'must be between 32 and 65536 megabytes')
    .default(1024),
  WEBGUARD_CONCURRENCY_BROWSER: positiveInt(500).default(2),
  WEBGUARD_CONCURRENCY_API: positiveInt(500).default(10),
  WEBGUARD_CONCURRENCY_DATA: positiveInt(500).default(5),
  WEBGUARD_CONCURRENCY_PERFORMANCE: positiveInt(500).default(1),
  WEBGUARD_CONCURRENCY_SECURITY: positiveInt(500).default(5),
  WEBGUARD_CONCURRENCY_EXECUTIONS: positiveInt(500).default(5),
  WEBGUARD_CONCURRENCY_NOTIFICATIONS: positiveInt(500).default(5),
  WEBGUARD_CONCURRENCY_SCHEDULES: positiveInt(500).default(2),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  WEBGUARD_SECRET_KEY: z
    .string()
    .trim()
    .refine(
      (value) => /^[0-9a-fA-F]{64}$/.test(value) || Buffer.from(value, 'base64').length === 32,
      'must be 32 bytes as 64 hex characters or base64 (e.g. `openssl rand -hex 32`)',
    )
    .optional(),
  WEBGUARD_DEFAULT_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
  WEBGUARD_RETRY_BASE_MS: positiveInt(3_600_000).default(1_000),
  WEBGUARD_RETRY_MAX_MS: positiveInt(3_600_000).default(60_000),
  WEBGUARD_RETRYABLE_ERRORS: z
    .string()
    .default(RETRYABLE_ERROR_TYPES.join(','))
    .transform((value) =>
      value
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean),
    )
    .pipe(z.array(ErrorType, { error: `must list error types from: ${ERROR_TYPES.join(', ')}` })),
  WEBGUARD_STALLED_INTERVAL_MS: positiveInt(3_600_000).default(30_000),
  WEBGUARD_CASES_PER_JOB: positiveInt(MAX_CASES_PER_JOB).default(20),
  WEBGUARD_REAPER_INTERVAL_MS: positiveInt(3_600_000).default(30_000),
  WEBGUARD_SCHEDULE_TIMEZONE: z
    .string()
    .default('UTC')
    .refine((zone) => {
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: zone });
        return true;
      } catch {
        return false;
      }
    }, 'must be an IANA time zone such as Europe/Berlin or UTC'),
});
export type Env = z.infer<typeof EnvSchema>;

/** S3 keys come in pairs: one without the other is a mistake worth stopping for. */
const EnvWithChecks = EnvSchema.superRefine((env, context) => {
  const keyId = env.WEBGUARD_S3_ACCESS_KEY_ID !== undefined;
  const secret = env.WEBGUARD_S3_SECRET_ACCESS_KEY !== undefined;
  if (keyId !== secret) {
    context.addIssue({
      code: 'custom',
      path: [keyId ? 'WEBGUARD_S3_SECRET_ACCESS_KEY' : 'WEBGUARD_S3_ACCESS_KEY_ID'],
      message: 'must be set together with the other WEBGUARD_S3_*_KEY variable',
    });
  }
});

function browserConfig(e: Env): Config['browser'] {
  return {
    chromiumPath: e.WEBGUARD_CHROMIUM_PATH,
    searchPath: e.PATH,
    video: e.WEBGUARD_VIDEO,
    trace: e.WEBGUARD_TRACE,
  };
}

function artifactConfig(e: Env): Config['artifacts'] {
  const bucket = e.WEBGUARD_S3_BUCKET;
  const prefix = e.WEBGUARD_S3_PREFIX;
  return {
    dir: e.WEBGUARD_ARTIFACTS_DIR ?? join(e.WEBGUARD_HOME, 'artifacts'),
    retentionDays: e.WEBGUARD_ARTIFACT_RETENTION_DAYS,
    s3:
      bucket === undefined
        ? undefined
        : {
            bucket,
            prefix: prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`,
            region: e.WEBGUARD_S3_REGION,
            endpoint: e.WEBGUARD_S3_ENDPOINT,
            // Compatible services (MinIO) address buckets by path; AWS by host name.
            forcePathStyle: e.WEBGUARD_S3_FORCE_PATH_STYLE ?? e.WEBGUARD_S3_ENDPOINT !== undefined,
            credentials:
              e.WEBGUARD_S3_ACCESS_KEY_ID !== undefined &&
              e.WEBGUARD_S3_SECRET_ACCESS_KEY !== undefined
                ? {
                    accessKeyId: e.WEBGUARD_S3_ACCESS_KEY_ID,
                    secretAccessKey: e.WEBGUARD_S3_SECRET_ACCESS_KEY,
                  }
                : undefined,
          },
  };
}

export interface AuthConfig {
  /** The administrator created on first start. Default `admin@webguard.local`. */
  adminEmail: string;
  /** Its password; unset means one is generated and printed once. */
  adminPassword: string | undefined;
  /** Lifetime of an access token in seconds. Default 900. */
  accessTokenTtl: number;
  /** Lifetime of a refresh token in seconds. Default 7 days. */
  refreshTokenTtl: number;
  /** Browser origins allowed to call the API; empty allows none. */
  corsOrigins: string[];
  /** Proxy hops in front of the API whose X-Forwarded-For is believed. Default 0. */
  trustProxy: number;
  /** A request taking longer is answered 408. Default 30000. */
  requestTimeoutMs: number;
  /** Bearer token Prometheus must send for /metrics; unset leaves /metrics open. */
  metricsToken: string | undefined;
  /**
   * Seconds after a refresh token was rotated during which presenting it again (two tabs
   * refreshing at once) answers the session's current token instead of revoking it. Default 10.
   */
  refreshReuseGraceSeconds: number;
  /** Login attempts per minute per client address. Default 10. */
  loginRateLimit: number;
  /** Runs triggered per minute per caller. Default 60. */
  triggerRateLimit: number;
}

export interface ObservabilityConfig {
  /** Shared token Socket.IO clients of `/live` must present; unset leaves live data open. */
  liveToken: string | undefined;
  /** Events kept per run for late joiners. Default 10000. */
  streamMaxLen: number;
  /** Seconds a finished run's events stay replayable. Default 86400. */
  streamTtlSeconds: number;
  /** How often the dashboard room gets a tick, in ms. Default 5000. */
  tickMs: number;
  /** Live browser frames per second while someone watches. Default 2. */
  frameFps: number;
  /** Port of a worker process's own /metrics; unset serves none (the API serves /metrics). */
  metricsPort: number | undefined;
  /** OTLP/HTTP endpoint traces go to; unset turns tracing off. */
  otlpEndpoint: string | undefined;
  serviceName: string;
}

export interface Config {
  auth: AuthConfig;
  observability: ObservabilityConfig;
  host: string;
  port: number;
  /** PostgreSQL URL; absent means the embedded PGlite database under `home`. */
  databaseUrl: string | undefined;
  redisUrl: string;
  /** Data folder: embedded database, private Redis, logs. */
  home: string;
  queuePrefix: string;
  /** Extra skill folders besides the built-in `skills/`. */
  skillPaths: string[];
  /** Reload the skill registry when a file under a skill folder changes. */
  watchSkills: boolean;
  bodyLimit: number;
  /** How workers run skill code. */
  skillIsolation: {
    /**
     * `thread` (default): each case in a sandbox thread the worker stops at the case's limits;
     * `none`: in the worker's own thread, for debugging a skill with the worker's inspector.
     */
    mode: 'thread' | 'none';
    /** Heap a sandbox thread may use before it is stopped, in MB. Default 1024. */
    memoryMb: number;
  };
  /** Default worker concurrency per queue. */
  concurrency: {
    browser: number;
    api: number;
    data: number;
    performance: number;
    security: number;
    executions: number;
    notifications: number;
    schedules: number;
  };
  logLevel: (typeof LOG_LEVELS)[number];
  /** Chromium for browser cases, and what they capture unless their params say otherwise. */
  browser: {
    /** WEBGUARD_CHROMIUM_PATH; unset means found on first use. */
    chromiumPath: string | undefined;
    searchPath: string;
    /** Default `off`. */
    video: CaptureMode;
    /** Default `off`. */
    trace: CaptureMode;
  };
  artifacts: {
    /** Folder of the local store; default `$WEBGUARD_HOME/artifacts`. */
    dir: string;
    /** Artifacts older than this many days are deleted; 0 keeps them forever. Default 30. */
    retentionDays: number;
    /** Set when WEBGUARD_S3_BUCKET is: artifacts then go to S3 instead of `dir`. */
    s3: S3StoreOptions | undefined;
  };
  /** Key that encrypts environment secrets; absent means a key file under `home`. */
  secretKey: Buffer | undefined;
  retries: {
    /** Retries of a case with no `retries` of its own, when its suite retries on failure. */
    defaultRetries: number;
    baseMs: number;
    maxMs: number;
    retryable: ErrorType[];
  };
  /** How long a worker may go silent before its jobs are handed to another worker. */
  stalledIntervalMs: number;
  /** Most cases, known to be quick, that one job may run one after the other; 1 for none. */
  casesPerJob: number;
  reaperIntervalMs: number;
  /** Zone for cron expressions of suites that do not name one. */
  scheduleTimezone: string;
}

/** A bad configuration, with one line per bad value. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((line) => `  ${line}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function quote(value: string | undefined): string {
  return value === undefined ? 'unset' : JSON.stringify(value);
}

/** Parses the environment once at start; throws ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = EnvWithChecks.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? '(environment)');
      return `${name}: ${issue.message} (got ${quote(env[name])})`;
    });
    throw new ConfigError(problems);
  }
  const e = parsed.data;
  return {
    auth: {
      adminEmail: e.WEBGUARD_ADMIN_EMAIL,
      adminPassword: e.WEBGUARD_ADMIN_PASSWORD,
      accessTokenTtl: e.WEBGUARD_ACCESS_TOKEN_TTL,
      refreshTokenTtl: e.WEBGUARD_REFRESH_TOKEN_TTL,
      refreshReuseGraceSeconds: e.WEBGUARD_REFRESH_REUSE_GRACE,
      corsOrigins: e.WEBGUARD_CORS_ORIGINS,
      trustProxy: e.WEBGUARD_TRUST_PROXY,
      requestTimeoutMs: e.WEBGUARD_REQUEST_TIMEOUT_MS,
      metricsToken: e.WEBGUARD_METRICS_TOKEN,
      loginRateLimit: e.WEBGUARD_LOGIN_RATE_LIMIT,
      triggerRateLimit: e.WEBGUARD_TRIGGER_RATE_LIMIT,
    },
    observability: {
      liveToken: e.WEBGUARD_LIVE_TOKEN,
      streamMaxLen: e.WEBGUARD_LIVE_STREAM_MAXLEN,
      streamTtlSeconds: e.WEBGUARD_LIVE_STREAM_TTL,
      tickMs: e.WEBGUARD_LIVE_TICK_MS,
      frameFps: e.WEBGUARD_FRAME_FPS,
      metricsPort: e.WEBGUARD_METRICS_PORT,
      otlpEndpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT,
      serviceName: e.OTEL_SERVICE_NAME,
    },
    host: e.HOST,
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    home: e.WEBGUARD_HOME,
    queuePrefix: e.WEBGUARD_QUEUE_PREFIX,
    skillPaths: e.WEBGUARD_SKILLS_PATHS,
    watchSkills: e.WEBGUARD_SKILLS_WATCH,
    bodyLimit: e.WEBGUARD_BODY_LIMIT,
    skillIsolation: { mode: e.WEBGUARD_SKILL_ISOLATION, memoryMb: e.WEBGUARD_SKILL_MEMORY_MB },
    concurrency: {
      browser: e.WEBGUARD_CONCURRENCY_BROWSER,
      api: e.WEBGUARD_CONCURRENCY_API,
      data: e.WEBGUARD_CONCURRENCY_DATA,
      performance: e.WEBGUARD_CONCURRENCY_PERFORMANCE,
      security: e.WEBGUARD_CONCURRENCY_SECURITY,
      executions: e.WEBGUARD_CONCURRENCY_EXECUTIONS,
      notifications: e.WEBGUARD_CONCURRENCY_NOTIFICATIONS,
      schedules: e.WEBGUARD_CONCURRENCY_SCHEDULES,
    },
    logLevel: e.LOG_LEVEL,
    browser: browserConfig(e),
    artifacts: artifactConfig(e),
    secretKey: e.WEBGUARD_SECRET_KEY
      ? Buffer.from(
          e.WEBGUARD_SECRET_KEY,
          /^[0-9a-fA-F]{64}$/.test(e.WEBGUARD_SECRET_KEY) ? 'hex' : 'base64',
        )
      : undefined,
    retries: {
      defaultRetries: e.WEBGUARD_DEFAULT_RETRIES,
      baseMs: e.WEBGUARD_RETRY_BASE_MS,
      maxMs: e.WEBGUARD_RETRY_MAX_MS,
      retryable: e.WEBGUARD_RETRYABLE_ERRORS,
    },
    stalledIntervalMs: e.WEBGUARD_STALLED_INTERVAL_MS,
    casesPerJob: e.WEBGUARD_CASES_PER_JOB,
    reaperIntervalMs: e.WEBGUARD_REAPER_INTERVAL_MS,
    scheduleTimezone: e.WEBGUARD_SCHEDULE_TIMEZONE,
  };
}
